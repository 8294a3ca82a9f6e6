// Package guard keeps a controller's long-running loops alive through a panic. A bug met by one loop
// (an entry it cannot read, say) must not end the process: every caller's IVR and every agent's audio
// (the gateway is in the process) would go with it, and a process restarted onto the same data would
// panic again. The panic is logged with its stack and counted, and the loop starts again.
package guard

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"
)

// The pause before a loop that panicked starts again doubles with each panic in a row, from
// firstPause to maxPause: a loop that panics at once does not spin. One that ran maxPause or longer
// before panicking starts from firstPause again.
var (
	firstPause = time.Second
	maxPause   = time.Minute
)

// Loop runs body until ctx ends, and returns what body returned. When body panics, Loop logs it
// (with name and its stack), calls onPanic (if not nil: a metric), and runs body again after the
// backoff. Loop must be called on the goroutine body runs on: a panic on another goroutine, one
// body started, is not recovered here.
func Loop(ctx context.Context, log *slog.Logger, name string, onPanic func(), body func(context.Context) error) error {
	pause := firstPause
	for {
		start := time.Now()
		p, stack, err := run(ctx, body)
		if p == nil {
			return err
		}
		log.Error("a loop panicked: starting it again", "loop", name, "panic", p, "stack", string(stack))
		if onPanic != nil {
			onPanic()
		}
		if time.Since(start) >= maxPause {
			pause = firstPause
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		pause = min(2*pause, maxPause)
	}
}

func run(ctx context.Context, body func(context.Context) error) (p any, stack []byte, err error) {
	defer func() {
		if p = recover(); p != nil {
			stack = debug.Stack()
		}
	}()
	return nil, nil, body(ctx)
}
