package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/softphone"
)

const healCenter = `center: heal
skills: [s]
queues:
  - {name: q, skill: s, wrapup: 10s}
groups:
  - {name: g, count: 0}
agents:
  - {id: a1, group: g, skills: {s: 1}}
  - {id: a2, group: g, skills: {s: 1}}
`

// TestACDWritesSurviveBlip: Redis drops the connection at the very moment of Accept, then of
// RingNoAnswer. Each is retried until Redis is back, so the call ends on call with a1, and a2
// paused with the other call back in the queue, instead of both left ringing until a restart.
func TestACDWritesSurviveBlip(t *testing.T) {
	rs := redistest.Start(t)
	proxy := redistest.NewProxy(t, rs.Addr)
	// No client-side retries: the blip must reach the ACD's caller, as a longer outage would.
	rdb := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	m, err := acd.Load("heal.yaml", []byte(healCenter))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	center, err := acd.New(rdb, m, acd.Options{Instance: "i1", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	d := &distributor{center: center, log: log, cancel: func(string, string, string) {}}
	ctx := context.Background()
	for _, a := range []string{"a1", "a2"} {
		if err := center.Login(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"c1", "c2"} {
		if _, err := center.Enqueue(ctx, acd.Waiting{CallID: c, Queue: "q"}); err != nil {
			t.Fatal(err)
		}
	}
	offers, err := center.Dispatch(ctx)
	if err != nil || len(offers) != 2 {
		t.Fatalf("dispatch %v, %v", offers, err)
	}
	agentOf := map[string]string{}
	for _, o := range offers {
		agentOf[o.CallID] = o.Agent
	}

	blip := func(pattern string, write func() error) {
		t.Helper()
		proxy.CutOn(pattern)
		res := make(chan error, 1)
		go func() { res <- write() }()
		before := proxy.Refused()
		var early error
		done := false
		waitfor.True(t, "the write retried through the outage", 20*time.Second, func() bool {
			select {
			case early = <-res:
				done = true
				return true
			default:
			}
			return proxy.Refused() > before
		})
		proxy.Restore()
		if done {
			t.Fatalf("%s returned %v during the outage instead of retrying", pattern, early)
		}
		select {
		case err := <-res:
			if err != nil {
				t.Fatalf("%s after the outage: %v", pattern, err)
			}
		case <-time.After(30 * time.Second): // a guard against a hang, not a sync
			t.Fatalf("%s never returned", pattern)
		}
	}
	blip("\r\naccept\r\n", func() error { return d.Accept(ctx, "c1", agentOf["c1"]) })
	blip("\r\nringnoanswer\r\n", func() error { return d.RingNoAnswer(ctx, "c2", agentOf["c2"]) })

	snap, err := center.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]acd.Stage{}
	for _, c := range snap.Calls {
		stages[c.ID] = c.Stage
	}
	states := map[string]acd.AgentStatus{}
	for _, a := range snap.Agents {
		states[a.ID] = a
	}
	if stages["c1"] != acd.StageOnCall || states[agentOf["c1"]].State != acd.OnCall {
		t.Errorf("after the blip at accept: c1 %s, %s %s; want both on call", stages["c1"], agentOf["c1"], states[agentOf["c1"]].State)
	}
	if a := states[agentOf["c2"]]; stages["c2"] != acd.StageWaiting || a.State != acd.Paused || a.Reason != acd.ReasonNoAnswer {
		t.Errorf("after the blip at ring-no-answer: c2 %s, %s %s (%s); want waiting, paused for no answer", stages["c2"], a.ID, a.State, a.Reason)
	}
	if err := center.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// startSimServer runs the whole server on the Asterisk simulator against a real Redis (edit may
// point it at another). Its tests drive agents through the ACD with no page open, so pausing
// agents without a page is off unless edit turns it on.
func startSimServer(t *testing.T, name string, edit func(*config.Config)) *Server {
	t.Helper()
	rs := redistest.Start(t)
	cfg := config.Default()
	cfg.Center, cfg.Instance = name, name+"-1"
	cfg.ARI.Simulate = true
	cfg.Simulator.TimeScale, cfg.Simulator.CallersPerMinute = 0.2, 0
	cfg.Redis.Addr = rs.Addr
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Softphone.ICEPort = 0
	cfg.Softphone.DisconnectGrace = 0
	if edit != nil {
		edit(&cfg)
	}
	cfg, err := config.Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, cfg, Options{LoopbackOnly: true}, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitfor.True(t, "the switchboard connected", 20*time.Second, func() bool { return srv.sb.Connected() })
	return srv
}

// callOf finds a call in the ACD's snapshot.
func callOf(srv *Server, id string) (acd.CallState, bool) {
	snap, err := srv.center.Snapshot(context.Background())
	if err != nil {
		return acd.CallState{}, false
	}
	for _, c := range snap.Calls {
		if c.ID == id {
			return c, true
		}
	}
	return acd.CallState{}, false
}

// TestReconcilerFreesStuckRing: Redis says p002 rings for a waiting caller the controller is not
// ringing (a ring-no-answer that never reached Redis, written here as it would be left). The
// controller's reconciler frees p002 and returns the caller to the queue, counts it, and the
// caller is then offered for real.
func TestReconcilerFreesStuckRing(t *testing.T) {
	srv := startSimServer(t, "reconcile", func(c *config.Config) { c.ACD.ReconcileEvery = config.Duration(200 * time.Millisecond) })
	ctx := context.Background()
	caller, err := srv.Sim().Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "79161112233", Dialplan: "caller-agent-tone"})
	if err != nil {
		t.Fatal(err)
	}
	id := caller.ChannelID()
	waitfor.True(t, "the caller waiting in the queue", 20*time.Second, func() bool { c, _ := callOf(srv, id); return c.Stage == acd.StageWaiting })
	c, _ := callOf(srv, id)

	// The state a lost RingNoAnswer leaves, a minute old: agent and call ringing each other.
	tm, err := srv.rdb.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	old := tm.Add(-time.Minute).UnixMilli()
	k := srv.center.Key
	a, _ := srv.center.Model().Agent("p002")
	pipe := srv.rdb.TxPipeline()
	pipe.HSet(ctx, k("a:p002"), "state", "ringing", "call", id, "since", old, "idle", old, "prev_idle", old, "queues", strings.Join(a.Queues(), ","))
	pipe.HSet(ctx, k("c:"+id), "stage", "ringing", "agents", "p002", "rung", old, "seq", 1)
	pipe.ZRem(ctx, k("wait:"+c.Queue), id)
	pipe.ZRem(ctx, k("heads"), c.Queue)
	pipe.ZRem(ctx, k("deadline"), id)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}

	counted := func() float64 {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, line := range strings.Split(rec.Body.String(), "\n") {
			if rest, ok := strings.CutPrefix(line, `hotline_acd_reconciled_total{kind="ring_lost"} `); ok {
				n, _ := strconv.ParseFloat(rest, 64)
				return n
			}
		}
		return -1
	}
	waitfor.True(t, "the reconciler counting the stuck ring", 20*time.Second, func() bool { return counted() == 1 })
	// Freed, p002 is the only agent available: the caller is offered to them, and their page rings.
	waitfor.True(t, "p002's page ringing for the caller", 20*time.Second, func() bool {
		card, _, ok := srv.sb.ActiveCall("p002")
		return ok && card.ID == id
	})
	if err := srv.center.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// deskRig is the real desk over healCenter's ACD in a real Redis, with an agent page server that
// has no pages: no switchboard, no audio.
func deskRig(t *testing.T) (*desk, *acd.Center, *history) {
	t.Helper()
	rdb := redistest.Start(t).Client(t)
	m, err := acd.Load("heal.yaml", []byte(healCenter))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	center, err := acd.New(rdb, m, acd.Options{Instance: "i1", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	hist := &history{rdb: rdb, prefix: center.Key("")}
	ph := &phones{}
	d := &desk{model: m, center: center, phones: ph, history: hist}
	ph.web = softphone.NewServer(nil, d, softphone.ServerConfig{}, log)
	return d, center, hist
}

// TestWrapUpOnlyOwnCall runs the real desk: a2 cannot submit the wrap-up of a1's call (it used to
// be taken, recorded nowhere, and made a2 available); a1 can.
func TestWrapUpOnlyOwnCall(t *testing.T) {
	d, center, hist := deskRig(t)
	ctx := context.Background()
	if err := center.Login(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := center.Enqueue(ctx, acd.Waiting{CallID: "c1", Queue: "q"}); err != nil {
		t.Fatal(err)
	}
	if o, err := center.Dispatch(ctx); err != nil || len(o) != 1 || o[0].Agent != "a1" {
		t.Fatalf("dispatch %v, %v", o, err)
	}
	if _, err := center.Accept(ctx, "c1", "a1"); err != nil {
		t.Fatal(err)
	}
	if err := center.Finish(ctx, "c1", "a1"); err != nil {
		t.Fatal(err)
	}
	// What the phones write when a talked call ends.
	if err := hist.add(ctx, "a1", softphone.CallSummary{CallID: "c1", StartedAt: time.Now().UTC().Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	if err := center.Login(ctx, "a2"); err != nil {
		t.Fatal(err)
	}
	if err := center.Pause(ctx, "a2", "break"); err != nil {
		t.Fatal(err)
	}
	state := func(id string) acd.AgentState {
		snap, err := center.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range snap.Agents {
			if a.ID == id {
				return a.State
			}
		}
		return ""
	}
	if err := d.WrapUp(ctx, "a2", "c1", "resolved", "not mine"); !errors.Is(err, softphone.ErrNotYourCall) {
		t.Fatalf("a2 wrapping up a1's call = %v, want ErrNotYourCall", err)
	}
	if st := state("a2"); st != acd.Paused {
		t.Fatalf("a2 is %s after a refused wrap-up, want still paused", st)
	}
	// A code the center does not offer would reach the reports and colleagues' screen pops as if it
	// were one: refused, and the agent stays in wrap-up.
	if err := d.WrapUp(ctx, "a1", "c1", "<b>urgent</b>", "mine"); !errors.Is(err, softphone.ErrBadMessage) {
		t.Fatalf("a disposition not in the list = %v, want ErrBadMessage", err)
	}
	if got, err := hist.today(ctx, "a1"); err != nil || len(got) != 1 || got[0].Disposition != "" {
		t.Fatalf("a1's history after a refused disposition: %+v, %v", got, err)
	}
	if err := d.WrapUp(ctx, "a1", "c1", "resolved", "mine"); err != nil {
		t.Fatal(err)
	}
	got, err := hist.today(ctx, "a1")
	if err != nil || len(got) != 1 || got[0].Disposition != "resolved" || got[0].Note != "mine" {
		t.Fatalf("a1's history %+v, %v: want the owner's disposition", got, err)
	}
	if st := state("a1"); st != acd.Available {
		t.Fatalf("a1 is %s after their wrap-up, want available", st)
	}
}
