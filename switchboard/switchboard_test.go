package switchboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/media"
	"github.com/hotline-cc/hotline/numbering"
	"github.com/hotline-cc/hotline/prompts"
)

const testScale = 0.25

func testLogger() *slog.Logger {
	if os.Getenv("HOTLINE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type rig struct {
	ringTimeout time.Duration // 10 s when zero
	reqTimeout  time.Duration // ARI REST request timeout; the default when zero
	sb          *Switchboard  // the one running now
	tg          *aritest.Target
	acd         *fakeACD
	phones      *fakePhones
	audit       *audit.Memory
	// transferContext is the dialplan context of blind transfers (the switchboard's default when empty).
	transferContext string
	// internalEndpoint dials internal extensions (none when empty); dialing, when set, replaces the
	// default rules.
	internalEndpoint string
	dialing          *numbering.Rules
	loopPanicked     func(loop string)
	surveys          Surveys // nil: no survey
	surveyWait       time.Duration
	drainContext     string
	refusedEvery     time.Duration // how often the node's refused count is read (the default when zero)
	refusals         Refusals      // hears each count read; nil: none
	// recordings, when set, decides which queues record (recording_test.go).
	recordings Recordings
	flows      Flows // the IVR; fakeFlows with a 10 s key timeout when nil
}

// start runs a switchboard against tg until the returned stop is called (or the test ends), once it
// hears its app's events.
func (r *rig) start(t *testing.T, instance string) (stop func()) {
	t.Helper()
	stop = r.launch(t, instance)
	// Connected, not merely listed: Asterisk lists an app whose connection it no longer serves.
	waitfor.True(t, "the switchboard hearing its app's events", 20*time.Second, r.sb.Connected)
	return stop
}

// launch starts a switchboard against tg and returns at once.
func (r *rig) launch(t *testing.T, instance string) (stop func()) {
	t.Helper()
	ring := r.ringTimeout
	if ring == 0 {
		ring = 10 * time.Second
	}
	var flows Flows = fakeFlows{keyTimeout: 10 * time.Second}
	if r.flows != nil {
		flows = r.flows
	}
	sb, err := New(Config{
		ARIURL: r.tg.ARIURL(), User: r.tg.User, Password: r.tg.Password, App: r.tg.App,
		Instance: instance, RingTimeout: ring, RequestTimeout: r.reqTimeout, TransferContext: r.transferContext,
		SurveyKeyTimeout: r.surveyWait, DrainContext: r.drainContext, RefusedEvery: r.refusedEvery,
		InternalEndpoint: r.internalEndpoint,
	}, Deps{Flows: flows, ACD: r.acd, Phones: r.phones, Logger: testLogger(), Audit: r.audit, Dialing: r.dialing, LoopPanicked: r.loopPanicked,
		Surveys: r.surveys, Recordings: r.recordings, Refusals: r.refusals})
	if err != nil {
		t.Fatal(err)
	}
	r.sb = sb
	r.acd.mu.Lock()
	r.acd.owner = instance
	r.acd.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sb.Run(ctx); close(done) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

// dial places a caller who presses 1 after the greeting, then sends a 440 Hz tone.
func (r *rig) dial(t *testing.T, number string) aritest.PlacedCall {
	t.Helper()
	placed, err := r.tg.Callers.Dial(context.Background(), aritest.CallerSpec{DID: "8800", Number: number, Context: "caller-press1-tone"})
	if err != nil {
		t.Fatal(err)
	}
	return placed
}

func newRig(t *testing.T, tg *aritest.Target) *rig {
	return &rig{tg: tg, acd: newFakeACD("a1"), phones: newFakePhones(t), audit: audit.NewMemory()}
}

func simConfig() asterisksim.Config { return asterisksim.Config{TimeScale: testScale} }

func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// waitCallerHears waits until the tone dominates what the simulated caller hears.
func waitCallerHears(t *testing.T, c *asterisksim.Caller, freq float64) {
	t.Helper()
	waitfor.True(t, "the caller hearing the agent's tone", 20*time.Second, func() bool {
		return media.ToneDominance(c.Heard(500*time.Millisecond), freq, media.SampleRate) > 20
	})
}

// TestCallReachesAgent is the whole path of a call through the controller: IVR, queue, offer, answer,
// two-way audio over externalMedia RTP, hangup by the agent, wrap-up.
func TestCallReachesAgent(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.start(t, "i1")
		ctx := context.Background()
		placed, err := tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: "79161234567", Name: "Ivan", Context: "caller-press1-tone"})
		if err != nil {
			t.Fatal(err)
		}
		ring := r.phones.next(t, EventRing)
		if ring.Call.ID != placed.ChannelID || ring.Call.CallerNumber != "79161234567" || ring.Call.Data["key"] != "1" {
			t.Fatalf("ring card = %+v", ring.Call)
		}
		if err := r.sb.Answer(ctx, "a2", ring.Call.ID); !errors.Is(err, ErrNotYourCall) {
			t.Fatalf("another agent's answer = %v, want ErrNotYourCall", err)
		}
		if err := r.sb.Answer(ctx, "a1", ring.Call.ID); err != nil {
			t.Fatal(err)
		}
		r.phones.next(t, EventConnected)
		leg := r.phones.nextLeg(t)
		waitClosed(t, leg.heard440, "the caller's 440 Hz at the agent's leg")
		if placed.Sim != nil {
			waitCallerHears(t, placed.Sim, 1000)
		}
		if err := r.sb.Hangup(ctx, "a1", ring.Call.ID); err != nil {
			t.Fatal(err)
		}
		if ev := r.phones.next(t, EventEnded); ev.Reason != EndAgent {
			t.Errorf("ended by %q, want %q", ev.Reason, EndAgent)
		}
		if !r.acd.wasFinished(ring.Call.ID) {
			t.Error("the ACD was not told the call finished")
		}
		if placed.Sim != nil {
			waitClosed(t, placed.Sim.Done(), "the caller's hangup")
		}
	})
}

