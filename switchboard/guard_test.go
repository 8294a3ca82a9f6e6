package switchboard

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/ivr"
)

// panicOnce is an IVR with a bug its first caller meets: it panics, once.
type panicOnce struct {
	fakeFlows
	done atomic.Bool
}

func (p *panicOnce) Run(ctx context.Context, call ivr.Call, in ivr.Inbound) (ivr.Result, error) {
	if p.done.CompareAndSwap(false, true) {
		panic("a bug in the IVR")
	}
	return p.fakeFlows.Run(ctx, call, in)
}

// TestLoopPanicStartsAgain: a panic in one of the switchboard's loops (here dispatch: our bug) is
// reported and the loop starts again, so the waiting caller still reaches an agent and the
// controller stays connected.
// Simulator only: the panic is the fake ACD's.
func TestLoopPanicStartsAgain(t *testing.T) {
	tg := aritest.NewSimTarget(t, simConfig())
	r := newRig(t, tg)
	r.acd.dispatchBugs.Store(1)
	panicked := make(chan string, 4)
	r.loopPanicked = func(loop string) { panicked <- loop }
	r.start(t, "i1")
	placed := r.dial(t, "79161110001")
	select {
	case loop := <-panicked:
		if loop != "dispatch" {
			t.Fatalf("the loop that panicked: %q, want dispatch", loop)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no loop panic reported")
	}
	if ring := r.phones.next(t, EventRing); ring.Call.ID != placed.ChannelID {
		t.Fatalf("rang %s, want the waiting caller %s", ring.Call.ID, placed.ChannelID)
	}
	if !r.sb.Connected() {
		t.Error("the controller lost Asterisk")
	}
}

// TestCallPanicTakenBack: a panic in a call's goroutine (our bug) does not take the controller
// down: it is counted, the call is taken back as after a restart (the caller hears the menu again
// and reaches an agent), and the controller goes on serving the next caller.
func TestCallPanicTakenBack(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.flows = &panicOnce{fakeFlows: fakeFlows{keyTimeout: time.Second}}
		r.start(t, "i1")
		first := r.dial(t, "79161110001")
		if ring := r.phones.next(t, EventRing); ring.Call.ID != first.ChannelID {
			t.Fatalf("rang %s, want the caller whose IVR panicked, %s", ring.Call.ID, first.ChannelID)
		}
		if n := r.sb.panics.Load(); n != 1 {
			t.Errorf("%d panics counted, want 1", n)
		}
		if !up(t, tg, first) {
			t.Error("the caller whose IVR panicked was dropped")
		}
		if !r.sb.Connected() {
			t.Error("the controller lost Asterisk")
		}
	})
}
