package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	asteriskconfig "github.com/hotline-cc/hotline/asterisk-config"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/internal/aritest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/ivr"
	"github.com/hotline-cc/hotline/ivr/lookupdemo"
	"github.com/hotline-cc/hotline/prompts"
	"github.com/hotline-cc/hotline/switchboard"
)

// ivrTimeScale runs the simulator's prompts and the callers' script waits five times faster than
// real (the narrowest window a key must hit, the middle of a 3.35 s prompt, stays ±330 ms wide). The IVR's own timeouts (5 s for a menu key) are wall-clock, so a silent caller still waits
// them out.
const ivrTimeScale = 0.2

// Which lookup backend a scenario's calls use.
const (
	backendDemo = "demo" // ivr/lookupdemo behind httptest (its TrackingBroken fixture answers 500)
	backendDown = "down" // a closed port: connection refused
	backendSlow = "slow" // accepts, never answers until the test ends; the client gives up first
)

// slowLookupTimeout bounds a request to the slow backend (the menu's own lookup_timeout is 2 s).
const slowLookupTimeout = 250 * time.Millisecond

// ivrScenario is one caller through the default center's menus: what they do (as a simulator
// script, and as the [caller-ivr-<name>] context of asterisk-config/extensions.conf for a real
// Asterisk) and what must come of it.
type ivrScenario struct {
	name    string
	number  string // the caller's number: routes the call to the scenario's lookup backend
	backend string
	steps   []asterisksim.Step // the last one is HangUp or Hold

	outcome  ivr.Outcome
	queue    string // the queue Enqueue names ("" when no Enqueue)
	priority int
	lang     string
	data     map[string]string // must be in the result's data (and in Enqueue's)
	absent   []string          // keys that must not be in the data
	path     []string          // the keys and inputs in the session's path, "node:event:value"
	prompts  []string          // what the caller heard, in order, until queued or gone
}

func (sc ivrScenario) context() string { return "caller-ivr-" + strings.ReplaceAll(sc.name, "_", "-") }

func snd(ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = prompts.Media(id)
	}
	return out
}

var (
	pause = asterisksim.Pause
	press = asterisksim.Press
	// toTracking: 1 (private) during the greeting, 1 (tracking) during the private menu; the
	// caller then keys a number 2 s into "enter your tracking number".
	toTracking = []asterisksim.Step{pause(2 * time.Second), press("1"), pause(2 * time.Second), press("1"), pause(2 * time.Second)}
)

func steps(parts ...any) []asterisksim.Step {
	var out []asterisksim.Step
	for _, p := range parts {
		switch p := p.(type) {
		case asterisksim.Step:
			out = append(out, p)
		case []asterisksim.Step:
			out = append(out, p...)
		}
	}
	return out
}

// Invalid entries for the tracking number: two with a wrong check digit, one too short.
const (
	badTracking1 = "10100012345670"
	badTracking2 = "12345"
	badTracking3 = "10100012345671"
)