// answerAndHear answers the ringing call as agent a1 and waits for audio both ways.
func (r *rig) answerAndHear(t *testing.T, placed aritest.PlacedCall) {
	t.Helper()
	ring := r.phones.next(t, EventRing)
	if err := r.sb.Answer(context.Background(), "a1", ring.Call.ID); err != nil {
		t.Fatal(err)
	}
	r.phones.next(t, EventConnected)
	leg := r.phones.nextLeg(t)
	waitClosed(t, leg.heard440, "the caller's 440 Hz at the agent's leg")
	if placed.Sim != nil {
		waitCallerHears(t, placed.Sim, 1000)
	}
}

// TestSurvivesUnknownEvents: ari/v5 v5.3.1 panics on event types it does not know; the switchboard
// reads events itself and must carry on through any of them, mid-call.
// Simulator only: a real Asterisk cannot be made to send made-up event types on demand.
func TestSurvivesUnknownEvents(t *testing.T) {
	tg := aritest.NewSimTarget(t, simConfig())
	r := newRig(t, tg)
	r.acd.setFree("a1", false)
	r.start(t, "i1")
	placed := r.dial(t, "100")
	ch := map[string]any{"id": placed.ChannelID, "name": "Local/8800@from-pstn-00000001;2", "state": "Up"}
	for _, ev := range []map[string]any{
		{"type": "ChannelToneDetected", "channel": ch},
		{"type": "ChannelTransfer", "refer_to": map[string]any{"requested_destination": map[string]any{"exten": "100"}}, "channel": ch},
		{"type": "SomethingAsterisk23MightSend", "weird": []any{1, "two", nil}},
		{"type": 42},
		{"no_type": true},
	} {
		if err := tg.Sim.Emit(ev); err != nil {
			t.Fatal(err)
		}
	}
	r.acd.setFree("a1", true)
	r.answerAndHear(t, placed)
}

// TestReconnectsAfterDrop: a dropped events WebSocket is redialled and waiting callers are served.
// Simulator only: it drops the events WebSocket from the server side.
func TestReconnectsAfterDrop(t *testing.T) {
	tg := aritest.NewSimTarget(t, simConfig())
	r := newRig(t, tg)
	r.acd.setFree("a1", false)
	r.start(t, "i1")
	placed := r.dial(t, "100")
	waitQueued(t, r.acd, placed.ChannelID)
	tg.Sim.DropConnections()
	// Not WaitApp: the app stays listed while the caller is in it. The new socket, then the
	// switchboard hearing its app through it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tg.Sim.WaitEventsConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the switchboard hearing its app again", 10*time.Second, r.sb.Connected)
	r.acd.setFree("a1", true)
	r.answerAndHear(t, placed)
}

// TestRestartKeepsCallers stops the controller while one caller waits and another talks, starts a new
// one, and checks that the waiting caller is still served and the talking one still hears the agent.
func TestRestartKeepsCallers(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		stop := r.start(t, "i1")
		ctx := context.Background()
		talking := r.dial(t, "101")
		r.answerAndHear(t, talking)
		waiting := r.dial(t, "102")
		waitQueued(t, r.acd, waiting.ChannelID)

		stop()
		if !up(t, tg, talking) || !up(t, tg, waiting) {
			t.Fatal("a controller stop hung up a caller")
		}

		r.start(t, "i1")
		// The talking call gets a fresh leg in its bridge: audio flows again both ways.
		leg := r.phones.nextLeg(t)
		waitClosed(t, leg.heard440, "the talking caller's audio after the restart")
		if err := r.sb.Hangup(ctx, "a1", talking.ChannelID); err != nil {
			t.Fatal(err)
		}
		waitGone(t, tg, talking, "the talking caller's hangup")
		// The waiting caller is offered to the agent once their wrap-up is over.
		r.acd.setFree("a1", true)
		r.answerAndHear(t, waiting)
	})
}

