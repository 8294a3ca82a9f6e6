package switchboard

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// callbackKey asks, while waiting, to be called back instead; the announcements say so.
const callbackKey = "1"

// nextAnnouncement schedules the caller's next position announcement at the queue's frequency.
func (c *call) nextAnnouncement(ctx context.Context) <-chan time.Time {
	if c.talking {
		return nil
	}
	pos, err := c.sb.acd.Position(ctx, c.id)
	if err != nil || pos.Every <= 0 {
		return nil
	}
	return time.After(pos.Every)
}

// announce tells a waiting caller their place and the estimated wait (Russian numbers when the
// caller chose Russian: number: is said in the channel's language), and how to ask for a callback.
func (c *call) announce(ctx context.Context) error {
	if !c.waiting() {
		return nil
	}
	pos, err := c.sb.acd.Position(ctx, c.id)
	if err != nil {
		c.log.Warn("position for the announcement", "err", err)
		return nil
	}
	media := []string{"sound:hotline/queue_position", fmt.Sprintf("number:%d", pos.Place)}
	switch {
	case pos.WaitKnown && pos.Wait < time.Minute:
		media = append(media, "sound:hotline/queue_wait_soon")
	case pos.WaitKnown:
		media = append(media, "sound:hotline/queue_wait_minutes", fmt.Sprintf("number:%d", int(math.Ceil(pos.Wait.Minutes()))))
	}
	media = append(media, "sound:hotline/queue_callback_hint")
	return c.sayOverMusic(ctx, media...)
}

// sayOverMusic pauses the hold music for prompts; a key stops them and counts.
func (c *call) sayOverMusic(ctx context.Context, media ...string) error {
	if err := c.sb.ari.stopMOH(ctx, c.channel); err != nil {
		if errors.Is(err, ErrGone) {
			return errHungUp
		}
		c.log.Warn("stop hold music for an announcement", "err", err)
	}
	if err := c.player.Play(ctx, c.lang(), media...); err != nil {
		return errHungUp
	}
	if err := c.waitingKeys(ctx); err != nil {
		return err
	}
	if err := c.sb.ari.moh(ctx, c.channel); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("restart hold music", "err", err)
	}
	return nil
}

// waitingKeys acts on the keys a waiting caller pressed during a prompt: the callback key leaves
// for a callback, the survey key agrees to the survey (and hears that it was taken).
func (c *call) waitingKeys(ctx context.Context) error {
	agreed := false
	for len(c.player.digits) > 0 {
		d := string(c.player.digits[0])
		c.player.digits = c.player.digits[1:]
		switch {
		case d == callbackKey && c.waiting():
			return c.leaveForCallback(ctx, c.caller.Number)
		case d == surveyKey:
			agreed = c.agreeSurvey(ctx) || agreed
		}
	}
	if agreed {
		if err := c.player.Play(ctx, c.lang(), "sound:hotline/survey_agreed"); err != nil {
			return errHungUp
		}
		c.player.digits = nil
	}
	return nil
}

func (c *call) lang() string {
	if c.ivr.Lang != "" {
		return c.ivr.Lang
	}
	return "ru"
}

// leaveForCallback keeps the caller's place in the ACD as a callback to raw (their caller id, or a
// number they gave the menu) and lets them go: the agent's offer, when their turn comes, calls them
// back. It returns errLeft once they have gone, nil when they keep waiting.
func (c *call) leaveForCallback(ctx context.Context, raw string) error {
	if raw == "" || raw == c.callbackRefused {
		return nil // nobody to call back: keep waiting
	}
	// The caller id is whatever the far end sent, and a number typed in the menu whatever was
	// typed: only a number the rules allow is kept, in its canonical form, and that is what is
	// dialled when the turn comes.
	n, err := c.sb.check(raw)
	if err != nil {
		c.callbackRefused = raw // asked again (a key, an overflow), refused again: audit it once
		c.auditDial(ctx, actorSystem, dialCallback, n, raw, "refused", err.Error())
		c.log.Warn("callback refused; the caller keeps waiting", "number", fmt.Sprintf("%.64q", raw), "why", err)
		return nil
	}
	number := n.Canonical
	if err := c.sb.acd.RequestCallback(ctx, c.id, number); err != nil {
		c.log.Warn("callback request failed; the caller keeps waiting", "err", err)
		return nil
	}
	c.left = true
	c.log.Info("caller asked for a callback", "number", number, "queue", c.queued.Queue)
	c.goodbye(ctx, "sound:hotline/callback_confirmed")
	return errLeft
}

// overflow applies the queue's rule to a caller who waited its maximum.
func (c *call) overflow(ctx context.Context, o Overflow) error {
	c.log.Info("maximum wait reached", "queue", c.queued.Queue, "action", o.Action, "to", o.Queue)
	switch o.Action {
	case OverflowQueue:
		if err := c.sb.acd.Move(ctx, c.id, o.Queue); err != nil {
			return err
		}
		c.queued.Queue = o.Queue
		c.publish()
		c.sb.kickDispatch()
		return nil
	case OverflowCallback:
		return c.leaveForCallback(ctx, c.caller.Number)
	case OverflowMessage:
		if err := c.sb.acd.Exit(ctx, c.id, "max wait"); err != nil {
			return err
		}
		c.left = true
		c.goodbye(ctx, o.Message)
		return errLeft
	}
	return fmt.Errorf("unknown overflow action %q", o.Action)
}

// goodbye plays a last prompt and hangs up. A controller that stops (ctx) cuts the prompt short,
// since it no longer hears the prompt's end, but still hangs up: the call is over in the ACD, and
// no controller would take back a caller left on the line.
func (c *call) goodbye(ctx context.Context, media string) {
	stopping := context.WithoutCancel(ctx)
	c.sb.ari.stopMOH(stopping, c.channel)
	if media != "" && ctx.Err() == nil {
		c.player.digits = nil
		c.player.Play(ctx, c.lang(), media)
	}
	if err := c.sb.ari.hangup(stopping, c.channel); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("hang up after goodbye", "err", err)
	}
}

// overdueLoop applies maximum waits to this instance's callers.
func (sb *Switchboard) overdueLoop(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		list, err := sb.acd.Overdue(ctx, sb.cfg.Instance)
		if err != nil {
			if ctx.Err() == nil {
				sb.log.Warn("read overdue calls", "err", err)
			}
			continue
		}
		for _, o := range list {
			if c := sb.call(o.CallID); c != nil {
				select {
				case c.cmds <- command{kind: cmdOverflow, overflow: o}:
				default: // busy: the next tick asks again
				}
			}
		}
	}
}
