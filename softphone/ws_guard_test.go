package softphone

import (
	"context"
	"log/slog"
	"sync"
	"testing"
)

// TestConnLoopPanicClosesConn: a panic in one of a page connection's loops closes that connection
// (the page reconnects) with a reason, and goes no further: the process and the other loops go on.
func TestConnLoopPanicClosesConn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &wsConn{log: slog.New(slog.DiscardHandler), ctx: ctx, cancel: cancel}
	var wg sync.WaitGroup
	c.goLoop(&wg, "stats", func() {
		var m map[string]int
		m["a bug"]++
	})
	wg.Wait()
	if c.ctx.Err() == nil || c.reason != "internal error" {
		t.Fatalf("after a loop panicked: context %v, reason %q; want the connection closed with a reason", c.ctx.Err(), c.reason)
	}
}
