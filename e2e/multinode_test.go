package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
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
// center's Redis (rc: a server, or a cluster's seeds), and its instance name. stop stops it (as a
// deploy does) and waits; otherwise the test's end does.
func startNode(t *testing.T, tg *aritest.Target, rc config.Redis, instance string) (srv *server.Server, stop func()) {
	t.Helper()
	return startNodeWith(t, tg, rc, instance, nil)
}

// startNodeWith is startNode with edit (if not nil) applied to the controller's config last, before
// it is resolved.
func startNodeWith(t *testing.T, tg *aritest.Target, rc config.Redis, instance string, edit func(*config.Config)) (srv *server.Server, stop func()) {
	t.Helper()
	cfg := config.Default()
	cfg.Center, cfg.Instance = "e2e", instance
	cfg.ARI.URL, cfg.ARI.User, cfg.ARI.Password = tg.ARIURL(), tg.User, tg.Password
	cfg.ARI.RingTimeout = config.Duration(30 * time.Second)
	cfg.Redis = rc
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Softphone.ICEPort = 0
	if h := os.Getenv("HOTLINE_TEST_RTP_HOST"); h != "" && tg.Sim == nil {
		cfg.Softphone.RTPHost = h // where a real Asterisk can reach the gateway's legs
	}
	if edit != nil {
		edit(&cfg)
	}
	cfg, err := config.Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("node", instance)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Legs orphaned by a stopped controller are looked for often, so a test sees them closed soon.
	srv, err = server.New(ctx, cfg, server.Options{LoopbackOnly: true, LegSweep: 200 * time.Millisecond}, log)
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

// onTwoNodes runs f on two Asterisk nodes of one center, node-a and node-b, as subtests "sim" (two
// simulators) and "asterisk" (the two real Asterisks scripts/test.sh starts, systemnames node-a and
// node-b), with a controller for each (ctl-a on node A, ctl-b on node B) over one real
// redis-server. stopB stops ctl-b.
func onTwoNodes(t *testing.T, f func(t *testing.T, n *twoNodes)) {
	onTwoNodesOver(t, startRedisServer, f)
}

// startRedisServer starts a redis-server for the test: the center's Redis of onTwoNodes.
func startRedisServer(t *testing.T) config.Redis {
	rc := config.Default().Redis
	rc.Addr = redistest.Start(t).Addr
	return rc
}

// onTwoNodesOver is onTwoNodes over the Redis that startRedis starts for each subtest.
func onTwoNodesOver(t *testing.T, startRedis func(t *testing.T) config.Redis, f func(t *testing.T, n *twoNodes)) {
	onTwoNodesWith(t, startRedis, nil, f)
}

// onTwoNodesWith is onTwoNodesOver with both controllers' config edited by what setup (if not nil)
// returns, called once per subtest: what the center needs of its own for each run (a database)
// starts there.
func onTwoNodesWith(t *testing.T, startRedis func(t *testing.T) config.Redis, setup func(t *testing.T) func(*config.Config),
	f func(t *testing.T, n *twoNodes)) {
	sim := func(name string) asterisksim.Config {
		return asterisksim.Config{TimeScale: timeScale, Sounds: prompts.Durations(), SystemName: name}
	}
	aritest.RunPair(t, sim("node-a"), sim("node-b"), func(t *testing.T, tgA, tgB *aritest.Target) {
		n := &twoNodes{tgA: tgA, tgB: tgB, redis: startRedis(t)}
		var edit func(*config.Config)
		if setup != nil {
			edit = setup(t)
		}
		n.a, _ = startNodeWith(t, tgA, n.redis, "ctl-a", edit)
		n.b, n.stopB = startNodeWith(t, tgB, n.redis, "ctl-b", edit)
		f(t, n)
	})
}

type twoNodes struct {
	a, b     *server.Server
	tgA, tgB *aritest.Target
	stopB    func()
	redis    config.Redis // the center's
}

// callerEar returns what a caller hears, as audio: on the simulator the caller's own ears; on a
// real Asterisk a snoop on the call's channel that sends what Asterisk writes to it (what the
// caller's half of the Local pair receives) to the test (aritest.Listener).
func callerEar(t *testing.T, tg *aritest.Target, c aritest.PlacedCall) func(time.Duration) []int16 {
	if c.Sim != nil {
		return c.Sim.Heard
	}
	return tg.Listen(t, c.ChannelID).Heard
}

// waitCallerGone waits until the caller's call has ended on its node: the simulator's caller says
// so; on a real Asterisk both halves of the caller's Local pair are gone from the node.
func waitCallerGone(t *testing.T, tg *aritest.Target, c aritest.PlacedCall, what string) {
	t.Helper()
	if c.Sim != nil {
		select {
		case <-c.Sim.Done():
		case <-time.After(10 * time.Second): // a guard against a hang, not a sync
			t.Fatal(what)
		}
		return
	}
	waitfor.True(t, what, 10*time.Second, func() bool {
		ch := channelIDs(t, tg)
		return !ch[c.ChannelID] && !ch["caller-"+c.ChannelID]
	})
}

// TestSeveralNodes: p001's page and WebRTC session are on controller A; a caller dials node B,
// whose controller B holds the call. A's page rings with the screen pop; a colleague's page on A
// that tries to answer is told it is not their call (B's refusal, through the bus); p001 answers
// from A's page; node B's externalMedia leg sends to A's gateway and node A carries no channel of
// the call; the caller's 440 Hz reaches p001's WebRTC track through A's gateway and p001's 1000 Hz
// reaches the caller on node B; muting on A's gateway silences p001 for the caller; p001 hangs up
// from A's page: the caller's channel on node B ends, the ACD has no call left and p001 is in
// wrap-up.
//
// What the caller hears is the simulated caller's own ears on the simulator, and on a real Asterisk
// a snoop on the call's channel on node B (callerEar): the audio Asterisk B sends the caller.
func TestSeveralNodes(t *testing.T) {
	onTwoNodes(t, func(t *testing.T, n *twoNodes) {
		baseA := "http://" + n.a.WebAddr().String()

		p001 := connectAgent(t, baseA, "p001", "hotline-demo")
		phone := p001.startAudio(1000)
		p001.setState("available")
		p002 := connectAgent(t, baseA, "p002", "hotline-demo")

		caller := dial(t, n.tgB, "79160000041", "Caller on B")
		id := caller.ChannelID
		p001.waitRinging(id, 30*time.Second)
		if cs, ok := callIn(snapshot(t, n.b.Center()), id); !ok || cs.Owner != "ctl-b" {
			t.Fatalf("the call in the ACD: %+v (found %v), want owned by ctl-b", cs, ok)
		}
		if r := p002.try("call.answer", map[string]any{"call": id}); r["type"] != "error" || r["code"] != "not_your_call" {
			t.Fatalf("p002 answering p001's call on another controller: %v, want not_your_call", r)
		}

		p001.request("call.answer", map[string]any{"call": id})
		p001.waitFor("call.connected", 15*time.Second, isPush("call.connected", id))
		hears := callerEar(t, n.tgB, caller)
		waitfor.True(t, "p001 (page on A) hearing the caller on node B", 15*time.Second, func() bool { return has(phone.Heard(500*time.Millisecond), 440) })
		waitfor.True(t, "the caller on node B hearing p001", 15*time.Second, func() bool { return has(hears(500*time.Millisecond), 1000) })
		// The leg is on A's gateway, and node B's externalMedia channel, the one UnicastRTP channel
		// there, sends to it: B's gateway has no leg, node A no channel.
		if legs := metric(t, baseA, "hotline_softphone_legs"); legs != 1 {
			t.Errorf("legs open on A's gateway: %v, want 1 (p001's)", legs)
		}
		if legs := metric(t, "http://"+n.b.WebAddr().String(), "hotline_softphone_legs"); legs != 0 {
			t.Errorf("legs open on B's gateway: %v, want none", legs)
		}
		if em := channelNames(t, n.tgB, "UnicastRTP/"); len(em) != 1 { // the test's listener's aside
			t.Errorf("node B's externalMedia channels: %v, want one, to A's gateway", em)
		}
		if ch := channelIDs(t, n.tgA); len(ch) != 0 {
			t.Errorf("node A has channels %v; the call and its audio leg are node B's", ch)
		}

		p001.request("call.mute", map[string]any{"call": id})
		waitfor.True(t, "the caller no longer hearing p001 once muted", 15*time.Second, func() bool { return !has(hears(300*time.Millisecond), 1000) })
		p001.request("call.unmute", map[string]any{"call": id})
		waitfor.True(t, "the caller hearing p001 again", 15*time.Second, func() bool { return has(hears(300*time.Millisecond), 1000) })

		p001.request("call.hangup", map[string]any{"call": id})
		waitCallerGone(t, n.tgB, caller, "the caller on node B still up after p001 hung up on A's page")
		p001.waitFor("call.ended", 10*time.Second, isPush("call.ended", id))
		p001.waitFor("wrap-up", 10*time.Second, func(m map[string]any) bool { return m["type"] == "wrapup.started" })
		end := snapshot(t, n.a.Center())
		if cs, ok := callIn(end, id); ok {
			t.Errorf("the call still in the ACD after it ended: %+v", cs)
		}
		if st := agentIn(end, "p001"); st.State != acd.WrapUp {
			t.Errorf("p001 after the call: %+v, want in wrap-up", st)
		}
		if ch := channelIDs(t, n.tgA); len(ch) != 0 {
			t.Errorf("node A has channels %v; the call was node B's alone", ch)
		}
	})
}

// TestSeveralNodesFairness: a caller waits on node B, then one on node A; the one free agent,
// whose page is on A, is offered B's caller first: the longest waiting, whichever node holds them.
func TestSeveralNodesFairness(t *testing.T) {
	onTwoNodes(t, func(t *testing.T, n *twoNodes) {
		baseA := "http://" + n.a.WebAddr().String()
		p001 := connectAgent(t, baseA, "p001", "hotline-demo")
		p001.startAudio(1000)
		p001.setState("paused")

		waiting := func(id string) func() bool {
			return func() bool { c, ok := callIn(snapshot(t, n.a.Center()), id); return ok && c.Stage == acd.StageWaiting }
		}
		onB := dial(t, n.tgB, "79160000051", "First, on B")
		waitfor.True(t, "the caller on B waiting", 30*time.Second, waiting(onB.ChannelID))
		onA := dial(t, n.tgA, "79160000052", "Second, on A")
		waitfor.True(t, "the caller on A waiting", 30*time.Second, waiting(onA.ChannelID))
		// One queue in Redis, each caller held by their node's controller.
		s := snapshot(t, n.b.Center())
		if b, _ := callIn(s, onB.ChannelID); b.Owner != "ctl-b" {
			t.Errorf("the caller on B: %+v, want owned by ctl-b", b)
		}
		if a, _ := callIn(s, onA.ChannelID); a.Owner != "ctl-a" {
			t.Errorf("the caller on A: %+v, want owned by ctl-a", a)
		}
		if q := queueWaiting(s, "general"); !slices.Equal(q, []string{onB.ChannelID, onA.ChannelID}) {
			t.Errorf("the general queue: %v, want B's caller then A's", q)
		}

		p001.setState("available")
		if got := p001.waitRinging("", 15*time.Second); got != onB.ChannelID {
			t.Fatalf("p001 was offered %s, want the caller who waited longer, %s on node B (the one on A is %s)", got, onB.ChannelID, onA.ChannelID)
		}
	})
}

// TestSeveralNodesOwnerAway: the controller holding the call stops while p001's page on A rings;
// p001's answer is refused as "unreachable" (the page may try again), at once rather than when the
// request times out. The caller stays on node B meanwhile; once ctl-b is back (a new process, the
// same instance) it takes its caller back, p001's answer is taken and p001 hears the caller.
func TestSeveralNodesOwnerAway(t *testing.T) {
	onTwoNodes(t, func(t *testing.T, n *twoNodes) {
		baseA := "http://" + n.a.WebAddr().String()
		p001 := connectAgent(t, baseA, "p001", "hotline-demo")
		phone := p001.startAudio(1000)
		p001.setState("available")
		caller := dial(t, n.tgB, "79160000061", "Caller on B")
		p001.waitRinging(caller.ChannelID, 30*time.Second)
		n.stopB()
		start := time.Now()
		r := p001.try("call.answer", map[string]any{"call": caller.ChannelID})
		if r["type"] != "error" || r["code"] != "unreachable" {
			t.Fatalf("answering a call whose controller stopped: %v, want unreachable", r)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the refusal took %v: a stopped controller is known at once", d)
		}

		if !channelIDs(t, n.tgB)[caller.ChannelID] {
			t.Fatal("the caller on node B was hung up when its controller stopped")
		}
		startNode(t, n.tgB, n.redis, "ctl-b")
		waitfor.True(t, "p001's answer taken once ctl-b is back", 30*time.Second, func() bool {
			return p001.try("call.answer", map[string]any{"call": caller.ChannelID})["type"] != "error"
		})
		p001.waitFor("call.connected", 15*time.Second, isPush("call.connected", caller.ChannelID))
		waitfor.True(t, "p001 (page on A) hearing the caller ctl-b took back", 15*time.Second, func() bool { return has(phone.Heard(500*time.Millisecond), 440) })
		if cs, _ := callIn(snapshot(t, n.a.Center()), caller.ChannelID); cs.Owner != "ctl-b" || cs.Stage != acd.StageOnCall {
			t.Errorf("the call after ctl-b came back: %+v, want on call, owned by ctl-b", cs)
		}
	})
}

// TestSeveralNodesOrphanedLegs: the leg on A's gateway that ctl-b opened for p001's call is
// closed by A once no process of ctl-b will close it. ctl-b stops while p001 talks to a caller on
// node B (the leg stays: the call goes on), and its next process takes the call back with a fresh
// leg and externalMedia channel: A closes the old leg and p001 hears the caller on the new one.
// ctl-b stops again, the caller hangs up meanwhile, and ctl-b's next process finishes the call
// without ever opening a leg for it: A closes the leg it holds for it.
func TestSeveralNodesOrphanedLegs(t *testing.T) {
	onTwoNodes(t, func(t *testing.T, n *twoNodes) {
		baseA := "http://" + n.a.WebAddr().String()
		p001 := connectAgent(t, baseA, "p001", "hotline-demo")
		phone := p001.startAudio(1000)
		p001.setState("available")
		caller := dial(t, n.tgB, "79160000071", "Caller on B")
		id := caller.ChannelID
		p001.waitRinging(id, 30*time.Second)
		p001.request("call.answer", map[string]any{"call": id})
		p001.waitFor("call.connected", 15*time.Second, isPush("call.connected", id))
		waitfor.True(t, "p001 hearing the caller", 15*time.Second, func() bool { return has(phone.Heard(500*time.Millisecond), 440) })
		legs := func() float64 { return metric(t, baseA, "hotline_softphone_legs") }
		emOnB := func() []string {
			var em []string
			for ch := range channelIDs(t, n.tgB) {
				if strings.HasPrefix(ch, "em-"+id) {
					em = append(em, ch)
				}
			}
			return em
		}
		first := emOnB()
		if len(first) != 1 || legs() != 1 {
			t.Fatalf("p001 talking: externalMedia channels on B %v, legs on A %v; want one each", first, legs())
		}

		n.stopB()
		if l := legs(); l != 1 {
			t.Fatalf("legs on A with ctl-b stopped: %v, want p001's, still carrying the call", l)
		}
		_, n.stopB = startNode(t, n.tgB, n.redis, "ctl-b")
		waitfor.True(t, "ctl-b's next process giving p001 a fresh externalMedia channel", 30*time.Second, func() bool {
			em := emOnB()
			return len(em) == 1 && em[0] != first[0]
		})
		waitfor.True(t, "A closing the leg ctl-b's first process opened", 10*time.Second, func() bool { return legs() == 1 })
		waitfor.True(t, "p001 hearing the caller through the new leg", 15*time.Second, func() bool { return has(phone.Heard(500*time.Millisecond), 440) })

		n.stopB()
		if st, body, err := n.tgB.Do(context.Background(), http.MethodDelete, "/ari/channels/"+id, nil); err != nil || st != http.StatusNoContent {
			t.Fatalf("hang the caller up: %d %s %v", st, body, err)
		}
		waitCallerGone(t, n.tgB, caller, "the caller still up after hanging up")
		if l := legs(); l != 1 {
			t.Fatalf("legs on A while the call's controller is away: %v, want 1 (the ACD still has the call)", l)
		}
		startNode(t, n.tgB, n.redis, "ctl-b")
		p001.waitFor("call.ended", 30*time.Second, isPush("call.ended", id))
		waitfor.True(t, "A closing the leg of the call ctl-b finished", 10*time.Second, func() bool { return legs() == 0 })
	})
}

// TestSeveralNodesOnCluster: the two controllers share a Redis Cluster (3 masters with a replica
// each, reached from one seed address) instead of one server. A caller on node B is answered by
// p001, whose page is on controller A, and each hears the other; p001 hangs up from A's page and
// the caller's channel on node B ends. Then the master serving the center's slot (its hash tag,
// the bus's channels and the ACD's keys alike) hands it to its replica, and a second caller on B
// is answered the same way by p002, from A's page: the bus and the ACD carried on across it. While
// they talk, that slot's master is killed (SIGKILL): they keep hearing each other through the
// cluster's promotion of its replica, and p002's hang-up from A's page then ends the call on B and
// frees p002 in the ACD.
func TestSeveralNodesOnCluster(t *testing.T) {
	var cl *redistest.Cluster
	onTwoNodesOver(t, func(t *testing.T) config.Redis {
		cl = redistest.StartCluster(t, 3, 1)
		rc := config.Default().Redis
		rc.Mode, rc.Addrs = config.RedisCluster, cl.Addrs[:1]
		return rc
	}, func(t *testing.T, n *twoNodes) {
		baseA := "http://" + n.a.WebAddr().String()
		p001 := connectAgent(t, baseA, "p001", "hotline-demo")
		phone1 := p001.startAudio(1000)
		p001.setState("available")
		p002 := connectAgent(t, baseA, "p002", "hotline-demo")
		phone2 := p002.startAudio(1000)
		p002.setState("paused")

		// talk has the agent answer a caller on node B and waits until each hears the other; it
		// returns the caller and a check that they still do.
		talk := func(a *agentClient, phone *pionPhone, number string) (aritest.PlacedCall, func(string)) {
			t.Helper()
			caller := dial(t, n.tgB, number, "Caller on B")
			id := caller.ChannelID
			a.waitRinging(id, 30*time.Second)
			if cs, ok := callIn(snapshot(t, n.b.Center()), id); !ok || cs.Owner != "ctl-b" {
				t.Fatalf("the call in the ACD: %+v (found %v), want owned by ctl-b", cs, ok)
			}
			a.request("call.answer", map[string]any{"call": id})
			a.waitFor("call.connected", 15*time.Second, isPush("call.connected", id))
			hears := callerEar(t, n.tgB, caller)
			bothWays := func(when string) {
				t.Helper()
				waitfor.True(t, "the agent (page on A) hearing the caller on node B"+when, 15*time.Second, func() bool { return has(phone.Heard(500*time.Millisecond), 440) })
				waitfor.True(t, "the caller on node B hearing the agent"+when, 15*time.Second, func() bool { return has(hears(500*time.Millisecond), 1000) })
			}
			bothWays("")
			return caller, bothWays
		}
		hangUp := func(a *agentClient, caller aritest.PlacedCall) {
			t.Helper()
			id := caller.ChannelID
			a.request("call.hangup", map[string]any{"call": id})
			waitCallerGone(t, n.tgB, caller, "the caller on node B still up after the agent hung up on A's page")
			a.waitFor("call.ended", 10*time.Second, isPush("call.ended", id))
		}
		caller, _ := talk(p001, phone1, "79160000081")
		hangUp(p001, caller)

		from, to := cl.Failover(t, n.a.Center().Key("bus"), 30*time.Second)
		t.Logf("the center's slot moved from %s to %s", from, to)

		p002.setState("available")
		caller, bothWays := talk(p002, phone2, "79160000082")
		from, to = cl.KillMaster(t, n.a.Center().Key("bus"), 30*time.Second)
		t.Logf("the center's slot's master %s killed mid-call; %s took over", from, to)
		bothWays(" after the center's master was killed")
		hangUp(p002, caller)
		waitfor.True(t, "p002 off the call in the ACD", 15*time.Second, func() bool {
			for _, ag := range snapshot(t, n.a.Center()).Agents {
				if ag.ID == "p002" {
					return ag.State != acd.OnCall && ag.Call == ""
				}
			}
			return false
		})
	})
}

// metric reads an unlabelled metric from the controller's /metrics at base.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s at %s/metrics (%v)", name, base, sc.Err())
	return 0
}

