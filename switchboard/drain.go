package switchboard

import (
	"context"
	"errors"
)

// Draining: the controller is going away (a rolling update, a host taken out). Waiting and talking
// callers need nothing from it to stay where they are: their channels, bridges and hold music live
// in Asterisk and their places in Redis, and whichever controller takes this node's app over next
// (the same one restarted, or a standby) adopts them. A caller in the IVR or the post-call survey
// is different: that session lives in this process alone. So a draining controller lets those
// finish, and hands callers who arrive meanwhile to Config.DrainContext, where the dialplan sends
// them to another node; without one it still takes them, as nobody else would.

// Drain starts draining and returns a channel closed once no caller of this controller is in the
// IVR or the survey. Calling it again returns the same channel.
func (sb *Switchboard) Drain() <-chan struct{} {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.drained == nil {
		sb.drained = make(chan struct{})
		sb.log.Info("draining: new callers go to the drain context; waiting for the IVR's callers", "in_ivr", sb.inIVR, "drain_context", sb.cfg.DrainContext)
		if sb.inIVR == 0 {
			close(sb.drained)
		}
	}
	return sb.drained
}

// Draining says whether Drain was called.
func (sb *Switchboard) Draining() bool {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.drained != nil
}

// enterIVR and leaveIVR count the callers in a session only this process can carry on: the IVR's
// menus and the survey.
func (sb *Switchboard) enterIVR() {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.inIVR++
}

func (sb *Switchboard) leaveIVR() {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.inIVR--
	if sb.inIVR == 0 && sb.drained != nil {
		select {
		case <-sb.drained:
		default:
			close(sb.drained)
			sb.log.Info("drained: no caller left in the IVR")
		}
	}
}

// divert hands a caller who arrived while draining to the drain context, at the number they
// dialled, and serves them here if the dialplan cannot take them; false when there is no drain
// context and the caller is to be served here at once.
func (sb *Switchboard) divert(c *call) bool {
	if sb.cfg.DrainContext == "" || !sb.Draining() {
		return false
	}
	sb.wg.Add(1)
	go func() {
		defer sb.wg.Done()
		err := sb.ari.continueIn(context.WithoutCancel(sb.ctx), c.channel, sb.cfg.DrainContext, c.did)
		switch {
		case errors.Is(err, ErrGone):
		case err != nil:
			// Nowhere to send them: better this controller than nobody.
			c.log.Error("hand a new caller to the drain context failed; serving them here", "context", sb.cfg.DrainContext, "err", err)
			sb.serve(c)
		default:
			c.log.Info("new caller handed to the drain context", "context", sb.cfg.DrainContext, "did", c.did)
		}
	}()
	return true
}