// ivrScenarios: key timings are in the scenario's time (the simulator scales them). A key pressed in
// the middle of a prompt stops it (barge-in), so what the caller hears does not depend on a few
// hundred milliseconds either way. Domestic numbers are 14 digits: the collect ends at the 14th
// without a '#'.
func ivrScenarios() []ivrScenario {
	return []ivrScenario{
		{
			name: "private_agent", number: "79160000001", backend: backendDemo,
			steps:   steps(pause(2*time.Second), press("1"), pause(3*time.Second), press("0"), asterisksim.Hold()),
			outcome: ivr.OutcomeQueue, queue: "general", lang: "ru",
			data:    map[string]string{"caller_type": "private"},
			path:    []string{"greeting:key:1", "private_menu:key:0"},
			prompts: snd("welcome", "private_menu", "to_agent"),
		},
		{
			name: "business_agent", number: "79160000002", backend: backendDemo,
			steps:   steps(pause(2*time.Second), press("2"), pause(2*time.Second), press("0#"), asterisksim.Hold()),
			outcome: ivr.OutcomeQueue, queue: "business", lang: "ru",
			data:    map[string]string{"caller_type": "business"},
			absent:  []string{"contract"},
			path:    []string{"greeting:key:2", "business_contract:agent_key:0"},
			prompts: snd("welcome", "enter_contract", "to_agent"),
		},
		{
			name: "business_contract", number: "79160000003", backend: backendDemo,
			steps:   steps(pause(2*time.Second), press("2"), pause(2*time.Second), press("12345#"), pause(2*time.Second), press("1"), asterisksim.Hold()),
			outcome: ivr.OutcomeQueue, queue: "business", priority: 5, lang: "ru",
			data:    map[string]string{"caller_type": "business", "contract": "12345", "topic": "shipments"},
			path:    []string{"greeting:key:2", "business_contract:input:12345", "business_menu:key:1"},
			prompts: snd("welcome", "enter_contract", "business_menu", "to_agent"),
		},
		{
			// 9 for English, private, tracking, a number in transit: the status is read, and the caller
			// hangs up in the middle of "anything else?": served by the IVR alone.
			name: "english_tracking_resolved", number: "79160000004", backend: backendDemo,
			steps: steps(pause(2*time.Second), press("9"), pause(2*time.Second), press("1"), pause(2*time.Second), press("1"),
				pause(2*time.Second), press(lookupdemo.TrackingInTransit), pause(13*time.Second), asterisksim.HangUp()),
			outcome: ivr.OutcomeResolved, lang: "en",
			data: map[string]string{"caller_type": "private", "tracking": lookupdemo.TrackingInTransit, "tracking_status": "in_transit",
				"tracking_office": "101000", "tracking_date": "2026-11-20"},
			path: []string{"greeting:key:9", "english:lang:en", "caller_type:key:1", "private_menu:key:1",
				"track_enter:input:" + lookupdemo.TrackingInTransit, "track_lookup:lookup:in_transit", "track_after:hangup:"},
			prompts: append(snd("welcome", "choose_caller_type", "private_menu", "enter_tracking", "tracking_in_transit", "at_office"),
				"digits:101000", prompts.Media("on_date"), "number:20", prompts.Media("month_11"), prompts.Media("tracking_after")),
		},
		{
			name: "tracking_invalid_thrice", number: "79160000005", backend: backendDemo,
			// Each new entry starts in the middle of "that is not a valid number" (3.35 s).
			steps: steps(toTracking, press(badTracking1), pause(1300*time.Millisecond), press(badTracking2+"#"),
				pause(1300*time.Millisecond), press(badTracking3), asterisksim.Hold()),
			outcome: ivr.OutcomeQueue, queue: "tracking", lang: "ru",
			data: map[string]string{"caller_type": "private", "tracking": badTracking3, "tracking_invalid": "true"},
			path: []string{"greeting:key:1", "private_menu:key:1", "track_enter:invalid:" + badTracking1,
				"track_enter:invalid:" + badTracking2, "track_enter:invalid:" + badTracking3, "track_enter:last_resort:"},
			prompts: snd("welcome", "private_menu", "enter_tracking", "tracking_invalid", "tracking_invalid", "to_agent"),
		},
		{
			name: "wrong_key_then_right", number: "79160000006", backend: backendDemo,
			steps:   steps(pause(2*time.Second), press("7"), pause(3*time.Second), press("1"), pause(3*time.Second), press("0"), asterisksim.Hold()),
			outcome: ivr.OutcomeQueue, queue: "general", lang: "ru",
			data:    map[string]string{"caller_type": "private"},
			path:    []string{"greeting:invalid:7", "greeting:key:1", "private_menu:key:0"},
			prompts: snd("welcome", "invalid_key", "welcome", "private_menu", "to_agent"),
		},
		{
			// Silence: three attempts of 5 s each (wall-clock even on the simulator), then the built-in
			// agent: the last resort queue, without a to_agent prompt.
			name: "silence_last_resort", number: "79160000007", backend: backendDemo,
			steps:   steps(asterisksim.Hold()),
			outcome: ivr.OutcomeQueue, queue: "general", lang: "ru",
			absent:  []string{"caller_type"},
			path:    []string{"greeting:timeout:", "greeting:timeout:", "greeting:timeout:", "greeting:last_resort:"},
			prompts: snd("welcome", "choose_caller_type", "no_input", "welcome", "choose_caller_type", "no_input", "welcome", "choose_caller_type"),
		},
		{
			name: "hangup_mid_prompt", number: "79160000008", backend: backendDemo,
			steps:   steps(pause(2*time.Second), asterisksim.HangUp()),
			outcome: ivr.OutcomeAbandoned, lang: "ru",
			path:    []string{"greeting:hangup:"},
			prompts: snd("welcome"),
		},
		{
			name: "lookup_down", number: "79160000009", backend: backendDown,
			steps:   steps(toTracking, press(lookupdemo.TrackingInTransit), asterisksim.Hold()),
			outcome: ivr.OutcomeQueue, queue: "tracking", lang: "ru",
			data:    map[string]string{"tracking": lookupdemo.TrackingInTransit, "tracking_status": "error"},
			path:    []string{"track_enter:input:" + lookupdemo.TrackingInTransit, "track_lookup:lookup:error"},
			prompts: snd("welcome", "private_menu", "enter_tracking", "lookup_failed", "to_agent"),
		},
		{
			name: "lookup_error_500", number: "79160000010", backend: backendDemo,
			steps:   steps(toTracking, press(lookupdemo.TrackingBroken), asterisksim.Hold()),
			outcome: ivr.OutcomeQueue, queue: "tracking", lang: "ru",
			data:    map[string]string{"tracking": lookupdemo.TrackingBroken, "tracking_status": "error"},
			path:    []string{"track_enter:input:" + lookupdemo.TrackingBroken, "track_lookup:lookup:error"},
			prompts: snd("welcome", "private_menu", "enter_tracking", "lookup_failed", "to_agent"),
		},
		{
			name: "lookup_slow", number: "79160000011", backend: backendSlow,
			steps:   steps(toTracking, press(lookupdemo.TrackingArrived), asterisksim.Hold()),
			outcome: ivr.OutcomeQueue, queue: "tracking", lang: "ru",
			data:    map[string]string{"tracking": lookupdemo.TrackingArrived, "tracking_status": "error"},
			path:    []string{"track_enter:input:" + lookupdemo.TrackingArrived, "track_lookup:lookup:error"},
			prompts: snd("welcome", "private_menu", "enter_tracking", "lookup_failed", "to_agent"),
		},
	}
}

