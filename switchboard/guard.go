package switchboard

import (
	"context"
	"runtime/debug"
)

// goCall runs body as c's goroutine, until it returns; then c is no longer this controller's.
//
// A panic in body is a bug of ours, and it must not take the whole controller down: every other
// caller's IVR, every agent's audio (the gateway is in this process) and the calls' places would go
// with it. It is logged with its stack and counted (hotline_call_panics_total), and the call is
// taken back as after a restart (adopt): a caller waiting or talking keeps their place or their
// agent, one in the IVR hears the menu again. Once per call: a call that panics again is left to
// the next controller that starts, rather than panicking in a loop.
func (sb *Switchboard) goCall(c *call, body func(context.Context)) {
	sb.wg.Add(1)
	go func() {
		defer sb.wg.Done()
		p, stack := func() (p any, stack []byte) {
			defer func() {
				if p = recover(); p != nil {
					stack = debug.Stack()
				}
			}()
			defer sb.unregister(c)
			body(sb.ctx)
			return nil, nil
		}()
		if p == nil {
			return
		}
		sb.panics.Add(1)
		if c.leg != nil {
			c.leg.Close() // the call's own: the one taking it back opens a new one
		}
		if _, again := sb.panicked.LoadOrStore(c.id, true); again || sb.ctx.Err() != nil {
			c.log.Error("a call's goroutine panicked again: left to the next controller that starts", "panic", p, "stack", string(stack))
			return
		}
		c.log.Error("a call's goroutine panicked: taking the call back as after a restart", "panic", p, "stack", string(stack))
		if err := sb.adopt(sb.ctx); err != nil {
			c.log.Error("take back the call after a panic", "err", err)
		}
	}()
}
