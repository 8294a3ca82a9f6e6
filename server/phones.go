package server

import (
	"cmp"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hotline-cc/hotline/crew"
	"github.com/hotline-cc/hotline/softphone"
	"github.com/hotline-cc/hotline/switchboard"
)

// phones is the switchboard's view of the agents' side: it opens legs on the gateway and turns the
// switchboard's events into the agent page's messages, keeping each agent's calls-today record.
type phones struct {
	gw          *softphone.Gateway
	web         *softphone.Server
	history     *history
	wrapUp      func(queue string) time.Duration
	ringSeconds int
	disp        []softphone.Disposition
	name        func(agentID string) string // the agent's name for a colleague's page ("" if unknown)
	queueTitle  func(queue string) map[string]string
	// contacts are the caller's earlier calls for a screen pop (records); nil without records.
	contacts func(ctx context.Context, caller, callID string) []softphone.Contact
	log      *slog.Logger
	// link reaches agents whose page is on another controller; nil: every page is here.
	link *link
	// bell wakes the crew member playing the agent, as the pushes wake a page; nil without a crew.
	bell *crew.Bell

	// Both keyed by agent and call: during a consultation two agents have a leg on one call, and
	// after an attended transfer each has their own part of it in their history.
	mu    sync.Mutex
	legs  map[string]*softphone.Leg // agentLeg(agent, call) → the agent's current leg on the call
	talks map[string]time.Time      // agentLeg(agent, call) → when the agent connected
}

func agentLeg(agentID, callID string) string { return agentID + "\x00" + callID }

// OpenLeg opens the agent's leg on the gateway that holds their WebRTC session: this controller's,
// or their home's.
func (p *phones) OpenLeg(ctx context.Context, agentID, callID string) (switchboard.Leg, error) {
	if p.link != nil {
		if home := p.link.home(ctx, agentID); home != "" {
			return p.link.openLeg(ctx, home, agentID, callID)
		}
	}
	return p.openLocal(agentID, callID)
}

// openLocal opens the agent's leg on this controller's gateway.
func (p *phones) openLocal(agentID, callID string) (*trackedLeg, error) {
	leg, err := p.gw.OpenLeg(agentID, callID)
	if err != nil {
		return nil, err
	}
	key := agentLeg(agentID, callID)
	p.mu.Lock()
	p.legs[key] = leg
	p.mu.Unlock()
	return &trackedLeg{Leg: leg, forget: func() { p.forget(key, leg) }}, nil
}

// forget drops the agent's leg on the call once it is closed, unless a newer one took its place.
// A supervisor's monitor leg gets no EventEnded to clean it up, and would stay forever otherwise.
func (p *phones) forget(key string, leg *softphone.Leg) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.legs[key] == leg {
		delete(p.legs, key)
	}
}

// trackedLeg is the switchboard's handle on a leg: closing it also forgets it.
type trackedLeg struct {
	*softphone.Leg
	forget func()
}

func (l *trackedLeg) SetRemote(_ context.Context, addr netip.AddrPort) error {
	l.Leg.SetRemote(addr)
	return nil
}

func (l *trackedLeg) Close() error {
	l.forget()
	return l.Leg.Close()
}

// leg returns the agent's current leg on the call, if they are connected to it.
func (p *phones) leg(agentID, callID string) *softphone.Leg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.legs[agentLeg(agentID, callID)]
}

// talking says whether the agent is connected to the call as this controller's pushes saw it (the
// call may be another controller's).
func (p *phones) talking(agentID, callID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.talks[agentLeg(agentID, callID)]
	return ok
}

// from names the colleague in a consultation for the other agent's page.
func (p *phones) from(agentID string) *softphone.ConsultFrom {
	if agentID == "" {
		return nil
	}
	f := &softphone.ConsultFrom{Agent: agentID}
	if p.name != nil {
		f.Name = p.name(agentID)
	}
	return f
}

// Notify pushes the event to the agent's page, on this controller or on their home.
func (p *phones) Notify(agentID string, ev switchboard.AgentEvent) {
	if p.link != nil {
		ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
		home := p.link.home(ctx, agentID)
		cancel()
		if home != "" && p.link.notify(home, agentID, ev) {
			return
		}
	}
	p.deliver(agentID, ev)
}

