package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/prompts"
)

// Issue 13, deliverable 4: faults at load, on the simulator and on a real Asterisk. Each subtest
// runs the real binary (as TestRestart does) with a center under load: callers in the IVR, callers
// waiting with every agent busy, and callers talking to signalling-only agents (agentClient: a
// leg is opened on the gateway for them whether or not a WebRTC phone is attached).
//
// The scale knobs: HOTLINE_FAULTS_CALLS is how many calls the kill -9 subtest carries on the
// simulator, and HOTLINE_FAULTS_ASTERISK_CALLS on the real Asterisk (both 200 by default, as the
// issue asks: a quarter talking, half waiting, the rest in the IVR). The other subtests carry a
// quarter of the simulator's (at least 10) and a twentieth of the real Asterisk's (10): what they
// check does not grow with the load, and on the real Asterisk most of a subtest's time is placing
// the Local-channel callers (200 take about 29 s on this 2-core VM).
//
// Each subtest logs one line starting with "FAULTS" with its figures (grep it with -v).
const (
	faultsCallsEnv         = "HOTLINE_FAULTS_CALLS"
	faultsAsteriskCallsEnv = "HOTLINE_FAULTS_ASTERISK_CALLS"
)

func TestFaultsAtLoad(t *testing.T) {
	bin := hotlineBinary(t) // built once for every subtest
	nSim := faultsScale(t, faultsCallsEnv, 200)
	nReal := faultsScale(t, faultsAsteriskCallsEnv, 200)
	calls := func(tg *aritest.Target) int {
		if tg.Sim != nil {
			return nSim
		}
		return nReal
	}
	cfg := asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations(), SystemName: "node-a"}
	t.Run("kill -9", func(t *testing.T) {
		aritest.Run(t, cfg, func(t *testing.T, tg *aritest.Target) { faultKill(t, bin, tg, calls(tg)) })
	})
	small := func(tg *aritest.Target) int {
		if tg.Sim != nil {
			return max(nSim/4, 10)
		}
		return max(nReal/20, 10)
	}
	t.Run("redis restart", func(t *testing.T) {
		aritest.Run(t, cfg, func(t *testing.T, tg *aritest.Target) { faultRedisRestart(t, bin, tg, small(tg)) })
	})
	t.Run("ari cut", func(t *testing.T) {
		aritest.Run(t, cfg, func(t *testing.T, tg *aritest.Target) { faultARICut(t, bin, tg, small(tg)) })
	})
	t.Run("redis cut", func(t *testing.T) {
		aritest.Run(t, cfg, func(t *testing.T, tg *aritest.Target) { faultRedisCut(t, bin, tg, small(tg)) })
	})
}

// faultsScale reads a number of calls from env (def when unset).
func faultsScale(t *testing.T, env string, def int) int {
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 8 {
		t.Fatalf("%s=%q: want a number of calls, at least 8", env, v)
	}
	return n
}