// dialplanContext renders a scenario's steps as the caller context a real Asterisk runs.
func dialplanContext(sc ivrScenario) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]\n", sc.context())
	for i, st := range sc.steps {
		var app string
		switch {
		case st.Wait > 0:
			app = "Wait(" + strconv.FormatFloat(st.Wait.Seconds(), 'f', -1, 64) + ")"
		case st.Keys != "":
			app = "SendDTMF(" + st.Keys + ",250,120)"
		case st.Hangup:
			app = "Hangup()"
		case st.Hold:
			app = "Wait(600)\n same => n,Hangup()"
		}
		if i == 0 {
			fmt.Fprintf(&b, "exten => s,1,%s\n", app)
		} else {
			fmt.Fprintf(&b, " same => n,%s\n", app)
		}
	}
	return b.String()
}

// TestIVRCallerContexts checks that asterisk-config/extensions.conf has, for every scenario, the
// caller context doing exactly what the simulator's script does.
func TestIVRCallerContexts(t *testing.T) {
	conf := strings.ReplaceAll(string(asteriskconfig.TestCallers), "\r\n", "\n")
	for _, sc := range ivrScenarios() {
		want := dialplanContext(sc)
		if !strings.Contains(conf, want) {
			t.Errorf("asterisk-config/extensions.conf lacks the caller context of %s; append:\n\n%s", sc.name, want)
		}
	}
}

// recordingACD is a Distributor that records what the switchboard asks and never offers a call.
type recordingACD struct {
	// Distributor is nil: a method added to the interface later and called here fails loudly.
	switchboard.Distributor

	mu        sync.Mutex
	enqueued  map[string][]switchboard.QueuedCall
	abandoned map[string]int
	changed   chan struct{} // closed and replaced on every change
}

func newRecordingACD() *recordingACD {
	return &recordingACD{enqueued: map[string][]switchboard.QueuedCall{}, abandoned: map[string]int{}, changed: make(chan struct{})}
}

func (a *recordingACD) bumpLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

func (a *recordingACD) Enqueue(_ context.Context, c switchboard.QueuedCall) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c.Data = maps.Clone(c.Data)
	a.enqueued[c.CallID] = append(a.enqueued[c.CallID], c)
	a.bumpLocked()
	return nil
}

func (a *recordingACD) Abandon(_ context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.abandoned[id]++
	a.bumpLocked()
	return nil
}

