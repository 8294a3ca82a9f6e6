package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/cluster"
	"github.com/hotline-cc/hotline/dashboard"
	"github.com/hotline-cc/hotline/softphone"
	"github.com/hotline-cc/hotline/switchboard"
)

// Several controllers, one center. Each controller holds its Asterisk node's calls; an agent's page
// and WebRTC session are on one controller, their home, which may be another. link is this
// controller's end of the bus (cluster/) between them:
//   - a push for an agent whose page is elsewhere goes to their home, which shows it as its own
//     (kind "notify");
//   - a call's audio leg for such an agent is opened on their home's gateway: the call's
//     externalMedia channel sends to that gateway's RTP address (softphone.rtp_host, which every
//     node must reach), and the leg sends back to the channel ("leg.open", "leg.remote",
//     "leg.close");
//   - the page's command for a call held by another controller goes to that controller, the call's
//     owner in the ACD ("desk");
//   - an agent's audio going and coming back is told to every controller, so the one holding their
//     call plays hold music meanwhile ("audio");
//   - a supervisor's listen, whisper, barge or leave for a call another controller holds goes to
//     that controller, the call's owner in the ACD ("monitor"), which opens the supervisor's leg on
//     their softphone's home like an agent's.

const (
	kindNotify    = "notify"
	kindLegOpen   = "leg.open"
	kindLegRemote = "leg.remote"
	kindLegClose  = "leg.close"
	kindDesk      = "desk"
	kindAudio     = "audio"
	kindMonitor   = "monitor"
	// kindBoardMonitor: a supervisor's listen, whisper or barge that reached the board of a
	// controller their softphone is not on, for the board of the one it is on.
	kindBoardMonitor = "board.monitor"
)

// remoteTimeout bounds a request to another controller when the caller's context sets no nearer
// deadline; a leg's Close, which has no context, uses it too.
const remoteTimeout = 5 * time.Second

// errNoLeg: a leg request names a leg this controller does not hold (closed, or it restarted).
var errNoLeg = errors.New("no such leg here")

type link struct {
	bus    *cluster.Bus
	web    *softphone.Server
	gw     *softphone.Gateway
	ph     *phones
	desk   *desk
	sb     *switchboard.Switchboard
	pinned map[string]bool // agents always here: the demo's crew, who have no page
	log    *slog.Logger

	// epoch tells this process's leg requests from those of an earlier process of the same
	// instance (restarted, or killed), whose legs nobody will close.
	epoch string
	// owner is the controller that holds a call in the ACD, "" when it has no such call: what
	// sweepLegs checks a leg's owner against.
	owner func(ctx context.Context, call string) (string, error)

	seq  atomic.Uint64
	mu   sync.Mutex
	legs map[string]*heldLeg // legs opened here for other controllers' calls, by id
}

// heldLeg is a leg opened here for another controller's call.
type heldLeg struct {
	switchboard.Leg
	owner, epoch string // the controller that asked for it, and its process
	agent, call  string
	strikes      int // sweeps in a row that found it orphaned
}

func newLink(bus *cluster.Bus, log *slog.Logger) *link {
	l := &link{bus: bus, log: log, legs: map[string]*heldLeg{}, pinned: map[string]bool{},
		epoch: fmt.Sprintf("%016x", time.Now().UnixNano())} // fixed width: ordered as text
	for code, err := range map[string]error{
		"not_your_call": softphone.ErrNotYourCall, "no_such_call": softphone.ErrNoSuchCall,
		"invalid_state": softphone.ErrInvalidState, "unavailable": softphone.ErrUnavailable,
		"refused": softphone.ErrRefused, "transfer_failed": softphone.ErrTransferFailed, "no_leg": errNoLeg,
		// A monitor's refusals, which the board maps to its statuses (monitorErr).
		"monitor_no_call": switchboard.ErrNoSuchCall, "not_talking": switchboard.ErrNotTalking,
		"bad_target": switchboard.ErrBadTarget,
		// The board's own refusals, from a supervisor's softphone's home (board.monitor).
		"board_not_found": dashboard.ErrNotFound, "board_not_allowed": dashboard.ErrNotAllowed,
		"board_unavailable": dashboard.ErrUnavailable,
	} {
		bus.Error(code, err)
	}
	bus.Handle(kindNotify, l.onNotify)
	bus.Handle(kindLegOpen, l.onLegOpen)
	bus.Handle(kindLegRemote, l.onLegRemote)
	bus.Handle(kindLegClose, l.onLegClose)
	bus.Handle(kindDesk, l.onDesk)
	bus.Handle(kindAudio, l.onAudio)
	bus.Handle(kindMonitor, l.onMonitor)
	return l
}