// channelNames lists the names of the node's channels that start with prefix, but for the test's
// own (aritest.Listener's).
func channelNames(t *testing.T, tg *aritest.Target, prefix string) []string {
	t.Helper()
	st, body, err := tg.Do(context.Background(), http.MethodGet, "/ari/channels", nil)
	if err != nil || st != http.StatusOK {
		t.Fatalf("list channels: %d %s %v", st, body, err)
	}
	var chans []struct{ ID, Name string }
	if err := json.Unmarshal(body, &chans); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range chans {
		if strings.HasPrefix(c.Name, prefix) && !strings.HasPrefix(c.ID, aritest.ListenApp) {
			names = append(names, c.Name)
		}
	}
	return names
}

// TestSeveralNodesSupervisor: a supervisor whose board and monitoring softphone are on controller A
// steps into a call that controller B holds (a caller on node B talking to p001, whose page is on
// B). Each action goes to B, the call's owner, which opens the supervisor's leg on A's gateway (the
// whisper is sent to B's board, which hands it to A's, sup1's softphone's controller):
// listening, sup1 hears both sides and the caller does not hear sup1; whispering, p001 hears sup1
// and the caller does not; barging, the caller hears sup1; leaving, the caller hears p001 and not
// sup1, and the leg on A is closed. With B stopped, a listen is refused at once as unavailable.
// What the caller hears: as in TestSeveralNodes (callerEar).
func TestSeveralNodesSupervisor(t *testing.T) {
	const callerTone, agentTone, supervisorTone = 440, 1000, 1500
	onTwoNodes(t, func(t *testing.T, n *twoNodes) {
		baseA, baseB := "http://"+n.a.WebAddr().String(), "http://"+n.b.WebAddr().String()
		p001 := connectAgent(t, baseB, "p001", "hotline-demo")
		agentPhone := p001.startAudio(agentTone)
		p001.setState("available")
		sup := connectAgent(t, baseA, "sup1", "hotline-demo") // a monitoring softphone: no calls come
		supPhone := sup.startAudio(supervisorTone)
		board := loginSupervisor(t, baseA, "sup1", "hotline-demo")

		caller := dial(t, n.tgB, "79160000071", "Caller on B")
		id := caller.ChannelID
		p001.waitRinging(id, 30*time.Second)
		p001.request("call.answer", map[string]any{"call": id})
		waitfor.True(t, "p001 hearing the caller", 15*time.Second, func() bool { return has(agentPhone.Heard(500*time.Millisecond), callerTone) })
		hears := callerEar(t, n.tgB, caller)

		act := func(action string) {
			t.Helper()
			if code, body := board.post(action, `{"call":"`+id+`"}`); code != http.StatusOK {
				t.Fatalf("%s on A of a call B holds: %d %s", action, code, body)
			}
		}
		act("listen")
		waitfor.True(t, "sup1 (on A) hearing the caller and p001 (on B)", 15*time.Second, func() bool {
			heard := supPhone.Heard(500 * time.Millisecond)
			return has(heard, callerTone) && has(heard, agentTone)
		})
		if legs := metric(t, baseA, "hotline_softphone_legs"); legs != 1 {
			t.Errorf("legs open on A's gateway while sup1 listens: %v, want 1 (sup1's)", legs)
		}
		if has(hears(500*time.Millisecond), supervisorTone) {
			t.Error("the caller hears a supervisor who only listens")
		}

		// The whisper goes to B's board, as a load balancer may send it: B is not sup1's softphone's
		// controller, so it hands the request to A's board, which runs it as the others.
		boardB := loginSupervisor(t, baseB, "sup1", "hotline-demo")
		if code, body := boardB.post("whisper", `{"call":"`+id+`"}`); code != http.StatusOK {
			t.Fatalf("whisper on B's board, sup1's softphone on A: %d %s", code, body)
		}
		waitfor.True(t, "p001 hearing sup1's whisper", 15*time.Second, func() bool { return has(agentPhone.Heard(500*time.Millisecond), supervisorTone) })
		if has(hears(500*time.Millisecond), supervisorTone) {
			t.Error("the caller hears a supervisor who whispers to the agent")
		}

		act("barge")
		waitfor.True(t, "the caller hearing sup1, who barged in", 15*time.Second, func() bool { return has(hears(500*time.Millisecond), supervisorTone) })

		act("leave")
		waitfor.True(t, "sup1 gone from the call", 15*time.Second, func() bool {
			heard := hears(500 * time.Millisecond)
			return !has(heard, supervisorTone) && has(heard, agentTone)
		})
		waitfor.True(t, "sup1's leg on A closed", 10*time.Second, func() bool { return metric(t, baseA, "hotline_softphone_legs") == 0 })

		n.stopB()
		start := time.Now()
		if code, body := board.post("listen", `{"call":"`+id+`"}`); code != http.StatusServiceUnavailable {
			t.Errorf("listen to a call whose controller stopped: %d %s, want 503", code, body)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the refusal took %v: a stopped controller is known at once", d)
		}
	})
}