// TestRestartMidPrompt: a controller killed while a waiting caller hears a prompt cannot stop it,
// and Asterisk holds the next controller's commands on that channel until the prompt ends. The
// agent's answer, a bridge join behind the prompt, failed on its request timeout; the new
// controller now waits for the channel once it takes the call back (settle).
func TestRestartMidPrompt(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.acd.setFree("a1", false)
		stop := r.start(t, "i1")
		waiting := r.dial(t, "102")
		waitQueued(t, r.acd, waiting.ChannelID)
		stop()
		// What a killed controller leaves behind: a prompt longer than a request's timeout (about
		// 5 s against 3 s on a real Asterisk), still playing when the next controller starts.
		path := "/ari/channels/" + waiting.ChannelID + "/play/left-behind?lang=en&media=sound:hotline/survey_offer"
		if st, body, err := tg.Do(context.Background(), http.MethodPost, path, nil); err != nil || st != http.StatusCreated {
			t.Fatalf("play: %d %s %v", st, body, err)
		}
		r.acd.setFree("a1", true)
		r.start(t, "i1")
		r.answerAndHear(t, waiting)
	})
}

// TestRestartTakesBackIVRCallers: the controller stops (as a crash does: no drain) while a caller
// is in its IVR, which lives in its memory alone; the next controller finds the caller in the app
// with no place in the ACD and starts the menu over for them, up to the queue it leads to.
func TestRestartTakesBackIVRCallers(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		stop := r.start(t, "i1")
		caller, err := tg.Callers.Dial(context.Background(), aritest.CallerSpec{DID: "8800", Number: "103", Context: "caller-long"})
		if err != nil {
			t.Fatal(err)
		}
		waitfor.True(t, "the caller in the IVR", 20*time.Second, func() bool { return r.sb.call(caller.ChannelID) != nil })
		stop()
		if !up(t, tg, caller) {
			t.Fatal("a controller stop hung up the IVR's caller")
		}
		r.acd.mu.Lock()
		_, queued := r.acd.calls[caller.ChannelID]
		r.acd.mu.Unlock()
		if queued {
			t.Fatal("the caller was queued before the controller stopped; the test wants them in the IVR")
		}

		r.start(t, "i1")
		// The menu runs again: the fake IVR queues a silent caller after its greeting and its 10 s
		// key timeout.
		waitfor.True(t, "the caller taken back queued by the IVR", 40*time.Second, func() bool {
			r.acd.mu.Lock()
			defer r.acd.mu.Unlock()
			_, ok := r.acd.calls[caller.ChannelID]
			return ok
		})
		if !up(t, tg, caller) {
			t.Fatal("the caller taken back from the IVR was hung up")
		}
	})
}

// TestTakeOverFromAnotherController: a controller under another instance name (a new pod, a
// replaced host) connects to the same Asterisk after the first stopped for good; the calls whose
// channels live there become its own, waiting and talking callers carry on, and a call of another
// node (its channel not on this Asterisk) is left to its owner.
func TestTakeOverFromAnotherController(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		stop := r.start(t, "old-pod")
		talking := r.dial(t, "101")
		r.answerAndHear(t, talking)
		waiting := r.dial(t, "102")
		waitQueued(t, r.acd, waiting.ChannelID)
		r.acd.mu.Lock()
		r.acd.calls["elsewhere"] = &QueuedCall{CallID: "elsewhere", Queue: "general", Owner: "other-node"}
		r.acd.mu.Unlock()
		stop()

		r.start(t, "new-pod")
		leg := r.phones.nextLeg(t)
		waitClosed(t, leg.heard440, "the talking caller's audio after the takeover")
		r.acd.waitFor(t, "both calls claimed", func() bool { return len(r.acd.claims) == 2 })
		r.acd.mu.Lock()
		claims := slices.Sorted(slices.Values(r.acd.claims))
		other := r.acd.calls["elsewhere"].Owner
		r.acd.mu.Unlock()
		want := []string{talking.ChannelID + ":old-pod>new-pod", waiting.ChannelID + ":old-pod>new-pod"}
		slices.Sort(want)
		if !slices.Equal(claims, want) || other != "other-node" {
			t.Fatalf("claims %v (want %v); the other node's call is owned by %q", claims, want, other)
		}
		if err := r.sb.Hangup(context.Background(), "a1", talking.ChannelID); err != nil {
			t.Fatal(err)
		}
		waitGone(t, tg, talking, "the talking caller's hangup")
		r.acd.setFree("a1", true)
		r.answerAndHear(t, waiting)
	})
}

