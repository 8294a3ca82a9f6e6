package acd

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBasicFlow(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1")
	e.enqueue("c1", "sales", 0)
	got := e.dispatch()
	if got["c1"] != "a1" {
		t.Fatalf("dispatch = %v, want c1→a1", got)
	}
	if st := e.agent("a1").State; st != Ringing {
		t.Fatalf("a1 %s, want ringing", st)
	}
	if _, err := e.c.Accept(e.ctx, "c1", "a1"); err != nil {
		t.Fatal(err)
	}
	e.must(e.c.Finish(e.ctx, "c1", "a1"))
	if st := e.agent("a1").State; st != WrapUp {
		t.Fatalf("a1 %s, want wrapup", st)
	}
	e.clock.Advance(10 * time.Second)
	if st := e.agent("a1").State; st != Available {
		t.Fatalf("a1 %s after wrap-up time, want available", st)
	}
	e.must(e.c.Verify(e.ctx))
}

func TestErrors(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1")
	e.enqueue("c1", "sales", 0)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"unknown agent", e.c.Login(e.ctx, "zz"), ErrUnknownAgent},
		{"unknown queue", func() error { _, err := e.c.Enqueue(e.ctx, Waiting{CallID: "x", Queue: "nope"}); return err }(), ErrUnknownQueue},
		{"duplicate call", func() error { _, err := e.c.Enqueue(e.ctx, Waiting{CallID: "c1", Queue: "sales"}); return err }(), ErrDuplicateCall},
		{"accept not ringing", func() error { _, err := e.c.Accept(e.ctx, "c1", "a1"); return err }(), ErrNotRinging},
		{"finish not on call", e.c.Finish(e.ctx, "c1", "a1"), ErrNotOnCall},
		{"unknown call", e.c.RingNoAnswer(e.ctx, "nope", "a1"), ErrUnknownCall},
		{"available offline", e.c.SetAvailable(e.ctx, "a2"), ErrNotLoggedIn},
		{"bad call id", func() error { _, err := e.c.Enqueue(e.ctx, Waiting{CallID: "a b", Queue: "sales"}); return err }(), ErrBadRequest},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	e.dispatch()
	if err := e.c.Logout(e.ctx, "a1"); !errors.Is(err, ErrAgentBusy) {
		t.Errorf("logout while ringing: %v, want ErrAgentBusy", err)
	}
	if err := e.c.Pause(e.ctx, "a1", "x"); !errors.Is(err, ErrAgentBusy) {
		t.Errorf("pause while ringing: %v, want ErrAgentBusy", err)
	}
	if _, err := e.c.Accept(e.ctx, "c1", "a2"); !errors.Is(err, ErrNotRinging) {
		t.Errorf("accept by another agent: %v, want ErrNotRinging", err)
	}
}

// TestPauseLogsIn: an agent who starts the shift on a break is logged in paused, and is offered
// nothing until available (issue 12: pause was refused right after login).
func TestPauseLogsIn(t *testing.T) {
	e := newEnv(t, testCenter)
	e.must(e.c.Pause(e.ctx, "a1", "lunch"))
	if st := e.agent("a1"); st.State != Paused || st.Reason != "lunch" {
		t.Fatalf("a1 after a pause from offline: %+v", st)
	}
	// The page asks for a pause the same way on a call or not (PauseAfterCall): offline, at once.
	e.must(e.c.PauseAfterCall(e.ctx, "a2", "training"))
	if st := e.agent("a2"); st.State != Paused || st.Reason != "training" {
		t.Fatalf("a2 after a pause-after-call from offline: %+v", st)
	}
	e.must(e.c.Logout(e.ctx, "a2"))
	e.enqueue("c1", "sales", 0)
	if got := e.dispatch(); len(got) != 0 {
		t.Fatalf("offers to a paused agent: %v", got)
	}
	e.must(e.c.SetAvailable(e.ctx, "a1"))
	if got := e.dispatch(); got["c1"] != "a1" {
		t.Fatalf("offers once available: %v, want c1 to a1", got)
	}
}

// TestPauseAfterCall: an agent on a call asks for a break after it; the wrap-up submitted, they
// are paused instead of given the next caller. Taken back, it is as if never asked; asked while
// idle, the pause is at once.
func TestPauseAfterCall(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1")
	talk := func(call string) {
		t.Helper()
		e.enqueue(call, "sales", 0)
		if got := e.dispatch(); got[call] != "a1" {
			t.Fatalf("offers %v, want %s to a1", got, call)
		}
		_, err := e.c.Accept(e.ctx, call, "a1")
		e.must(err)
	}
	talk("c1")
	e.must(e.c.PauseAfterCall(e.ctx, "a1", "lunch"))
	if st := e.agent("a1"); st.State != OnCall {
		t.Fatalf("asking for a pause changed the call: %+v", st)
	}
	e.enqueue("c2", "sales", 0)
	e.must(e.c.Finish(e.ctx, "c1", "a1"))
	e.must(e.c.SetAvailable(e.ctx, "a1")) // the wrap-up submitted
	if st := e.agent("a1"); st.State != Paused || st.Reason != "lunch" {
		t.Fatalf("after the call: %+v, want paused for lunch", st)
	}
	if got := e.dispatch(); len(got) != 0 {
		t.Fatalf("offers to the paused agent: %v", got)
	}
	e.must(e.c.SetAvailable(e.ctx, "a1"))
	if got := e.dispatch(); got["c2"] != "a1" {
		t.Fatalf("back from the pause: offers %v", got)
	}
	_, err := e.c.Accept(e.ctx, "c2", "a1")
	e.must(err)
	e.must(e.c.PauseAfterCall(e.ctx, "a1", "lunch"))
	e.must(e.c.PauseAfterCall(e.ctx, "a1", "")) // changed their mind
	e.must(e.c.Finish(e.ctx, "c2", "a1"))
	e.must(e.c.SetAvailable(e.ctx, "a1"))
	if st := e.agent("a1"); st.State != Available {
		t.Fatalf("a pause taken back still given: %+v", st)
	}
	e.must(e.c.PauseAfterCall(e.ctx, "a1", "break"))
	if st := e.agent("a1"); st.State != Paused || st.Reason != "break" {
		t.Fatalf("asked while idle: %+v, want paused at once", st)
	}
	e.must(e.c.Verify(e.ctx))
}

