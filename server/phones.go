package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

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
	log         *slog.Logger

	mu    sync.Mutex
	legs  map[string]*softphone.Leg // call id → its current leg
	talks map[string]time.Time      // call id → when the agent connected
}

func (p *phones) OpenLeg(agentID, callID string) (switchboard.Leg, error) {
	leg, err := p.gw.OpenLeg(agentID, callID)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.legs[callID] = leg
	p.mu.Unlock()
	return leg, nil
}

// leg returns the call's current leg, if the call is connected.
func (p *phones) leg(callID string) *softphone.Leg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.legs[callID]
}

func (p *phones) Notify(agentID string, ev switchboard.AgentEvent) {
	info := callInfo(ev.Call)
	var msgs []any
	switch ev.Type {
	case switchboard.EventRing:
		msgs = append(msgs, softphone.Ringing{Call: info, RingSeconds: p.ringSeconds}, state("ringing"))
	case switchboard.EventRingCancelled:
		msgs = append(msgs, softphone.Ended{CallID: info.ID, Reason: "timeout"})
	case switchboard.EventConnected:
		p.mu.Lock()
		if _, ok := p.talks[info.ID]; !ok {
			p.talks[info.ID] = time.Now()
		}
		p.mu.Unlock()
		msgs = append(msgs, softphone.Connected(info.ID, &info), state("on_call"))
	case switchboard.EventHeld:
		msgs = append(msgs, softphone.Held(info.ID))
	case switchboard.EventResumed:
		msgs = append(msgs, softphone.Resumed(info.ID))
	case switchboard.EventConsulting:
		msgs = append(msgs, softphone.Consulting{CallID: info.ID, Target: softphone.Target{Kind: softphone.TargetNumber, Value: ev.Target.ID}})
	case switchboard.EventEnded:
		p.mu.Lock()
		started := p.talks[info.ID]
		delete(p.talks, info.ID)
		delete(p.legs, info.ID)
		p.mu.Unlock()
		wrap := p.wrapUp(info.Queue)
		msgs = append(msgs,
			softphone.Ended{CallID: info.ID, Reason: "ended"},
			softphone.WrapUpStarted{CallID: info.ID, Seconds: int(wrap.Seconds()), Dispositions: p.disp},
			state("wrapup"))
		if !started.IsZero() {
			sum := softphone.CallSummary{
				CallID: info.ID, CallerNumber: info.CallerNumber, Queue: info.Queue,
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
}

func state(s string) softphone.StateChanged {
	return softphone.StateChanged{State: s, Since: time.Now().UTC().Format(time.RFC3339)}
}

// callInfo is the screen pop: the switchboard's card in the page's terms.
func callInfo(c switchboard.CallCard) softphone.CallInfo {
	entered := map[string]string{}
	for _, k := range []string{"tracking", "claim", "contract"} {
		if v := c.Data[k]; v != "" {
			entered[k] = v
		}
	}
	return softphone.CallInfo{
		ID: c.ID, CallerNumber: c.CallerNumber, CallerName: c.CallerName, CallerType: c.Data["caller_type"],
		Queue: c.Queue, Lang: c.Lang, WaitSeconds: c.WaitedSec, IVRPath: c.Path, Entered: entered,
	}
}
