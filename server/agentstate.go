package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/softphone"
)

// stateSync keeps every open agent page showing the agent's state as the ACD holds it, whatever
// changed it: a ring cancelled or timed out, a supervisor's forced pause, a wrap-up that ran out,
// a pause for a closed page, another controller's action. The call messages the page gets are
// pushed as things happen; this follows the ACD's event stream and, for each agent an event
// touches, pushes the state read from Redis after it, so the last word is always the ACD's.
type stateSync struct {
	center *acd.Center
	web    *softphone.Server

	// pushing orders the pushes: a read of the ACD and its notify happen under it, so a push that
	// read later is never overtaken by one that read earlier (the follower's and the desk's).
	pushing sync.Mutex
	mu      sync.Mutex
	sent    map[string]softphone.StateChanged // last pushed, by agent
}

// followBlock is how long one read of the event stream waits for news.
const followBlock = time.Second

// pageState is the agent page's name for an ACD state; "" for one the page learns from its call
// messages (a colleague reserved for a consultation rings, then talks, as those say).
func pageState(st acd.AgentState) string {
	switch st {
	case acd.Offline:
		return string(softphone.StateLoggedOut)
	case acd.OnCall:
		return "on_call"
	case acd.Consulting:
		return ""
	}
	return string(st)
}

// stateMessage is what the page is told of the agent's ACD state; false for a state the page
// learns from its call messages.
func stateMessage(st acd.AgentStatus) (softphone.StateChanged, bool) {
	name := pageState(st.State)
	if name == "" {
		return softphone.StateChanged{}, false
	}
	m := softphone.StateChanged{State: name, Reason: st.Reason, PauseNext: st.PauseNext}
	if !st.Since.IsZero() {
		m.Since = st.Since.UTC().Format(time.RFC3339)
	}
	return m, true
}

// eventAgents are the agents an event touches: its agent field (several for a ring-all RING), and
// the agent named in the data of a consultation or a handover.
func eventAgents(ev acd.Event) []string {
	ids := strings.Fields(ev.Agent)
	switch ev.Event {
	case "CONSULT", "HANDOVER":
		ids = append(ids, strings.Fields(ev.Data)...)
	}
	return ids
}

// push sends the agent's present state to their pages; force sends it even when unchanged (a page
// that just opened has not seen it).
func (ss *stateSync) push(ctx context.Context, agent string, force bool) error {
	ss.pushing.Lock()
	defer ss.pushing.Unlock()
	st, err := ss.center.Agent(ctx, agent)
	if errors.Is(err, acd.ErrUnknownAgent) {
		return nil // a supervisor's monitoring softphone
	}
	if err != nil {
		return err
	}
	m, ok := stateMessage(st)
	if !ok {
		return nil
	}
	ss.mu.Lock()
	same := ss.sent[agent] == m
	ss.sent[agent] = m
	ss.mu.Unlock()
	if same && !force {
		return nil
	}
	return ss.web.Notify(agent, m)
}

// forget drops what was pushed to an agent whose last page here closed.
func (ss *stateSync) forget(agent string) {
	ss.mu.Lock()
	delete(ss.sent, agent)
	ss.mu.Unlock()
}

// run follows the event stream until ctx ends. Redis errors are retried each second, from the last
// event seen, so a blip loses no change.
func (ss *stateSync) run(ctx context.Context, log *slog.Logger) error {
	var last string
	for ctx.Err() == nil {
		var err error
		if last == "" {
			last, err = ss.center.LastEventID(ctx)
		}
		var evs []acd.Event
		if err == nil {
			// A blocking read does not end when ctx does (go-redis sets only a deadline), so the
			// block is short: it is how long a shutdown waits for this loop.
			evs, err = ss.center.Follow(ctx, last, followBlock)
		}
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("follow agent states", "err", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		seen := map[string]bool{}
		var touched []string
		for _, ev := range evs {
			last = ev.ID
			for _, a := range eventAgents(ev) {
				if !seen[a] {
					seen[a] = true
					touched = append(touched, a)
				}
			}
		}
		for _, a := range touched {
			if !ss.web.HasPages(a) {
				continue
			}
			if err := ss.push(ctx, a, false); err != nil && ctx.Err() == nil {
				log.Warn("push an agent's state", "agent", a, "err", err)
			}
		}
	}
	return nil
}