// home returns the controller that holds the agent's page when it is another one, "" when it is
// this one or none (the push then waits here for a page, as it always did).
func (l *link) home(ctx context.Context, agent string) string {
	if l.pinned[agent] || l.web.HasPages(agent) || l.gw.Connected(agent) {
		return ""
	}
	h, err := l.bus.Home(ctx, agent)
	if err != nil {
		l.log.Warn("find the agent's controller", "agent", agent, "err", err)
		return ""
	}
	if h == l.bus.Self() {
		return ""
	}
	return h
}

type notifyMsg struct {
	Agent string                 `json:"agent"`
	Event switchboard.AgentEvent `json:"event"`
}

// notify sends a push to the agent's home; false when it could not (the caller shows it here).
func (l *link) notify(home, agent string, ev switchboard.AgentEvent) bool {
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	if err := l.bus.Send(ctx, home, kindNotify, notifyMsg{Agent: agent, Event: ev}); err != nil {
		l.log.Warn("push to the agent's page on another controller", "agent", agent, "call", ev.Call.ID, "home", home, "event", ev.Type, "err", err)
		return false
	}
	return true
}

func (l *link) onNotify(_ context.Context, from string, body json.RawMessage) (any, error) {
	var m notifyMsg
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	l.ph.deliver(m.Agent, m.Event)
	return nil, nil
}

type legOpen struct {
	Agent string `json:"agent"`
	Call  string `json:"call"`
	Epoch string `json:"epoch,omitempty"` // the asking process's (link.epoch)
}

type legReply struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

type legRemote struct {
	ID   string `json:"id"`
	Addr string `json:"addr,omitempty"`
}

// openLeg opens the agent's leg on their home's gateway.
func (l *link) openLeg(ctx context.Context, home, agent, call string) (switchboard.Leg, error) {
	ctx, cancel := withRemoteTimeout(ctx)
	defer cancel()
	var r legReply
	if err := l.bus.Call(ctx, home, kindLegOpen, legOpen{Agent: agent, Call: call, Epoch: l.epoch}, &r); err != nil {
		return nil, fmt.Errorf("open %s's leg on %s: %w", agent, home, err)
	}
	addr, err := netip.ParseAddrPort(r.Addr)
	if err != nil {
		return nil, fmt.Errorf("open %s's leg on %s: its address %q: %w", agent, home, r.Addr, err)
	}
	l.log.Info("audio leg opened on the agent's controller", "agent", agent, "call", call, "home", home, "rtp", addr)
	return &remoteLeg{l: l, home: home, id: r.ID, local: addr, agent: agent, call: call}, nil
}

func (l *link) onLegOpen(ctx context.Context, from string, body json.RawMessage) (any, error) {
	var m legOpen
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	leg, err := l.ph.openLocal(m.Agent, m.Call)
	if err != nil {
		return nil, err
	}
	id := from + "/" + m.Call + "/" + strconv.FormatUint(l.seq.Add(1), 36)
	l.mu.Lock()
	l.legs[id] = &heldLeg{Leg: leg, owner: from, epoch: m.Epoch, agent: m.Agent, call: m.Call}
	l.mu.Unlock()
	l.log.Info("audio leg opened for another controller's call", "agent", m.Agent, "call", m.Call, "owner", from, "rtp", leg.LocalAddr())
	return legReply{ID: id, Addr: leg.LocalAddr().String()}, nil
}

func (l *link) leg(id string, forget bool) (switchboard.Leg, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	leg := l.legs[id]
	if leg == nil {
		return nil, fmt.Errorf("%w: %s", errNoLeg, id)
	}
	if forget {
		delete(l.legs, id)
	}
	return leg.Leg, nil
}

// legSweepEvery is how often sweepLegs looks for legs nobody will close.
const legSweepEvery = 10 * time.Second

// sweepLegs closes, every, the legs opened here for controllers that can no longer close them,
// until ctx ends. The controller that asked for a leg closes it when its call ends, but not if it
// died first: its next process (same instance, new epoch) opens a fresh leg for each talking call
// it takes back and never learns of the old one, and when the caller hung up meanwhile, or
// another controller took the call, no process of it asks for the call again. A leg is closed
// when a newer process of its owner holds a leg for the same agent and call, or when, on two
// sweeps in a row, the ACD has no such call or another controller holds it: two, because a call
// taken over is not yet in the ACD under its new owner for a moment, and one sweep is soon enough
// for a socket that carries nothing.
func (l *link) sweepLegs(ctx context.Context, period time.Duration) error {
	return every(ctx, period, l.sweepOnce)
}