// TestRingAll: a ring-all queue's offer rings every free agent; one declining leaves the others
// ringing, the first to answer takes the call (the ACD frees the rest), and a late answer is refused.
// A caller who hangs up while several ring stops every one of them.
func TestRingAll(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.acd.mu.Lock()
		r.acd.ringAll = true
		r.acd.mu.Unlock()
		r.acd.setFree("a2", true)
		r.acd.setFree("a3", true)
		r.start(t, "i1")
		ctx := context.Background()

		placed := r.dial(t, "100")
		for _, a := range []string{"a1", "a2", "a3"} {
			r.phones.nextFor(t, a, EventRing)
		}
		if err := r.sb.Reject(ctx, "a1", placed.ChannelID); err != nil {
			t.Fatal(err)
		}
		r.phones.nextFor(t, "a1", EventRingCancelled)
		if _, talking, ok := r.sb.ActiveCall("a3"); !ok || talking {
			t.Fatalf("a3 after a1 declined: call %v, talking %v; want still ringing", ok, talking)
		}
		if err := r.sb.Answer(ctx, "a3", placed.ChannelID); err != nil {
			t.Fatal(err)
		}
		r.phones.nextFor(t, "a3", EventConnected)
		if err := r.sb.Answer(ctx, "a2", placed.ChannelID); !errors.Is(err, ErrNotYourCall) {
			t.Fatalf("a2 answering after a3: %v, want ErrNotYourCall", err)
		}
		leg := r.phones.nextLeg(t)
		waitClosed(t, leg.heard440, "the caller's 440 Hz at a3's leg")
		if placed.Sim != nil {
			waitCallerHears(t, placed.Sim, 1000)
		}
		r.acd.mu.Lock()
		took, a2Free := r.acd.accepted[placed.ChannelID], r.acd.free["a2"]
		r.acd.mu.Unlock()
		if took != "a3" || !a2Free {
			t.Fatalf("the ACD saw %q take the call (want a3); a2 released: %v", took, a2Free)
		}

		second := r.dial(t, "101")
		r.phones.nextFor(t, "a2", EventRing)
		hangUp(t, tg, second)
		r.phones.nextFor(t, "a2", EventRingCancelled)
	})
}

// TestRestartMidConsultation: the controller stops while the agent consults an outside number. The
// next one hangs up the consulted party and removes the consultation's bridge and legs, tells the
// agent the caller is on hold, and the agent's resume brings the caller back.
// Simulator only: the consulted party is the simulator's trunk.
func TestRestartMidConsultation(t *testing.T) {
	cfg := simConfig()
	cfg.Outbound = func(string) asterisksim.Outbound {
		return asterisksim.Outbound{AnswerAfter: 200 * time.Millisecond, Tone: 880}
	}
	tg := aritest.NewSimTarget(t, cfg)
	r := newRig(t, tg)
	stop := r.start(t, "i1")
	ctx := context.Background()
	placed := r.dial(t, "100")
	r.answerAndHear(t, placed)
	leg := r.phones.latest
	id := placed.ChannelID
	if err := r.sb.Consult(ctx, "a1", id, Target{Kind: TargetNumber, ID: "84955551234"}); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the agent hearing the consulted party", 20*time.Second, func() bool { return leg.hears(880) })
	stop()

	r.start(t, "i1")
	r.phones.next(t, EventHeld)
	list := func(what string) string {
		_, body, err := tg.Do(ctx, "GET", "/ari/"+what, nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(body)
	}
	waitfor.True(t, "the consultation's party, bridge and legs gone", 20*time.Second, func() bool {
		return !strings.Contains(list("channels"), `"ct-`) && !strings.Contains(list("bridges"), `"cs-`)
	})
	if err := r.sb.Resume(ctx, "a1", id); err != nil {
		t.Fatal(err)
	}
	waitCallerHears(t, placed.Sim, 1000)
}

// TestCallerHangsUpTalking: the agent's page hears the caller ended the call, and the agent goes to
// wrap-up.
func TestCallerHangsUpTalking(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.start(t, "i1")
		placed := r.dial(t, "79161234567")
		r.answerAndHear(t, placed)
		hangUp(t, tg, placed)
		if ev := r.phones.next(t, EventEnded); ev.Reason != EndCaller {
			t.Errorf("ended by %q, want %q", ev.Reason, EndCaller)
		}
		if !r.acd.wasFinished(placed.ChannelID) {
			t.Error("the ACD was not told the call finished")
		}
	})
}

