package switchboard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/numbering"
	"github.com/hotline-cc/hotline/prompts"
)

// The dial-string injection of issue 10 (finding 3), accepted as a transfer target on main.
const injection = "1@trunk&PJSIP/88216000000@trunk,60,U(evil)"

// The spoofed caller id of issue 10, dialled back as given on main.
const spoofedCallerID = "x@internal-pbx/sip:+88216000000@premium.example"

// dialEntries are the audited dials, in order.
func dialEntries(m *audit.Memory) []audit.Entry {
	var out []audit.Entry
	for _, e := range m.Entries() {
		if e.Action == "dial" {
			out = append(out, e)
		}
	}
	return out
}

// TestTransferInjectionRefused: a blind transfer or a consultation to a dial string, a premium-rate
// or an international number is refused with the reason, nothing is dialled, the agent keeps the
// caller, and each refusal is audited; a valid number written the national way then reaches the
// dialplan in its canonical form only, audited as dialled.
// Simulator only: the test's transfer context reports the extension it got as DTMF to the caller.
func TestTransferInjectionRefused(t *testing.T) {
	cfg := simConfig()
	var mu sync.Mutex
	var originated []string
	cfg.Outbound = func(endpoint string) asterisksim.Outbound {
		mu.Lock()
		originated = append(originated, endpoint)
		mu.Unlock()
		return asterisksim.Outbound{AnswerAfter: 200 * time.Millisecond, Tone: 880}
	}
	tg := aritest.NewSimTarget(t, cfg)
	r := newRig(t, tg)
	r.transferContext = "test-transfer-digits"
	r.start(t, "i1")
	ctx := context.Background()
	placed := r.dial(t, "100")
	r.answerAndHear(t, placed)
	id := placed.ChannelID

	refused := []struct {
		consult bool
		to      string
		why     string
	}{
		{false, injection, "not a phone number"},
		{true, injection, "not a phone number"},
		{false, "88095550100", "premium"},
		{true, "+88216000000", "international"},
		{false, "810 49 30 1234567", "international"},
		{false, "89161234567&PJSIP/1", "'&' is not allowed"},
	}
	for _, tc := range refused {
		var err error
		if tc.consult {
			err = r.sb.Consult(ctx, "a1", id, Target{Kind: TargetNumber, ID: tc.to})
		} else {
			err = r.sb.Transfer(ctx, "a1", id, Target{Kind: TargetNumber, ID: tc.to})
		}
		if !errors.Is(err, ErrDialRefused) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("transfer (consult %v) to %q = %v, want ErrDialRefused saying %q", tc.consult, tc.to, err, tc.why)
		}
	}
	if card, talking, ok := r.sb.ActiveCall("a1"); !ok || !talking || card.ID != id {
		t.Fatalf("after the refusals the agent no longer talks to the caller: %+v %v %v", card, talking, ok)
	}
	mu.Lock()
	if len(originated) > 0 {
		t.Errorf("refused numbers were dialled: %v", originated)
	}
	mu.Unlock()
	got := dialEntries(r.audit)
	if len(got) != len(refused) {
		t.Fatalf("audited dials = %+v, want %d refusals", got, len(refused))
	}
	for i, e := range got {
		kind := "transfer"
		if refused[i].consult {
			kind = "consult"
		}
		if e.Actor != "a1" || e.Outcome != "refused" || e.Detail["kind"] != kind || e.Detail["call"] != id || e.Detail["reason"] == "" {
			t.Errorf("audit entry %d = %+v", i, e)
		}
	}
	if got[0].Target != "" || !strings.Contains(got[0].Detail["input"], "U(evil)") {
		t.Errorf("the injection's audit entry = %+v, want no target and the quoted input", got[0])
	}
	if got[2].Target != "+78095550100" || got[2].Detail["class"] != "premium" {
		t.Errorf("the premium number's audit entry = %+v", got[2])
	}

	if err := r.sb.Transfer(ctx, "a1", id, Target{Kind: TargetNumber, ID: "8 (916) 123-45-67"}); err != nil {
		t.Fatal(err)
	}
	r.phones.next(t, EventEnded)
	waitfor.True(t, "the canonical number reaching the transfer context", 20*time.Second, func() bool {
		return placed.Sim.Digits() == "+79161234567"
	})
	last := dialEntries(r.audit)[len(refused)]
	if last.Actor != "a1" || last.Target != "+79161234567" || last.Outcome != "ok" || last.Detail["kind"] != "transfer" || last.Detail["class"] != "mobile" {
		t.Errorf("the transfer's audit entry = %+v", last)
	}
}