// faultKill: SIGKILL the controller carrying n calls, start a new process with the same instance
// name, and check that nothing was lost:
//
//   - every caller's channel alive before the kill is alive after it (nobody hung up on them);
//   - each queue's waiting line is the same, in the same order, with the same enqueue times;
//   - each talking call is still with the same agent in the ACD, its bridge has a fresh
//     externalMedia leg (the dead process's is gone), and the agent's page, reconnecting with its
//     session cookie, is told the call is connected;
//   - each caller who was in the IVR is served again: the new process starts the menu over for
//     them (switchboard.adoptIVR), which the IVR's step stream shows.
//
// It logs the time from the new process's start to all of that (the goal is 2 s; not
// asserted as a time, the figure goes to BENCHMARKS.md).
func faultKill(t *testing.T, bin string, tg *aritest.Target, n int) {
	nTalk, nWait := n/4, n/2
	nIVR := n - nTalk - nWait
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	center := faultsCenter(t, rdb)
	cfgPath := writeFaultsConfig(t, tg, tg.ARIURL(), rs.Addr, "faults-1")
	proc := startProcess(t, bin, cfgPath, "first")

	start := time.Now()
	ld := loadCenter(t, tg, proc.base, center, rdb, nTalk, nWait, nIVR, true)
	loaded := time.Since(start)

	before := snapshot(t, center)
	legsBefore := emLegs(t, tg)
	liveBefore := channelIDs(t, tg)
	for _, id := range ld.allCallers() {
		if !liveBefore[id] {
			t.Fatalf("caller %s gone before the kill", id)
		}
	}
	// Who is where at the kill: IVR callers whom the IVR already queued (its last resort) count
	// as waiting.
	var inIVR []string
	for _, id := range ld.ivr {
		if _, ok := callIn(before, id); !ok {
			inIVR = append(inIVR, id)
		}
	}
	for call, agent := range ld.talking {
		cs, ok := callIn(before, call)
		if !ok || cs.Stage != acd.StageOnCall || !slices.Equal(cs.Agents, []string{agent}) {
			t.Fatalf("talking call %s before the kill: %+v (found %v), want on call with %s", call, cs, ok, agent)
		}
		if legsBefore[call] == "" {
			t.Fatalf("talking call %s has no externalMedia leg before the kill", call)
		}
	}

	proc.kill(t)
	for _, a := range ld.agents {
		a.waitClosed(10 * time.Second)
	}
	if tg.Sim != nil {
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := tg.Sim.WaitEventsConnections(wctx, 0); err != nil {
			t.Fatalf("the simulator never saw the controller's events socket close: %v", err)
		}
		wcancel()
	}

	t0 := time.Now()
	startProcess(t, bin, cfgPath, "second")
	healthy := time.Since(t0)

	// Reconciled: every talking call has a fresh leg, every IVR caller heard the menu again.
	var legsAfter map[string]string
	var stepsAfter map[string]bool
	var reconciled time.Duration
	waitfor.True(t, "every talking call with a fresh externalMedia leg and every IVR caller served again", 60*time.Second, func() bool {
		legsAfter = emLegs(t, tg)
		for call := range ld.talking {
			if l := legsAfter[call]; l == "" || l == legsBefore[call] {
				return false
			}
		}
		stepsAfter = ivrStepsSince(t, rdb, t0)
		for _, id := range inIVR {
			if !stepsAfter[id] {
				return false
			}
		}
		reconciled = time.Since(t0)
		return true
	})

	// The waiting lines: the same callers in the same order (IVR callers the new process queues
	// may join at their ends, after them).
	after := snapshot(t, center)
	waitingBefore := 0
	for _, qb := range before.Queues {
		qa := queueWaiting(after, qb.Name)
		if len(qa) < len(qb.Waiting) || !slices.Equal(qa[:len(qb.Waiting)], qb.Waiting) {
			t.Errorf("queue %s after the restart: %d waiting %v, before: %d %v", qb.Name, len(qa), qa, len(qb.Waiting), qb.Waiting)
		}
		waitingBefore += len(qb.Waiting)
		for _, id := range qb.Waiting {
			was, _ := callIn(before, id)
			now, ok := callIn(after, id)
			if !ok || !now.EnqueuedAt.Equal(was.EnqueuedAt) {
				t.Errorf("%s after the restart: %+v (found %v), before: %+v", id, now, ok, was)
			}
		}
	}
	for call, agent := range ld.talking {
		cs, ok := callIn(after, call)
		if !ok || cs.Stage != acd.StageOnCall || !slices.Equal(cs.Agents, []string{agent}) {
			t.Errorf("talking call %s after the restart: %+v (found %v), want on call with %s", call, cs, ok, agent)
		}
	}
	// Nobody hung up: every caller channel is still in Asterisk.
	liveAfter := channelIDs(t, tg)
	for _, id := range ld.allCallers() {
		if !liveAfter[id] {
			t.Errorf("caller %s hung up across the kill", id)
		}
	}
	if tg.Sim != nil {
		for _, p := range ld.placed {
			select {
			case <-p.Sim.Done():
				t.Errorf("simulated caller %s hung up across the kill", p.ChannelID)
			default:
			}
		}
	}
	// The dead process's legs are gone.
	waitfor.True(t, "the dead process's externalMedia channels hung up", 30*time.Second, func() bool {
		live := channelIDs(t, tg)
		for _, l := range legsBefore {
			if live[l] {
				return false
			}
		}
		return true
	})

	// The agents' pages reconnect with their session cookies and see their calls connected.
	pagesStart := time.Now()
	for call, agent := range ld.talking {
		a := openAgent(t, proc.base, agent, ld.agents[agent].Cookie)
		a.waitFor("call.connected for "+call+" again", 30*time.Second, isPush("call.connected", call))
	}
	pages := time.Since(pagesStart)

	t.Logf("FAULTS kill9 target=%s calls=%d talking=%d waiting=%d ivr=%d loaded_in=%v healthy_after=%v reconciled_after=%v pages_reconnected_in=%v",
		tg.Name, len(ld.allCallers()), len(ld.talking), waitingBefore, len(inIVR), loaded.Round(time.Millisecond),
		healthy.Round(time.Millisecond), reconciled.Round(time.Millisecond), pages.Round(time.Millisecond))
}

