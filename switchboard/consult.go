package switchboard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// An attended transfer: the agent puts the caller on hold and talks to the target first (consult),
// then either joins the caller to the target and leaves (complete) or hangs up on the target and
// goes back to the caller (cancel). The agent's externalMedia channel moves between the call's bridge
// and a consultation bridge, so the agent keeps one audio leg throughout.

// consultation is an attended transfer in progress.
type consultation struct {
	bridge   string // the agent and the target
	channel  string // the target's channel
	number   string
	answered bool
}

// ErrNoConsultation means complete or cancel came without a consultation in progress.
var ErrNoConsultation = errors.New("no consultation in progress")

// startConsult holds the caller, moves the agent to a consultation bridge and dials the target.
func (c *call) startConsult(ctx context.Context, to Target) error {
	if c.consult != nil {
		return fmt.Errorf("%w: a consultation is already in progress", ErrBadTarget)
	}
	if to.Kind != TargetNumber {
		return fmt.Errorf("%w: consult a number (an agent's or a queue's consultation is not supported yet)", ErrBadTarget)
	}
	if err := c.hold(ctx); err != nil {
		return err
	}
	// A fresh bridge id each time: a previous consultation's bridge may still be going away.
	cs := &consultation{bridge: "cs-" + c.id + "-" + strconv.FormatInt(time.Now().UnixNano(), 36), number: to.ID}
	if err := c.sb.ari.createBridge(ctx, cs.bridge, "consult-"+c.id); err != nil {
		return err
	}
	if err := c.moveLeg(ctx, c.bridge, cs.bridge); err != nil {
		c.sb.ari.destroyBridge(context.WithoutCancel(ctx), cs.bridge)
		return err
	}
	cs.channel = "ct-" + c.id + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	c.sb.mu.Lock()
	c.sb.channels[cs.channel] = c.inbox
	c.sb.mu.Unlock()
	endpoint := fmt.Sprintf(c.sb.cfg.CallbackEndpoint, to.ID)
	if err := c.sb.ari.originate(ctx, cs.channel, endpoint, "Hotline <"+c.did+">", "consult,"+c.id); err != nil {
		c.consult = cs
		c.endConsult(ctx)
		return fmt.Errorf("dial %s: %w", to.ID, err)
	}
	c.consult = cs
	c.log.Info("consulting", "agent", c.agent, "number", to.ID)
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventConsulting, Call: c.card(), Target: to})
	return nil
}

// onConsultEvent handles the target's channel: it answers (joins the agent) or hangs up (the
// agent goes back to the caller).
func (c *call) onConsultEvent(ctx context.Context, ev Event) error {
	switch ev.Type {
	case "StasisStart":
		c.consult.answered = true
		return c.sb.ari.addToBridge(ctx, c.consult.bridge, c.consult.channel)
	case "StasisEnd", "ChannelDestroyed", "ChannelHangupRequest":
		if c.consult.bridge == "" {
			return nil // completed: the target now talks to the caller in the call's bridge
		}
		c.log.Info("the consulted party hung up", "number", c.consult.number)
		c.consult.channel = ""
		return c.cancelConsult(ctx)
	}
	return nil
}

// cancelConsult hangs up on the target and brings the agent back to the caller.
func (c *call) cancelConsult(ctx context.Context) error {
	if c.consult == nil {
		return ErrNoConsultation
	}
	c.endConsult(ctx)
	if err := c.unhold(ctx); err != nil {
		return err
	}
	return nil
}

// endConsult dismantles the consultation and puts the agent's leg back in the call's bridge.
func (c *call) endConsult(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	cs := c.consult
	c.consult = nil
	if cs.channel != "" {
		c.forgetChannel(cs.channel)
		if err := c.sb.ari.hangup(ctx, cs.channel); err != nil && !errors.Is(err, ErrGone) {
			c.log.Warn("hang up the consulted party", "err", err)
		}
	}
	if err := c.moveLeg(ctx, cs.bridge, c.bridge); err != nil {
		c.log.Warn("bring the agent back to the call", "err", err)
	}
	if err := c.sb.ari.destroyBridge(ctx, cs.bridge); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("destroy the consultation bridge", "err", err)
	}
}

// completeConsult joins the caller and the target in the call's bridge and lets the agent go.
// The call goroutine stays with the two until either hangs up.
func (c *call) completeConsult(ctx context.Context) error {
	cs := c.consult
	if cs == nil {
		return ErrNoConsultation
	}
	if !cs.answered {
		return fmt.Errorf("%w: %s has not answered yet", ErrBadTarget, cs.number)
	}
	if err := c.sb.ari.removeFromBridge(ctx, cs.bridge, cs.channel); err != nil {
		return err
	}
	if err := c.sb.ari.stopMOH(ctx, c.channel); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("stop hold music", "err", err)
	}
	if err := c.sb.ari.addToBridge(ctx, c.bridge, c.channel); err != nil {
		return err
	}
	if err := c.sb.ari.addToBridge(ctx, c.bridge, cs.channel); err != nil {
		return err
	}
	agent := c.agent
	if err := c.sb.ari.destroyBridge(ctx, cs.bridge); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("destroy the consultation bridge", "err", err)
	}
	cs.bridge = ""
	c.dropLeg(ctx)
	c.held = false
	if err := c.sb.acd.Finish(ctx, c.id, agent); err != nil {
		c.log.Warn("finish after transfer", "err", err)
	}
	c.agent, c.talking = "", false
	c.transferred = cs.channel
	c.consult = nil
	c.publish()
	c.log.Info("attended transfer completed", "agent", agent, "number", cs.number)
	c.sb.phones.Notify(agent, AgentEvent{Type: EventEnded, Call: c.card()})
	return nil
}

// moveLeg moves the agent's externalMedia channel from one bridge to another.
func (c *call) moveLeg(ctx context.Context, from, to string) error {
	if c.em == "" {
		return fmt.Errorf("the agent has no audio leg")
	}
	if err := c.sb.ari.removeFromBridge(ctx, from, c.em); err != nil && !errors.Is(err, ErrGone) {
		return err
	}
	return c.sb.ari.addToBridge(ctx, to, c.em)
}

func (c *call) forgetChannel(id string) {
	c.sb.mu.Lock()
	delete(c.sb.channels, id)
	c.sb.mu.Unlock()
}
