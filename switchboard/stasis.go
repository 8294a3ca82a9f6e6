package switchboard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5"
)

// Channels the controller creates into its app (externalMedia, snoop) are not in the app when
// Asterisk answers the request: a thread of Asterisk's own dials them and runs Stasis() a moment
// later (up to ~10 ms seen on Asterisk 22.10.1), and until their StasisStart a bridge refuses them
// (422 "Channel not in Stasis application"). So whoever creates such a channel registers a waiter
// for its id before the request (an early StasisStart is never missed) and waits for it before
// using the channel.

// stasisTimeout bounds the wait for a created channel's StasisStart when the caller's context
// allows longer: Asterisk takes milliseconds; seconds mean the event is lost (a WebSocket drop) or
// the channel never made it.
const stasisTimeout = 5 * time.Second

// ErrNotInStasis means a channel the controller created never entered the app: it left (hung up)
// first, or its StasisStart did not come in time.
var ErrNotInStasis = errors.New("channel did not enter the app")

// stasisWaiters holds the channels whose StasisStart someone waits for, and those that must not
// stay if they ever enter the app.
type stasisWaiters struct {
	mu sync.Mutex
	m  map[string]*stasisWait
	// doomed are channels whose creation failed here, with when to stop watching for them. A
	// request can fail on our side (its timeout, a dropped connection) and still be carried out by
	// Asterisk later: the channel then enters the app when nobody wants it, and would stay there,
	// holding an RTP port and a place in the app, until Asterisk restarts.
	doomed map[string]time.Time
}

// doomTTL is how long a failed creation is watched for: a request Asterisk still holds after
// that is not coming.
const doomTTL = time.Minute

// doom marks channel id as unwanted should it still enter the app.
func (w *stasisWaiters) doom(id string) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.doomed == nil {
		w.doomed = map[string]time.Time{}
	}
	maps.DeleteFunc(w.doomed, func(_ string, until time.Time) bool { return now.After(until) })
	w.doomed[id] = now.Add(doomTTL)
}

// stasisWait is one channel's: done is closed once StasisStart (err nil) or its end (err set) came.
type stasisWait struct {
	id   string
	done chan struct{}
	err  error
}

// expect registers a waiter for channel id; release it with forget once done with it.
func (w *stasisWaiters) expect(id string) *stasisWait {
	sw := &stasisWait{id: id, done: make(chan struct{})}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]*stasisWait{}
	}
	w.m[id] = sw
	return sw
}

func (w *stasisWaiters) forget(sw *stasisWait) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m[sw.id] == sw {
		delete(w.m, sw.id)
	}
}

// observe resolves the waiter of the event's channel, if any: StasisStart lets it go on; the
// channel leaving or going away first fails it. Called for every event, in order. unwanted says
// the event is the StasisStart of a doomed channel, which the caller hangs up.
func (w *stasisWaiters) observe(ev Event) (unwanted bool) {
	if ev.Channel == nil {
		return false
	}
	var err error
	switch ev.Type {
	case "StasisStart":
	case "StasisEnd", "ChannelDestroyed", "ChannelHangupRequest":
		err = fmt.Errorf("%w: %s before StasisStart", ErrNotInStasis, ev.Type)
	default:
		return false
	}
	w.mu.Lock()
	sw := w.m[ev.Channel.ID]
	delete(w.m, ev.Channel.ID)
	if _, ok := w.doomed[ev.Channel.ID]; ok && err == nil {
		unwanted = true
		delete(w.doomed, ev.Channel.ID)
	}
	w.mu.Unlock()
	if sw != nil {
		sw.err = err
		close(sw.done)
	}
	return unwanted
}

// lost fails every wait: the events connection dropped, and Asterisk does not send again what it
// sent meanwhile, so a StasisStart may never come.
func (w *stasisWaiters) lost() {
	w.mu.Lock()
	waits := w.m
	w.m = nil
	w.mu.Unlock()
	for _, sw := range waits {
		sw.err = fmt.Errorf("%w: the events connection dropped before its StasisStart", ErrNotInStasis)
		close(sw.done)
	}
}

// wait blocks until the channel's StasisStart, its end, ctx's end or stasisTimeout.
func (sw *stasisWait) wait(ctx context.Context) error {
	t := time.NewTimer(stasisTimeout)
	defer t.Stop()
	select {
	case <-sw.done:
		return sw.err
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("%w: no StasisStart in %v", ErrNotInStasis, stasisTimeout)
	}
}

// inStasis runs create (the REST request that makes channel id in the app) and returns once the
// channel is in the app. When it is not, the channel is hung up: nothing is left behind.
func (sb *Switchboard) inStasis(ctx context.Context, id string, create func() error) error {
	sw := sb.stasis.expect(id)
	defer sb.stasis.forget(sw)
	err := create()
	if err == nil {
		if err = sw.wait(ctx); err != nil {
			err = fmt.Errorf("channel %s: %w", id, err)
		}
	}
	if err != nil {
		// Created or not (a request can fail after Asterisk made the channel), it must not stay;
		// and if Asterisk makes it later still, it is hung up when it enters the app.
		sb.stasis.doom(id)
		if herr := sb.ari.hangup(context.WithoutCancel(ctx), id); herr != nil && !errors.Is(herr, ErrGone) {
			sb.log.Warn("hang up a channel that did not enter the app", "channel", id, "err", herr)
		}
		return err
	}
	return nil
}

// externalMedia creates an externalMedia channel (see rest.externalMedia) and returns once it is in
// the app, ready for a bridge.
func (sb *Switchboard) externalMedia(ctx context.Context, id string, host netip.AddrPort) (netip.AddrPort, error) {
	var remote netip.AddrPort
	err := sb.inStasis(ctx, id, func() (err error) {
		remote, err = sb.ari.externalMedia(ctx, id, host)
		return err
	})
	return remote, err
}

// snoop creates a snoop channel on ch (see rest.snoop) and returns once it is in the app, ready for
// a bridge.
func (sb *Switchboard) snoop(ctx context.Context, ch, id string, spy, whisper ari.Direction) error {
	return sb.inStasis(ctx, id, func() error { return sb.ari.snoop(ctx, ch, id, spy, whisper) })
}
