package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/hotline-cc/hotline/internal/guard"
)

// hub is the feed's one poller and its subscribers. It polls the Source only while someone is
// subscribed, encodes each view once, and hands the same bytes to every subscriber when they
// differ from the last ones sent.
type hub struct {
	src      Source
	interval time.Duration
	timeout  time.Duration
	log      *slog.Logger
	ticks    <-chan time.Time
	stopTk   func()

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	wake   chan struct{} // asks for a poll now: a first supervisor should not wait a tick

	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	last   []byte // the view last sent, encoded; nil when none is current
	stale  bool   // the last poll failed
	closed bool

	// cur is the newest good view, encoded, and when the snapshot that made it started. GET
	// /api/view answers from it while it is younger than an interval, so clients polling the API
	// cost no more Redis than the feed does (each snapshot is a full read of the center's state).
	cur      []byte
	curAt    time.Time
	fetching chan struct{} // closed when the view request that is taking a snapshot has it
}

// subscriber is one feed connection's mailbox. ch holds at most the newest message not yet
// written, so a slow browser skips views instead of holding up the poller or growing a queue.
type subscriber struct {
	ch   chan []byte
	done chan struct{} // closed when the hub closes
}

// newHub starts the poller. ticks drives it; nil means a ticker every interval.
func newHub(src Source, interval, timeout time.Duration, log *slog.Logger, ticks <-chan time.Time) *hub {
	h := &hub{
		src:      src,
		interval: interval,
		timeout:  timeout,
		log:      log,
		ticks:    ticks,
		stopTk:   func() {},
		done:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
		subs:     make(map[*subscriber]struct{}),
	}
	if h.ticks == nil {
		t := time.NewTicker(interval)
		h.ticks, h.stopTk = t.C, t.Stop
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	go h.run()
	return h
}

// run polls until the hub closes. A poll that panics (a bug of ours, met on some state of the
// center) is logged and the poller starts again (internal/guard), rather than ending the process
// with every call in it.
func (h *hub) run() {
	defer close(h.done)
	defer h.stopTk()
	guard.Loop(h.ctx, h.log, "dashboard poller", nil, func(context.Context) error { h.loop(); return nil })
}

func (h *hub) loop() {
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.ticks:
		case <-h.wake:
		}
		if h.subscribers() == 0 {
			continue // nobody watches: leave Redis alone
		}
		h.poll(h.ctx)
	}
}

func (h *hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// poll takes one snapshot and sends it to every subscriber if it changed.
func (h *hub) poll(ctx context.Context) {
	b, err := h.snapshot(ctx)
	if err != nil {
		h.failed(err)
		return
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stale {
		h.stale = false
		h.log.Info("dashboard: source available again")
	}
	if bytes.Equal(b, h.last) {
		return
	}
	h.last = b
	msg := viewMessage(b, time.Now())
	for s := range h.subs {
		s.offer(msg)
	}
}

// snapshot reads the Source once and encodes the view; a good one becomes cur.
func (h *hub) snapshot(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	started := time.Now()
	v, err := h.src.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	v.complete()
	b, err := json.Marshal(&v)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	if started.After(h.curAt) {
		h.cur, h.curAt = b, started
	}
	h.mu.Unlock()
	return b, nil
}

// view is the current view, encoded: the cached one while it is fresh, else one new snapshot
// shared by every request that asks meanwhile.
func (h *hub) view(ctx context.Context) ([]byte, error) {
	for {
		h.mu.Lock()
		if h.cur != nil && time.Since(h.curAt) < h.interval {
			b := h.cur
			h.mu.Unlock()
			return b, nil
		}
		if wait := h.fetching; wait != nil {
			h.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		h.fetching = done
		h.mu.Unlock()
		b, err := h.snapshot(ctx)
		h.mu.Lock()
		h.fetching = nil
		h.mu.Unlock()
		close(done)
		return b, err
	}
}

// failed tells the pages once that the view is stale; logging once per outage, not per second.
func (h *hub) failed(err error) {
	if h.ctx.Err() != nil {
		return // closing
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = nil // the next good view goes out even if it equals the one before the outage
	h.cur = nil
	if h.stale {
		return
	}
	h.stale = true
	h.log.Error("dashboard: snapshot failed; the pages show stale data", "err", err)
	for s := range h.subs {
		s.offer(staleMessage)
	}
}

// subscribe adds a subscriber. It gets the current view at once if there is one, or a poll is
// asked for. ok is false once the hub is closed.
func (h *hub) subscribe() (s *subscriber, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	s = &subscriber{ch: make(chan []byte, 1), done: make(chan struct{})}
	h.subs[s] = struct{}{}
	switch {
	case h.stale:
		s.offer(staleMessage)
	case h.last != nil:
		s.offer(viewMessage(h.last, time.Now()))
	default:
		select {
		case h.wake <- struct{}{}:
		default: // a poll is already asked for
		}
	}
	return s, true
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, s)
	if len(h.subs) == 0 {
		// Polling stops now, so the cached view will go stale: the next supervisor gets a
		// fresh poll rather than an old picture.
		h.last = nil
	}
}

// close stops the poller and tells every subscriber to go.
func (h *hub) close(ctx context.Context) error {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		for s := range h.subs {
			close(s.done)
		}
		clear(h.subs)
	}
	h.mu.Unlock()
	h.cancel()
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// offer replaces any unsent message with msg. Only the hub sends, under its lock, so after the
// drain there is room.
func (s *subscriber) offer(msg []byte) {
	select {
	case s.ch <- msg:
		return
	default:
	}
	select {
	case <-s.ch:
	default:
	}
	select {
	case s.ch <- msg:
	default:
	}
}

var staleMessage = []byte(`{"type":"stale","error":"the center's state is unavailable"}`)

// viewMessage wraps an encoded view in a feed message stamped with the server's clock.
func viewMessage(view []byte, now time.Time) []byte {
	b := make([]byte, 0, len(view)+64)
	b = append(b, `{"type":"view","now":"`...)
	b = now.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","view":`...)
	b = append(b, view...)
	return append(b, '}')
}
