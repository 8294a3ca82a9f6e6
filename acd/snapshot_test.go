package acd

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

func TestSnapshot(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1", "a2")
	e.must(e.c.Pause(e.ctx, "a2", "training"))
	if _, err := e.c.Enqueue(e.ctx, Waiting{CallID: "c1", Queue: "sales", Data: map[string]string{"tracking": "RA123456789RU"}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	e.enqueue("c2", "sales", 0)
	e.dispatch()
	e.clock.Advance(4 * time.Second)

	// A controller restarting: a fresh Center over the same Redis sees the same picture.
	c2, err := New(e.rdb, e.c.Model(), Options{Instance: "i2", Now: e.clock.Now})
	e.must(err)
	c2.scriptNow = e.clock.Now
	s, err := c2.Snapshot(e.ctx)
	e.must(err)
	if len(s.Calls) != 2 {
		t.Fatalf("calls %+v", s.Calls)
	}
	c1, cw := s.Calls[0], s.Calls[1]
	if c1.ID != "c1" || c1.Stage != StageRinging || !reflect.DeepEqual(c1.Agents, []string{"a1"}) ||
		c1.Data["tracking"] != "RA123456789RU" || c1.Owner != "i1" {
		t.Errorf("c1 %+v", c1)
	}
	pending, err := c2.Pending(e.ctx, "i1")
	e.must(err)
	if len(pending) != 1 || pending[0].CallID != "c1" || pending[0].Agent != "a1" || pending[0].Data["tracking"] == "" {
		t.Errorf("pending %+v", pending)
	}
	if cw.ID != "c2" || cw.Stage != StageWaiting || cw.Position != 1 {
		t.Errorf("c2 %+v", cw)
	}
	q := s.Queues[0]
	if q.Name != "sales" || !reflect.DeepEqual(q.Waiting, []string{"c2"}) || q.LongestWait != 4*time.Second {
		t.Errorf("sales %+v", q)
	}
	want := map[string]AgentStatus{
		"a1": {ID: "a1", Group: "g", State: Ringing, Call: "c1", Since: e.clock.Now().Add(-4 * time.Second)},
		"a2": {ID: "a2", Group: "g", State: Paused, Reason: "training"},
		"a3": {ID: "a3", Group: "g", State: Offline},
	}
	for _, a := range s.Agents {
		w := want[a.ID]
		if w.ID == "" {
			continue
		}
		if a.State != w.State || a.Call != w.Call || a.Reason != w.Reason || a.Group != w.Group ||
			(!w.Since.IsZero() && !a.Since.Equal(w.Since)) {
			t.Errorf("agent %+v, want %+v", a, w)
		}
	}
}

func TestEventStream(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1")
	e.enqueue("c1", "sales", 2)
	e.dispatch()
	e.must(e.c.RingNoAnswer(e.ctx, "c1", "a1"))
	e.must(e.c.SetAvailable(e.ctx, "a1"))
	e.dispatch()
	e.clock.Advance(2 * time.Second)
	e.c.Accept(e.ctx, "c1", "a1")
	e.clock.Advance(time.Minute)
	e.must(e.c.Finish(e.ctx, "c1", "a1"))
	e.clock.Advance(10 * time.Second)
	e.dispatch()
	e.enqueue("c2", "sales", 0)
	e.c.Abandon(e.ctx, "c2")

	evs, err := e.c.Events(e.ctx, "", 100)
	e.must(err)
	var got []string
	for _, ev := range evs {
		got = append(got, strings.Join([]string{ev.Event, ev.Call, ev.Queue, ev.Agent, ev.Data}, "|"))
	}
	want := []string{
		"AGENTLOGIN|||a1|",
		"ENQUEUE|c1|sales||2",
		"RING|c1|sales|a1|",
		"RINGNOANSWER|c1|sales|a1|",
		"PAUSE|||a1|no answer",
		"UNPAUSE|||a1|paused",
		"RING|c1|sales|a1|",
		"CONNECT|c1|sales|a1|2000",
		"COMPLETE|c1|sales|a1|60000",
		"WRAPUPEND|||a1|",
		"ENQUEUE|c2|sales||0",
		"ABANDON|c2|sales||0",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !evs[1].Time.Equal(time.UnixMilli(1_780_000_000_000 + 1000)) {
		t.Errorf("ENQUEUE time %v", evs[1].Time)
	}
	// Reading on from an id returns only what came after.
	rest, err := e.c.Events(e.ctx, evs[9].ID, 100)
	e.must(err)
	if len(rest) != 2 {
		t.Fatalf("after %s: %d events", evs[9].ID, len(rest))
	}
}

// TestMiniredis runs the same script on the embedded Redis that `hotline demo` uses.
func TestMiniredis(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	e := newEnvOn(t, rdb, testCenter)
	e.login("a1", "a2", "a3")
	e.enqueue("c1", "vip", 0)
	e.enqueue("c2", "sales", 1)
	e.enqueue("c3", "ring", 0)
	got := e.dispatch()
	want := map[string]string{"c1": "a2", "c2": "a1", "c3": "a3"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dispatch %v, want %v", got, want)
	}
	e.must(e.c.RingNoAnswer(e.ctx, "c2", "a1"))
	e.c.Accept(e.ctx, "c1", "a2")
	e.c.Accept(e.ctx, "c3", "a3")
	e.must(e.c.Finish(e.ctx, "c1", "a2"))
	e.must(e.c.RequestCallback(e.ctx, "c2", "+100"))
	e.must(e.c.SetAvailable(e.ctx, "a1"))
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	offers := e.c.Offers(ctx, "i1")
	e.dispatch()
	if o := <-offers; o.CallID != "c2" || o.Callback != "+100" {
		t.Fatalf("offer %+v", o)
	}
	if _, err := e.c.Abandon(e.ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	if p, err := e.c.Position(e.ctx, "c2"); err == nil {
		t.Fatalf("position of a gone call: %+v", p)
	}
	e.clock.Advance(time.Minute)
	s, err := e.c.Snapshot(e.ctx)
	e.must(err)
	for _, a := range s.Agents {
		want := map[string]AgentState{"a1": Available, "a2": Available, "a3": OnCall}[a.ID]
		if a.State != want {
			t.Errorf("%s %s, want %s", a.ID, a.State, want)
		}
	}
	evs, err := e.c.Events(e.ctx, "", 1000)
	e.must(err)
	if len(evs) < 10 {
		t.Fatalf("only %d events", len(evs))
	}
	e.must(e.c.Verify(e.ctx))
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, testCenter)
	reg := prometheus.NewRegistry()
	e.must(e.c.RegisterMetrics(reg))
	e.login("a1")
	e.enqueue("c1", "sales", 0)
	e.enqueue("c2", "sales", 0)
	e.enqueue("c3", "support", 0)
	e.clock.Advance(12 * time.Second)
	e.dispatch()
	e.c.Accept(e.ctx, "c1", "a1")
	e.c.Abandon(e.ctx, "c3")
	mfs, err := reg.Gather()
	e.must(err)
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.GetGauge() != nil:
				values[key] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				values[key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				values[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for k, want := range map[string]float64{
		"hotline_acd_waiting_calls queue=sales":           1,
		"hotline_acd_waiting_calls queue=support":         0,
		"hotline_acd_longest_wait_seconds queue=sales":    12,
		"hotline_acd_calls_offered_total queue=sales":     2,
		"hotline_acd_calls_answered_total queue=sales":    1,
		"hotline_acd_calls_abandoned_total queue=support": 1,
		"hotline_acd_wait_seconds queue=sales":            1,
		"hotline_acd_agents group=g state=oncall":         1,
		"hotline_acd_agents group=g state=offline":        2,
		"hotline_acd_state_up":                            1,
	} {
		if got, ok := values[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == "a1" || strings.HasPrefix(l.GetValue(), "c") && l.GetName() != "queue" && l.GetName() != "state" && l.GetName() != "kind" {
					t.Errorf("%s leaks %s=%s", mf.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// TestResync: an edited center file takes effect on live agents without losing their state.
func TestResync(t *testing.T) {
	e := newEnv(t, testCenter)
	e.login("a1", "a3")
	e.enqueue("c1", "support", 0)
	e.dispatch() // a3 or a1 rings; the other stays available
	edited := strings.Replace(testCenter, "{id: a3, group: g, skills: {support: 5, vip: 2, all: 1}}",
		"{id: a3, group: g, skills: {sales: 9, vip: 2, all: 1}}", 1)
	m, err := Load("edited.yaml", []byte(edited))
	e.must(err)
	c2, err := New(e.rdb, m, Options{Instance: "i2", Now: e.clock.Now, Logger: quietLog})
	e.must(err)
	c2.scriptNow = e.clock.Now
	e.must(c2.Sync(e.ctx))
	e.must(c2.Verify(e.ctx))
	s, err := c2.Snapshot(e.ctx)
	e.must(err)
	if s.Calls[0].Stage != StageRinging {
		t.Fatalf("c1 %s after resync", s.Calls[0].Stage)
	}
	ringing := s.Calls[0].Agents[0]
	free := map[string]string{"a1": "a3", "a3": "a1"}[ringing]
	e.enqueue("c2", "sales", 0)
	got, err := c2.Dispatch(e.ctx)
	e.must(err)
	if len(got) != 1 || got[0].Agent != free {
		t.Fatalf("sales call went to %+v, want %s (a3 now has sales)", got, free)
	}
	e.must(c2.Verify(e.ctx))
}

// TestDefaultCenterOnMiniredis is `hotline demo`'s path: the embedded center on the embedded Redis.
func TestDefaultCenterOnMiniredis(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	m, err := LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	c, err := New(rdb, m, Options{Instance: "demo", Now: clock.Now, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	c.scriptNow = clock.Now
	ctx := context.Background()
	for _, id := range []string{"p001", "b001", "s001", "f001"} {
		if err := c.Login(ctx, id); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	tests := []struct{ call, queue, want string }{
		{"c1", "claims", "b001"},  // best-skill: business agents have claims 6, private 4
		{"c2", "payouts", "f001"}, // only payouts agents
		{"c3", "general", "p001"}, // longest idle among p001, s001
		{"c4", "social", "s001"},
	}
	for _, tc := range tests {
		if _, err := c.Enqueue(ctx, Waiting{CallID: tc.call, Queue: tc.queue}); err != nil {
			t.Fatal(err)
		}
		offers, err := c.Dispatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(offers) != 1 || offers[0].Agent != tc.want {
			t.Errorf("%s in %s → %+v, want %s", tc.call, tc.queue, offers, tc.want)
		}
	}
	if err := c.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}
