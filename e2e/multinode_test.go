package e2e

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/prompts"
	"github.com/hotline-cc/hotline/server"
)

// startNode runs one controller of a center that several share: its own Asterisk (tg), the
// center's Redis at redisAddr, and its instance name. stop stops it (as a deploy does) and waits;
// otherwise the test's end does.
func startNode(t *testing.T, tg *aritest.Target, redisAddr, instance string) (srv *server.Server, stop func()) {
	t.Helper()
	cfg := config.Default()
	cfg.Center, cfg.Instance = "e2e", instance
	cfg.ARI.URL, cfg.ARI.User, cfg.ARI.Password = tg.ARIURL(), tg.User, tg.Password
	cfg.ARI.RingTimeout = config.Duration(30 * time.Second)
	cfg.Redis.Addr = redisAddr
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Softphone.ICEPort = 0
	cfg, err := config.Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", instance)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err = server.New(ctx, cfg, server.Options{LoopbackOnly: true}, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s stopped with: %v", instance, err)
			}
		})
	}
	t.Cleanup(stop)
	tg.WaitApp(t, tg.App)
	return srv, stop
}

// twoNodes starts two Asterisk simulators (node-a, node-b) and a controller for each (ctl-a,
// ctl-b) over one real redis-server: one center.
func twoNodes(t *testing.T) (a, b *server.Server, tgA, tgB *aritest.Target, stopB func()) {
	t.Helper()
	rs := redistest.Start(t)
	tgA = aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations(), SystemName: "node-a"})
	tgB = aritest.NewSimTarget(t, asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations(), SystemName: "node-b"})
	a, _ = startNode(t, tgA, rs.Addr, "ctl-a")
	b, stopB = startNode(t, tgB, rs.Addr, "ctl-b")
	return a, b, tgA, tgB, stopB
}

// TestSeveralNodes: p001's page and WebRTC session are on controller A; a caller dials node B,
// whose controller B holds the call. A's page rings with the screen pop; a colleague's page on A
// that tries to answer is told it is not their call (B's refusal, through the bus); p001 answers
// from A's page; the caller's 440 Hz reaches p001's WebRTC track through A's gateway and p001's
// 1000 Hz reaches the caller on node B; muting on A's gateway silences p001 for the caller; p001
// hangs up from A's page: the caller's channel on node B ends, the ACD has no call left and p001 is
// in wrap-up.
func TestSeveralNodes(t *testing.T) {
	srvA, srvB, tgA, tgB, _ := twoNodes(t)
	baseA := "http://" + srvA.WebAddr().String()

	p001 := connectAgent(t, baseA, "p001", "hotline-demo")
	phone := p001.startAudio(1000)
	p001.setState("available")
	p002 := connectAgent(t, baseA, "p002", "hotline-demo")

	caller := dial(t, tgB, "79160000041", "Caller on B")
	id := caller.ChannelID
	p001.waitRinging(id, 30*time.Second)
	if cs, ok := callIn(snapshot(t, srvB.Center()), id); !ok || cs.Owner != "ctl-b" {
		t.Fatalf("the call in the ACD: %+v (found %v), want owned by ctl-b", cs, ok)
	}
	if r := p002.try("call.answer", map[string]any{"call": id}); r["type"] != "error" || r["code"] != "not_your_call" {
		t.Fatalf("p002 answering p001's call on another controller: %v, want not_your_call", r)
	}

	p001.request("call.answer", map[string]any{"call": id})
	p001.waitFor("call.connected", 15*time.Second, isPush("call.connected", id))
	waitfor.True(t, "p001 (page on A) hearing the caller on node B", 15*time.Second, func() bool { return has(phone.Heard(500*time.Millisecond), 440) })
	waitfor.True(t, "the caller on node B hearing p001", 15*time.Second, func() bool { return has(caller.Sim.Heard(500*time.Millisecond), 1000) })

	p001.request("call.mute", map[string]any{"call": id})
	waitfor.True(t, "the caller no longer hearing p001 once muted", 15*time.Second, func() bool { return !has(caller.Sim.Heard(300*time.Millisecond), 1000) })
	p001.request("call.unmute", map[string]any{"call": id})
	waitfor.True(t, "the caller hearing p001 again", 15*time.Second, func() bool { return has(caller.Sim.Heard(300*time.Millisecond), 1000) })

	p001.request("call.hangup", map[string]any{"call": id})
	select {
	case <-caller.Sim.Done():
	case <-time.After(10 * time.Second): // a guard against a hang, not a sync
		t.Fatal("the caller on node B still up after p001 hung up on A's page")
	}
	p001.waitFor("call.ended", 10*time.Second, isPush("call.ended", id))
	p001.waitFor("wrap-up", 10*time.Second, func(m map[string]any) bool { return m["type"] == "wrapup.started" })
	end := snapshot(t, srvA.Center())
	if cs, ok := callIn(end, id); ok {
		t.Errorf("the call still in the ACD after it ended: %+v", cs)
	}
	if st := agentIn(end, "p001"); st.State != acd.WrapUp {
		t.Errorf("p001 after the call: %+v, want in wrap-up", st)
	}
	if ch := channelIDs(t, tgA); len(ch) != 0 {
		t.Errorf("node A has channels %v; the call was node B's alone", ch)
	}
}

// TestSeveralNodesFairness: a caller waits on node B, then one on node A; the one free agent,
// whose page is on A, is offered B's caller first: the longest waiting, whichever node holds them.
func TestSeveralNodesFairness(t *testing.T) {
	srvA, _, tgA, tgB, _ := twoNodes(t)
	baseA := "http://" + srvA.WebAddr().String()
	p001 := connectAgent(t, baseA, "p001", "hotline-demo")
	p001.startAudio(1000)
	p001.setState("paused")

	waiting := func(id string) func() bool {
		return func() bool { c, ok := callIn(snapshot(t, srvA.Center()), id); return ok && c.Stage == acd.StageWaiting }
	}
	onB := dial(t, tgB, "79160000051", "First, on B")
	waitfor.True(t, "the caller on B waiting", 30*time.Second, waiting(onB.ChannelID))
	onA := dial(t, tgA, "79160000052", "Second, on A")
	waitfor.True(t, "the caller on A waiting", 30*time.Second, waiting(onA.ChannelID))

	p001.setState("available")
	if got := p001.waitRinging("", 15*time.Second); got != onB.ChannelID {
		t.Fatalf("p001 was offered %s, want the caller who waited longer, %s on node B (the one on A is %s)", got, onB.ChannelID, onA.ChannelID)
	}
}

// TestSeveralNodesOwnerAway: the controller holding the call stops while p001's page on A rings;
// p001's answer is refused as "unreachable" (the page may try again), at once rather than when the
// request times out, and nothing on A is left half done.
func TestSeveralNodesOwnerAway(t *testing.T) {
	srvA, _, _, tgB, stopB := twoNodes(t)
	baseA := "http://" + srvA.WebAddr().String()
	p001 := connectAgent(t, baseA, "p001", "hotline-demo")
	p001.startAudio(1000)
	p001.setState("available")
	caller := dial(t, tgB, "79160000061", "Caller on B")
	p001.waitRinging(caller.ChannelID, 30*time.Second)
	stopB()
	start := time.Now()
	r := p001.try("call.answer", map[string]any{"call": caller.ChannelID})
	if r["type"] != "error" || r["code"] != "unreachable" {
		t.Fatalf("answering a call whose controller stopped: %v, want unreachable", r)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the refusal took %v: a stopped controller is known at once", d)
	}
}