func (a *recordingACD) Accept(context.Context, string, string) error       { return nil }
func (a *recordingACD) RingNoAnswer(context.Context, string, string) error { return nil }
func (a *recordingACD) Finish(context.Context, string, string) error       { return nil }
func (a *recordingACD) Dispatch(context.Context) (int, error)              { return 0, nil }
func (a *recordingACD) Offers(ctx context.Context, _ string) <-chan switchboard.Offer {
	ch := make(chan switchboard.Offer)
	go func() { <-ctx.Done(); close(ch) }()
	return ch
}
func (a *recordingACD) Waiting(context.Context, string) ([]switchboard.QueuedCall, error) {
	return nil, nil
}
func (a *recordingACD) Position(context.Context, string) (switchboard.Position, error) {
	return switchboard.Position{Place: 1}, nil // Every 0: no announcements
}
func (a *recordingACD) RequestCallback(context.Context, string, string) error { return nil }
func (a *recordingACD) Overdue(context.Context, string) ([]switchboard.Overflow, error) {
	return nil, nil
}
func (a *recordingACD) Move(context.Context, string, string) error { return nil }
func (a *recordingACD) Exit(context.Context, string, string) error { return nil }
func (a *recordingACD) Alive(context.Context, time.Duration) error { return nil }

// waitFor waits until cond (called with mu held) holds, or fails the test at the deadline.
func (a *recordingACD) waitFor(t *testing.T, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		a.mu.Lock()
		ok, changed := cond(), a.changed
		a.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("timed out after %v waiting for %s", deadline, what)
		}
	}
}

func (a *recordingACD) enqueues(id string) []switchboard.QueuedCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.enqueued[id])
}

// noPhones: no agent ever answers in these tests.
type noPhones struct{}

func (noPhones) OpenLeg(context.Context, string, string) (switchboard.Leg, error) {
	return nil, errors.New("no agents in the IVR tests")
}
func (noPhones) Notify(string, switchboard.AgentEvent) {}

// session is one IVR session as the switchboard ran it.
type session struct {
	done chan struct{} // closed when Flows.Run returned
	res  ivr.Result
	err  error
}

// routedFlows runs the real flows, picking the lookup backend by the caller's number, and keeps each
// session's result by call id.
type routedFlows struct {
	byBackend map[string]*ivr.Flows

	mu       sync.Mutex
	backend  map[string]string // caller number → backend
	sessions map[string]*session
}

func (f *routedFlows) route(number, backend string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backend[number] = backend
}

func (f *routedFlows) session(callID string) *session {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessions[callID]
	if s == nil {
		s = &session{done: make(chan struct{})}
		f.sessions[callID] = s
	}
	return s
}

func (f *routedFlows) Run(ctx context.Context, call ivr.Call, in ivr.Inbound) (ivr.Result, error) {
	f.mu.Lock()
	flows := f.byBackend[f.backend[in.CallerNumber]]
	f.mu.Unlock()
	if flows == nil {
		flows = f.byBackend[backendDemo]
	}
	s := f.session(in.CallID)
	res, err := flows.Run(ctx, call, in)
	s.res, s.err = res, err
	close(s.done)
	return res, err
}

// ivrRig is the real switchboard with the real default menus against one ARI target.
type ivrRig struct {
	tg    *aritest.Target
	ear   *aritest.Ear // what Asterisk played to each caller (nil on the simulator: its callers know)
	sb    *switchboard.Switchboard
	acd   *recordingACD
	flows *routedFlows
}

func testLog() *slog.Logger {
	if os.Getenv("HOTLINE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// defaultQueues are the queues of the default center (acd/default-center.yaml).
var defaultQueues = []string{"general", "tracking", "claims", "international", "business", "business_claims", "payouts", "social"}

// loadDefaultMenus loads the embedded default center as `hotline run` does.
func loadDefaultMenus(t testing.TB) *ivr.Menus {
	t.Helper()
	cat, err := prompts.Default()
	if err != nil {
		t.Fatal(err)
	}
	menus, err := ivr.LoadDefault(ivr.WithCatalog(cat), ivr.WithQueues(defaultQueues...))
	if err != nil {
		t.Fatal(err)
	}
	return menus
}

// lookupBackends serves the demo backend, a closed port and a backend that never answers.
func lookupBackends(t testing.TB) map[string]ivr.Lookup {
	t.Helper()
	demo := httptest.NewServer(lookupdemo.Handler())
	t.Cleanup(demo.Close)

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens on its port any more

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) }) // runs first: the handlers return, then Close finishes

	return map[string]ivr.Lookup{
		backendDemo: &ivr.HTTPLookup{Base: demo.URL},
		backendDown: &ivr.HTTPLookup{Base: down.URL},
		backendSlow: &ivr.HTTPLookup{Base: slow.URL, Timeout: slowLookupTimeout},
	}
}

