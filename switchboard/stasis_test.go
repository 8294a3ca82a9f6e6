package switchboard

import (
	"context"
	"errors"
	"testing"
	"time"
)

func stasisEvent(typ, channel string) Event {
	return Event{Type: typ, Channel: &ChannelInfo{ID: channel}}
}

// TestStasisWaiters: a StasisStart that comes before anyone waits is kept; a channel that ends
// first, or the events connection dropping, fails the wait; other channels' events and other event
// types change nothing.
func TestStasisWaiters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var w stasisWaiters

	early := w.expect("em-1")
	w.observe(stasisEvent("ChannelStateChange", "em-1"))
	w.observe(stasisEvent("StasisStart", "em-2"))
	w.observe(stasisEvent("StasisStart", "em-1"))
	if err := early.wait(ctx); err != nil {
		t.Fatalf("StasisStart before the wait: %v", err)
	}

	ended := w.expect("em-3")
	w.observe(stasisEvent("StasisEnd", "em-3"))
	if err := ended.wait(ctx); !errors.Is(err, ErrNotInStasis) {
		t.Fatalf("StasisEnd before StasisStart: %v, want ErrNotInStasis", err)
	}

	never := w.expect("em-4")
	short, stop := context.WithTimeout(ctx, 10*time.Millisecond)
	defer stop()
	if err := never.wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no StasisStart: %v, want the context's deadline", err)
	}
	w.forget(never)
	if len(w.m) != 0 {
		t.Fatalf("waiters left: %v", w.m)
	}

	dropped := w.expect("em-5")
	w.lost()
	if err := dropped.wait(ctx); !errors.Is(err, ErrNotInStasis) {
		t.Fatalf("events connection lost: %v, want ErrNotInStasis", err)
	}
	w.forget(dropped)
	w.observe(stasisEvent("StasisStart", "em-5")) // too late: nobody waits, nothing breaks
}