// TestConsultDialsCanonical: a consultation dials PJSIP/<canonical>@trunk, whatever the agent typed,
// and its audit entry names the client that asked.
// Simulator only: the far end of the trunk is the simulator's.
func TestConsultDialsCanonical(t *testing.T) {
	cfg := simConfig()
	endpoints := make(chan string, 4)
	cfg.Outbound = func(endpoint string) asterisksim.Outbound {
		endpoints <- endpoint
		return asterisksim.Outbound{AnswerAfter: 200 * time.Millisecond, Tone: 880}
	}
	tg := aritest.NewSimTarget(t, cfg)
	r := newRig(t, tg)
	r.start(t, "i1")
	// The page's socket names its client: the audit entry, written on the call's goroutine, keeps it.
	ctx := audit.WithRemote(context.Background(), "203.0.113.7")
	placed := r.dial(t, "100")
	r.answerAndHear(t, placed)
	if err := r.sb.Consult(ctx, "a1", placed.ChannelID, Target{Kind: TargetNumber, ID: "8-800-555-01-00"}); err != nil {
		t.Fatal(err)
	}
	ev := r.phones.next(t, EventConsulting)
	if ev.Target.ID != "+78005550100" {
		t.Errorf("the page is told it consults %q", ev.Target.ID)
	}
	select {
	case ep := <-endpoints:
		if ep != "PJSIP/+78005550100@trunk" {
			t.Errorf("consultation dialled %q", ep)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nothing dialled")
	}
	e := dialEntries(r.audit)
	if len(e) != 1 || e[0].Target != "+78005550100" || e[0].Detail["kind"] != "consult" || e[0].Outcome != "ok" || e[0].Actor != "a1" || e[0].Remote != "203.0.113.7" {
		t.Errorf("audit = %+v", e)
	}
}

// TestCallbackSpoofedCallerIDRefused: a caller whose caller id is not a number the center may dial
// asks for a callback: refused (audited, by "system"), the caller keeps waiting in the queue.
// A callback number stored unchecked (an older controller, rules changed since) is refused when its
// turn comes: nothing is dialled, the call ends, the agent is told.
// Simulator only: the trunk's far end is the simulator's.
func TestCallbackSpoofedCallerIDRefused(t *testing.T) {
	cfg := simConfig()
	cfg.Sounds = prompts.Durations()
	var mu sync.Mutex
	var originated []string
	cfg.Outbound = func(endpoint string) asterisksim.Outbound {
		mu.Lock()
		originated = append(originated, endpoint)
		mu.Unlock()
		return asterisksim.Outbound{AnswerAfter: 200 * time.Millisecond, Tone: 440}
	}
	tg := aritest.NewSimTarget(t, cfg)
	r := newRig(t, tg)
	r.acd.announceEvery = time.Second
	r.acd.setFree("a1", false)
	r.start(t, "i1")

	spoofed := r.dial(t, spoofedCallerID)
	waitQueued(t, r.acd, spoofed.ChannelID)
	waitfor.True(t, "a position announcement", 20*time.Second, func() bool {
		return slices.Contains(spoofed.Sim.Prompts(), "sound:hotline/queue_position")
	})
	if err := spoofed.Sim.Press("1"); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the refused callback audited", 20*time.Second, func() bool { return len(dialEntries(r.audit)) == 1 })
	e := dialEntries(r.audit)[0]
	if e.Actor != "system" || e.Outcome != "refused" || e.Detail["kind"] != "callback" || e.Detail["call"] != spoofed.ChannelID || !strings.Contains(e.Detail["input"], "premium.example") {
		t.Errorf("audit entry = %+v", e)
	}
	r.acd.mu.Lock()
	stored := r.acd.calls[spoofed.ChannelID].Data["callback"]
	r.acd.mu.Unlock()
	if stored != "" {
		t.Fatalf("the spoofed caller id was kept for a callback: %q", stored)
	}
	select {
	case <-spoofed.Sim.Done():
		t.Fatal("the caller was let go without a callback")
	default:
	}
	if err := spoofed.Sim.Hangup(); err != nil {
		t.Fatal(err)
	}
	r.acd.waitFor(t, "the spoofed caller gone", func() bool { return len(r.acd.abandons) == 1 })

	// A valid caller asks; then the stored number is replaced as an unchecked writer would.
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
	r.acd.mu.Lock()
	r.acd.calls[placed.ChannelID].Data["callback"] = spoofedCallerID
	r.acd.mu.Unlock()

	r.acd.setFree("a1", true)
	ring := r.phones.next(t, EventRing)
	if err := r.sb.Answer(context.Background(), "a1", ring.Call.ID); !errors.Is(err, ErrDialRefused) {
		t.Fatalf("answering a callback to %q = %v, want ErrDialRefused", spoofedCallerID, err)
	}
	r.phones.next(t, EventEnded)
	r.acd.waitFor(t, "the refused callback finished", func() bool { return slices.Contains(r.acd.finished, placed.ChannelID) })
	entries := dialEntries(r.audit)
	last := entries[len(entries)-1]
	if last.Actor != "system" || last.Outcome != "refused" || last.Detail["kind"] != "callback" || last.Detail["call"] != placed.ChannelID {
		t.Errorf("audit entry = %+v", last)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(originated) > 0 {
		t.Errorf("refused callbacks were dialled: %v", originated)
	}
}

// withExtensions is the Russian plan with internal extensions of n digits.
func withExtensions(n int) *numbering.Rules {
	plan := numbering.Russia
	plan.ExtensionLength = n
	return &numbering.Rules{Plan: plan, Classes: numbering.DefaultClasses}
}

// TestInternalExtensionsToPBX: with an internal endpoint (ari.internal_endpoint), a consultation and
// a blind transfer to an internal extension go to the center's PBX, never to the carrier's trunk:
// here the test's [hotline-test-pbx], which takes the extension into a probe app. Both audited as
// dialled, of class internal.
func TestInternalExtensionsToPBX(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.internalEndpoint = "Local/%s@hotline-test-pbx"
		r.dialing = withExtensions(4)
		pbx := tg.Connect(t, "hotline-test-pbx")
		r.start(t, "i1")
		ctx := context.Background()
		placed := r.dial(t, "79161234567")
		r.answerAndHear(t, placed)
		id := placed.ChannelID
		reached := func(what string) string {
			t.Helper()
			ev := pbx.WaitFor(t, 20*time.Second, what, func(ev map[string]any) bool {
				args, _ := ev["args"].([]any)
				return ev["type"] == "StasisStart" && len(args) == 1 && args[0] == "2345"
			})
			return ev["channel"].(map[string]any)["id"].(string)
		}

		if err := r.sb.Consult(ctx, "a1", id, Target{Kind: TargetNumber, ID: "2345"}); err != nil {
			t.Fatal(err)
		}
		r.phones.next(t, EventConsulting)
		consulted := reached("the consultation reaching the PBX")
		if err := r.sb.CancelConsult(ctx, "a1", id); err != nil {
			t.Fatal(err)
		}
		pbx.WaitFor(t, 20*time.Second, "the consultation's end at the PBX", aritest.Type("StasisEnd", consulted))

		if err := r.sb.Transfer(ctx, "a1", id, Target{Kind: TargetNumber, ID: "2345"}); err != nil {
			t.Fatal(err)
		}
		r.phones.next(t, EventEnded)
		transferred := reached("the blind transfer reaching the PBX")
		if st, _, err := tg.Do(ctx, http.MethodDelete, "/ari/channels/"+transferred, nil); err != nil || st != http.StatusNoContent {
			t.Fatalf("hang up the PBX's side: %d %v", st, err)
		}

		got := dialEntries(r.audit)
		if len(got) != 2 {
			t.Fatalf("audited dials = %+v, want the consultation and the transfer", got)
		}
		for i, kind := range []string{"consult", "transfer"} {
			if e := got[i]; e.Target != "2345" || e.Outcome != "ok" || e.Detail["kind"] != kind || e.Detail["class"] != "internal" {
				t.Errorf("audit entry %d = %+v, want %s to 2345, internal, ok", i, e, kind)
			}
		}
	})
}