func (l *link) sweepOnce(ctx context.Context) {
	l.mu.Lock()
	held := make(map[string]*heldLeg, len(l.legs))
	maps.Copy(held, l.legs)
	l.mu.Unlock()
	if len(held) == 0 {
		return
	}
	type agentCall struct{ owner, agent, call string }
	newest := map[agentCall]string{} // the newest epoch holding a leg, by owner, agent and call
	for _, h := range held {
		k := agentCall{h.owner, h.agent, h.call}
		if h.epoch > newest[k] {
			newest[k] = h.epoch
		}
	}
	for id, h := range held {
		why := ""
		if h.epoch < newest[agentCall{h.owner, h.agent, h.call}] {
			why = "its controller restarted and opened another"
		} else {
			owner, err := l.owner(ctx, strings.TrimPrefix(h.call, switchboard.MonitorLegPrefix))
			if err != nil {
				if ctx.Err() == nil {
					l.log.Warn("check the owner of a leg's call", "call", h.call, "agent", h.agent, "err", err)
				}
				continue
			}
			l.mu.Lock()
			if owner == h.owner {
				h.strikes = 0
			} else {
				h.strikes++
			}
			strikes := h.strikes
			l.mu.Unlock()
			if strikes < 2 {
				continue
			}
			why = "its call ended or moved while its controller was away"
			if owner != "" {
				why = "its call is another controller's now"
			}
		}
		l.mu.Lock()
		mine := l.legs[id] == h // not closed by its owner meanwhile
		delete(l.legs, id)
		l.mu.Unlock()
		if mine {
			h.Close()
			l.log.Info("audio leg closed: nobody would", "agent", h.agent, "call", h.call, "owner", h.owner, "why", why)
		}
	}
}

func (l *link) onLegRemote(ctx context.Context, _ string, body json.RawMessage) (any, error) {
	var m legRemote
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	addr, err := netip.ParseAddrPort(m.Addr)
	if err != nil {
		return nil, fmt.Errorf("leg %s: remote %q: %w", m.ID, m.Addr, err)
	}
	leg, err := l.leg(m.ID, false)
	if err != nil {
		return nil, err
	}
	return nil, leg.SetRemote(ctx, addr)
}

func (l *link) onLegClose(_ context.Context, _ string, body json.RawMessage) (any, error) {
	var m legRemote
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	leg, err := l.leg(m.ID, true)
	if err != nil {
		return nil, err
	}
	return nil, leg.Close()
}

// remoteLeg is, for the switchboard holding the call, a leg on another controller's gateway.
type remoteLeg struct {
	l           *link
	home, id    string
	agent, call string
	local       netip.AddrPort
	closed      atomic.Bool
}

func (r *remoteLeg) LocalAddr() netip.AddrPort { return r.local }

func (r *remoteLeg) SetRemote(ctx context.Context, addr netip.AddrPort) error {
	ctx, cancel := withRemoteTimeout(ctx)
	defer cancel()
	if err := r.l.bus.Call(ctx, r.home, kindLegRemote, legRemote{ID: r.id, Addr: addr.String()}, nil); err != nil {
		return fmt.Errorf("point %s's leg on %s at %s: %w", r.agent, r.home, addr, err)
	}
	return nil
}

func (r *remoteLeg) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	if err := r.l.bus.Call(ctx, r.home, kindLegClose, legRemote{ID: r.id}, nil); err != nil && !errors.Is(err, errNoLeg) {
		r.l.log.Warn("close the agent's leg on their controller", "agent", r.agent, "call", r.call, "home", r.home, "err", err)
		return fmt.Errorf("close %s's leg on %s: %w", r.agent, r.home, err)
	}
	return nil
}

// deskReq is a page's command for a call another controller holds.
type deskReq struct {
	Op     string           `json:"op"`
	Agent  string           `json:"agent"`
	Call   string           `json:"call"`
	Target softphone.Target `json:"target,omitzero"`
	Digits string           `json:"digits,omitempty"`
}

// forward sends the command to the call's owner and returns its answer: the owner's refusal as the
// page's sentinel, softphone.ErrUnreachable when it does not answer in time.
func (l *link) forward(ctx context.Context, owner string, req deskReq) error {
	ctx, cancel := withRemoteTimeout(ctx)
	defer cancel()
	err := l.bus.Call(ctx, owner, kindDesk, req, nil)
	if errors.Is(err, cluster.ErrNoAnswer) {
		l.log.Warn("the call's controller did not answer the page's command", "agent", req.Agent, "call", req.Call, "instance", owner, "op", req.Op, "err", err)
		return fmt.Errorf("%w: %w", softphone.ErrUnreachable, err)
	}
	return err
}

func (l *link) onDesk(ctx context.Context, from string, body json.RawMessage) (any, error) {
	var m deskReq
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	return nil, l.desk.local(ctx, m)
}

