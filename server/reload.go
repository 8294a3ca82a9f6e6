package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/switchboard"
)

// watchAccounts re-reads the center file's accounts on SIGHUP (systemctl reload), so that an
// operator who disables an account, removes it or changes its password locks its holder out at
// once instead of at the next restart.
func (s *Server) watchAccounts(ctx context.Context) error {
	sig := hangupSignal(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sig:
			if _, err := s.reloadAccounts(ctx); err != nil {
				s.log.Error("accounts not reloaded", "file", s.cfg.ACD.CenterFile, "err", err)
			}
		}
	}
}

// reloadAccounts applies the center file's accounts as they are now. The ACD's agents are fixed at
// start, so an agent new to the file can log in after a restart; supervisors, passwords, roles
// and the disabled flag apply at once. A file that does not load changes nothing.
func (s *Server) reloadAccounts(ctx context.Context) ([]account.Change, error) {
	model, err := acd.LoadFile(s.cfg.ACD.CenterFile)
	if err != nil {
		return nil, fmt.Errorf("%w (the accounts stay as they were)", err)
	}
	kept := *model
	kept.Agents = nil
	var added []string
	for _, a := range model.Agents {
		if _, ok := s.model.Agent(a.ID); ok {
			kept.Agents = append(kept.Agents, a)
		} else {
			added = append(added, a.ID)
		}
	}
	if len(added) > 0 {
		s.log.Warn("agents new to the center file can log in after a restart", "agents", added)
	}
	dir, err := directory(&kept)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (the accounts stay as they were)", s.cfg.ACD.CenterFile, err)
	}
	changes, err := s.accounts.Replace(ctx, dir, s.releaseAgent)
	for _, c := range changes {
		s.log.Info("sessions ended by a center file reload", "account", c.Account, "reason", c.Reason)
	}
	s.log.Info("accounts reloaded", "file", s.cfg.ACD.CenterFile, "accounts", dir.Len(), "sessions ended for", len(changes))
	return changes, err
}

// releaseAgent runs before a reload ends an agent's sessions. The caller they are talking to goes
// back to the call's queue (else they would hear hold music for an agent whose page cannot come
// back), a call ringing them goes on to the next agent, and the ACD stops offering them calls.
func (s *Server) releaseAgent(ctx context.Context, c account.Change) {
	if _, ok := s.model.Agent(c.Account); !ok {
		return
	}
	log := s.log.With("agent", c.Account, "reason", c.Reason)
	if card, talking, ok := s.sb.ActiveCall(c.Account); ok {
		var err error
		if talking {
			err = s.sb.Transfer(ctx, c.Account, card.ID, switchboard.Target{Kind: switchboard.TargetQueue, ID: card.Queue})
		} else {
			err = s.sb.Reject(ctx, c.Account, card.ID)
		}
		if err != nil {
			log.Warn("hand on the call of an agent locked out", "call", card.ID, "queue", card.Queue, "err", err)
		} else {
			log.Info("the call of an agent locked out goes back to its queue", "call", card.ID, "queue", card.Queue)
		}
	}
	if err := s.center.Logout(ctx, c.Account); err != nil && !errors.Is(err, acd.ErrNotLoggedIn) {
		// Still busy (a call on another controller): its page closes, so the ring times out and
		// pauses them, and no new call reaches them.
		log.Warn("log out an agent locked out", "err", err)
	}
}