// faultRedisRestart: with calls talking and waiting, Redis (appendonly yes) is killed and started
// again on the same port and directory. No queue entry is lost: each waiting line is the same, in
// the same order; the talking calls stay with their agents; then the agents hang up, and every
// waiting caller is answered, each once, in the order they waited.
func faultRedisRestart(t *testing.T, bin string, tg *aritest.Target, n int) {
	nTalk := max(n/5, 2)
	nWait := n - nTalk
	rs := redistest.StartWith(t, redistest.Options{Conf: []string{"appendonly yes", "appendfsync everysec"}})
	rdb := rs.Client(t)
	center := faultsCenter(t, rdb)
	proc := startProcess(t, bin, writeFaultsConfig(t, tg, tg.ARIURL(), rs.Addr, "faults-1"), "controller")
	ld := loadCenter(t, tg, proc.base, center, rdb, nTalk, nWait, 0, false)
	before := snapshot(t, center)
	order := queueWaiting(before, "general")
	if len(order) != nWait {
		t.Fatalf("general queue before the restart: %d waiting, want %d", len(order), nWait)
	}

	evID := lastEvent(t, center)
	t0 := time.Now()
	rs.Restart(t)
	down := time.Since(t0)

	after := snapshot(t, center)
	if got := queueWaiting(after, "general"); !slices.Equal(got, order) {
		t.Fatalf("general queue after the Redis restart: %d %v, before: %d %v", len(got), got, len(order), order)
	}
	for call, agent := range ld.talking {
		cs, ok := callIn(after, call)
		if !ok || cs.Stage != acd.StageOnCall || !slices.Equal(cs.Agents, []string{agent}) {
			t.Errorf("talking call %s after the Redis restart: %+v (found %v), want on call with %s", call, cs, ok, agent)
		}
	}
	// The controller is healthy again.
	var healthy time.Duration
	waitfor.True(t, "the controller healthy again", 30*time.Second, func() bool {
		ok := healthz(proc.base)
		healthy = time.Since(t0)
		return ok
	})
	live := channelIDs(t, tg)
	for _, id := range ld.allCallers() {
		if !live[id] {
			t.Errorf("caller %s hung up across the Redis restart", id)
		}
	}

	served := serveAll(t, tg, center, ld, order, evID)
	t.Logf("FAULTS redis-restart target=%s talking=%d waiting=%d redis_down_for=%v healthy_after=%v all_served_in=%v",
		tg.Name, len(ld.talking), len(order), down.Round(time.Millisecond), healthy.Round(time.Millisecond), served.Round(time.Millisecond))
}

