package acd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Live is what the controller holding calls' channels knows of them now. Reconcile compares it with
// Redis to free what a lost write left stuck; the switchboard implements it (through the server), so
// acd knows nothing of ARI.
type Live interface {
	// LiveCalls returns the calls the controller serves now, by call id. ok is false when it cannot
	// tell (not connected to Asterisk, taking its calls back after a restart, stopping): nothing is
	// judged against an incomplete picture.
	LiveCalls() (calls map[string]LiveCall, ok bool)
}

// LiveCall is one call as its controller holds it.
type LiveCall struct {
	Ringing []string // the agents whose page rings for it (or is about to: the offer is on its way)
	Talking string   // the agent talking on it
}

// The kinds of what Reconcile frees, the label of hotline_acd_reconciled_total.
const (
	// FixCallGone: a call whose controller no longer holds it (its channel is gone): it leaves the
	// ACD (EXIT "channel gone"), its ringing agents are available, its talking agent goes to wrap-up.
	FixCallGone = "call_gone"
	// FixRingLost: an agent ringing in Redis whose page does not ring (RingNoAnswer was lost): the
	// agent is available again and the call back at the head of its queue once nobody rings.
	FixRingLost = "ring_lost"
	// FixAnswerLost: a call talking on its controller, ringing in Redis (Accept was lost): recorded
	// as answered.
	FixAnswerLost = "answer_lost"
	// FixAgentOrphaned: an agent held by a call the ACD no longer has (or that no longer names them):
	// available again.
	FixAgentOrphaned = "agent_orphaned"
)

// Fix is one stuck state Reconcile freed (or Verify found).
type Fix struct {
	Kind  string
	Call  string
	Agent string // for FixCallGone: the agents the call held, space-separated
}

func (f Fix) String() string { return fmt.Sprintf("%s call=%q agent=%q", f.Kind, f.Call, f.Agent) }

type liveHolder struct{ Live }

// SetLive tells the Center what this instance's controller holds live, so Reconcile can free the
// calls and agents stuck against it and Verify can report them. Call it once the controller exists.
func (c *Center) SetLive(l Live) {
	if l == nil {
		c.live.Store(nil)
		return
	}
	c.live.Store(&liveHolder{l})
}

// Reconcile frees the states stuck against this instance's live calls for longer than
// Options.ReconcileGrace, and agents held by calls the ACD no longer has; it returns what it fixed
// and counts it in hotline_acd_reconciled_total. Every instance runs it for the calls it owns, so it
// never judges a call whose channel is on another controller's Asterisk. Without SetLive, only
// agents are judged.
func (c *Center) Reconcile(ctx context.Context) ([]Fix, error) {
	fixes, err := c.reconcile(ctx, false)
	for _, f := range fixes {
		c.metrics.reconciled(f.Kind)
		c.log.Warn("reconciled a stuck state", "kind", f.Kind, "call", f.Call, "agent", f.Agent)
	}
	return fixes, err
}

func (c *Center) reconcile(ctx context.Context, dry bool) ([]Fix, error) {
	owner := "" // judge no calls
	var args []any
	if h := c.live.Load(); h != nil {
		if calls, ok := h.LiveCalls(); ok {
			owner = c.opt.Instance
			args = make([]any, 0, 3*len(calls))
			for id, lc := range calls {
				args = append(args, id, strings.Join(lc.Ringing, " "), lc.Talking)
			}
		}
	}
	d := "0"
	if dry {
		d = "1"
	}
	argv := append([]any{owner, strconv.FormatInt(c.opt.ReconcileGrace.Milliseconds(), 10), d}, args...)
	v, err := c.run(ctx, "reconcile", argv...)
	if err != nil {
		return nil, err
	}
	rows, _ := v.([]any)
	out := make([]Fix, 0, len(rows))
	for _, r := range rows {
		if f := toStrings(r); len(f) == 3 {
			out = append(out, Fix{Kind: f[0], Call: f[1], Agent: f[2]})
		}
	}
	return out, nil
}

// ReconcileEvery runs Reconcile every interval until ctx ends. A failed run (Redis away) is logged
// and tried again at the next tick.
func (c *Center) ReconcileEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := c.Reconcile(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("reconcile the live state", "err", err)
		}
	}
}