// TestStrategies: each queue's strategy picks the expected agent among a1, a2, a3 (logged in in that
// order, so a1 has been idle longest).
func TestStrategies(t *testing.T) {
	tests := []struct {
		name  string
		queue string
		setup func(e *env)
		want  string
	}{
		{"longest idle", "sales", nil, "a1"},
		{"longest idle after a1 worked", "sales", func(e *env) {
			e.enqueue("w", "support", 0)
			e.dispatch() // a1 takes it (support: a1, a3; a1 idle longest)
			e.c.Accept(e.ctx, "w", "a1")
			e.must(e.c.Finish(e.ctx, "w", "a1")) // support: no wrap-up, a1 idle from now
		}, "a2"},
		{"best skill", "vip", nil, "a2"},
		{"least calls", "least", func(e *env) {
			for i, a := range []string{"a1", "a2"} {
				id := "w" + a
				e.enqueue(id, "least", 0)
				got := e.dispatch()
				if got[id] != a {
					e.t.Fatalf("warm-up %d: %v", i, got)
				}
				e.c.Accept(e.ctx, id, a)
				e.must(e.c.Finish(e.ctx, id, a))
				e.must(e.c.SetAvailable(e.ctx, a))
			}
		}, "a3"},
		{"linear ignores idle time", "lin", func(e *env) {
			e.must(e.c.Pause(e.ctx, "a1", "x"))
			e.must(e.c.SetAvailable(e.ctx, "a1")) // a1 now idle shortest, still first in line
		}, "a1"},
		{"ring all", "ring", nil, "a1 a2 a3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testCenter)
			e.login("a1", "a2", "a3")
			if tc.setup != nil {
				tc.setup(e)
			}
			e.enqueue("c", tc.queue, 0)
			if got := e.dispatch()["c"]; got != tc.want {
				t.Fatalf("c offered to %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRingAllAccept(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1", "a2", "a3")
	e.enqueue("c", "ring", 0)
	e.dispatch()
	released, err := e.c.Accept(e.ctx, "c", "a2")
	e.must(err)
	if !reflect.DeepEqual(released, []string{"a1", "a3"}) {
		t.Fatalf("released %v", released)
	}
	for id, want := range map[string]AgentState{"a1": Available, "a2": OnCall, "a3": Available} {
		if st := e.agent(id).State; st != want {
			t.Errorf("%s %s, want %s", id, st, want)
		}
	}
	e.must(e.c.Verify(e.ctx))
	// The stream ends each other agent's ring with the answer, for the records' agent intervals.
	evs, err := e.c.Events(e.ctx, "", 100)
	e.must(err)
	var ends []string
	for _, ev := range evs {
		if ev.Call == "c" && (ev.Event == "RING" || ev.Event == "CONNECT" || ev.Event == "RINGCANCELED") {
			ends = append(ends, ev.Event+" "+ev.Agent+" "+ev.Data)
		}
	}
	if want := []string{"RING a1 a2 a3 ", "CONNECT a2 0", "RINGCANCELED a1 a2", "RINGCANCELED a3 a2"}; !reflect.DeepEqual(ends, want) {
		t.Errorf("events %q, want %q", ends, want)
	}
	// a1 kept its idle time: the next longest-idle call still goes to it.
	e.enqueue("d", "sales", 0)
	if got := e.dispatch()["d"]; got != "a1" {
		t.Fatalf("d → %q, want a1", got)
	}
}

func TestPriorities(t *testing.T) {
	e := newEnv(t, testCenter)
	e.enqueue("low", "sales", 0)
	e.clock.Advance(30 * time.Second)
	e.enqueue("high", "sales", 1) // one caller-priority point = 60 s: overtakes a 30 s head start
	e.clock.Advance(10 * time.Second)
	e.enqueue("later", "sales", 0)
	if got := e.waiting("sales"); !reflect.DeepEqual(got, []string{"high", "low", "later"}) {
		t.Fatalf("order %v", got)
	}
	p, err := e.c.Position(e.ctx, "low")
	e.must(err)
	if p.Position != 2 {
		t.Fatalf("low at %d, want 2", p.Position)
	}
}

// TestCrossQueueFairness: a1 serves sales and support and vip. It takes the caller with the longest
// effective wait: wait + queue priority × 30 s + caller priority × 60 s.
func TestCrossQueueFairness(t *testing.T) {
	tests := []struct {
		name  string
		calls []struct {
			id, q string
			prio  int
			after time.Duration // clock advance before enqueue
		}
		want string
	}{
		{"older wins across queues", []struct {
			id, q string
			prio  int
			after time.Duration
		}{{"s1", "sales", 0, 0}, {"u1", "support", 0, time.Second}}, "s1"},
		{"queue priority worth 30 s per point", []struct {
			id, q string
			prio  int
			after time.Duration
		}{{"s1", "sales", 0, 0}, {"v1", "vip", 0, 59 * time.Second}}, "v1"}, // vip prio 2 = 60 s > 59 s
		{"queue priority not enough", []struct {
			id, q string
			prio  int
			after time.Duration
		}{{"s1", "sales", 0, 0}, {"v1", "vip", 0, 61 * time.Second}}, "s1"},
		{"caller priority", []struct {
			id, q string
			prio  int
			after time.Duration
		}{{"s1", "sales", 0, 0}, {"u1", "support", 1, 50 * time.Second}}, "u1"},
		{"tie by queue name", []struct {
			id, q string
			prio  int
			after time.Duration
		}{{"s2", "support", 0, 0}, {"s1", "sales", 0, 0}}, "s1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testCenter)
			for _, c := range tc.calls {
				e.clock.Advance(c.after)
				e.enqueue(c.id, c.q, c.prio)
			}
			e.clock.Advance(time.Minute)
			e.login("a1")
			got := e.dispatch()
			if len(got) != 1 {
				t.Fatalf("dispatch %v, want one offer", got)
			}
			for call := range got {
				if call != tc.want {
					t.Fatalf("a1 got %s, want %s", call, tc.want)
				}
			}
		})
	}
}

func TestRingNoAnswerToHead(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1")
	e.enqueue("c1", "sales", 0)
	e.dispatch()
	e.clock.Advance(5 * time.Second)
	e.enqueue("c2", "sales", 5) // a much higher priority caller arrives while c1 rings
	e.must(e.c.RingNoAnswer(e.ctx, "c1", "a1"))
	if got := e.waiting("sales"); !reflect.DeepEqual(got, []string{"c1", "c2"}) {
		t.Fatalf("after ring-no-answer: %v, want c1 at the head", got)
	}
	a := e.agent("a1")
	if a.State != Paused || a.Reason != ReasonNoAnswer {
		t.Fatalf("a1 %s %q, want paused %q", a.State, a.Reason, ReasonNoAnswer)
	}
	snap, _ := e.c.Snapshot(e.ctx)
	for _, c := range snap.Calls {
		if c.ID == "c1" && !c.EnqueuedAt.Equal(time.UnixMilli(1_780_000_000_000+1000)) {
			t.Fatalf("c1 enqueued at %v: enqueue time changed", c.EnqueuedAt)
		}
	}
	e.login("a2")
	if got := e.dispatch(); got["c1"] != "a2" {
		t.Fatalf("redispatch %v, want c1→a2", got)
	}
}

func TestWrapUpExpiry(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1")
	e.enqueue("c1", "sales", 0)
	e.dispatch()
	e.c.Accept(e.ctx, "c1", "a1")
	e.must(e.c.Finish(e.ctx, "c1", "a1"))
	e.enqueue("c2", "sales", 0)
	e.clock.Advance(9999 * time.Millisecond)
	if got := e.dispatch(); len(got) != 0 {
		t.Fatalf("offered during wrap-up: %v", got)
	}
	e.clock.Advance(time.Millisecond)
	if got := e.dispatch(); got["c2"] != "a1" {
		t.Fatalf("after wrap-up: %v, want c2→a1", got)
	}
}

// TestExtendWrapUp (issue 12, deliverable 3): an agent asks for more wrap-up; the next call waits
// for its new end, never past MaxWrapUp from its start; outside a wrap-up it is refused.
func TestExtendWrapUp(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1")
	e.enqueue("c1", "sales", 0)
	e.dispatch()
	_, err := e.c.Accept(e.ctx, "c1", "a1")
	e.must(err)
	if _, err := e.c.ExtendWrapUp(e.ctx, "a1", 30*time.Second); !errors.Is(err, ErrNotWrappingUp) {
		t.Fatalf("extended on a call: %v", err)
	}
	e.must(e.c.Finish(e.ctx, "c1", "a1"))
	start := e.clock.Now()
	until, err := e.c.ExtendWrapUp(e.ctx, "a1", 30*time.Second)
	e.must(err)
	if want := start.Add(40 * time.Second); !until.Equal(want) { // the queue's 10 s, and 30 more
		t.Fatalf("wrap-up ends %v, want %v", until, want)
	}
	e.enqueue("c2", "sales", 0)
	e.clock.Advance(39 * time.Second)
	if got := e.dispatch(); len(got) != 0 {
		t.Fatalf("offered during the extended wrap-up: %v", got)
	}
	for range 30 { // at most MaxWrapUp in all
		until, err = e.c.ExtendWrapUp(e.ctx, "a1", time.Minute)
		e.must(err)
	}
	if want := start.Add(MaxWrapUp); !until.Equal(want) {
		t.Fatalf("wrap-up ends %v, want at most %v", until, want)
	}
	e.clock.Advance(MaxWrapUp)
	if got := e.dispatch(); got["c2"] != "a1" {
		t.Fatalf("after the wrap-up: %v, want c2→a1", got)
	}
	if _, err := e.c.ExtendWrapUp(e.ctx, "a1", time.Second); !errors.Is(err, ErrNotWrappingUp) {
		t.Fatalf("extended after the wrap-up: %v", err)
	}
	e.must(e.c.Verify(e.ctx))
}

func TestPauseLogout(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1", "a2")
	e.must(e.c.Pause(e.ctx, "a1", "lunch"))
	e.must(e.c.Logout(e.ctx, "a2"))
	e.enqueue("c1", "sales", 0)
	if got := e.dispatch(); len(got) != 0 {
		t.Fatalf("offered to paused/offline: %v", got)
	}
	if a := e.agent("a1"); a.State != Paused || a.Reason != "lunch" {
		t.Fatalf("a1 %+v", a)
	}
	if a := e.agent("a2"); a.State != Offline {
		t.Fatalf("a2 %+v", a)
	}
	e.must(e.c.SetAvailable(e.ctx, "a1"))
	if got := e.dispatch(); got["c1"] != "a1" {
		t.Fatalf("after unpause: %v", got)
	}
}

func TestAbandon(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1", "a2")
	e.enqueue("c1", "sales", 0)
	e.dispatch()
	e.clock.Advance(3 * time.Second)
	freed, err := e.c.Abandon(e.ctx, "c1")
	e.must(err)
	if !reflect.DeepEqual(freed, []string{"a1"}) {
		t.Fatalf("freed %v", freed)
	}
	if st := e.agent("a1").State; st != Available {
		t.Fatalf("a1 %s after abandon while ringing, want available", st)
	}
	e.must(e.c.Verify(e.ctx))
	// a1 kept its place: it still gets the next call before a2.
	e.enqueue("c2", "sales", 0)
	if got := e.dispatch(); got["c2"] != "a1" {
		t.Fatalf("%v, want c2→a1", got)
	}
	// Abandon while waiting.
	e.enqueue("c3", "sales", 0)
	e.enqueue("c4", "support", 0)
	e.must(e.c.Pause(e.ctx, "a2", "x"))
	if _, err := e.c.Abandon(e.ctx, "c3"); err != nil {
		t.Fatal(err)
	}
	if got := e.waiting("sales"); len(got) != 0 {
		t.Fatalf("sales still holds %v", got)
	}
	if _, err := e.c.Abandon(e.ctx, "c3"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("second abandon: %v", err)
	}
	e.c.Accept(e.ctx, "c2", "a1")
	if _, err := e.c.Abandon(e.ctx, "c2"); !errors.Is(err, ErrConnected) {
		t.Fatalf("abandon connected: %v", err)
	}
}

func TestMaxWaitOverflow(t *testing.T) {
	e := newEnv(t, testCenter)
	e.enqueue("c1", "sales", 0)
	e.clock.Advance(time.Minute)
	e.enqueue("c2", "sales", 0)
	e.clock.Advance(61 * time.Second)
	over, err := e.c.Overdue(e.ctx, 10)
	e.must(err)
	if len(over) != 1 || over[0].CallID != "c1" || over[0].Overflow.Kind != OverflowQueue || over[0].Overflow.Queue != "support" {
		t.Fatalf("overdue %+v", over)
	}
	if over[0].Waited != 121*time.Second {
		t.Fatalf("waited %v", over[0].Waited)
	}
	if _, err := e.c.Move(e.ctx, "c1", "support"); err != nil {
		t.Fatal(err)
	}
	e.enqueue("c3", "support", 0)
	if got := e.waiting("support"); !reflect.DeepEqual(got, []string{"c1", "c3"}) {
		t.Fatalf("support %v", got)
	}
	over, _ = e.c.Overdue(e.ctx, 10)
	if len(over) != 0 {
		t.Fatalf("still overdue: %+v", over)
	}
	snap, _ := e.c.Snapshot(e.ctx)
	if !snap.Calls[0].EnqueuedAt.Equal(newClock().Now()) || snap.Calls[0].ID != "c1" {
		t.Fatalf("moved call lost its enqueue time: %+v", snap.Calls[0])
	}
}

func TestCallbackKeepsPlace(t *testing.T) {
	e := newEnv(t, testCenter)
	e.enqueue("c1", "sales", 0)
	e.clock.Advance(time.Second)
	e.enqueue("c2", "sales", 1)
	e.clock.Advance(time.Second)
	e.enqueue("c3", "sales", 0)
	e.must(e.c.RequestCallback(e.ctx, "c1", "+79001234567"))
	if got := e.waiting("sales"); !reflect.DeepEqual(got, []string{"c2", "c1", "c3"}) {
		t.Fatalf("order %v", got)
	}
	e.clock.Advance(time.Hour)
	if over, _ := e.c.Overdue(e.ctx, 10); len(over) != 2 {
		t.Fatalf("overdue %+v: want c2 and c3 only", over)
	}
	if _, err := e.c.Abandon(e.ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	offers := e.c.Offers(ctx, "i1")
	e.login("a1")
	e.dispatch()
	o := <-offers
	if o.CallID != "c1" || o.Callback != "+79001234567" || o.Agent != "a1" || o.Queue != "sales" {
		t.Fatalf("offer %+v, want c1 as a callback to a1", o)
	}
}

// TestRingAllNoAnswer: with ring-all, one agent letting it ring out leaves the others ringing; the call
// goes back to its queue only when the last one does.
func TestRingAllNoAnswer(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1", "a2")
	e.enqueue("c", "ring", 0)
	e.dispatch()
	e.must(e.c.RingNoAnswer(e.ctx, "c", "a1"))
	e.must(e.c.Verify(e.ctx))
	if got := e.waiting("ring"); len(got) != 0 {
		t.Fatalf("requeued while a2 still rings: %v", got)
	}
	e.must(e.c.RingNoAnswer(e.ctx, "c", "a2"))
	if got := e.waiting("ring"); !reflect.DeepEqual(got, []string{"c"}) {
		t.Fatalf("after the last ring-no-answer: %v", got)
	}
	for _, id := range []string{"a1", "a2"} {
		if a := e.agent(id); a.State != Paused || a.Reason != ReasonNoAnswer {
			t.Errorf("%s %s %q", id, a.State, a.Reason)
		}
	}
}

// TestDirect: a waiting call offered to a named agent (a transfer to a colleague) skips the queue,
// reaches the owner's offers, and is refused when that agent is not available.
func TestDirect(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1", "a2")
	e.enqueue("c1", "sales", 0)
	e.enqueue("c2", "sales", 0)
	e.must(e.c.Direct(e.ctx, "c2", "a2"))
	if st := e.agent("a2"); st.State != Ringing || st.Call != "c2" {
		t.Fatalf("a2 = %+v, want ringing for c2", st)
	}
	if w := e.waiting("sales"); !reflect.DeepEqual(w, []string{"c1"}) {
		t.Fatalf("sales waiting = %v, want [c1]", w)
	}
	if err := e.c.Direct(e.ctx, "c1", "a2"); !errors.Is(err, ErrAgentBusy) {
		t.Fatalf("direct to a ringing agent = %v, want ErrAgentBusy", err)
	}
	if err := e.c.Direct(e.ctx, "c2", "a1"); !errors.Is(err, ErrNotWaiting) {
		t.Fatalf("direct of a ringing call = %v, want ErrNotWaiting", err)
	}
	if err := e.c.Direct(e.ctx, "c1", "nobody"); !errors.Is(err, ErrUnknownAgent) {
		t.Fatalf("direct to an unknown agent = %v", err)
	}
	if _, err := e.c.Accept(e.ctx, "c2", "a2"); err != nil {
		t.Fatal(err)
	}
	e.must(e.c.Verify(e.ctx))
}

// talk puts call id in queue q and connects it to agent a (who must be the one dispatch picks).
func (e *env) talk(id, q, a string) {
	e.t.Helper()
	e.enqueue(id, q, 0)
	if got := e.dispatch(); got[id] != a {
		e.t.Fatalf("dispatch = %v, want %s→%s", got, id, a)
	}
	if _, err := e.c.Accept(e.ctx, id, a); err != nil {
		e.t.Fatal(err)
	}
}

// TestConsultAgent: a colleague reserved for a consultation is busy (visible, offered nothing, cannot
// pause), goes back to available when it is cancelled, and owns the call after a handover while the
// consulting agent goes to wrap-up.
func TestConsultAgent(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1", "a2")
	e.talk("c1", "sales", "a1")

	if err := e.c.ConsultAgent(e.ctx, "c1", "a1", "a3"); !errors.Is(err, ErrAgentBusy) {
		t.Fatalf("consult an offline agent = %v, want ErrAgentBusy", err)
	}
	if err := e.c.ConsultAgent(e.ctx, "c1", "a1", "nobody"); !errors.Is(err, ErrUnknownAgent) {
		t.Fatalf("consult an unknown agent = %v, want ErrUnknownAgent", err)
	}
	if err := e.c.ConsultAgent(e.ctx, "c1", "a2", "a1"); !errors.Is(err, ErrNotOnCall) {
		t.Fatalf("consult on someone else's call = %v, want ErrNotOnCall", err)
	}
	e.must(e.c.ConsultAgent(e.ctx, "c1", "a1", "a2"))
	e.must(e.c.Verify(e.ctx))
	if st := e.agent("a2"); st.State != Consulting || st.Call != "c1" {
		t.Fatalf("a2 = %+v, want consult on c1", st)
	}
	if err := e.c.ConsultAgent(e.ctx, "c1", "a1", "a2"); !errors.Is(err, ErrConsulting) {
		t.Fatalf("a second consultation = %v, want ErrConsulting", err)
	}
	if err := e.c.Pause(e.ctx, "a2", "lunch"); !errors.Is(err, ErrAgentBusy) {
		t.Fatalf("pause while consulting = %v, want ErrAgentBusy", err)
	}
	e.enqueue("c2", "sales", 0)
	if got := e.dispatch(); len(got) != 0 {
		t.Fatalf("dispatch offered %v to an agent reserved for a consultation", got)
	}
	snap, err := e.c.Snapshot(e.ctx)
	e.must(err)
	for _, cs := range snap.Calls {
		if cs.ID == "c1" && cs.Consult != "a2" {
			t.Fatalf("c1's consult = %q, want a2", cs.Consult)
		}
	}

	// Cancelled without answering: a2 is available again with the idle time it had.
	e.clock.Advance(5 * time.Second)
	e.must(e.c.EndConsult(e.ctx, "c1", "a2", false))
	e.must(e.c.Verify(e.ctx))
	if err := e.c.EndConsult(e.ctx, "c1", "a2", false); !errors.Is(err, ErrNotConsulting) {
		t.Fatalf("end a consultation twice = %v, want ErrNotConsulting", err)
	}
	if got := e.dispatch(); got["c2"] != "a2" {
		t.Fatalf("dispatch = %v, want c2→a2 once the consultation ended", got)
	}
	e.must(e.c.RingNoAnswer(e.ctx, "c2", "a2"))
	e.must(e.c.SetAvailable(e.ctx, "a2"))
	_, err = e.c.Abandon(e.ctx, "c2")
	e.must(err)

	// Consult again and hand over: a1 wraps up, a2 talks, and a2's finish ends the call.
	e.must(e.c.ConsultAgent(e.ctx, "c1", "a1", "a2"))
	if err := e.c.HandOver(e.ctx, "c1", "a1", "a3"); !errors.Is(err, ErrNotConsulting) {
		t.Fatalf("hand over to an agent not consulted = %v, want ErrNotConsulting", err)
	}
	e.must(e.c.HandOver(e.ctx, "c1", "a1", "a2"))
	e.must(e.c.Verify(e.ctx))
	if st := e.agent("a1"); st.State != WrapUp {
		t.Fatalf("a1 = %+v after the handover, want wrapup", st)
	}
	if st := e.agent("a2"); st.State != OnCall || st.Call != "c1" || st.Calls != 1 {
		t.Fatalf("a2 = %+v after the handover, want oncall c1, the call counted as theirs", st)
	}
	if err := e.c.Finish(e.ctx, "c1", "a1"); !errors.Is(err, ErrNotOnCall) {
		t.Fatalf("finish by the agent who handed over = %v, want ErrNotOnCall", err)
	}
	e.must(e.c.Finish(e.ctx, "c1", "a2"))
	if st := e.agent("a2"); st.State != WrapUp {
		t.Fatalf("a2 = %+v after finishing, want wrapup", st)
	}
	evs, err := e.c.Events(e.ctx, "", 1000)
	e.must(err)
	var kinds []string
	for _, ev := range evs {
		if ev.Call == "c1" {
			kinds = append(kinds, ev.Event+":"+ev.Agent)
		}
	}
	want := []string{"ENQUEUE:", "RING:a1", "CONNECT:a1", "CONSULT:a2", "CONSULTEND:a2", "CONSULT:a2", "HANDOVER:a1", "COMPLETE:a2"}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("c1's events = %v, want %v", kinds, want)
	}
}

// TestConsultQueue: a queue's consultation takes the agent its strategy would offer the next call
// to, refuses at once when nobody is free, and a call that finishes frees a colleague still reserved.
func TestConsultQueue(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1", "a2", "a3")
	e.talk("c1", "support", "a1")
	if _, err := e.c.ConsultQueue(e.ctx, "c1", "a1", "nope"); !errors.Is(err, ErrUnknownQueue) {
		t.Fatalf("consult an unknown queue = %v", err)
	}
	// lin is linear: a1 (busy), a2, a3 in file order → a2.
	b, err := e.c.ConsultQueue(e.ctx, "c1", "a1", "lin")
	e.must(err)
	if b != "a2" {
		t.Fatalf("lin picked %s, want a2", b)
	}
	e.must(e.c.Verify(e.ctx))
	e.must(e.c.EndConsult(e.ctx, "c1", "a2", true))
	// support: a1 talks, a3 is the only one left.
	b, err = e.c.ConsultQueue(e.ctx, "c1", "a1", "support")
	e.must(err)
	if b != "a3" {
		t.Fatalf("support picked %s, want a3", b)
	}
	e.must(e.c.Pause(e.ctx, "a2", "lunch"))
	e.must(e.c.EndConsult(e.ctx, "c1", "a3", false))
	e.must(e.c.Pause(e.ctx, "a3", "lunch"))
	if _, err := e.c.ConsultQueue(e.ctx, "c1", "a1", "support"); !errors.Is(err, ErrNoAgent) {
		t.Fatalf("consult a queue with nobody free = %v, want ErrNoAgent", err)
	}
	e.must(e.c.SetAvailable(e.ctx, "a3"))
	_, err = e.c.ConsultQueue(e.ctx, "c1", "a1", "support")
	e.must(err)
	// The caller hangs up mid-consultation: the finish frees a3 too.
	e.must(e.c.Finish(e.ctx, "c1", "a1"))
	e.must(e.c.Verify(e.ctx))
	if st := e.agent("a3"); st.State != Available || st.Call != "" {
		t.Fatalf("a3 = %+v after the consulted call ended, want available", st)
	}
}

// TestClaim: a controller that holds a call's channel takes the call over from an owner that stopped
// for good; the call keeps its place and its offers go to the new owner.
func TestClaim(t *testing.T) {
	e := newEnv(t, testCenter)
	e.enqueue("c1", "sales", 0)
	e.enqueue("c2", "sales", 0)
	prev, err := e.c.Claim(e.ctx, "c1", "i2")
	e.must(err)
	if prev != "i1" {
		t.Fatalf("previous owner %q, want i1", prev)
	}
	if prev, err := e.c.Claim(e.ctx, "c1", "i2"); err != nil || prev != "i2" {
		t.Fatalf("claiming again: %q, %v", prev, err)
	}
	if _, err := e.c.Claim(e.ctx, "nope", "i2"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("claim an unknown call: %v", err)
	}
	if _, err := e.c.Claim(e.ctx, "c1", ""); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("claim for nobody: %v", err)
	}
	e.must(e.c.Verify(e.ctx))
	if got := e.waiting("sales"); !reflect.DeepEqual(got, []string{"c1", "c2"}) {
		t.Fatalf("sales waiting %v: the claim moved the call", got)
	}
	e.login("a1")
	offers, err := e.c.Dispatch(e.ctx)
	e.must(err)
	if len(offers) != 1 || offers[0].CallID != "c1" || offers[0].Owner != "i2" {
		t.Fatalf("offers %+v, want c1 for its new owner i2", offers)
	}
	evs, err := e.c.Events(e.ctx, "", 100)
	e.must(err)
	var claims []string
	for _, ev := range evs {
		if ev.Event == "CLAIM" {
			claims = append(claims, ev.Call+": "+ev.Data)
		}
	}
	if !reflect.DeepEqual(claims, []string{"c1: i1 i2"}) {
		t.Fatalf("CLAIM events %v, want one for c1", claims)
	}
}

// TestCallbackNoAnswer: a callback whose number does not answer frees the agent at once, waits out
// of its queue for the center's retry time and then comes back at the head; after the last attempt
// it leaves the ACD.
func TestCallbackNoAnswer(t *testing.T) {
	e := newEnv(t, testCenter+"callbacks: {attempts: 2, retry_after: 5m}\n")
	accept := func(call string) {
		t.Helper()
		_, err := e.c.Accept(e.ctx, call, "a1")
		e.must(err)
	}
	e.enqueue("c1", "sales", 0)
	e.must(e.c.RequestCallback(e.ctx, "c1", "+79001234567"))
	e.login("a1")
	if got := e.dispatch(); got["c1"] != "a1" {
		t.Fatalf("%v, want c1 → a1", got)
	}
	accept("c1")
	if _, _, err := e.c.CallbackNoAnswer(e.ctx, "c1", "a2"); !errors.Is(err, ErrNotOnCall) {
		t.Fatalf("another agent reports the no answer: %v", err)
	}
	n, retryAt, err := e.c.CallbackNoAnswer(e.ctx, "c1", "a1")
	e.must(err)
	if n != 1 || !retryAt.Equal(e.clock.Now().Add(5*time.Minute)) {
		t.Fatalf("attempt %d, retry at %v; want 1, in 5m", n, retryAt)
	}
	e.must(e.c.Verify(e.ctx))
	if st := e.agent("a1").State; st != Available {
		t.Fatalf("a1 %s after a callback nobody answered, want available (nothing to wrap up)", st)
	}
	// Meanwhile the queue goes on without it.
	e.enqueue("c2", "sales", 0)
	if got := e.dispatch(); len(got) != 1 || got["c2"] != "a1" {
		t.Fatalf("%v, want only c2 → a1 while c1 waits to be retried", got)
	}
	accept("c2")
	e.must(e.c.Finish(e.ctx, "c2", "a1"))
	e.enqueue("c3", "sales", 0)
	e.clock.Advance(5 * time.Minute)
	if got := e.dispatch(); got["c1"] != "a1" {
		t.Fatalf("%v, want c1 back at the head of sales, ahead of c3", got)
	}
	accept("c1")
	n, retryAt, err = e.c.CallbackNoAnswer(e.ctx, "c1", "a1")
	e.must(err)
	if n != 2 || !retryAt.IsZero() {
		t.Fatalf("attempt %d, retry at %v; want the last (2), no retry", n, retryAt)
	}
	if _, err := e.c.Position(e.ctx, "c1"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("c1 after its last attempt: %v, want gone", err)
	}
	e.must(e.c.Verify(e.ctx))
	evs, err := e.c.Events(e.ctx, "", 1000)
	e.must(err)
	var seen []string
	for _, ev := range evs {
		if ev.Call == "c1" && strings.HasPrefix(ev.Event, "CALLBACK") || ev.Call == "c1" && ev.Event == "EXIT" {
			seen = append(seen, ev.Event+" "+ev.Data)
		}
	}
	want := []string{"CALLBACK ", "CALLBACKNOANSWER 1", "CALLBACKRETRY ", "CALLBACKNOANSWER 2"}
	if len(seen) != 5 || !reflect.DeepEqual(seen[:4], want) || !strings.HasSuffix(seen[4], " callback_unanswered") {
		t.Fatalf("c1's events %q", seen)
	}
}

// TestParkOrphans: an instance whose heartbeat stops for good leaves calls nobody would connect;
// they leave their queues (agents ringing for them are freed) instead of taking agents, and come
// back in place when their owner beats again or another instance claims them. An instance that
// never beat is never judged.
func TestParkOrphans(t *testing.T) {
	e := newEnv(t, testCenter)
	m, err := Load("test.yaml", []byte(testCenter))
	e.must(err)
	other, err := New(e.rdb, m, Options{Instance: "i2", Now: e.clock.Now, Logger: quietLog})
	e.must(err)
	other.scriptNow = e.clock.Now
	if was, err := e.c.Alive(e.ctx, 15*time.Second); err != nil || was {
		t.Fatalf("first beat: was alive %v, %v", was, err)
	}
	e.must(errOf(other.Alive(e.ctx, 15*time.Second)))
	e.enqueue("c1", "sales", 0) // i1's
	e.clock.Advance(time.Second)
	e.enqueue("c2", "sales", 0) // i1's, to be ringing
	e.clock.Advance(time.Second)
	if _, err := other.Enqueue(e.ctx, Waiting{CallID: "c3", Queue: "sales"}); err != nil {
		t.Fatal(err)
	}
	e.login("a1", "a2")
	e.must(e.c.Pause(e.ctx, "a2", "x"))
	if got := e.dispatch(); got["c1"] != "a1" {
		t.Fatalf("%v, want c1 → a1 while i1 beats", got)
	}

	// i1 stops beating; i2 goes on.
	e.clock.Advance(20 * time.Second)
	e.must(errOf(other.Alive(e.ctx, 15*time.Second)))
	e.must(e.c.SetAvailable(e.ctx, "a2"))
	got := e.dispatch()
	if got["c3"] == "" || got["c1"] != "" || got["c2"] != "" || len(got) != 1 {
		t.Fatalf("%v, want only i2's c3 offered", got)
	}
	for _, a := range []string{"a1", "a2"} {
		if st := e.agent(a); st.Call == "c1" || st.Call == "c2" {
			t.Fatalf("%s still holds %s, a call of a dead instance", a, st.Call)
		}
	}
	if w := e.waiting("sales"); len(w) != 0 {
		t.Fatalf("sales still lists %v", w)
	}

	// i2 claims c2 (its channel is on i2's Asterisk); i1 comes back for c1.
	if _, err := other.Claim(e.ctx, "c2", "i2"); err != nil {
		t.Fatal(err)
	}
	if w := e.waiting("sales"); !reflect.DeepEqual(w, []string{"c2"}) {
		t.Fatalf("after the claim sales lists %v, want c2", w)
	}
	if _, err := e.c.Position(e.ctx, "c1"); err != nil {
		t.Fatalf("the parked c1 is gone: %v", err)
	}
	if was, err := e.c.Alive(e.ctx, 15*time.Second); err != nil || was {
		t.Fatalf("beat after the silence: was alive %v, %v", was, err)
	}
	if w := e.waiting("sales"); !reflect.DeepEqual(w, []string{"c1", "c2"}) {
		t.Fatalf("after i1 came back sales lists %v, want c1 then c2 in their places", w)
	}
	e.must(e.c.Verify(e.ctx))
}

func errOf(_ bool, err error) error { return err }

// TestParkedCallsExpire: a call parked for a day, its controller never back and nobody claiming it,
// is given up: its caller is long gone.
func TestParkedCallsExpire(t *testing.T) {
	e := newEnv(t, testCenter)
	e.must(errOf(e.c.Alive(e.ctx, 15*time.Second)))
	e.enqueue("c1", "sales", 0)
	e.clock.Advance(20 * time.Second)
	e.dispatch()
	if w := e.waiting("sales"); len(w) != 0 {
		t.Fatalf("sales lists %v after its owner fell silent", w)
	}
	e.clock.Advance(12 * time.Hour)
	e.dispatch()
	if _, err := e.c.Position(e.ctx, "c1"); err != nil {
		t.Fatalf("c1 given up after 12 h: %v", err)
	}
	e.clock.Advance(13 * time.Hour)
	e.dispatch()
	if _, err := e.c.Position(e.ctx, "c1"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("c1 after a day parked: %v, want gone", err)
	}
	evs, err := e.c.Events(e.ctx, "", 100)
	e.must(err)
	if last := evs[len(evs)-1]; last.Call != "c1" || last.Event != "EXIT" || !strings.HasSuffix(last.Data, " orphaned") {
		t.Fatalf("last event %+v, want c1's EXIT orphaned", last)
	}
	e.must(e.c.Verify(e.ctx))
}

// TestHold: a talking call held twice (a second hold and a resume of a call not held change
// nothing) and ended on hold writes HOLD, UNHOLD with the ms held, and, before COMPLETE, the UNHOLD
// of the hold it ended in; only the agent on the call may hold it.
func TestHold(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1", "a2")
	e.enqueue("c1", "sales", 0)
	got := e.dispatch()
	agent := got["c1"]
	_, err := e.c.Accept(e.ctx, "c1", agent)
	e.must(err)
	other := map[string]string{"a1": "a2", "a2": "a1"}[agent]
	if _, err := e.c.Hold(e.ctx, "c1", other, true); err == nil {
		t.Fatal("another agent held the call")
	}
	if d, err := e.c.Hold(e.ctx, "c1", agent, false); err != nil || d != 0 {
		t.Fatalf("resume of a call not held: %v, %v", d, err)
	}
	_, err = e.c.Hold(e.ctx, "c1", agent, true)
	e.must(err)
	e.clock.Advance(5 * time.Second)
	_, err = e.c.Hold(e.ctx, "c1", agent, true)
	e.must(err)
	e.clock.Advance(5 * time.Second)
	if d, err := e.c.Hold(e.ctx, "c1", agent, false); err != nil || d != 10*time.Second {
		t.Fatalf("held for %v (%v), want 10s", d, err)
	}
	_, err = e.c.Hold(e.ctx, "c1", agent, true)
	e.must(err)
	e.clock.Advance(3 * time.Second)
	e.must(e.c.Finish(e.ctx, "c1", agent))
	evs, err := e.c.Events(e.ctx, "", 100)
	e.must(err)
	var seq []string
	for _, ev := range evs {
		if ev.Call == "c1" && ev.Event != "ENQUEUE" && ev.Event != "RING" && ev.Event != "CONNECT" {
			seq = append(seq, ev.Event+" "+ev.Data)
		}
	}
	if want := []string{"HOLD ", "UNHOLD 10000", "HOLD ", "UNHOLD 3000", "COMPLETE 13000"}; !slices.Equal(seq, want) {
		t.Fatalf("events %q, want %q", seq, want)
	}

	// Held through a consultation and handed over: the hold ends at the handover.
	e.clock.Advance(time.Hour) // past the wrap-up
	e.enqueue("c2", "sales", 0)
	agent = e.dispatch()["c2"]
	other = map[string]string{"a1": "a2", "a2": "a1"}[agent]
	_, err = e.c.Accept(e.ctx, "c2", agent)
	e.must(err)
	_, err = e.c.Hold(e.ctx, "c2", agent, true)
	e.must(err)
	e.must(e.c.ConsultAgent(e.ctx, "c2", agent, other))
	e.clock.Advance(7 * time.Second)
	e.must(e.c.HandOver(e.ctx, "c2", agent, other))
	if d, err := e.c.Hold(e.ctx, "c2", other, false); err != nil || d != 0 {
		t.Fatalf("the colleague's resume after the handover: %v, %v; want nothing held", d, err)
	}
	evs, err = e.c.Events(e.ctx, "", 100)
	e.must(err)
	seq = nil
	for _, ev := range evs {
		if ev.Call == "c2" && (ev.Event == "UNHOLD" || ev.Event == "HANDOVER") {
			seq = append(seq, ev.Event+" "+ev.Agent+" "+ev.Data)
		}
	}
	if want := []string{"UNHOLD " + agent + " 7000", "HANDOVER " + agent + " " + other}; !slices.Equal(seq, want) {
		t.Fatalf("events %q, want %q", seq, want)
	}
	e.must(e.c.Verify(e.ctx))
}