// TestInternalExtensionsWithoutRoute: without an internal endpoint an extension the rules allow is
// still refused, with the reason, and audited: it would otherwise go out on the carrier's trunk,
// where a short number may be a paid service.
// Simulator only: nothing is dialled.
func TestInternalExtensionsWithoutRoute(t *testing.T) {
	tg := aritest.NewSimTarget(t, simConfig())
	r := newRig(t, tg)
	r.dialing = withExtensions(4)
	r.start(t, "i1")
	ctx := context.Background()
	placed := r.dial(t, "79161234567")
	r.answerAndHear(t, placed)
	for _, consult := range []bool{false, true} {
		var err error
		if consult {
			err = r.sb.Consult(ctx, "a1", placed.ChannelID, Target{Kind: TargetNumber, ID: "2345"})
		} else {
			err = r.sb.Transfer(ctx, "a1", placed.ChannelID, Target{Kind: TargetNumber, ID: "2345"})
		}
		if !errors.Is(err, ErrDialRefused) || !strings.Contains(err.Error(), "ari.internal_endpoint") {
			t.Errorf("consult %v to an extension without a route = %v, want ErrDialRefused naming ari.internal_endpoint", consult, err)
		}
	}
	if card, talking, ok := r.sb.ActiveCall("a1"); !ok || !talking || card.ID != placed.ChannelID {
		t.Fatalf("after the refusals the agent no longer talks to the caller: %+v %v %v", card, talking, ok)
	}
	for i, e := range dialEntries(r.audit) {
		if e.Target != "2345" || e.Outcome != "refused" || e.Detail["class"] != "internal" {
			t.Errorf("audit entry %d = %+v, want a refusal of 2345", i, e)
		}
	}
}