// TestCallerHangsUpWhileWaiting: the ACD learns the call was abandoned.
func TestCallerHangsUpWhileWaiting(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.acd.setFree("a1", false)
		r.start(t, "i1")
		placed := r.dial(t, "100")
		waitQueued(t, r.acd, placed.ChannelID)
		hangUp(t, tg, placed)
		r.acd.waitFor(t, "the abandon", func() bool { return len(r.acd.abandons) == 1 })
	})
}

// up says whether the caller's channel is still there: on the simulator the caller has not hung up,
// on Asterisk ARI still lists the channel.
func up(t *testing.T, tg *aritest.Target, p aritest.PlacedCall) bool {
	t.Helper()
	if p.Sim != nil {
		select {
		case <-p.Sim.Done():
			return false
		default:
			return true
		}
	}
	st, _, err := tg.Do(context.Background(), "GET", "/ari/channels/"+p.ChannelID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st == 200
}

// hangUp is the caller hanging up.
func hangUp(t *testing.T, tg *aritest.Target, p aritest.PlacedCall) {
	t.Helper()
	if p.Sim != nil {
		if err := p.Sim.Hangup(); err != nil {
			t.Fatal(err)
		}
		return
	}
	if st, body, err := tg.Do(context.Background(), "DELETE", "/ari/channels/"+p.ChannelID, nil); err != nil || st != 204 {
		t.Fatalf("hang up %s: %d %s %v", p.ChannelID, st, body, err)
	}
}

// waitGone waits until the caller's channel is gone.
func waitGone(t *testing.T, tg *aritest.Target, p aritest.PlacedCall, what string) {
	t.Helper()
	waitfor.True(t, what, 20*time.Second, func() bool { return !up(t, tg, p) })
}

func waitQueued(t *testing.T, a *fakeACD, id string) {
	t.Helper()
	a.waitFor(t, "call "+id+" queued", func() bool { _, ok := a.calls[id]; return ok })
}

// TestWaitingCallerAnnouncementsAndCallback: a waiting caller hears their place, presses 1 to be
// called back and hangs up keeping their place; when an agent frees up the switchboard dials them
// back and joins them to the agent.
// Simulator only: the callback dials a trunk (PJSIP/<number>@trunk) whose far end the simulator plays.
func TestWaitingCallerAnnouncementsAndCallback(t *testing.T) {
	cfg := simConfig()
	cfg.Sounds = prompts.Durations()
	cfg.Outbound = func(endpoint string) asterisksim.Outbound {
		return asterisksim.Outbound{AnswerAfter: 200 * time.Millisecond, Tone: 440}
	}
	tg := aritest.NewSimTarget(t, cfg)
	r := newRig(t, tg)
	r.acd.announceEvery = time.Second
	r.acd.setFree("a1", false)
	r.start(t, "i1")
	placed := r.dial(t, "79990001122")
	waitQueued(t, r.acd, placed.ChannelID)
	waitfor.True(t, "a position announcement", 20*time.Second, func() bool {
		return slices.Contains(placed.Sim.Prompts(), "sound:hotline/queue_position")
	})
	if err := placed.Sim.Press("1"); err != nil {
		t.Fatal(err)
	}
	r.acd.waitFor(t, "the callback request", func() bool {
		c := r.acd.calls[placed.ChannelID]
		return c != nil && c.Data["callback"] == "+79990001122"
	})
	waitClosed(t, placed.Sim.Done(), "the caller hanging up after asking for a callback")
	if len(r.acd.abandons) != 0 {
		t.Fatalf("a callback was counted as abandoned: %v", r.acd.abandons)
	}

	r.acd.setFree("a1", true)
	ring := r.phones.next(t, EventRing)
	if ring.Call.ID != placed.ChannelID || ring.Call.CallerNumber != "+79990001122" {
		t.Fatalf("callback ring card = %+v", ring.Call)
	}
	if err := r.sb.Answer(context.Background(), "a1", ring.Call.ID); err != nil {
		t.Fatal(err)
	}
	r.phones.next(t, EventConnected)
	leg := r.phones.nextLeg(t)
	waitClosed(t, leg.heard440, "the called-back caller's audio at the agent")
	if err := r.sb.Hangup(context.Background(), "a1", ring.Call.ID); err != nil {
		t.Fatal(err)
	}
	r.phones.next(t, EventEnded)
}

// TestCallbackUnanswered: the number dialled back for a callback does not answer; the agent is told
// and free at once (no wrap-up), and the ACD hears of it to try again later.
// Simulator only: the far end of the trunk is the simulator's.
func TestCallbackUnanswered(t *testing.T) {
	cfg := simConfig()
	cfg.Sounds = prompts.Durations()
	cfg.Outbound = func(endpoint string) asterisksim.Outbound {
		return asterisksim.Outbound{AnswerAfter: 200 * time.Millisecond, Reject: true, Cause: 19} // no answer
	}
	tg := aritest.NewSimTarget(t, cfg)
	r := newRig(t, tg)
	r.acd.setFree("a1", false)
	r.start(t, "i1")
	placed := r.dial(t, "79990001133")
	waitQueued(t, r.acd, placed.ChannelID)
	if err := placed.Sim.Press("1"); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, placed.Sim.Done(), "the caller hanging up after asking for a callback")

	r.acd.setFree("a1", true)
	ring := r.phones.next(t, EventRing)
	if err := r.sb.Answer(context.Background(), "a1", ring.Call.ID); err != nil {
		t.Fatal(err)
	}
	r.phones.next(t, EventConnected)
	r.phones.next(t, EventCallbackUnanswered)
	r.acd.waitFor(t, "the ACD told the callback went unanswered", func() bool {
		return slices.Equal(r.acd.unanswered, []string{placed.ChannelID}) && r.acd.free["a1"]
	})
	if r.acd.wasFinished(placed.ChannelID) {
		t.Fatal("an unanswered callback was finished as a call (the agent would wrap up)")
	}
}