// monitorReq is a supervisor's monitor of a call another controller holds.
type monitorReq struct {
	Supervisor string `json:"supervisor"`
	Call       string `json:"call"`
	Mode       string `json:"mode"`
}

// monitor runs the supervisor's monitor on the call's owner and returns its answer: its refusal as
// the switchboard's sentinel, dashboard.ErrUnavailable when it does not answer in time.
func (l *link) monitor(ctx context.Context, owner string, req monitorReq) error {
	return l.supervisorCall(ctx, owner, kindMonitor, req, "the call's controller")
}

// supervisorCall sends a supervisor's request of kind to instance (whose, for the supervisor) and
// returns its answer, dashboard.ErrUnavailable when it does not answer in time.
func (l *link) supervisorCall(ctx context.Context, instance, kind string, req monitorReq, whose string) error {
	ctx, cancel := withRemoteTimeout(ctx)
	defer cancel()
	err := l.bus.Call(ctx, instance, kind, req, nil)
	if errors.Is(err, cluster.ErrNoAnswer) {
		l.log.Warn("a controller did not answer a supervisor", "kind", kind, "supervisor", req.Supervisor, "call", req.Call, "instance", instance, "mode", req.Mode, "err", err)
		return fmt.Errorf("%w: %s (%s) does not answer: try again", dashboard.ErrUnavailable, whose, instance)
	}
	return err
}

// ownerLookupFor bounds how long a page's or board's command waits for Redis to name the controller
// holding its call: a Cluster's failover or a Redis restart takes seconds, and the agent's click
// should land once it is over rather than fail in the middle of it.
const ownerLookupFor = 5 * time.Second

// callOwner returns the controller holding the call in the ACD ("" for no such call), trying again
// while Redis does not answer, for up to ownerLookupFor or until ctx ends.
func callOwner(ctx context.Context, center *acd.Center, callID string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ownerLookupFor)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		owner, err := center.Owner(ctx, callID)
		if err == nil || ctx.Err() != nil {
			return owner, err
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(wait): // a backoff between lookups, not synchronisation
		}
		wait = min(wait*2, 500*time.Millisecond)
	}
}

// monitorAtHome has the board of home, the controller the supervisor's softphone is on, run their
// monitor request: dashboard.ErrUnavailable when it does not answer in time.
func (l *link) monitorAtHome(ctx context.Context, home string, req monitorReq) error {
	return l.supervisorCall(ctx, home, kindBoardMonitor, req, "the controller of your softphone")
}

func (l *link) onMonitor(ctx context.Context, from string, body json.RawMessage) (any, error) {
	var m monitorReq
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	l.log.Info("a supervisor on another controller monitors a call here", "supervisor", m.Supervisor, "call", m.Call, "mode", m.Mode, "from", from)
	return nil, l.sb.Monitor(ctx, m.Supervisor, m.Call, switchboard.MonitorMode(m.Mode))
}

type audioMsg struct {
	Agent string `json:"agent"`
	Up    bool   `json:"up"`
}

// audio tells the other controllers that the agent's audio here went or came back.
func (l *link) audio(agent string, up bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if up {
		// The page whose audio came up last is the agent's home (two tabs on two controllers).
		if err := l.bus.SetHome(ctx, agent); err != nil {
			l.log.Warn("record the agent's controller", "agent", agent, "err", err)
		}
	}
	if err := l.bus.Broadcast(ctx, kindAudio, audioMsg{Agent: agent, Up: up}); err != nil {
		l.log.Warn("tell the other controllers of the agent's audio", "agent", agent, "up", up, "err", err)
	}
}

func (l *link) onAudio(_ context.Context, _ string, body json.RawMessage) (any, error) {
	var m audioMsg
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if !l.gw.Connected(m.Agent) || m.Up {
		l.sb.AgentAudio(m.Agent, m.Up)
	}
	return nil, nil
}

// page records where an agent's page opened or closed.
func (l *link) page(ctx context.Context, agent string, open bool) {
	var err error
	if open {
		err = l.bus.SetHome(ctx, agent)
	} else {
		err = l.bus.LeaveHome(ctx, agent)
	}
	if err != nil {
		l.log.Warn("record the agent's controller", "agent", agent, "open", open, "err", err)
	}
}

// keepHomes refreshes the homes of the pages open here until ctx ends.
func (l *link) keepHomes(ctx context.Context) error {
	return every(ctx, cluster.HomeTTL/3, func(ctx context.Context) {
		if err := l.bus.KeepHomes(ctx, l.web.OpenPages()); err != nil && ctx.Err() == nil {
			l.log.Warn("refresh the agents' controllers", "err", err)
		}
	})
}

func withRemoteTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) < remoteTimeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, remoteTimeout)
}
