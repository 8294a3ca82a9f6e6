package switchboard

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// consultRig is a rig with a colleague a2 whose "browser" sends 1500 Hz (a1's sends 1000 Hz).
func consultRig(t *testing.T, tg *aritest.Target) *rig {
	r := newRig(t, tg)
	r.acd.free["a2"] = false // busy until the test frees them: the caller must go to a1
	r.phones.tones["a2"] = 1500
	return r
}

// TestConsultColleague: a1 consults a2 (refused at once while a2 is busy, a1 keeps the caller), a2
// rings with the screen pop and who consults, answers with their own leg and talks with a1 while the
// caller holds; a1 completes: the caller and a2 talk, the call is a2's in the ACD and in the
// switchboard (hold, hang up), and a1 is out.
func TestConsultColleague(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := consultRig(t, tg)
		r.start(t, "i1")
		ctx := context.Background()
		placed := r.dial(t, "79160000001")
		r.answerAndHear(t, placed)
		legA := r.phones.latest
		id := placed.ChannelID
		toA2 := Target{Kind: TargetAgent, ID: "a2"}

		if err := r.sb.Consult(ctx, "a1", id, toA2); !errors.Is(err, ErrTargetBusy) {
			t.Fatalf("consult a busy colleague = %v, want ErrTargetBusy", err)
		}
		if err := r.sb.Consult(ctx, "a1", id, Target{Kind: TargetAgent, ID: "a1"}); !errors.Is(err, ErrBadTarget) {
			t.Fatalf("consult oneself = %v, want ErrBadTarget", err)
		}
		if _, talking, ok := r.sb.ActiveCall("a1"); !ok || !talking {
			t.Fatal("a1 lost the caller after a refused consultation")
		}
		waitfor.True(t, "a1 still with the caller", 20*time.Second, func() bool { return legA.hears(440) })

		r.acd.setFree("a2", true)
		if err := r.sb.Consult(ctx, "a1", id, toA2); err != nil {
			t.Fatal(err)
		}
		ring := r.phones.nextFor(t, "a2", EventConsultRing)
		if ring.Agent != "a1" || ring.Call.ID != id || ring.Call.CallerNumber != "79160000001" || ring.Call.Queue != "general" || ring.Call.Data["key"] != "1" {
			t.Fatalf("a2's consultation card = %+v from %q", ring.Call, ring.Agent)
		}
		if ev := r.phones.nextFor(t, "a1", EventConsulting); ev.Agent != "a2" || ev.Answered {
			t.Fatalf("a1's consulting event = %+v", ev)
		}
		if r.acd.isFree("a2") {
			t.Fatal("a2 is not reserved in the ACD during the consultation")
		}
		if err := r.sb.Hold(ctx, "a2", id); !errors.Is(err, ErrNotYourCall) {
			t.Fatalf("the consulted colleague holds the caller: %v", err)
		}
		if err := r.sb.CompleteTransfer(ctx, "a1", id); !errors.Is(err, ErrBadTarget) {
			t.Fatalf("complete before the colleague answered = %v, want ErrBadTarget", err)
		}
		if err := r.sb.Answer(ctx, "a2", id); err != nil {
			t.Fatal(err)
		}
		r.phones.nextFor(t, "a2", EventConsultConnected)
		if ev := r.phones.nextFor(t, "a1", EventConsulting); !ev.Answered {
			t.Fatalf("a1 not told a2 answered: %+v", ev)
		}
		legB := r.phones.nextLeg(t)
		if legB.agent != "a2" {
			t.Fatalf("the consultation's leg is %s's", legB.agent)
		}
		waitfor.True(t, "a1 hearing a2", 20*time.Second, func() bool { return legA.hears(1500) })
		waitfor.True(t, "a2 hearing a1", 20*time.Second, func() bool { return legB.hears(1000) })

		if err := r.sb.CompleteTransfer(ctx, "a1", id); err != nil {
			t.Fatal(err)
		}
		r.phones.nextFor(t, "a1", EventEnded)
		if ev := r.phones.nextFor(t, "a2", EventConnected); ev.Call.ID != id {
			t.Fatalf("a2 connected to %q", ev.Call.ID)
		}
		r.acd.mu.Lock()
		handovers := slices.Clone(r.acd.handovers)
		r.acd.mu.Unlock()
		if !slices.Equal(handovers, []string{"a1>a2"}) {
			t.Fatalf("ACD handovers = %v", handovers)
		}
		waitClosed(t, legB.heard440, "the caller's audio at a2 after the transfer")
		if placed.Sim != nil {
			waitCallerHears(t, placed.Sim, 1500)
		}
		if err := r.sb.Hangup(ctx, "a1", id); !errors.Is(err, ErrNotYourCall) {
			t.Fatalf("a1 still controls the transferred call: %v", err)
		}
		if card, talking, ok := r.sb.ActiveCall("a2"); !ok || !talking || card.ID != id {
			t.Fatalf("a2's active call = %+v %v %v", card, talking, ok)
		}
		if err := r.sb.Hold(ctx, "a2", id); err != nil {
			t.Fatalf("a2 holds their call: %v", err)
		}
		if err := r.sb.Resume(ctx, "a2", id); err != nil {
			t.Fatalf("a2 resumes their call: %v", err)
		}
		r.acd.mu.Lock()
		holds := slices.Clone(r.acd.holds)
		r.acd.mu.Unlock()
		// a1 held the caller to consult (the ACD ends that hold at the handover), then a2.
		if want := []string{id + " a1 true", id + " a2 true", id + " a2 false"}; !slices.Equal(holds, want) {
			t.Errorf("holds told to the ACD: %q, want %q", holds, want)
		}
		if err := r.sb.Hangup(ctx, "a2", id); err != nil {
			t.Fatal(err)
		}
		r.phones.nextFor(t, "a2", EventEnded)
		if !r.acd.wasFinished(id) {
			t.Error("the ACD was not told a2 finished the call")
		}
	})
}