// TestOverflowMessage: a caller past the queue's maximum wait hears the message and is let go.
func TestOverflowMessage(t *testing.T) {
	cfg := simConfig()
	cfg.Sounds = prompts.Durations()
	aritest.Run(t, cfg, func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.acd.setFree("a1", false)
		r.start(t, "i1")
		placed := r.dial(t, "100")
		waitQueued(t, r.acd, placed.ChannelID)
		r.acd.mu.Lock()
		r.acd.overdue = []Overflow{{CallID: placed.ChannelID, Action: OverflowMessage, Message: "sound:hotline/payouts_busy"}}
		r.acd.mu.Unlock()
		waitGone(t, tg, placed, "the caller let go after the message")
		if placed.Sim != nil && !slices.Contains(placed.Sim.Prompts(), "sound:hotline/payouts_busy") {
			t.Errorf("the caller did not hear the overflow message: %v", placed.Sim.Prompts())
		}
		r.acd.waitFor(t, "the exit", func() bool { return len(r.acd.exits) == 1 })
		if len(r.acd.abandons) != 0 {
			t.Errorf("an overflowed call was counted as abandoned")
		}
	})
}

// TestAttendedTransfer: the agent consults an outside number while the caller holds, cancels once
// (back to the caller), consults again and completes: caller and target talk, the agent is free.
// Simulator only: the consulted numbers are dialled through a trunk whose far end the simulator plays.
func TestAttendedTransfer(t *testing.T) {
	cfg := simConfig()
	cfg.Outbound = func(endpoint string) asterisksim.Outbound {
		if strings.Contains(endpoint, "5559999") {
			return asterisksim.Outbound{AnswerAfter: 200 * time.Millisecond, Tone: 1250}
		}
		return asterisksim.Outbound{AnswerAfter: 200 * time.Millisecond, Tone: 880}
	}
	tg := aritest.NewSimTarget(t, cfg)
	r := newRig(t, tg)
	r.start(t, "i1")
	ctx := context.Background()
	placed := r.dial(t, "100")
	r.answerAndHear(t, placed)
	leg := r.phones.latest
	id := placed.ChannelID
	target := Target{Kind: TargetNumber, ID: "84955551234"}

	if err := r.sb.CompleteTransfer(ctx, "a1", id); !errors.Is(err, ErrNoConsultation) {
		t.Fatalf("complete without a consultation = %v", err)
	}
	if err := r.sb.Consult(ctx, "a1", id, target); err != nil {
		t.Fatal(err)
	}
	r.phones.next(t, EventConsulting)
	waitfor.True(t, "the agent hearing the consulted party", 20*time.Second, func() bool { return leg.hears(880) })
	if err := r.sb.CancelConsult(ctx, "a1", id); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the agent back with the caller", 20*time.Second, func() bool { return leg.hears(440) })

	if err := r.sb.Consult(ctx, "a1", id, Target{Kind: TargetNumber, ID: "8 495 555-99-99"}); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the agent hearing the second consulted party", 20*time.Second, func() bool { return leg.hears(1250) })
	if err := r.sb.CompleteTransfer(ctx, "a1", id); err != nil {
		t.Fatal(err)
	}
	r.phones.next(t, EventEnded)
	if !r.acd.wasFinished(id) {
		t.Error("the agent was not released to wrap-up")
	}
	waitfor.True(t, "the caller hearing the target", 20*time.Second, func() bool {
		return media.ToneDominance(placed.Sim.Heard(400*time.Millisecond), 1250, media.SampleRate) > 20
	})
	if err := r.sb.Hangup(ctx, "a1", id); !errors.Is(err, ErrNotYourCall) {
		t.Fatalf("the agent still controls the transferred call: %v", err)
	}
	if err := placed.Sim.Hangup(); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the target hung up with the caller", 20*time.Second, func() bool {
		st, body, err := tg.Do(ctx, "GET", "/ari/channels", nil)
		return err == nil && st == 200 && !strings.Contains(string(body), `"ct-`)
	})
}

