package guard

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

func quickPauses(t *testing.T) {
	first, max := firstPause, maxPause
	firstPause, maxPause = time.Millisecond, 4*time.Millisecond
	t.Cleanup(func() { firstPause, maxPause = first, max })
}

// TestLoop: a body that panics is run again, each panic counted, until it returns; what it returns
// is Loop's.
func TestLoop(t *testing.T) {
	quickPauses(t)
	errDone := errors.New("done")
	runs, panics := 0, 0
	err := Loop(context.Background(), slog.New(slog.DiscardHandler), "test", func() { panics++ }, func(context.Context) error {
		runs++
		if runs <= 3 {
			var m map[string]int
			m["a bug"] = 1 // a nil map: the kind of bug Loop is for
		}
		return errDone
	})
	if !errors.Is(err, errDone) || runs != 4 || panics != 3 {
		t.Fatalf("Loop = %v after %d runs and %d panics, want errDone after 4 and 3", err, runs, panics)
	}
}

// TestLoopStopsWhileWaiting: a context that ends while a panicked loop waits to start again ends
// Loop at once with the context's error.
func TestLoopStopsWhileWaiting(t *testing.T) {
	first, max := firstPause, maxPause
	firstPause, maxPause = time.Hour, time.Hour
	t.Cleanup(func() { firstPause, maxPause = first, max })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Loop(ctx, slog.New(slog.DiscardHandler), "test", cancel, func(context.Context) error { panic("a bug") })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Loop = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Loop went on waiting after its context ended")
	}
}
