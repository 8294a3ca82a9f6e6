package acd

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/internal/redistest"
)

// TestClockSkewDoesNotPark: two controllers share one Redis, one with a clock 20 s ahead. Each
// beats and dispatches; neither takes the other for silent and parks its waiting caller, because
// the script reads Redis's clock, not theirs.
func TestClockSkewDoesNotPark(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	m, err := Load("test.yaml", []byte(testCenter))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ahead := func() time.Time { return time.Now().Add(20 * time.Second) }
	c1, err := New(rdb, m, Options{Instance: "on-time", Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := New(rdb, m, Options{Instance: "ahead", Now: ahead, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Center{c1, c2} {
		if _, err := c.Alive(ctx, 15*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c1.Enqueue(ctx, Waiting{CallID: "on-time-call", Queue: "sales"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Enqueue(ctx, Waiting{CallID: "ahead-call", Queue: "sales"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Center{c2, c1} { // the one ahead first: it would judge the other silent
		if _, err := c.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c1.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Calls) != 2 {
		t.Fatalf("%d calls, want 2", len(s.Calls))
	}
	for _, cs := range s.Calls {
		if cs.Stage != StageWaiting {
			t.Errorf("%s is %s, want waiting: a skewed clock parked it", cs.ID, cs.Stage)
		}
	}
	if err := c1.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRedisClockOnMiniredis: `hotline demo`'s embedded Redis runs the script on its own clock too.
func TestRedisClockOnMiniredis(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	m, err := Load("test.yaml", []byte(testCenter))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(rdb, m, Options{Instance: "demo", Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Login(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Enqueue(ctx, Waiting{CallID: "c1", Queue: "sales"}); err != nil {
		t.Fatal(err)
	}
	if offers, err := c.Dispatch(ctx); err != nil || len(offers) != 1 {
		t.Fatalf("dispatch %v, %v", offers, err)
	}
	s, err := c.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Not a timing assertion: a script that read no clock would say 1970.
	if d := time.Since(s.At); d > time.Hour || d < -time.Hour {
		t.Fatalf("snapshot at %v, want about now", s.At)
	}
}

// fakeLive is a controller's picture of its calls, set by the test.
type fakeLive struct {
	mu    sync.Mutex
	calls map[string]LiveCall
	ok    bool
}

func (f *fakeLive) LiveCalls() (map[string]LiveCall, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]LiveCall, len(f.calls))
	for k, v := range f.calls {
		out[k] = v
	}
	return out, f.ok
}

func (f *fakeLive) set(id string, lc LiveCall) {
	f.mu.Lock()
	f.calls[id] = lc
	f.mu.Unlock()
}

func (f *fakeLive) drop(id string) {
	f.mu.Lock()
	delete(f.calls, id)
	f.mu.Unlock()
}

// healEnv is an env whose center knows a controller's live calls and counts its fixes.
func healEnv(t *testing.T) (*env, *fakeLive, *prometheus.Registry) {
	e := newEnv(t, testCenter)
	live := &fakeLive{calls: map[string]LiveCall{}, ok: true}
	e.c.SetLive(live)
	reg := prometheus.NewRegistry()
	e.must(e.c.RegisterMetrics(reg))
	return e, live, reg
}

func (e *env) reconciled(kind string) float64 {
	return testutil.ToFloat64(e.c.metrics.reconciledC.WithLabelValues(kind))
}

func (e *env) call(id string) (CallState, bool) {
	e.t.Helper()
	s, err := e.c.Snapshot(e.ctx)
	e.must(err)
	for _, c := range s.Calls {
		if c.ID == id {
			return c, true
		}
	}
	return CallState{}, false
}

// TestReconcileRingLost: the controller stopped ringing (RingNoAnswer never reached Redis): agent
// and call stay ringing in Redis. Verify reports it once it is older than the grace, Reconcile frees
// the agent and puts the call back at the head of its queue, and the counter moves.
func TestReconcileRingLost(t *testing.T) {
	e, live, _ := healEnv(t)
	e.login("a1")
	e.enqueue("c1", "sales", 0)
	live.set("c1", LiveCall{})
	if got := e.dispatch(); got["c1"] != "a1" { // dispatch also Verifies: a fresh ring is no fault
		t.Fatalf("dispatch %v", got)
	}
	live.set("c1", LiveCall{}) // the page stopped ringing; the ACD never heard
	e.must(e.c.Verify(e.ctx))  // within the grace: perhaps an offer on its way
	e.clock.Advance(6 * time.Second)
	err := e.c.Verify(e.ctx)
	if err == nil || !strings.Contains(err.Error(), FixRingLost) {
		t.Fatalf("Verify = %v, want the stuck ring reported", err)
	}
	fixes, err := e.c.Reconcile(e.ctx)
	e.must(err)
	if len(fixes) != 1 || fixes[0] != (Fix{Kind: FixRingLost, Call: "c1", Agent: "a1"}) {
		t.Fatalf("fixes %v", fixes)
	}
	if n := e.reconciled(FixRingLost); n != 1 {
		t.Fatalf("reconciled_total{kind=ring_lost} = %v, want 1", n)
	}
	if a := e.agent("a1"); a.State != Available {
		t.Fatalf("a1 is %s, want available", a.State)
	}
	if w := e.waiting("sales"); len(w) != 1 || w[0] != "c1" {
		t.Fatalf("sales waiting %v, want c1 back", w)
	}
	e.must(e.c.Verify(e.ctx))
	if got := e.dispatch(); got["c1"] != "a1" {
		t.Fatalf("c1 not offered again: %v", got)
	}
}

// TestReconcileAnswerLost: the agent talks on the controller, but Accept never reached Redis.
func TestReconcileAnswerLost(t *testing.T) {
	e, live, _ := healEnv(t)
	e.login("a1")
	e.enqueue("c1", "sales", 0)
	live.set("c1", LiveCall{})
	e.dispatch()
	live.set("c1", LiveCall{Talking: "a1"})
	e.clock.Advance(6 * time.Second)
	if err := e.c.Verify(e.ctx); err == nil || !strings.Contains(err.Error(), FixAnswerLost) {
		t.Fatalf("Verify = %v, want the lost answer reported", err)
	}
	_, err := e.c.Reconcile(e.ctx)
	e.must(err)
	if c, _ := e.call("c1"); c.Stage != StageOnCall || e.agent("a1").State != OnCall {
		t.Fatalf("c1 %s, a1 %s: want both on call", c.Stage, e.agent("a1").State)
	}
	if n := e.reconciled(FixAnswerLost); n != 1 {
		t.Fatalf("reconciled_total{kind=answer_lost} = %v", n)
	}
	e.must(e.c.Verify(e.ctx))
}

// TestReconcileCallGone: the controller holds no such call any more (the caller hung up and the
// end was never recorded): a ringing call leaves with its agent freed, a talking one finishes with
// its agent in wrap-up, a waiting callback (no channel by design) is left alone.
func TestReconcileCallGone(t *testing.T) {
	e, live, _ := healEnv(t)
	e.login("a1", "a2")
	e.enqueue("ringing", "sales", 0)
	e.enqueue("talking", "sales", 0)
	for _, id := range []string{"ringing", "talking"} {
		live.set(id, LiveCall{})
	}
	got := e.dispatch()
	if len(got) != 2 {
		t.Fatalf("dispatch %v", got)
	}
	e.enqueue("callback", "support", 0) // nobody free: it waits, its caller gone by design
	e.must(e.c.RequestCallback(e.ctx, "callback", "+79160000000"))
	talker := got["talking"]
	_, err := e.c.Accept(e.ctx, "talking", talker)
	e.must(err)
	live.drop("ringing")
	live.drop("talking")
	e.clock.Advance(6 * time.Second)
	fixes, err := e.c.Reconcile(e.ctx)
	e.must(err)
	if len(fixes) != 2 || e.reconciled(FixCallGone) != 2 {
		t.Fatalf("fixes %v, counted %v", fixes, e.reconciled(FixCallGone))
	}
	for _, id := range []string{"ringing", "talking"} {
		if c, ok := e.call(id); ok {
			t.Errorf("%s still in the ACD: %+v", id, c)
		}
	}
	if c, ok := e.call("callback"); !ok || c.Stage != StageWaiting {
		t.Errorf("the waiting callback was touched: %+v", c)
	}
	if a := e.agent(talker); a.State != WrapUp {
		t.Errorf("%s is %s after its call's channel went, want wrap-up", talker, a.State)
	}
	if a := e.agent(got["ringing"]); a.State != Available {
		t.Errorf("%s is %s after the ringing call's channel went, want available", got["ringing"], a.State)
	}
	e.must(e.c.Verify(e.ctx))
}

// TestReconcileUnknownPicture: a controller that cannot tell what it holds (restarting) has none
// of its calls judged; an agent held by a call the ACD no longer has is freed all the same.
func TestReconcileUnknownPicture(t *testing.T) {
	e, live, _ := healEnv(t)
	live.ok = false
	e.login("a1", "a2")
	e.enqueue("c1", "sales", 0)
	e.dispatch()
	// a2 held by a call nobody has: only a write outside the script could do it, but it must heal.
	e.must(e.rdb.HSet(e.ctx, e.c.Key("a:a2"), "state", "oncall", "call", "ghost", "since", e.clock.Now().UnixMilli()).Err())
	a2, _ := e.c.Model().Agent("a2")
	for _, q := range a2.Queues() {
		e.must(e.rdb.ZRem(e.ctx, e.c.Key("avail:"+q), "a2").Err())
	}
	e.clock.Advance(6 * time.Second)
	fixes, err := e.c.Reconcile(e.ctx)
	e.must(err)
	if len(fixes) != 1 || fixes[0].Kind != FixAgentOrphaned || fixes[0].Agent != "a2" {
		t.Fatalf("fixes %v, want only a2 freed", fixes)
	}
	if c, _ := e.call("c1"); c.Stage != StageRinging {
		t.Fatalf("c1 is %s: judged without a picture", c.Stage)
	}
	if a := e.agent("a2"); a.State != Available {
		t.Fatalf("a2 is %s", a.State)
	}
	e.must(e.c.Verify(e.ctx))
}