// TestTransferToAgent: a blind transfer to a named colleague rings them at once.
func TestTransferToAgent(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.acd.free["a2"] = false
		r.start(t, "i1")
		ctx := context.Background()
		placed := r.dial(t, "100")
		r.answerAndHear(t, placed)
		if err := r.sb.Transfer(ctx, "a1", placed.ChannelID, Target{Kind: TargetAgent, ID: "a1"}); !errors.Is(err, ErrBadTarget) {
			t.Fatalf("transfer to oneself = %v, want ErrBadTarget", err)
		}
		r.acd.setFree("a2", true)
		if err := r.sb.Transfer(ctx, "a1", placed.ChannelID, Target{Kind: TargetAgent, ID: "a2"}); err != nil {
			t.Fatal(err)
		}
		if ev := r.phones.next(t, EventEnded); ev.Reason != EndTransferred {
			t.Errorf("ended by %q, want %q", ev.Reason, EndTransferred)
		}
		ring := r.phones.next(t, EventRing)
		if err := r.sb.Answer(ctx, "a2", ring.Call.ID); err != nil {
			t.Fatalf("a2 answers the transferred call: %v", err)
		}
		r.phones.next(t, EventConnected)
		leg := r.phones.nextLeg(t)
		waitClosed(t, leg.heard440, "the caller's audio at the colleague")
	})
}

// TestSupervisorMonitor: a supervisor listens (hears both sides, unheard), whispers (the agent hears
// them, the caller does not) and barges in (all hear each other).
func TestSupervisorMonitor(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.phones.tones["sup1"] = 1500
		r.start(t, "i1")
		ctx := context.Background()
		placed := r.dial(t, "100")
		if err := r.sb.Monitor(ctx, "sup1", placed.ChannelID, MonitorListen); !errors.Is(err, ErrNotTalking) && !errors.Is(err, ErrNoSuchCall) {
			t.Fatalf("listening to a call not yet answered = %v", err)
		}
		r.answerAndHear(t, placed)
		agent := r.phones.latest
		id := placed.ChannelID
		// What the caller hears is known only on the simulator; on Asterisk those checks are skipped.
		callerHas := func(freq float64) bool {
			return placed.Sim != nil && hasTone(placed.Sim.Heard(500*time.Millisecond), freq)
		}

		if err := r.sb.Monitor(ctx, "sup1", id, MonitorListen); err != nil {
			t.Fatal(err)
		}
		sup := r.phones.nextLeg(t)
		waitfor.True(t, "the supervisor hearing the caller and the agent", 20*time.Second, func() bool { return sup.has(440) && sup.has(1000) })
		if callerHas(1500) || agent.has(1500) {
			t.Fatal("a listening supervisor was heard")
		}

		if err := r.sb.Monitor(ctx, "sup1", id, MonitorWhisper); err != nil {
			t.Fatal(err)
		}
		r.phones.nextLeg(t)
		waitfor.True(t, "the agent hearing the whisper", 20*time.Second, func() bool { return agent.has(1500) })
		if callerHas(1500) {
			t.Fatal("the caller heard the whisper")
		}

		if err := r.sb.Monitor(ctx, "sup1", id, MonitorBarge); err != nil {
			t.Fatal(err)
		}
		r.phones.nextLeg(t)
		if placed.Sim != nil {
			waitfor.True(t, "the caller hearing the supervisor barge in", 20*time.Second, func() bool { return callerHas(1500) })
		}
		if err := r.sb.Monitor(ctx, "sup2", id, MonitorLeave); !errors.Is(err, ErrBadTarget) {
			t.Fatalf("another supervisor leaving = %v, want ErrBadTarget", err)
		}
		if err := r.sb.Monitor(ctx, "sup1", id, MonitorLeave); err != nil {
			t.Fatal(err)
		}
		waitfor.True(t, "the supervisor's channels gone when they leave", 20*time.Second, func() bool {
			st, body, err := tg.Do(ctx, "GET", "/ari/channels", nil)
			return err == nil && st == 200 && !strings.Contains(string(body), `"mon-`)
		})

		if err := r.sb.Hangup(ctx, "a1", id); err != nil {
			t.Fatal(err)
		}
		r.phones.next(t, EventEnded)
		waitfor.True(t, "the supervisor's channels gone with the call", 20*time.Second, func() bool {
			st, body, err := tg.Do(ctx, "GET", "/ari/channels", nil)
			return err == nil && st == 200 && !strings.Contains(string(body), `"mon-`)
		})
	})
}