// faultARICut: the controller reaches Asterisk through a TCP proxy; every connection through it
// (the events WebSocket and the REST keep-alives) is cut at once while calls talk, wait and go
// through the IVR. The controller reconnects (the figure: from the cut to /healthz ok again, the
// stream counting as connected only once Asterisk delivers its events); no call is stuck: the
// IVR's callers carry on (each reaches the queue as the IVR's silence rule says, the step stream
// shows them going on), and every waiting caller is then answered, once, in order, and ends.
func faultARICut(t *testing.T, bin string, tg *aritest.Target, n int) {
	nTalk := max(n/5, 2)
	nIVR := max(n/5, 2)
	nWait := n - nTalk - nIVR
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	center := faultsCenter(t, rdb)
	u, err := url.Parse(tg.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	px := redistest.NewProxy(t, u.Host) // a plain TCP proxy, whatever it carries
	ariURL := "http://" + px.Addr + "/ari"
	proc := startProcess(t, bin, writeFaultsConfig(t, tg, ariURL, rs.Addr, "faults-1"), "controller")
	ld := loadCenter(t, tg, proc.base, center, rdb, nTalk, nWait, nIVR, false)
	order := queueWaiting(snapshot(t, center), "general")
	legs := emLegs(t, tg)

	evID := lastEvent(t, center)
	t0 := time.Now()
	px.Cut()
	px.Restore()
	var reconnect time.Duration
	sawDown := false
	waitfor.True(t, "the controller connected to Asterisk again", 30*time.Second, func() bool {
		ok := healthz(proc.base)
		if !ok {
			sawDown = true
		}
		reconnect = time.Since(t0)
		return ok && sawDown
	})

	// The talking calls kept their legs; nobody hung up.
	if now := emLegs(t, tg); !mapsEqual(now, legs) {
		t.Errorf("externalMedia legs changed across the cut: before %v, after %v", legs, now)
	}
	live := channelIDs(t, tg)
	for _, id := range ld.allCallers() {
		if !live[id] {
			t.Errorf("caller %s hung up across the cut", id)
		}
	}
	// The IVR's callers carry on: each one's steps go on after the cut.
	waitfor.True(t, "every IVR caller going on through the IVR after the cut", 90*time.Second, func() bool {
		steps := ivrStepsSince(t, rdb, t0.Add(500*time.Millisecond))
		for _, id := range ld.ivr {
			if !steps[id] {
				return false
			}
		}
		return true
	})
	served := serveAll(t, tg, center, ld, order, evID)
	t.Logf("FAULTS ari-cut target=%s talking=%d waiting=%d ivr=%d reconnected_after=%v all_served_in=%v",
		tg.Name, len(ld.talking), len(order), len(ld.ivr), reconnect.Round(time.Millisecond), served.Round(time.Millisecond))
}

// faultRedisCut: two controllers share the center: A (the binary, on the target) reaches Redis
// through a proxy, B (the binary, on a simulator of its own, node-b) directly; agents' pages are
// on both. A is cut off from Redis for a few seconds while its callers talk and wait and B's
// agents free up and B dispatches. A's calls are not dropped (channels alive, talking calls with
// the same agents and legs), and afterwards every waiting caller is answered; across it all no
// call is connected to two agents (the agents' pushes, and CONNECT in the ACD's event stream) and
// the ACD's state is consistent.
func faultRedisCut(t *testing.T, bin string, tg *aritest.Target, n int) {
	nTalk := max(n/5, 2)
	nWait := n - nTalk
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	center := faultsCenter(t, rdb)
	px := redistest.NewProxy(t, rs.Addr)
	procA := startProcess(t, bin, writeFaultsConfig(t, tg, tg.ARIURL(), px.Addr, "faults-a"), "controller-a")
	tgB := aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations(), SystemName: "node-b"})
	procB := startProcess(t, bin, writeFaultsConfig(t, tgB, tgB.ARIURL(), rs.Addr, "faults-b"), "controller-b")

	// Half the agents' pages on A, half on B.
	ld := &faultLoad{agents: map[string]*agentClient{}, talking: map[string]string{}}
	var order []string
	for i := range nTalk {
		base := procA.base
		if i%2 == 1 {
			base = procB.base
		}
		id := fmt.Sprintf("p%03d", i+1)
		a := connectAgent(t, base, id, "hotline-demo")
		ld.agents[id] = a
		ld.order = append(ld.order, id)
	}
	loadTalking(t, tg, ld, nTalk)
	ld.dialWaiting(t, tg, center, nWait, "caller-bench")
	order = queueWaiting(snapshot(t, center), "general")
	legs := emLegs(t, tg)
	// Two more agents on B, paused until the cut: then B's dispatch offers them A's waiting callers
	// while A cannot hear of it.
	var extra []*agentClient
	for i := range 2 {
		id := fmt.Sprintf("p%03d", nTalk+i+1)
		a := connectAgent(t, procB.base, id, "hotline-demo")
		a.setState("paused")
		ld.agents[id] = a
		ld.order = append(ld.order, id)
		extra = append(extra, a)
	}

	// Cut A off; meanwhile B's two extra agents become available (B offers them A's waiting
	// callers) and B's talking agents try to hang up (A cannot hear them: "unreachable").
	evID := lastEvent(t, center)
	t0 := time.Now()
	px.Cut()
	for _, a := range extra {
		a.setState("available")
	}
	var freed []string
	for _, id := range ld.order {
		a := ld.agents[id]
		if a.base != procB.base {
			continue
		}
		for call, ag := range ld.talking {
			if ag == id {
				// A holds the call: B forwards the hang-up over the bus, which A cannot hear now.
				r := a.try("call.hangup", map[string]any{"call": call})
				freed = append(freed, fmt.Sprintf("%s:%v", id, r["type"]))
			}
		}
	}
	time.Sleep(4 * time.Second) // the outage itself, not a synchronisation
	px.Restore()
	cut := time.Since(t0)

	live := channelIDs(t, tg)
	for _, id := range ld.allCallers() {
		if !live[id] {
			t.Errorf("caller %s on A hung up while A was cut off from Redis", id)
		}
	}
	var healthy time.Duration
	waitfor.True(t, "A healthy again", 30*time.Second, func() bool {
		ok := healthz(procA.base)
		healthy = time.Since(t0)
		return ok
	})
	for call, agent := range ld.talking {
		a := ld.agents[agent]
		if a.base == procB.base {
			continue // its agent tried to hang up during the cut: it may have ended since
		}
		cs, ok := callIn(snapshot(t, center), call)
		if !ok || cs.Stage != acd.StageOnCall || !slices.Equal(cs.Agents, []string{agent}) {
			t.Errorf("talking call %s (page on A) after the cut: %+v (found %v), want on call with %s", call, cs, ok, agent)
		}
		if l := emLegs(t, tg)[call]; l != legs[call] {
			t.Errorf("talking call %s's leg after the cut: %q, before %q", call, l, legs[call])
		}
	}
	served := serveAll(t, tg, center, ld, order, evID)
	t.Logf("FAULTS redis-cut target=%s talking=%d waiting=%d cut_for=%v a_healthy_after=%v all_served_in=%v hangups_during_cut=%v",
		tg.Name, len(ld.talking), len(order), cut.Round(time.Millisecond), healthy.Round(time.Millisecond), served.Round(time.Millisecond), freed)
}