func startIVRRig(t *testing.T, tg *aritest.Target) *ivrRig {
	t.Helper()
	menus := loadDefaultMenus(t)
	log := testLog()
	flows := &routedFlows{byBackend: map[string]*ivr.Flows{}, backend: map[string]string{}, sessions: map[string]*session{}}
	for name, lk := range lookupBackends(t) {
		flows.byBackend[name] = ivr.NewFlows(menus, lk, log)
	}
	acd := newRecordingACD()
	sb, err := switchboard.New(switchboard.Config{
		ARIURL: tg.ARIURL(), User: tg.User, Password: tg.Password, App: tg.App, Instance: "ivr-e2e",
		RingTimeout: 10 * time.Second,
	}, switchboard.Deps{Flows: flows, ACD: acd, Phones: noPhones{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- sb.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("switchboard stopped with: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("the switchboard did not stop: a call goroutine is stuck")
		}
	})
	// Connected, not listed: Asterisk lists an app it no longer serves while channels are in it.
	waitfor.True(t, "the switchboard hearing its app", 20*time.Second, sb.Connected)
	rig := &ivrRig{tg: tg, sb: sb, acd: acd, flows: flows}
	if tg.Sim == nil {
		rig.ear = tg.NewEar(t)
	}
	return rig
}

// TestIVRScenarios runs the default center's menus through the real switchboard over ARI, caller by
// caller: wrong keys, silence, a hang-up mid-prompt, self-service, and a lookup backend that is
// down, failing or slow. Every caller dials at once (they are independent, and most of a scenario
// is waiting), then a subtest per scenario checks what came of its call.
func TestIVRScenarios(t *testing.T) {
	aritest.Run(t, asterisksim.Config{TimeScale: ivrTimeScale, Sounds: prompts.Durations()}, func(t *testing.T, tg *aritest.Target) {
		rig := startIVRRig(t, tg)
		scenarios := ivrScenarios()
		calls := make([]placedIVRCall, len(scenarios))
		for i, sc := range scenarios {
			calls[i] = rig.dial(t, sc)
		}
		for i, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) { rig.check(t, sc, calls[i]) })
		}
	})
}

// placedIVRCall is a scenario's call: its id, and its simulated caller (nil on a real Asterisk).
type placedIVRCall struct {
	id       string
	caller   *asterisksim.Caller
	deadline time.Time
}

func (r *ivrRig) dial(t *testing.T, sc ivrScenario) placedIVRCall {
	t.Helper()
	// Every wait is bounded: the longest scenario (silence) takes 15 s of menu timeouts plus its
	// prompts at the target's speed.
	p := placedIVRCall{deadline: time.Now().Add(30*time.Second + r.tg.Scaled(90*time.Second))}
	ctx, cancel := context.WithDeadline(context.Background(), p.deadline)
	defer cancel()
	r.flows.route(sc.number, sc.backend)
	if r.tg.Sim != nil {
		c, err := r.tg.Sim.Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: sc.number, Name: sc.name, Script: sc.steps})
		if err != nil {
			t.Fatalf("%s: %v", sc.name, err)
		}
		p.id, p.caller = c.ChannelID(), c
		return p
	}
	placed, err := r.tg.Callers.Dial(ctx, aritest.CallerSpec{DID: "8800", Number: sc.number, Name: sc.name, Context: sc.context()})
	if err != nil {
		t.Fatalf("%s: %v", sc.name, err)
	}
	p.id = placed.ChannelID
	return p
}

