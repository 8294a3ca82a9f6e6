// Package switchboard is hotline's controller: the only package that speaks ARI. It reads Asterisk's
// events, runs one goroutine tree per call (IVR, queue, agent), and connects answered calls to the
// agents' softphones through externalMedia channels and mixing bridges.
//
// State that must survive the controller lives in Asterisk (channels, bridges) and in Redis (the ACD);
// the switchboard's memory holds only which goroutine handles which channel. Stopping the switchboard
// therefore never hangs up a caller: the next instance takes the calls back (see adopt).
package switchboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/internal/guard"
	"github.com/hotline-cc/hotline/numbering"
)

// Config is what the switchboard needs to know beyond its collaborators.
type Config struct {
	ARIURL, User, Password, App string
	// Instance names this controller among those sharing the center; it owns the calls it answers.
	Instance string
	// RingTimeout is how long an agent rings before the call goes back to the head of its queue.
	RingTimeout time.Duration
	// TransferContext is the dialplan context that dials a number (blind transfer to the outside).
	TransferContext string
	// CallbackEndpoint is the channel that dials a phone number (callbacks, consultations, blind
	// transfers), with %s for the number (PJSIP/%s@trunk).
	CallbackEndpoint string
	// InternalEndpoint is the channel that dials an internal extension (the center's PBX), with %s
	// for it; empty: extensions are refused, never sent to the carrier.
	InternalEndpoint string
	// DispatchEvery is how often Dispatch runs when nothing else triggers it (a safety net).
	DispatchEvery time.Duration
	// RequestTimeout bounds each ARI REST request; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// DrainContext is the dialplan context new callers are sent to (at the number they dialled)
	// while the controller drains; empty: they are served here as usual.
	DrainContext string
	// SurveyKeyTimeout is how long the post-call survey waits for a score after its question (8 s
	// when zero); it asks twice.
	SurveyKeyTimeout time.Duration
	// RefusedEvery is how often the count of carrier calls the node refused at HOTLINE_MAX_CALLS
	// is read from Asterisk (10 s when zero).
	RefusedEvery time.Duration
}

// Switchboard is the controller. Create it with New, then Run it.
type Switchboard struct {
	cfg    Config
	log    *slog.Logger
	ari    *rest
	events *eventStream
	flows  Flows
	acd    Distributor
	phones Phones
	// dialing decides which numbers may be dialled; audit records each dial and refusal (dial.go).
	dialing *numbering.Rules
	audit   audit.Recorder
	surveys Surveys
	// recordings decides which calls are recorded and hears of each recording; nil records none.
	recordings Recordings
	refusals   Refusals // nil: the refusal count is only a metric (refused.go)
	// loopPanicked hears of a loop of Run that panicked and starts again; nil: logged only.
	loopPanicked func(loop string)

	mu       sync.Mutex
	channels map[string]*inbox             // caller channel id → its call's events
	calls    map[string]*call              // call id → call
	byAgent  map[string]map[*call]struct{} // agent → the registered calls whose snapshot names them (agentindex.go)
	stasis   stasisWaiters                 // channels we created, until they enter the app (stasis.go)
	wg       sync.WaitGroup

	inIVR   int           // callers in the IVR or the survey (drain.go)
	drained chan struct{} // set by Drain, closed once inIVR is 0

	kick      chan struct{} // asks the dispatcher to run now
	connected atomic.Bool
	metrics   atomic.Pointer[Metrics]
	refused   atomic.Int64    // the node's HOTLINE_REFUSED as last read; -1 until read (refused.go)
	panics    atomic.Int64    // calls' goroutines that panicked (guard.go)
	panicked  sync.Map        // call id → true: taken back once after a panic (guard.go)
	ctx       context.Context // Run's context, for goroutines started by events
}

// Deps are the switchboard's collaborators.
type Deps struct {
	Flows  Flows
	ACD    Distributor
	Phones Phones
	Logger *slog.Logger
	// Dialing are the rules every dialled number is checked against; nil: the Russian plan with
	// numbering.DefaultClasses (no premium-rate, no international).
	Dialing *numbering.Rules
	// Audit receives every outbound dial and refusal; nil: the process log only.
	Audit audit.Recorder
	// Surveys offers the post-call survey and keeps the scores; nil: no survey.
	Surveys Surveys
	// Recordings says which queues' calls are recorded and hears of every recording; nil: none is.
	Recordings Recordings
	// Refusals hears the node's count of refused carrier calls each time it is read; nil: only the
	// metric reports it.
	Refusals Refusals
	// LoopPanicked hears of each panic in one of the switchboard's loops (events, dispatch, offers,
	// heartbeat, overdue callers, refusals), which then starts again (internal/guard); nil: logged only.
	LoopPanicked func(loop string)
}