// faultLoad is a center under load: the agents (signalling only) and the callers by kind.
type faultLoad struct {
	agents  map[string]*agentClient
	order   []string          // agent ids, in login order
	talking map[string]string // call id → agent
	waiting []string          // call ids, in dialling order
	ivr     []string          // call ids
	placed  []aritest.PlacedCall
	seq     int
}

func (ld *faultLoad) allCallers() []string {
	var out []string
	for _, p := range ld.placed {
		out = append(out, p.ChannelID)
	}
	return out
}

// loadCenter logs nTalk agents in on base, gets each a caller to talk to, then places nWait
// callers who wait (every agent is busy) and nIVR who stay silent in the IVR. With business, half
// the waiting callers ask for the business queue (nobody serves it here), so the kill sees two
// waiting lines.
func loadCenter(t *testing.T, tg *aritest.Target, base string, center *acd.Center, rdb *redis.Client, nTalk, nWait, nIVR int, business bool) *faultLoad {
	t.Helper()
	ld := &faultLoad{agents: map[string]*agentClient{}, talking: map[string]string{}}
	for i := range nTalk {
		id := fmt.Sprintf("p%03d", i+1)
		ld.agents[id] = connectAgent(t, base, id, "hotline-demo")
		ld.order = append(ld.order, id)
	}
	loadTalking(t, tg, ld, nTalk)
	if business {
		ld.dialWaiting(t, tg, center, nWait-nWait/2, "caller-bench")
		ld.dialWaiting(t, tg, center, nWait/2, "caller-ivr-business-agent")
	} else {
		ld.dialWaiting(t, tg, center, nWait, "caller-bench")
	}
	if nIVR > 0 {
		since := time.Now()
		ivr := ld.dialMany(t, tg, nIVR, "caller-ivr-silence-last-resort")
		ld.ivr = ivr
		waitfor.True(t, "every IVR caller in the IVR", 60*time.Second, func() bool {
			steps := ivrStepsSince(t, rdb, since)
			for _, id := range ivr {
				if !steps[id] {
					return false
				}
			}
			return true
		})
	}
	return ld
}