// ivrTransfers is an IVR whose menu transfers each caller, at once, to the number their caller id
// names, with general as the menu's last resort queue.
type ivrTransfers map[string]string

func (f ivrTransfers) Run(_ context.Context, _ ivr.Call, in ivr.Inbound) (ivr.Result, error) {
	return ivr.Result{Outcome: ivr.OutcomeTransfer, Number: f[in.CallerNumber], Queue: "general", Lang: "en", Data: map[string]string{}}, nil
}

// TestIVRTransfer: a menu's transfer to a number the rules allow leaves through the route its
// class takes (here an extension, to the PBX); one they refuse does not hang up on the caller, who
// waits for an agent in the menu's last resort queue instead. Both audited.
func TestIVRTransfer(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.internalEndpoint = "Local/%s@hotline-test-pbx"
		r.dialing = withExtensions(4)
		r.flows = ivrTransfers{"79161110001": "2345", "79161110002": "88095550100"}
		pbx := tg.Connect(t, "hotline-test-pbx")
		r.start(t, "i1")

		r.dial(t, "79161110001")
		ev := pbx.WaitFor(t, 20*time.Second, "the IVR's transfer reaching the PBX", func(ev map[string]any) bool {
			args, _ := ev["args"].([]any)
			return ev["type"] == "StasisStart" && len(args) == 1 && args[0] == "2345"
		})
		ctx := context.Background()
		tg.Do(ctx, http.MethodDelete, "/ari/channels/"+ev["channel"].(map[string]any)["id"].(string), nil)

		refused := r.dial(t, "79161110002")
		ring := r.phones.next(t, EventRing)
		if ring.Call.ID != refused.ChannelID {
			t.Fatalf("rang %s, want the caller whose transfer was refused, %s", ring.Call.ID, refused.ChannelID)
		}
		if q := r.acd.queueOf(refused.ChannelID); q != "general" {
			t.Errorf("the caller waited in %q, want the last resort queue general", q)
		}
		got := dialEntries(r.audit)
		if len(got) != 2 || got[0].Target != "2345" || got[0].Outcome != "ok" || got[1].Target != "+78095550100" || got[1].Outcome != "refused" {
			t.Fatalf("audited dials = %+v, want the extension dialled and the premium number refused", got)
		}
		for _, e := range got {
			if e.Actor != "system" || e.Detail["kind"] != "transfer" {
				t.Errorf("audit entry %+v, want a system transfer", e)
			}
		}
	})
}

