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
//
// The target is an outside number (dialled through the trunk) or a colleague: a named agent, or the
// agent a queue would offer its next call to. A colleague is reserved in the ACD first (nothing else
// reaches them meanwhile; nobody available is refused at once, the caller stays with the agent), their
// page rings with the call's screen pop, and answering gives them their own externalMedia channel and
// leg in the consultation bridge. Completing hands the call over: the colleague's channel joins the
// caller in the call's bridge and the call goroutine carries on with them as its agent.

// consultation is an attended transfer in progress.
type consultation struct {
	bridge   string // the agent and the target
	channel  string // the target's channel (a number)
	number   string
	answered bool

	// A colleague consulted (agent or queue):
	target Target
	agent  string           // the colleague reserved
	em     string           // their externalMedia channel, once they answered
	leg    Leg              // their audio leg, once they answered
	ring   <-chan time.Time // their ring timeout, while ringing
}

// ErrNoConsultation means complete or cancel came without a consultation in progress.
var ErrNoConsultation = errors.New("no consultation in progress")

// startConsult holds the caller, moves the agent to a consultation bridge and calls the target.
func (c *call) startConsult(ctx context.Context, to Target) error {
	if c.consult != nil {
		return fmt.Errorf("%w: a consultation is already in progress", ErrBadTarget)
	}
	switch to.Kind {
	case TargetNumber:
		return c.consultNumber(ctx, to)
	case TargetAgent, TargetQueue:
		return c.consultColleague(ctx, to)
	}
	return fmt.Errorf("%w: consult %q", ErrBadTarget, to.Kind)
}

// consultNumber dials an outside number into the consultation.
func (c *call) consultNumber(ctx context.Context, to Target) error {
	n, err := c.dialCheck(ctx, c.agent, dialConsult, to.ID)
	if err != nil {
		return err
	}
	to.ID = n.Canonical // what the agent's page is told it consults
	if err := c.hold(ctx); err != nil {
		return err
	}
	cs := &consultation{bridge: consultBridgeID(c.id), number: n.Canonical, target: to}
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
	if err := c.sb.ari.originate(ctx, cs.channel, c.sb.dialString(n), "Hotline <"+c.did+">", "consult,"+c.id); err != nil {
		c.dialFailed(ctx, c.agent, dialConsult, n, err)
		c.consult = cs
		c.endConsult(ctx, ConsultCancelled)
		return fmt.Errorf("dial %s: %w", n, err)
	}
	c.consult = cs
	c.log.Info("consulting", "agent", c.agent, "number", n.Canonical)
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventConsulting, Call: c.card(), Target: to})
	return nil
}

// consultColleague reserves a colleague in the ACD, holds the caller, moves the agent to a
// consultation bridge and rings the colleague's page.
func (c *call) consultColleague(ctx context.Context, to Target) error {
	if to.Kind == TargetAgent && to.ID == c.agent {
		return fmt.Errorf("%w: that is you", ErrBadTarget)
	}
	b, err := c.sb.acd.Consult(ctx, c.id, c.agent, to)
	if err != nil {
		return fmt.Errorf("consult %s %s: %w", to.Kind, to.ID, err)
	}
	// From here on endConsult undoes whatever was done, the reservation included.
	c.consult = &consultation{bridge: consultBridgeID(c.id), target: to, agent: b}
	c.publish()
	fail := func(err error) error {
		c.endConsult(ctx, ConsultCancelled)
		if uerr := c.unhold(ctx); uerr != nil {
			c.log.Warn("bring the caller back after a failed consultation", "err", uerr)
		}
		return err
	}
	if err := c.hold(ctx); err != nil {
		return fail(err)
	}
	if err := c.sb.ari.createBridge(ctx, c.consult.bridge, "consult-"+c.id); err != nil {
		return fail(err)
	}
	if err := c.moveLeg(ctx, c.bridge, c.consult.bridge); err != nil {
		return fail(err)
	}
	c.consult.ring = time.After(c.sb.cfg.RingTimeout)
	c.log.Info("consulting a colleague", "agent", c.agent, "colleague", b, "target", to.ID, "kind", to.Kind)
	c.sb.phones.Notify(b, AgentEvent{Type: EventConsultRing, Call: c.card(), Agent: c.agent})
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventConsulting, Call: c.card(), Target: to, Agent: b})
	return nil
}