// loadTalking makes every agent available, places as many callers, and has each agent answer the
// one it is offered.
func loadTalking(t *testing.T, tg *aritest.Target, ld *faultLoad, nTalk int) {
	t.Helper()
	for _, id := range ld.order {
		ld.agents[id].setState("available")
	}
	ld.dialMany(t, tg, nTalk, "caller-agent-tone")
	// All answer at once, as a room of agents does: one after the other, each answer's
	// externalMedia and bridge on a real Asterisk would add up.
	replies := map[string]string{} // agent → request id
	for _, id := range ld.order {
		a := ld.agents[id]
		call := a.waitRinging("", 90*time.Second)
		replies[id] = a.post("call.answer", map[string]any{"call": call})
		ld.talking[call] = id
	}
	for _, id := range ld.order {
		rid := replies[id]
		r := ld.agents[id].waitFor("the reply to call.answer", 60*time.Second, func(m map[string]any) bool { return m["id"] == rid })
		if r["type"] == "error" {
			t.Fatalf("%s answering: %v", id, r)
		}
	}
	for call, id := range ld.talking {
		ld.agents[id].waitFor("call.connected "+call, 30*time.Second, isPush("call.connected", call))
	}
}

// dialWaiting places n callers running dialplan context and waits until each waits in the ACD.
func (ld *faultLoad) dialWaiting(t *testing.T, tg *aritest.Target, center *acd.Center, n int, dialplan string) {
	t.Helper()
	ids := ld.dialMany(t, tg, n, dialplan)
	waitfor.True(t, fmt.Sprintf("%d %s callers waiting", n, dialplan), 120*time.Second, func() bool {
		s := snapshot(t, center)
		for _, id := range ids {
			if cs, ok := callIn(s, id); !ok || cs.Stage != acd.StageWaiting {
				return false
			}
		}
		return true
	})
	ld.waiting = append(ld.waiting, ids...)
}

// dialMany places n callers running dialplan context, eight at a time, and returns their channel
// ids.
func (ld *faultLoad) dialMany(t *testing.T, tg *aritest.Target, n int, dialplan string) []string {
	t.Helper()
	out := make([]aritest.PlacedCall, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	base := ld.seq
	ld.seq += n
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				num := fmt.Sprintf("7916%07d", base+i+1)
				out[i], errs[i] = tg.Callers.Dial(context.Background(), aritest.CallerSpec{DID: "8800", Number: num, Name: "Load " + num, Context: dialplan})
			}
		}()
	}
	wg.Wait()
	ids := make([]string, n)
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("place caller %d: %v", i, errs[i])
		}
		ids[i] = out[i].ChannelID
	}
	ld.placed = append(ld.placed, out...)
	return ids
}