// TestConsultColleagueEnds: a consultation that ends without a transfer (a1 cancels, the colleague
// rejects, lets it ring out, hangs up, or the caller hangs up) frees the colleague, tells both pages
// why, and leaves a1 with the caller; a queue with nobody free is refused at once.
func TestConsultColleagueEnds(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := consultRig(t, tg)
		r.ringTimeout = 3 * time.Second
		r.start(t, "i1")
		ctx := context.Background()
		placed := r.dial(t, "100")
		r.answerAndHear(t, placed)
		legA := r.phones.latest
		id := placed.ChannelID
		toQueue := Target{Kind: TargetQueue, ID: "general"}

		if err := r.sb.Consult(ctx, "a1", id, toQueue); !errors.Is(err, ErrTargetBusy) {
			t.Fatalf("consult a queue with nobody free = %v, want ErrTargetBusy", err)
		}
		r.acd.setFree("a2", true)
		backWithCaller := func(what string) {
			t.Helper()
			if !r.acd.isFree("a2") {
				t.Fatalf("%s: a2 not available again", what)
			}
			waitfor.True(t, what+": a1 back with the caller", 20*time.Second, func() bool { return legA.hears(440) })
		}

		// a1 goes back to the caller while a2 rings.
		if err := r.sb.Consult(ctx, "a1", id, toQueue); err != nil {
			t.Fatal(err)
		}
		if ev := r.phones.nextFor(t, "a1", EventConsulting); ev.Agent != "a2" {
			t.Fatalf("the queue picked %q, want a2", ev.Agent)
		}
		r.phones.nextFor(t, "a2", EventConsultRing)
		if err := r.sb.CancelConsult(ctx, "a1", id); err != nil {
			t.Fatal(err)
		}
		if ev := r.phones.nextFor(t, "a2", EventConsultReleased); ev.Reason != ConsultCancelled {
			t.Fatalf("a2 told %q, want %q", ev.Reason, ConsultCancelled)
		}
		backWithCaller("cancelled")

		// a2 rejects.
		if err := r.sb.Consult(ctx, "a1", id, Target{Kind: TargetAgent, ID: "a2"}); err != nil {
			t.Fatal(err)
		}
		r.phones.nextFor(t, "a2", EventConsultRing)
		if err := r.sb.Reject(ctx, "a2", id); err != nil {
			t.Fatal(err)
		}
		if ev := r.phones.nextFor(t, "a1", EventConsultEnded); ev.Reason != ConsultRejected || ev.Agent != "a2" {
			t.Fatalf("a1 told %+v, want rejected by a2", ev)
		}
		r.phones.nextFor(t, "a2", EventConsultReleased)
		backWithCaller("rejected")

		// a2 lets it ring out.
		if err := r.sb.Consult(ctx, "a1", id, Target{Kind: TargetAgent, ID: "a2"}); err != nil {
			t.Fatal(err)
		}
		if ev := r.phones.nextFor(t, "a1", EventConsultEnded); ev.Reason != ConsultNoAnswer {
			t.Fatalf("a1 told %q, want %q", ev.Reason, ConsultNoAnswer)
		}
		r.phones.nextFor(t, "a2", EventConsultReleased)
		backWithCaller("no answer")

		// a2 answers, then hangs up.
		if err := r.sb.Consult(ctx, "a1", id, Target{Kind: TargetAgent, ID: "a2"}); err != nil {
			t.Fatal(err)
		}
		if err := r.sb.Answer(ctx, "a2", id); err != nil {
			t.Fatal(err)
		}
		legB := r.phones.nextLeg(t)
		waitfor.True(t, "a1 hearing a2", 20*time.Second, func() bool { return legA.hears(1500) })
		if err := r.sb.Hangup(ctx, "a2", id); err != nil {
			t.Fatal(err)
		}
		if ev := r.phones.nextFor(t, "a1", EventConsultEnded); ev.Reason != ConsultHungUp {
			t.Fatalf("a1 told %q, want %q", ev.Reason, ConsultHungUp)
		}
		r.phones.nextFor(t, "a2", EventConsultReleased)
		backWithCaller("hung up")
		waitClosed(t, legB.stop, "a2's consultation leg closed")

		// The caller hangs up during a consultation: both are told, a2 is free, a1 wraps up.
		if err := r.sb.Consult(ctx, "a1", id, Target{Kind: TargetAgent, ID: "a2"}); err != nil {
			t.Fatal(err)
		}
		if err := r.sb.Answer(ctx, "a2", id); err != nil {
			t.Fatal(err)
		}
		r.phones.nextLeg(t)
		if st, _, err := tg.Do(ctx, "DELETE", "/ari/channels/"+id, nil); err != nil || st/100 != 2 {
			t.Fatalf("hang the caller up: %d %v", st, err)
		}
		if ev := r.phones.nextFor(t, "a2", EventConsultReleased); ev.Reason != ConsultCallerHungUp {
			t.Fatalf("a2 told %q, want %q", ev.Reason, ConsultCallerHungUp)
		}
		r.phones.nextFor(t, "a1", EventEnded)
		waitClosed(t, r.sb.CallDone(id), "the call's end")
		if !r.acd.isFree("a2") || !r.acd.wasFinished(id) {
			t.Fatalf("after the caller hung up: a2 free %v, call finished %v", r.acd.isFree("a2"), r.acd.wasFinished(id))
		}
		r.acd.mu.Lock()
		released := slices.Clone(r.acd.released)
		r.acd.mu.Unlock()
		if len(released) != 5 {
			t.Fatalf("a2 released %d times, want 5: %v", len(released), released)
		}
	})
}