// New checks the configuration; it does not connect yet.
func New(cfg Config, deps Deps) (*Switchboard, error) {
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 20 * time.Second
	}
	if cfg.DispatchEvery <= 0 {
		cfg.DispatchEvery = 250 * time.Millisecond
	}
	if cfg.CallbackEndpoint == "" {
		cfg.CallbackEndpoint = "PJSIP/%s@trunk"
	}
	if cfg.SurveyKeyTimeout <= 0 {
		cfg.SurveyKeyTimeout = 8 * time.Second
	}
	if cfg.RefusedEvery <= 0 {
		cfg.RefusedEvery = 10 * time.Second
	}
	if cfg.TransferContext == "" {
		cfg.TransferContext = "hotline-transfer"
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	es, err := newEventStream(cfg.ARIURL, cfg.App, cfg.User, cfg.Password)
	if err != nil {
		return nil, err
	}
	sb := &Switchboard{
		cfg: cfg, log: deps.Logger.With("instance", cfg.Instance),
		ari: newREST(cfg.ARIURL, cfg.App, cfg.User, cfg.Password, cfg.RequestTimeout), events: es,
		flows: deps.Flows, acd: deps.ACD, phones: deps.Phones, dialing: deps.Dialing, audit: deps.Audit,
		surveys: deps.Surveys, recordings: deps.Recordings, refusals: deps.Refusals, loopPanicked: deps.LoopPanicked,
		channels: map[string]*inbox{}, calls: map[string]*call{}, byAgent: map[string]map[*call]struct{}{},
		kick: make(chan struct{}, 1),
	}
	sb.refused.Store(-1)
	if sb.dialing == nil {
		sb.dialing = &numbering.Rules{Plan: numbering.Russia, Classes: numbering.DefaultClasses}
	}
	if sb.audit == nil {
		sb.audit = logRecorder{sb}
	}
	es.log = sb.log
	es.deliver = sb.deliver
	es.onConnect = sb.adopt
	es.connected = func(up bool) {
		sb.connected.Store(up)
		sb.metrics.Load().setConnected(up)
		if !up {
			sb.stasis.lost()
		}
	}
	return sb, nil
}

// Connected reports whether the events WebSocket is up (for /healthz).
func (sb *Switchboard) Connected() bool { return sb.connected.Load() }

// Run reads events and serves calls until ctx ends, then waits for the call goroutines to stop. It
// leaves every channel up: a restarted controller takes the calls back.
func (sb *Switchboard) Run(ctx context.Context) error {
	sb.ctx = ctx
	var wg sync.WaitGroup
	loop := func(name string, body func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var onPanic func()
			if sb.loopPanicked != nil {
				onPanic = func() { sb.loopPanicked(name) }
			}
			guard.Loop(ctx, sb.log, name, onPanic, func(ctx context.Context) error { body(ctx); return nil })
		}()
	}
	loop("heartbeat", sb.heartbeat)
	loop("refused calls", sb.refusedLoop)
	loop("ari events", sb.events.run)
	loop("dispatch", sb.dispatchLoop)
	// Asked for once: a loop started again must read the same offers, not leave a second reader
	// behind to take some of them.
	offers := sb.acd.Offers(ctx, sb.cfg.Instance)
	loop("offers", func(ctx context.Context) { sb.offerLoop(ctx, offers) })
	loop("overdue callers", sb.overdueLoop)
	wg.Wait()
	sb.wg.Wait()
	return nil
}

// deliver routes one event: a new inbound channel starts a call; any other event goes to the call
// that owns the channel. Events for channels nobody owns (our own externalMedia legs, channels of
// another instance) are dropped here.
func (sb *Switchboard) deliver(ev Event) {
	sb.metrics.Load().event(ev.Type)
	if sb.stasis.observe(ev) {
		go sb.hangupUnwanted(ev.Channel.ID)
		return
	}
	id := ev.channelID()
	if ev.Type == "StasisStart" && ev.Channel != nil && len(ev.Args) > 0 && ev.Args[0] == "inbound" {
		sb.startCall(ev)
		return
	}
	if id == "" {
		if ev.Type != "" && !knownIgnored[ev.Type] {
			sb.log.Debug("ari event not about a channel", "type", ev.Type)
		}
		return
	}
	sb.mu.Lock()
	box := sb.channels[id]
	sb.mu.Unlock()
	if box != nil {
		box.put(ev)
	}
}

