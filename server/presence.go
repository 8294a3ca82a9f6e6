package server

import (
	"context"
	"errors"
	"time"

	"github.com/hotline-cc/hotline/acd"
)

// reasonDisconnected is the pause reason of an agent whose page stayed away past the grace.
const reasonDisconnected = "disconnected"

// pageEvent hears an account's first page opening here or its last one closing. It records the
// page's presence in Redis, where every controller's reaper reads it, and tells an opening page
// the agent's state as the ACD holds it, after whatever the page was replayed.
func (s *Server) pageEvent(accountID string, open bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if open {
		if err := s.states.push(ctx, accountID, true); err != nil {
			s.log.Warn("tell a page the agent's state", "agent", accountID, "err", err)
		}
	} else {
		s.states.forget(accountID)
	}
	if s.link != nil {
		s.link.page(ctx, accountID, open)
	}
	if s.pages == nil {
		return
	}
	var err error
	if open {
		err = s.pages.Opened(ctx, accountID)
	} else {
		err = s.pages.Closed(ctx, accountID)
	}
	if err != nil {
		// The refresh loop writes it again within RefreshEvery; a close not written lets the
		// key expire at its own time, at most one grace later.
		s.log.Warn("page presence", "agent", accountID, "open", open, "err", err)
	}
}

// reapDisconnected keeps the presence of this controller's pages, and stops offering calls to
// agents with no page anywhere for the grace: a closed tab must not ring caller after caller for
// the ring timeout each. Available or wrapping-up agents are paused "disconnected"; a call ringing
// one goes on to the next agent (when this controller holds it; the ring timeout frees others').
// Agents on a call are left alone: the caller hears hold music until the page is back, and a
// supervisor sees it.
func (s *Server) reapDisconnected(ctx context.Context) error {
	return every(ctx, s.pages.RefreshEvery(), func(ctx context.Context) {
		// The demo's crew is present without a page.
		if err := s.pages.Refresh(ctx, append(s.agentWeb.OpenPages(), s.crew...)); err != nil {
			s.log.Warn("page presence refresh", "err", err)
			return
		}
		if err := s.pauseDisconnected(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("pause disconnected agents", "err", err)
		}
	})
}

// every runs f every d until ctx ends, the first time after d: a part's periodic upkeep.
func every(ctx context.Context, d time.Duration, f func(context.Context)) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		f(ctx)
	}
}

func (s *Server) pauseDisconnected(ctx context.Context) error {
	snap, err := s.center.Snapshot(ctx)
	if err != nil {
		return err
	}
	var idle []string
	state := map[string]acd.AgentState{}
	for _, a := range snap.Agents {
		switch a.State {
		case acd.Available, acd.WrapUp, acd.Ringing:
			idle = append(idle, a.ID)
			state[a.ID] = a.State
		}
	}
	gone, err := s.pages.Gone(ctx, idle)
	if err != nil {
		return err
	}
	for _, id := range gone {
		log := s.log.With("agent", id, "grace", s.pages.Grace())
		if state[id] == acd.Ringing {
			card, talking, ok := s.sb.ActiveCall(id)
			if !ok || talking {
				continue // another controller's call: its ring timeout frees the agent
			}
			if err := s.sb.Reject(ctx, id, card.ID); err != nil {
				log.Warn("pass on a call ringing a disconnected agent", "call", card.ID, "err", err)
				continue
			}
			log.Info("call ringing a disconnected agent passed on", "call", card.ID, "queue", card.Queue)
		}
		switch err := s.center.Pause(ctx, id, reasonDisconnected); {
		case err == nil:
			log.Info("agent paused: no page open", "was", state[id])
		case errors.Is(err, acd.ErrAgentBusy), errors.Is(err, acd.ErrNotLoggedIn):
			// Answered on another page that just came back, or logged out: nothing to do.
		default:
			log.Warn("pause a disconnected agent", "err", err)
		}
	}
	return nil
}