// refusingContinue is tg seen through a proxy that answers every /continue with 500, as an
// Asterisk that fails a transfer would.
func refusingContinue(t *testing.T, tg *aritest.Target) *aritest.Target {
	t.Helper()
	u, err := url.Parse(tg.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/continue") {
			http.Error(w, `{"message":"a test refuses the transfer"}`, http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	through := *tg
	through.BaseURL = srv.URL
	return &through
}

// TestBlindTransferFails: when Asterisk fails an agent's blind transfer to a number (after the
// agent has left the call), the caller is not left in silence: they wait in their queue again
// and the next free agent is rung; the agent is told the transfer failed.
func TestBlindTransferFails(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, refusingContinue(t, tg))
		r.start(t, "i1")
		ctx := context.Background()
		placed := r.dial(t, "79161234567")
		r.answerAndHear(t, placed)
		err := r.sb.Transfer(ctx, "a1", placed.ChannelID, Target{Kind: TargetNumber, ID: "89161234567"})
		if !errors.Is(err, ErrTransferFailed) {
			t.Fatalf("a transfer Asterisk failed = %v, want ErrTransferFailed", err)
		}
		r.phones.next(t, EventEnded)
		r.acd.setFree("a1", true) // done with wrap-up: free for the caller again
		if ring := r.phones.next(t, EventRing); ring.Call.ID != placed.ChannelID {
			t.Fatalf("rang %s, want the caller whose transfer failed, %s", ring.Call.ID, placed.ChannelID)
		}
		if !up(t, tg, placed) {
			t.Error("the caller whose transfer failed was dropped")
		}
		if e := dialEntries(r.audit); len(e) != 2 || e[1].Outcome != "failed" || e[1].Target != "+79161234567" {
			t.Errorf("audited dials = %+v, want the transfer allowed then failed", e)
		}
	})
}

// ivrCallbacks is an IVR whose menu ends each caller in a callback node (queue general), to the
// number their caller id names, as a number typed in the menu.
type ivrCallbacks map[string]string

func (f ivrCallbacks) Run(_ context.Context, _ ivr.Call, in ivr.Inbound) (ivr.Result, error) {
	return ivr.Result{Outcome: ivr.OutcomeCallback, Number: f[in.CallerNumber], Queue: "general", Priority: 2, Lang: "en", Data: map[string]string{}}, nil
}

// TestIVRCallback: a menu's callback node keeps the caller's place in its queue as a callback to
// the number they gave, in its canonical form, and lets them go; a number the rules refuse does
// not hang up on the caller, who waits in the queue instead. Both audited.
func TestIVRCallback(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.acd.setFree("a1", false) // nobody free: the callbacks wait their turn
		r.flows = ivrCallbacks{"79161110001": "8 916 555-01-02", "79161110002": "88095550100"}
		r.start(t, "i1")

		asked := r.dial(t, "79161110001")
		waitfor.True(t, "the caller who asked for a callback let go", 20*time.Second, func() bool { return !up(t, tg, asked) })
		if n, q := r.acd.callbackOf(asked.ChannelID), r.acd.queueOf(asked.ChannelID); n != "+79165550102" || q != "general" {
			t.Errorf("callback to %q in %q, want +79165550102 in general", n, q)
		}

		refused := r.dial(t, "79161110002")
		waitfor.True(t, "the refused callback audited", 20*time.Second, func() bool { return len(dialEntries(r.audit)) == 1 })
		if e := dialEntries(r.audit)[0]; e.Target != "+78095550100" || e.Outcome != "refused" || e.Detail["kind"] != "callback" {
			t.Errorf("audit entry %+v, want the premium callback number refused", e)
		}
		if !up(t, tg, refused) || !r.sb.Holds(refused.ChannelID) || r.acd.queueOf(refused.ChannelID) != "general" || r.acd.callbackOf(refused.ChannelID) != "" {
			t.Fatal("the caller whose callback number was refused does not wait in the queue")
		}
	})
}

// brokenIVR is an IVR that fails (a bug of ours, a playback Asterisk refused), giving its menus'
// last resort queue as ivr.Flows does.
type brokenIVR struct{}

func (brokenIVR) Run(context.Context, ivr.Call, ivr.Inbound) (ivr.Result, error) {
	return ivr.Result{Outcome: ivr.OutcomeAbandoned, Queue: "claims", Lang: "en", Data: map[string]string{}}, errors.New("a bug in the menu")
}

// TestIVRFailsToAgent: a caller whose IVR fails is not dropped but sent to an agent, in the menus'
// last resort queue.
func TestIVRFailsToAgent(t *testing.T) {
	aritest.Run(t, simConfig(), func(t *testing.T, tg *aritest.Target) {
		r := newRig(t, tg)
		r.flows = brokenIVR{}
		r.start(t, "i1")
		placed := r.dial(t, "79161110001")
		if ring := r.phones.next(t, EventRing); ring.Call.ID != placed.ChannelID {
			t.Fatalf("rang %s, want the caller whose IVR failed, %s", ring.Call.ID, placed.ChannelID)
		}
		if q := r.acd.queueOf(placed.ChannelID); q != "claims" {
			t.Errorf("queued in %q, want the last resort queue claims", q)
		}
	})
}