// hangupUnwanted hangs up a channel the controller asked for, gave up on, and Asterisk made anyway.
func (sb *Switchboard) hangupUnwanted(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), stasisTimeout)
	defer cancel()
	err := sb.ari.hangup(ctx, id)
	if err != nil && !errors.Is(err, ErrGone) {
		sb.log.Warn("hang up a channel that entered the app after its creation failed", "channel", id, "err", err)
		return
	}
	sb.log.Info("hung up a channel that entered the app after its creation failed", "channel", id)
}

var knownIgnored = map[string]bool{"BridgeCreated": true, "BridgeDestroyed": true, "ApplicationReplaced": true}

func (sb *Switchboard) startCall(ev Event) {
	ch := ev.Channel
	did := ch.Dialplan.Exten
	if len(ev.Args) > 1 {
		did = ev.Args[1]
	}
	c := sb.newCall(ch.ID, ch.Caller, did)
	if sb.call(c.id) != nil {
		return // already handled (a duplicate StasisStart after a reconnect)
	}
	if !sb.divert(c) {
		sb.serve(c)
	}
}

// serve runs a new call's goroutine.
func (sb *Switchboard) serve(c *call) {
	if !sb.register(c) {
		return // already handled (a duplicate StasisStart after a reconnect)
	}
	sb.enterIVR() // before Drain can find no caller in the IVR; run leaves it
	sb.goCall(c, c.run)
}

func (sb *Switchboard) register(c *call) bool {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if _, ok := sb.calls[c.id]; ok {
		return false
	}
	sb.calls[c.id] = c
	sb.channels[c.channel] = c.inbox
	sb.reindex(c, nil, c.pub.Load())
	return true
}

func (sb *Switchboard) unregister(c *call) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.calls[c.id] == c {
		sb.reindex(c, c.pub.Load(), nil)
		delete(sb.calls, c.id)
	}
	delete(sb.channels, c.channel)
}

func (sb *Switchboard) call(id string) *call {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.calls[id]
}

// kickDispatch asks for a Dispatch soon, coalescing bursts.
func (sb *Switchboard) kickDispatch() {
	select {
	case sb.kick <- struct{}{}:
	default:
	}
}

func (sb *Switchboard) dispatchLoop(ctx context.Context) {
	t := time.NewTicker(sb.cfg.DispatchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-sb.kick:
		}
		// A run makes a bounded batch of pairs (so no assignment waits long behind it): run again
		// while it keeps finding some.
		for ctx.Err() == nil {
			n, err := sb.acd.Dispatch(ctx)
			if err != nil && ctx.Err() == nil {
				sb.log.Warn("dispatch failed; retrying", "err", err)
			}
			if err != nil || n == 0 {
				break
			}
		}
	}
}

// heartbeatTTL is how long the ACD waits after this controller's last heartbeat before it takes
// its waiting calls out of their queues: longer than a restart, shorter than a caller's patience.
const heartbeatTTL = 15 * time.Second