func (r *ivrRig) check(t *testing.T, sc ivrScenario, p placedIVRCall) {
	ctx, cancel := context.WithDeadline(context.Background(), p.deadline)
	defer cancel()
	deadline := time.Until(p.deadline)
	callID, caller := p.id, p.caller
	s := r.flows.session(callID)
	select {
	case <-s.done:
	case <-ctx.Done():
		t.Fatal("the IVR session did not end in time")
	}
	if s.err != nil {
		t.Fatalf("Flows.Run: %v", s.err)
	}
	res := s.res
	t.Logf("outcome %s queue %q priority %d lang %s data %v", res.Outcome, res.Queue, res.Priority, res.Lang, res.Data)

	if res.Outcome != sc.outcome || res.Queue != sc.queue || res.Priority != sc.priority || res.Lang != sc.lang {
		t.Errorf("result: outcome %s queue %q priority %d lang %s; want %s %q %d %s",
			res.Outcome, res.Queue, res.Priority, res.Lang, sc.outcome, sc.queue, sc.priority, sc.lang)
	}
	checkData(t, "result data", res.Data, sc.data, sc.absent)
	if got := pathKeys(res.Path); !isSubsequence(sc.path, got) {
		t.Errorf("path %v\ndoes not contain, in order, %v", got, sc.path)
	}

	if sc.outcome == ivr.OutcomeQueue {
		r.acd.waitFor(t, "Enqueue of "+callID, deadline, func() bool { return len(r.acd.enqueued[callID]) > 0 })
		enq := r.acd.enqueues(callID)
		if len(enq) != 1 || enq[0].Queue != sc.queue || enq[0].Priority != sc.priority {
			t.Errorf("Enqueue calls %+v; want one in %q at priority %d", enq, sc.queue, sc.priority)
		} else {
			checkData(t, "Enqueue data", enq[0].Data, sc.data, sc.absent)
		}
		// What was heard before the switchboard queued the call (hold music is not a playback).
		r.checkHeard(t, ctx, callID, caller, sc.prompts)
		// The caller gives up waiting: the switchboard abandons the call in the ACD and its goroutine ends.
		r.hangUp(t, ctx, callID, caller)
		r.acd.waitFor(t, "Abandon of "+callID, deadline, func() bool { return r.acd.abandoned[callID] > 0 })
	} else if caller != nil {
		select {
		case <-caller.Done():
		case <-ctx.Done():
			t.Fatal("the simulated call never ended")
		}
	}
	r.waitCallGone(t, ctx, callID)
	if sc.outcome != ivr.OutcomeQueue {
		r.checkHeard(t, ctx, callID, caller, sc.prompts)
	}
	if sc.outcome != ivr.OutcomeQueue {
		if enq := r.acd.enqueues(callID); len(enq) > 0 {
			t.Errorf("outcome %s, yet the switchboard enqueued the call: %+v", sc.outcome, enq)
		}
	}
}

// hangUp hangs the caller up from their side (the simulator) or from ARI (a real Asterisk).
func (r *ivrRig) hangUp(t *testing.T, ctx context.Context, callID string, caller *asterisksim.Caller) {
	t.Helper()
	if caller != nil {
		if err := caller.Hangup(); err != nil {
			t.Fatal(err)
		}
		return
	}
	st, body, err := r.tg.Do(ctx, http.MethodDelete, "/ari/channels/"+callID, nil)
	if err != nil || st != http.StatusNoContent && st != http.StatusNotFound {
		t.Fatalf("hang up the caller: %d %s %v", st, body, err)
	}
}

// waitCallGone waits until the switchboard's goroutine for the call has ended.
func (r *ivrRig) waitCallGone(t *testing.T, ctx context.Context, callID string) {
	t.Helper()
	select {
	case <-r.sb.CallDone(callID):
	case <-ctx.Done():
		t.Fatalf("the switchboard still holds call %s: %v", callID, ctx.Err())
	}
}

func checkData(t *testing.T, what string, got, want map[string]string, absent []string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s[%s] = %q, want %q (all: %v)", what, k, got[k], v, got)
		}
	}
	for _, k := range absent {
		if _, ok := got[k]; ok {
			t.Errorf("%s has %s = %q, want none", what, k, got[k])
		}
	}
}

// checkHeard compares what the caller was played with want: on the simulator as its caller heard
// it, on a real Asterisk as Asterisk reported each item starting.
func (r *ivrRig) checkHeard(t *testing.T, ctx context.Context, callID string, caller *asterisksim.Caller, want []string) {
	t.Helper()
	var got []string
	if caller != nil {
		got = caller.Prompts()
	} else {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		got = r.ear.WaitHeard(wctx, callID, want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("the caller heard\n  %v\nwant\n  %v", got, want)
	}
}

// pathKeys renders the steps that say what the caller did or what the IVR decided as
// "node:event:value" (entering a node and the end are left out).
func pathKeys(path []ivr.Step) []string {
	var out []string
	for _, s := range path {
		if s.Event == ivr.EventNode || s.Event == ivr.EventEnd {
			continue
		}
		out = append(out, s.Node+":"+string(s.Event)+":"+s.Value)
	}
	return out
}

// isSubsequence reports whether want appears in got in order (not necessarily adjacent).
func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}