// consultRing is the colleague's ring timeout while they ring (nil otherwise: never fires).
func (c *call) consultRing() <-chan time.Time {
	if c.consult == nil {
		return nil
	}
	return c.consult.ring
}

// onConsultedCommand is what the consulted colleague does: answer, reject, hang up. The call is not
// theirs yet, so nothing else.
func (c *call) onConsultedCommand(ctx context.Context, cmd command) error {
	cs := c.consult
	switch cmd.kind {
	case cmdAnswer:
		if cs.answered {
			return nil
		}
		return c.answerConsult(ctx)
	case cmdReject:
		if cs.answered {
			return fmt.Errorf("%w: already answered; hang up instead", ErrNotYourCall)
		}
		c.consultFailed(ctx, ConsultRejected)
		return nil
	case cmdHangup:
		if !cs.answered {
			c.consultFailed(ctx, ConsultRejected)
		} else {
			c.consultFailed(ctx, ConsultHungUp)
		}
		return nil
	}
	return fmt.Errorf("%w: the call is still %s's until the transfer completes", ErrNotYourCall, c.agent)
}

// answerConsult gives the colleague an audio leg and an externalMedia channel for it in the
// consultation bridge, as an answer does in the call's bridge.
func (c *call) answerConsult(ctx context.Context) error {
	cs := c.consult
	em, leg, err := c.openLeg(ctx, cs.agent, "cem-", cs.bridge)
	if err != nil {
		return fmt.Errorf("the colleague's audio: %w", err)
	}
	cs.em, cs.leg, cs.answered, cs.ring = em, leg, true, nil
	c.publish()
	c.log.Info("colleague answered the consultation", "agent", c.agent, "colleague", cs.agent)
	c.sb.phones.Notify(cs.agent, AgentEvent{Type: EventConsultConnected, Call: c.card(), Agent: c.agent})
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventConsulting, Call: c.card(), Target: cs.target, Agent: cs.agent, Answered: true})
	return nil
}

// consultFailed ends a colleague's consultation the agent did not end (rejected, unanswered, hung
// up): the colleague is freed, the agent is back with the caller and told why.
func (c *call) consultFailed(ctx context.Context, why string) {
	colleague := c.consult.agent
	c.log.Info("consultation ended by the colleague", "agent", c.agent, "colleague", colleague, "why", why)
	c.endConsult(ctx, why)
	if err := c.unhold(ctx); err != nil {
		c.log.Warn("bring the caller back after the consultation", "err", err)
	}
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventConsultEnded, Call: c.card(), Agent: colleague, Reason: why})
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
	c.endConsult(ctx, ConsultCancelled)
	if err := c.unhold(ctx); err != nil {
		return err
	}
	return nil
}