func (sb *Switchboard) heartbeat(ctx context.Context) {
	tick := time.NewTicker(heartbeatTTL / 3)
	defer tick.Stop()
	for {
		if err := sb.acd.Alive(ctx, heartbeatTTL); err != nil && ctx.Err() == nil {
			sb.log.Warn("heartbeat to the ACD failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (sb *Switchboard) offerLoop(ctx context.Context, offers <-chan Offer) {
	for offer := range offers {
		if len(offer.Agents) == 0 {
			continue // nobody to ring, a callback's included
		}
		c := sb.call(offer.CallID)
		if c == nil && offer.Callback != "" {
			sb.startCallback(ctx, offer)
			continue
		}
		if c != nil {
			c.offered.Store(&offer.Agents)
		}
		if c == nil || !c.send(ctx, command{kind: cmdOffer, agents: offer.Agents, queue: offer.Queue}) {
			// The caller left between the offer and now: free the agent.
			if err := sb.acd.Abandon(ctx, offer.CallID); err != nil {
				sb.log.Warn("abandon an offer for a call that is gone", "call", offer.CallID, "err", err)
			}
		}
	}
}

// adopt runs after every (re)connection to Asterisk: calls that wait or talk in Redis and whose
// channel still exists get a goroutine again, so a restarted controller carries on with them.
func (sb *Switchboard) adopt(ctx context.Context) error {
	live, err := sb.ari.channels(ctx)
	if err != nil {
		return err
	}
	// Every owner's calls: one whose channel lives on this Asterisk is this controller's, whatever
	// instance name enqueued it (a controller that stopped for good: a new pod, a replaced host).
	// Another owner's call that is not live here belongs to another node, or ended: not ours to judge.
	waiting, err := sb.acd.Waiting(ctx, "")
	if err != nil {
		return fmt.Errorf("read waiting calls: %w", err)
	}
	inACD := make(map[string]bool, len(waiting))
	for _, q := range waiting {
		inACD[q.CallID] = true
		if sb.call(q.CallID) != nil {
			continue
		}
		mine := q.Owner == sb.cfg.Instance
		_, isLive := live[q.CallID]
		switch {
		case !isLive && mine:
			sb.forgetGone(ctx, q)
			continue
		case !isLive:
			continue
		case !mine:
			if err := sb.acd.Claim(ctx, q.CallID, sb.cfg.Instance); err != nil {
				sb.log.Warn("take over another controller's call", "call", q.CallID, "owner", q.Owner, "err", err)
				continue
			}
			sb.log.Info("took over a call whose channel is on this Asterisk", "call", q.CallID, "from", q.Owner)
		}
		c := sb.newCall(q.CallID, CallerID{Number: q.Data["caller_number"], Name: q.Data["caller_name"]}, q.Data["did"])
		c.queued = q
		if !sb.register(c) {
			continue
		}
		sb.log.Info("took back a call after a restart", "call", c.id, "queue", q.Queue, "agent", q.Agent, "talking", q.Talking)
		sb.goCall(c, c.resume)
	}
	sb.adoptIVR(live, inACD)
	return nil
}

// adoptIVR starts the IVR again, from its greeting, for every caller left in the app whom nobody
// serves: the channel entered Stasis(<app>,inbound,…), the ACD knows no place or agent of it, and
// no goroutine of this process holds it. Those are the callers a controller that died (SIGKILL, a
// crash) had in its IVR or post-call survey: their session lived in its memory alone, and without
// this they would sit in the app in silence until they hung up. Hearing the menu again is the
// best a new controller can do for them. A caller who arrives while this runs is served once:
// register refuses the second goroutine (startCall's duplicate StasisStart, or this).
func (sb *Switchboard) adoptIVR(live map[string]liveChannel, inACD map[string]bool) {
	prefix := sb.cfg.App + ",inbound"
	for id, ch := range live {
		if inACD[id] || ch.Dialplan.AppName != "Stasis" {
			continue
		}
		if d := ch.Dialplan.AppData; d != prefix && !strings.HasPrefix(d, prefix+",") {
			continue
		}
		sb.mu.Lock()
		_, held := sb.channels[id]
		sb.mu.Unlock()
		if held || sb.call(id) != nil {
			continue
		}
		did := ch.Dialplan.Exten
		if args := strings.Split(ch.Dialplan.AppData, ","); len(args) > 2 && args[2] != "" {
			did = args[2]
		}
		c := sb.newCall(id, ch.Caller, did)
		c.up = ch.State == "Up"
		c.log.Info("took back a caller left in the IVR by a controller that stopped: the menu starts again", "did", did)
		sb.serve(c)
	}
}

// forgetGone closes in the ACD a call whose caller hung up while no controller was running: a
// talking call is finished (the agent goes to wrap-up, its bridge and audio leg are removed), a
// waiting or ringing one is abandoned.
func (sb *Switchboard) forgetGone(ctx context.Context, q QueuedCall) {
	if !q.Talking {
		if err := sb.acd.Abandon(ctx, q.CallID); err != nil {
			sb.log.Warn("forget a call whose channel is gone", "call", q.CallID, "err", err)
		}
		return
	}
	sb.dropCallBridges(ctx, q.CallID)
	if err := sb.acd.Finish(ctx, q.CallID, q.Agent); err != nil && !errors.Is(err, ErrStale) {
		sb.log.Warn("finish a call that ended while no controller ran", "call", q.CallID, "err", err)
	}
	sb.phones.Notify(q.Agent, AgentEvent{Type: EventEnded, Call: CallCard{ID: q.CallID, CallerNumber: q.Data["caller_number"], Queue: q.Queue}, Reason: EndCaller})
	sb.log.Info("a talking call ended while no controller ran", "call", q.CallID, "agent", q.Agent)
}
