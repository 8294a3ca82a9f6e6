package switchboard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotline-cc/hotline/ivr"
)

// ivrCall is ivr.Call over ARI: prompts are channel playbacks, keys are ChannelDtmfReceived events.
// It is used only from the call's own goroutine.
type ivrCall struct {
	c      *call
	digits []rune
	serial int
	hungUp bool
}

var _ ivr.Call = (*ivrCall)(nil)

// Play plays the media URIs as one playback in lang (sound:, digits: and number: are said from the
// language's sounds folder). A key pressed before or during it stops it (barge-in) and stays queued
// for NextDigit.
func (ic *ivrCall) Play(ctx context.Context, lang string, media ...string) error {
	if ic.hungUp {
		return ivr.ErrHangup
	}
	if len(ic.digits) > 0 || len(media) == 0 {
		return nil
	}
	ic.serial++
	id := fmt.Sprintf("pb-%s-%d", ic.c.id, ic.serial)
	if err := ic.c.sb.ari.play(ctx, ic.c.channel, id, lang, media...); err != nil {
		return ic.fail(err)
	}
	finished, err := ic.wait(ctx, nil, id)
	if err != nil {
		if ctx.Err() != nil {
			// The controller stops: the prompt would go on playing, and Asterisk would hold every
			// command of the next controller on this channel until it ends.
			stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
			ic.c.sb.ari.stopPlayback(stop, id)
		}
		return err
	}
	if !finished { // a key: stop the prompt; its PlaybackFinished is ignored when it comes
		if err := ic.c.sb.ari.stopPlayback(ctx, id); err != nil && !errors.Is(err, ErrGone) {
			ic.c.log.Debug("stop playback after a key", "playback", id, "err", err)
		}
	}
	return nil
}

// NextDigit returns a key already pressed, or waits for one.
func (ic *ivrCall) NextDigit(ctx context.Context, timeout time.Duration) (rune, error) {
	if ic.hungUp {
		return 0, ivr.ErrHangup
	}
	if len(ic.digits) == 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		if _, err := ic.wait(ctx, timer.C, ""); err != nil {
			return 0, err
		}
	}
	d := ic.digits[0]
	ic.digits = ic.digits[1:]
	return d, nil
}

// wait consumes the channel's events until playback finishes (true), a key arrives (false), the
// timer fires (ivr.ErrTimeout) or the caller hangs up (ivr.ErrHangup).
func (ic *ivrCall) wait(ctx context.Context, timer <-chan time.Time, playback string) (bool, error) {
	for {
		for {
			ev, ok := ic.c.inbox.take()
			if !ok {
				break
			}
			switch ev.Type {
			case "ChannelDtmfReceived":
				if ev.Digit != "" {
					ic.digits = append(ic.digits, []rune(ev.Digit)[0])
					return false, nil
				}
			case "PlaybackFinished":
				if playback != "" && ev.Playback != nil && ev.Playback.ID == playback {
					return true, nil
				}
			case "StasisEnd", "ChannelHangupRequest", "ChannelDestroyed":
				ic.hungUp = true
				return false, ivr.ErrHangup
			}
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-timer:
			return false, ivr.ErrTimeout
		case <-ic.c.inbox.ready:
		}
	}
}

func (ic *ivrCall) fail(err error) error {
	if errors.Is(err, ErrGone) {
		ic.hungUp = true
		return ivr.ErrHangup
	}
	return err
}