// endConsult dismantles the consultation and puts the agent's leg back in the call's bridge. A
// colleague's leg is closed, their reservation released (available again, not in wrap-up) and their
// page told why.
func (c *call) endConsult(ctx context.Context, why string) {
	ctx = context.WithoutCancel(ctx)
	cs := c.consult
	c.consult = nil
	if cs.agent != "" {
		if cs.leg != nil {
			cs.leg.Close()
		}
		if cs.em != "" {
			if err := c.sb.ari.hangup(ctx, cs.em); err != nil && !errors.Is(err, ErrGone) {
				c.log.Warn("hang up the colleague's audio channel", "channel", cs.em, "err", err)
			}
		}
		c.persist(ctx, "end the consultation", func() error { return c.sb.acd.EndConsult(ctx, c.id, cs.agent, cs.answered) })
		c.sb.phones.Notify(cs.agent, AgentEvent{Type: EventConsultReleased, Call: c.card(), Agent: c.agent, Reason: why})
		c.publish()
	}
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
	if cs.agent != "" {
		return c.handOver(ctx)
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
	c.stopRecording(ctx) // the agent has left: what the caller and the number say is not the center's
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
	c.sb.phones.Notify(agent, AgentEvent{Type: EventEnded, Call: c.card(), Reason: EndTransferred})
	return nil
}

// handOver completes a colleague's consultation: the ACD makes the call theirs (the agent goes to
// wrap-up), the agent's audio leaves, the caller comes off hold music into the call's bridge with
// the colleague's channel, and the call goes on with the colleague as its agent.
func (c *call) handOver(ctx context.Context) error {
	cs := c.consult
	if !cs.answered {
		return fmt.Errorf("%w: %s has not answered yet", ErrBadTarget, cs.agent)
	}
	// The ACD first: if it refuses, nothing has moved and the consultation goes on.
	from := c.agent
	if err := c.sb.acd.HandOver(ctx, c.id, from, cs.agent); err != nil {
		return fmt.Errorf("hand the call over to %s: %w", cs.agent, err)
	}
	ctx = context.WithoutCancel(ctx) // the call is the colleague's now: finish the moves whatever happens
	c.stopMonitor(ctx)               // a supervisor listened to the agent who is leaving
	var errs []error
	if err := c.sb.ari.removeFromBridge(ctx, cs.bridge, cs.em); err != nil && !errors.Is(err, ErrGone) {
		errs = append(errs, err)
	}
	c.dropLeg(ctx)
	if err := c.sb.ari.destroyBridge(ctx, cs.bridge); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("destroy the consultation bridge", "err", err)
	}
	if err := c.sb.ari.stopMOH(ctx, c.channel); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("stop hold music", "err", err)
	}
	if err := c.sb.ari.addToBridge(ctx, c.bridge, c.channel); err != nil {
		errs = append(errs, err)
	}
	if err := c.sb.ari.addToBridge(ctx, c.bridge, cs.em); err != nil {
		errs = append(errs, err)
	}
	c.em, c.leg = cs.em, cs.leg
	c.stopRecording(ctx) // the colleague's part is a segment of its own
	c.agent, c.held, c.awayMOH, c.consult = cs.agent, false, false, nil
	c.publish()
	c.startRecording(ctx)
	c.log.Info("attended transfer to a colleague completed", "from", from, "agent", c.agent)
	c.sb.phones.Notify(from, AgentEvent{Type: EventEnded, Call: c.card(), Reason: EndTransferred})
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventConnected, Call: c.card()})
	return errors.Join(errs...)
}

func consultBridgeID(callID string) string {
	// A fresh id each time: a previous consultation's bridge may still be going away.
	return "cs-" + callID + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
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

// dropConsultations ends what a consultation interrupted by a controller restart left in Asterisk:
// its bridge, the legs in it (the agent's old one, the colleague's), and an outside party dialled.
func (c *call) dropConsultations(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	for bridge, channels := range c.sb.ari.bridgeChannels(ctx, "cs-"+c.id+"-") {
		for _, ch := range channels {
			if err := c.sb.ari.hangup(ctx, ch); err != nil && !errors.Is(err, ErrGone) {
				c.log.Warn("hang up what an interrupted consultation left", "channel", ch, "err", err)
			}
		}
		if err := c.sb.ari.destroyBridge(ctx, bridge); err != nil && !errors.Is(err, ErrGone) {
			c.log.Warn("destroy an interrupted consultation's bridge", "bridge", bridge, "err", err)
		}
		c.log.Info("cleared an interrupted consultation", "bridge", bridge, "channels", channels)
	}
}
