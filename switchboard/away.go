package switchboard

import (
	"context"
	"errors"
	"time"
)

// When an agent's audio goes away mid-call (their page reloads, their network blips), the caller
// would hear dead air: they are taken out of the bridge to hold music until the agent's audio is back.
// The agent's leg and externalMedia channel stay, so coming back costs one bridge operation.

// AgentAudio tells the switchboard that an agent's audio went away (up false) or came back.
func (sb *Switchboard) AgentAudio(agentID string, up bool) {
	sb.mu.Lock()
	var c *call
	for cc := range sb.byAgent[agentID] {
		if p := cc.snapshot(); p.agent == agentID && p.talking {
			c = cc
			break
		}
	}
	sb.mu.Unlock()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sb.send(ctx, c.id, command{kind: cmdAway, agent: agentID, arg: map[bool]string{true: "back", false: "away"}[up]}); err != nil && !errors.Is(err, ErrNoSuchCall) {
		sb.log.Warn("hold music while the agent's audio is away", "agent", agentID, "up", up, "err", err)
	}
}

// away puts the caller on hold music while the agent cannot hear them; an agent's own hold stays as
// it is.
func (c *call) away(ctx context.Context, agent string, gone bool) error {
	if agent != c.agent || !c.talking || c.held || c.consult != nil {
		return nil
	}
	if gone && !c.awayMOH {
		if err := c.sb.ari.removeFromBridge(ctx, c.bridge, c.channel); err != nil {
			return err
		}
		c.awayMOH = true
		c.log.Info("agent's audio gone; the caller hears music", "agent", agent)
		return c.sb.ari.moh(ctx, c.channel)
	}
	if !gone && c.awayMOH {
		c.awayMOH = false
		if err := c.sb.ari.stopMOH(ctx, c.channel); err != nil && !errors.Is(err, ErrGone) {
			c.log.Warn("stop hold music", "err", err)
		}
		c.log.Info("agent's audio back", "agent", agent)
		return c.sb.ari.addToBridge(ctx, c.bridge, c.channel)
	}
	return nil
}