// deliver shows the event on the agent's pages here, and keeps their calls-today record.
func (p *phones) deliver(agentID string, ev switchboard.AgentEvent) {
	info := p.callInfo(ev.Call)
	switch ev.Type {
	case switchboard.EventRing, switchboard.EventConsultRing, switchboard.EventConnected:
		// The screen pop shows them from the first ring, and again after a reload of the page.
		if p.contacts != nil {
			ctx, cancel := context.WithTimeout(context.Background(), contactsTimeout)
			info.Previous = p.contacts(ctx, info.CallerNumber, info.ID)
			cancel()
		}
	}
	key := agentLeg(agentID, info.ID)
	var msgs []any
	switch ev.Type {
	case switchboard.EventRing:
		msgs = append(msgs, softphone.Ringing{Call: info, RingSeconds: p.ringSeconds}, state("ringing"))
	case switchboard.EventConsultRing:
		msgs = append(msgs, softphone.Ringing{Call: info, RingSeconds: p.ringSeconds, Consult: p.from(ev.Agent)}, state("ringing"))
	case switchboard.EventRingCancelled:
		msgs = append(msgs, softphone.Ended{CallID: info.ID, Reason: cmp.Or(ev.Reason, switchboard.RingEndTimeout)})
	case switchboard.EventConnected:
		p.mu.Lock()
		if _, ok := p.talks[key]; !ok {
			// An agent talks on one call at a time: another call of theirs still here is one whose
			// end never reached this controller (its owner went away), not to be kept for ever.
			prefix := agentLeg(agentID, "")
			for k := range p.talks {
				if strings.HasPrefix(k, prefix) {
					delete(p.talks, k)
				}
			}
			p.talks[key] = time.Now()
		}
		p.mu.Unlock()
		msgs = append(msgs, softphone.Connected(info.ID, &info), state("on_call"))
	case switchboard.EventConsultConnected:
		// Not in the history yet: the call becomes theirs (EventConnected) only if the transfer completes.
		m := softphone.Connected(info.ID, &info)
		m.Consult = p.from(ev.Agent)
		msgs = append(msgs, m, state("on_call"))
	case switchboard.EventCallbackUnanswered:
		p.mu.Lock()
		delete(p.talks, key)
		delete(p.legs, key)
		p.mu.Unlock()
		msgs = append(msgs, softphone.Ended{CallID: info.ID, Reason: "callback_no_answer"}, state("available"))
	case switchboard.EventConsultReleased:
		p.mu.Lock()
		delete(p.legs, key)
		p.mu.Unlock()
		msgs = append(msgs, softphone.Ended{CallID: info.ID, Reason: "consult:" + ev.Reason}, state("available"))
	case switchboard.EventHeld:
		msgs = append(msgs, softphone.Held(info.ID))
	case switchboard.EventResumed:
		msgs = append(msgs, softphone.Resumed(info.ID))
	case switchboard.EventConsulting:
		msgs = append(msgs, softphone.Consulting{CallID: info.ID, Target: softphone.Target{Kind: softphone.TargetKind(ev.Target.Kind), Value: ev.Target.ID},
			Agent: p.from(ev.Agent), Answered: ev.Answered})
	case switchboard.EventConsultEnded:
		msgs = append(msgs, softphone.ConsultEnded{CallID: info.ID, Agent: p.from(ev.Agent), Reason: ev.Reason})
	case switchboard.EventEnded:
		p.mu.Lock()
		started := p.talks[key]
		delete(p.talks, key)
		delete(p.legs, key)
		p.mu.Unlock()
		wrap := p.wrapUp(info.Queue)
		msgs = append(msgs,
			softphone.Ended{CallID: info.ID, Reason: cmp.Or(ev.Reason, switchboard.EndCaller)},
			softphone.WrapUpStarted{CallID: info.ID, Seconds: int(wrap.Seconds()), Dispositions: p.disp},
			state("wrapup"))
		if !started.IsZero() {
			sum := softphone.CallSummary{
				CallID: info.ID, CallerNumber: info.CallerNumber, Queue: info.Queue, QueueTitle: info.QueueTitle,
				StartedAt: started.UTC().Format(time.RFC3339), TalkSeconds: int(time.Since(started).Seconds()),
			}
			if err := p.history.add(context.Background(), agentID, sum); err != nil {
				p.log.Warn("record the call in the agent's history", "agent", agentID, "call", info.ID, "err", err)
			}
		}
	}
	for _, m := range msgs {
		if err := p.web.Notify(agentID, m); err != nil {
			p.log.Warn("push to agent page", "agent", agentID, "err", err)
		}
	}
	p.bell.Ring(agentID)
}

// contactsTimeout bounds the records' lookup on the way to a ring: a slow database costs the screen
// pop its history, never the ring its time.
const contactsTimeout = 150 * time.Millisecond

func state(s string) softphone.StateChanged {
	return softphone.StateChanged{State: s, Since: time.Now().UTC().Format(time.RFC3339)}
}

// callInfo is the screen pop: the switchboard's card in the page's terms.
func (p *phones) callInfo(c switchboard.CallCard) softphone.CallInfo {
	entered := map[string]string{}
	for _, k := range []string{"tracking", "claim", "contract"} {
		if v := c.Data[k]; v != "" {
			entered[k] = v
		}
	}
	path := make([]map[string]string, len(c.Path))
	for i, line := range c.Path {
		path[i] = line
	}
	return softphone.CallInfo{
		ID: c.ID, CallerNumber: c.CallerNumber, CallerName: c.CallerName, CallerType: c.Data["caller_type"],
		Queue: c.Queue, Lang: c.Lang, WaitSeconds: c.WaitedSec, IVRPath: path, Entered: entered,
		QueueTitle: p.queueTitle(c.Queue), Survey: c.Survey,
	}
}