// serveAll has every agent hang up the call it talks on, wrap up, and then answer, hang up and
// wrap up each caller it is offered, until every one of order (the general queue's waiting line)
// was answered. It checks each was answered by one agent only, offered in order (the ACD's RINGs
// after the event id afterID: the last before the fault),
// and ended in Asterisk, and that the ACD's state is consistent at the end. It returns how long
// it took.
func serveAll(t *testing.T, tg *aritest.Target, center *acd.Center, ld *faultLoad, order []string, afterID string) time.Duration {
	t.Helper()
	start := time.Now()
	// Each agent's pushes from now on.
	cursor := map[string]int{}
	for _, id := range ld.order {
		cursor[id] = ld.agents[id].count()
	}
	answered := map[string]string{} // call → agent
	finish := func(a *agentClient, call string) {
		r := tryReachable(a, "call.hangup", map[string]any{"call": call})
		if r["type"] == "error" && r["code"] != "no_call" && r["code"] != "not_your_call" {
			t.Logf("%s hanging up %s: %v", a.ID, call, r)
		}
		a.waitFor("call.ended for "+call, 30*time.Second, isPush("call.ended", call))
		tryReachable(a, "call.wrapup", map[string]any{"call": call, "disposition": "resolved"})
	}
	for call, id := range ld.talking {
		finish(ld.agents[id], call)
	}
	want := map[string]bool{}
	for _, id := range order {
		want[id] = true
	}
	deadline := time.Now().Add(5 * time.Minute)
	for len(answered) < len(order) {
		if time.Now().After(deadline) {
			var left []string
			for _, id := range order {
				if answered[id] == "" {
					left = append(left, id)
				}
			}
			t.Fatalf("callers never answered after 5 minutes (stuck): %d of %d: %v", len(left), len(order), left)
		}
		progressed := false
		for _, id := range ld.order {
			a := ld.agents[id]
			msgs := a.since(cursor[id])
			cursor[id] += len(msgs)
			for _, m := range msgs {
				if m["type"] != "call.ringing" {
					continue
				}
				call := ringingCall(m)
				if prev := answered[call]; prev != "" {
					t.Errorf("%s offered to %s after %s answered it", call, id, prev)
					continue
				}
				r := tryReachable(a, "call.answer", map[string]any{"call": call})
				if r["type"] == "error" {
					t.Logf("%s answering %s: %v", id, call, r)
					continue
				}
				answered[call] = id
				progressed = true
				finish(a, call)
			}
		}
		if !progressed {
			time.Sleep(50 * time.Millisecond) // polling the pushes the readers keep
		}
	}
	took := time.Since(start)
	for call := range answered {
		if !want[call] {
			t.Errorf("an agent answered %s, which was not waiting", call)
		}
	}
	// Every push of call.connected names one agent per call.
	connected := map[string]map[string]bool{}
	for _, id := range ld.order {
		for _, m := range ld.agents[id].since(0) {
			if m["type"] == "call.connected" {
				call, _ := m["call"].(string)
				if connected[call] == nil {
					connected[call] = map[string]bool{}
				}
				connected[call][id] = true
			}
		}
	}
	for call, agents := range connected {
		if len(agents) > 1 {
			t.Errorf("call %s connected to several agents: %v", call, agents)
		}
	}
	// The ACD's history: one CONNECT per call, and RINGs in the waiting order.
	evs, err := center.Events(context.Background(), afterID, 100000)
	if err != nil {
		t.Fatal(err)
	}
	connects := map[string]int{}
	var rings []string
	for _, e := range evs {
		switch e.Event {
		case "CONNECT":
			connects[e.Call]++
		case "RING":
			if want[e.Call] && !slices.Contains(rings, e.Call) {
				rings = append(rings, e.Call)
			}
		}
	}
	for call, k := range connects {
		if k > 1 {
			t.Errorf("call %s has %d CONNECT events", call, k)
		}
	}
	if !slices.Equal(rings, order) {
		t.Errorf("callers offered out of their waiting order:\n got  %v\n want %v", rings, order)
	}
	waitfor.True(t, "every answered caller's channel ended", 60*time.Second, func() bool {
		live := channelIDs(t, tg)
		for call := range answered {
			if live[call] {
				return false
			}
		}
		return true
	})
	waitfor.True(t, "the ACD consistent and empty of the served calls", 30*time.Second, func() bool {
		s := snapshot(t, center)
		for call := range answered {
			if _, ok := callIn(s, call); ok {
				return false
			}
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := center.Verify(ctx); err != nil {
		t.Errorf("the ACD's state after the fault: %v", err)
	}
	return took
}

// tryReachable sends a request as the page does, and again while the controller holding the call
// is "unreachable" (the page says so and the agent presses again), for up to 15 s.
func tryReachable(a *agentClient, typ string, fields map[string]any) map[string]any {
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := a.try(typ, fields)
		if r["type"] != "error" || r["code"] != "unreachable" || time.Now().After(deadline) {
			return r
		}
		time.Sleep(200 * time.Millisecond) // the agent pressing again, not a synchronisation
	}
}

func lastEvent(t *testing.T, center *acd.Center) string {
	t.Helper()
	id, err := center.LastEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// post sends a request without waiting for its reply; it returns the request's id.
func (a *agentClient) post(typ string, fields map[string]any) string {
	a.t.Helper()
	id := fmt.Sprintf("%s-%d", a.ID, a.seq.Add(1))
	msg := map[string]any{"type": typ, "id": id}
	for k, v := range fields {
		msg[k] = v
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		a.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.conn.Write(ctx, websocket.MessageText, raw); err != nil {
		a.t.Fatalf("%s: send %s: %v", a.ID, typ, err)
	}
	return id
}

// count is how many messages the page received so far; since returns those from i on.
func (a *agentClient) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.msgs)
}

func (a *agentClient) since(i int) []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	if i >= len(a.msgs) {
		return nil
	}
	return slices.Clone(a.msgs[i:])
}

// faultsCenter is the test's view of the center the controllers run ("faults").
func faultsCenter(t *testing.T, rdb *redis.Client) *acd.Center {
	t.Helper()
	model, err := acd.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	center, err := acd.New(rdb, model, acd.Options{Center: "faults"})
	if err != nil {
		t.Fatal(err)
	}
	return center
}

// ivrStepsSince lists the calls with an IVR step at or after since in the IVR's step stream.
func ivrStepsSince(t *testing.T, rdb *redis.Client, since time.Time) map[string]bool {
	t.Helper()
	msgs, err := rdb.XRange(context.Background(), "{hotline:faults}:ivr", strconv.FormatInt(since.UnixMilli(), 10), "+").Result()
	if err != nil {
		t.Fatalf("read the IVR's steps: %v", err)
	}
	out := map[string]bool{}
	for _, m := range msgs {
		ms, _ := strconv.ParseInt(fmt.Sprint(m.Values["time"]), 10, 64)
		if ms >= since.UnixMilli() {
			out[fmt.Sprint(m.Values["call"])] = true
		}
	}
	return out
}

// emLegs maps each call with a conversation bridge to the externalMedia leg in it (one listing of
// the bridges for all calls).
func emLegs(t *testing.T, tg *aritest.Target) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, b := range listBridges(t, tg) {
		rest, ok := strings.CutPrefix(b.ID, "br-")
		if !ok {
			continue
		}
		for _, caller := range b.Channels {
			if !strings.HasPrefix(rest, caller+"-") {
				continue
			}
			for _, ch := range b.Channels {
				if strings.HasPrefix(ch, "em-") {
					out[caller] = ch
				}
			}
		}
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func healthz(base string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// writeFaultsConfig writes a controller's config for center "faults": tg's ARI at ariURL (tg's
// own, or a proxy's in front of it).
func writeFaultsConfig(t *testing.T, tg *aritest.Target, ariURL, redisAddr, instance string) string {
	return writeControllerConfig(t, tg, "faults", instance, ariURL, redisAddr)
}

// writeControllerConfig writes the config of a controller the test runs as a process: center and
// instance, tg's credentials with its ARI at ariURL, the center's Redis at redisAddr, and a free
// port for its pages.
func writeControllerConfig(t *testing.T, tg *aritest.Target, center, instance, ariURL, redisAddr string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	web := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf(`center: %s
instance: %s
ari:
  url: %s
  user: %s
  password: %s
  app: %s
  ring_timeout: 30s
  # 10 s instead of the default 3 s: the test's Asterisk shares two cores with the test, its
  # controllers and whatever else runs (CI, other suites); a dedicated host answers in milliseconds.
  request_timeout: 10s
redis:
  addr: %s
web:
  listen: %s
softphone:
  ice_port: 0
  rtp_host: 127.0.0.1
  public_ips: [127.0.0.1]
log:
  level: info
# The built-in center and the demo lookup backend, which run refuses without this.
insecure_demo: true
`, center, instance, ariURL, tg.User, tg.Password, tg.App, redisAddr, web)
	path := filepath.Join(t.TempDir(), instance+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