// TestMetricsBoundUnknownEvents: event types hotline does not know count as "other", so a peer
// cannot grow the label set.
// Simulator only, as TestSurvivesUnknownEvents.
func TestMetricsBoundUnknownEvents(t *testing.T) {
	tg := aritest.NewSimTarget(t, simConfig())
	r := newRig(t, tg)
	reg := prometheus.NewRegistry()
	r.start(t, "i1")
	if err := r.sb.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := tg.Sim.Emit(map[string]any{"type": fmt.Sprintf("Made-up-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitfor.True(t, "50 events counted as other", 10*time.Second, func() bool {
		return testutil.ToFloat64(r.sb.metrics.Load().events.WithLabelValues("other")) == 50
	})
	if n := testutil.CollectAndCount(r.sb.metrics.Load().events); n != 1 {
		t.Errorf("%d label values for event types, want 1 (other)", n)
	}
	if v := testutil.ToFloat64(r.sb.metrics.Load().connected); v != 1 {
		t.Errorf("hotline_ari_connected = %v, want 1", v)
	}
}

// TestAgentAudioAway: while the agent's audio is away (a page reload, a network blip) the caller
// hears hold music instead of dead air, and the conversation comes back with the agent's audio.
func TestAgentAudioAway(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.start(t, "i1")
		placed := r.dial(t, "100")
		r.answerAndHear(t, placed)
		r.sb.AgentAudio("a1", false)
		if placed.Sim != nil {
			waitfor.True(t, "hold music instead of the agent", 20*time.Second, func() bool {
				heard := placed.Sim.Heard(500 * time.Millisecond)
				return !hasTone(heard, 1000) && media.Energy(heard) > 1e5
			})
		}
		r.sb.AgentAudio("a1", true)
		if placed.Sim != nil {
			waitCallerHears(t, placed.Sim, 1000)
		}
		leg := r.phones.latest
		waitfor.True(t, "the agent hearing the caller again", 20*time.Second, func() bool { return leg.hears(440) })
	})
}

// TestAppHandover hands the Stasis app from one controller to the next as a rolling restart does:
// the new one connects while the old one is still connected, and the old one's connection closes
// at that moment. On Asterisk 22 that race can leave the app deactivated: the new WebSocket stays
// open and hears nothing, and Stasis() fails for every caller. Each new controller must end up
// serving callers, whichever way the race went, and every stop closes its WebSocket properly.
func TestAppHandover(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		logPath := os.Getenv("HOTLINE_TEST_ASTERISK_LOG")
		var logFrom int64
		if fi, err := os.Stat(logPath); tg.Sim == nil && err == nil {
			logFrom = fi.Size()
		}
		r := newRig(t, tg)
		r.acd.setFree("a1", false)
		stop := r.start(t, "i1")
		for round := range 6 {
			old := stop
			// The new controller connects and, a moment later (0 to 25 ms, so that some rounds land
			// inside Asterisk's handover), the old one closes its connection.
			stop = r.launch(t, "i1")
			time.Sleep(time.Duration(round*5) * time.Millisecond) // spreads the rounds over the race window; not a wait for a state
			old()
			waitfor.True(t, "the new switchboard hearing its app's events", 20*time.Second, r.sb.Connected)
			placed := r.dial(t, fmt.Sprintf("20%d", round))
			waitQueued(t, r.acd, placed.ChannelID)
			hangUp(t, tg, placed)
		}
		stop()
		if tg.Sim == nil && logPath != "" {
			raw, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw[min(logFrom, int64(len(raw))):]), "closed abruptly") {
				t.Errorf("Asterisk logged a WebSocket closed abruptly: a controller stopped without a close handshake")
			}
		}
	})
}

// TestHealsDeactivatedApp: the handover race of TestAppHandover, made certain. The connection that
// held the app closes in the middle of the handover, Asterisk deactivates the app, and the new
// controller's WebSocket stays open but hears nothing. Its liveness probe must notice and register
// the app again, so callers reach it. Simulator only: on Asterisk the race cannot be forced.
func TestHealsDeactivatedApp(t *testing.T) {
	tg := aritest.NewSimTarget(t, simConfig())
	r := newRig(t, tg)
	r.acd.setFree("a1", false)
	tg.Connect(t, tg.App) // the old holder: a connection that will not come back
	tg.Sim.CloseDuringNextHandover(tg.App)
	r.start(t, "i1")
	placed := r.dial(t, "300")
	waitQueued(t, r.acd, placed.ChannelID)
}
