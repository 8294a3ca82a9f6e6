package switchboard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The talking stage of a call: connecting the agent, their audio leg, hold, blind transfer, and
// taking the agent's side down again.

// connect joins the caller and the agent: the caller leaves hold music for a mixing bridge with an
// externalMedia channel whose RTP the gateway relays to the agent's browser.
func (c *call) connect(ctx context.Context) error {
	bridge := newBridgeID(c.id)
	if err := c.sb.ari.createBridge(ctx, bridge, "call-"+c.id); err != nil {
		return err
	}
	c.bridge = bridge
	if err := c.attachLeg(ctx); err != nil {
		c.undoConnect(ctx)
		return err
	}
	if err := c.sb.ari.stopMOH(ctx, c.channel); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("stop hold music failed", "err", err)
	}
	if err := c.sb.ari.addToBridge(ctx, c.bridge, c.channel); err != nil {
		if errors.Is(err, ErrGone) {
			return errHungUp
		}
		c.undoConnect(ctx)
		return err
	}
	if err := c.sb.acd.Accept(ctx, c.id, c.agent); err != nil {
		c.log.Warn("record the answer failed", "agent", c.agent, "err", err)
	}
	c.ringing, c.talking, c.rung = false, true, nil
	c.publish()
	c.startRecording(ctx)
	c.log.Info("agent connected", "agent", c.agent)
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventConnected, Call: c.card()})
	return nil
}

// undoConnect takes down what a failed connect made, so the caller waits on (ringing, with hold
// music) as before the answer, and a second answer starts afresh.
func (c *call) undoConnect(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	c.dropLeg(ctx)
	if err := c.sb.ari.destroyBridge(ctx, c.bridge); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("destroy the bridge of a failed answer", "bridge", c.bridge, "err", err)
	}
	c.bridge = ""
	if err := c.sb.ari.moh(ctx, c.channel); err != nil && !errors.Is(err, ErrGone) {
		c.log.Warn("hold music after a failed answer", "err", err)
	}
}

// attachLeg gives the agent a fresh RTP leg and an externalMedia channel for it in the call's bridge,
// replacing a previous one (after the agent's page or the controller restarted).
func (c *call) attachLeg(ctx context.Context) error {
	em, leg, err := c.openLeg(ctx, c.agent, "em-", c.bridge)
	if err != nil {
		return fmt.Errorf("the agent's audio: %w", err)
	}
	c.dropLeg(ctx)
	c.em, c.leg = em, leg
	return nil
}

// openLeg opens a gateway leg for agent and an externalMedia channel (its id prefix then the call's)
// for it in bridge; nothing is left behind when it fails.
func (c *call) openLeg(ctx context.Context, agent, prefix, bridge string) (string, Leg, error) {
	leg, err := c.sb.phones.OpenLeg(ctx, agent, c.id)
	if err != nil {
		return "", nil, fmt.Errorf("open the audio leg: %w", err)
	}
	// The id must be new even across controller restarts: Asterisk refuses a channel id in use.
	em := prefix + c.id + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	remote, err := c.sb.externalMedia(ctx, em, leg.LocalAddr())
	if err != nil {
		leg.Close()
		return "", nil, err
	}
	if err := leg.SetRemote(ctx, remote); err != nil {
		leg.Close()
		c.sb.ari.hangup(context.WithoutCancel(ctx), em)
		return "", nil, fmt.Errorf("point the audio leg at Asterisk: %w", err)
	}
	if err := c.sb.ari.addToBridge(ctx, bridge, em); err != nil {
		leg.Close()
		c.sb.ari.hangup(context.WithoutCancel(ctx), em)
		return "", nil, err
	}
	return em, leg, nil
}

func (c *call) dropLeg(ctx context.Context) {
	if c.leg != nil {
		c.leg.Close()
		c.leg = nil
	}
	if c.em != "" {
		if err := c.sb.ari.hangup(ctx, c.em); err != nil && !errors.Is(err, ErrGone) {
			c.log.Warn("hang up the old audio leg failed", "channel", c.em, "err", err)
		}
		c.em = ""
	}
}

// hold takes the caller out of the conversation to hold music; the agent's leg stays up.
func (c *call) hold(ctx context.Context) error {
	if c.held {
		return nil
	}
	if err := c.sb.ari.removeFromBridge(ctx, c.bridge, c.channel); err != nil {
		return err
	}
	if err := c.sb.ari.moh(ctx, c.channel); err != nil {
		return err
	}
	c.held = true
	c.recordHold(ctx, true)
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventHeld, Call: c.card()})
	return nil
}

// recordHold tells the ACD of a hold or a resume, for the reports; the call goes on without it.
func (c *call) recordHold(ctx context.Context, on bool) {
	if err := c.sb.acd.Hold(ctx, c.id, c.agent, on); err != nil {
		c.log.Warn("record the hold in the ACD failed", "agent", c.agent, "on", on, "err", err)
	}
}

func (c *call) unhold(ctx context.Context) error {
	if !c.held {
		return nil
	}
	if err := c.sb.ari.stopMOH(ctx, c.channel); err != nil && !errors.Is(err, ErrGone) {
		return err
	}
	if err := c.sb.ari.addToBridge(ctx, c.bridge, c.channel); err != nil {
		return err
	}
	c.held = false
	c.recordHold(ctx, false)
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventResumed, Call: c.card()})
	return nil
}

// transfer hands a talking call on: to a queue (it waits again, keeping its data), or to an outside
// number through the dialplan. The agent goes to wrap-up.
func (c *call) transfer(ctx context.Context, to Target) error {
	switch to.Kind {
	case TargetQueue, TargetAgent:
		if to.Kind == TargetAgent && to.ID == c.agent {
			return fmt.Errorf("%w: that is you", ErrBadTarget)
		}
		queue := c.queued.Queue
		if to.Kind == TargetQueue {
			queue = to.ID
		}
		agent := c.agent
		c.teardown(ctx)
		if err := c.sb.acd.Finish(ctx, c.id, agent); err != nil {
			c.log.Warn("finish before transfer failed", "err", err)
		}
		c.sb.phones.Notify(agent, AgentEvent{Type: EventEnded, Call: c.card(), Reason: EndTransferred})
		if err := c.requeue(ctx, queue); err != nil {
			return err
		}
		if to.Kind == TargetAgent {
			// The colleague gets the offer at once if free; if not, the caller waits in the queue
			// they came from and goes to whoever frees up first.
			if err := c.sb.acd.Direct(ctx, c.id, to.ID); err != nil {
				c.log.Info("transfer target not available; the caller waits in the queue", "target", to.ID, "queue", queue, "err", err)
			}
		}
		c.sb.kickDispatch()
		return nil
	case TargetNumber:
		// Checked before anything changes: a refused number leaves the agent with the caller.
		n, err := c.dialCheck(ctx, c.agent, dialTransfer, to.ID)
		if err != nil {
			return err
		}
		agent := c.agent
		c.teardown(ctx)
		if err := c.sb.acd.Finish(ctx, c.id, agent); err != nil {
			c.log.Warn("finish before transfer failed", "err", err)
		}
		c.sb.phones.Notify(agent, AgentEvent{Type: EventEnded, Call: c.card(), Reason: EndTransferred})
		if err := c.transferOut(ctx, n); err != nil {
			c.dialFailed(ctx, agent, dialTransfer, n, err)
			if errors.Is(err, ErrGone) {
				return errHungUp
			}
			// The agent has left the call: the caller is not left in silence, but waits in their
			// queue again, as after a transfer to it.
			c.log.Error("blind transfer failed; the caller waits in their queue again", "number", n.Canonical, "queue", c.queued.Queue, "err", err)
			if qerr := c.requeue(ctx, c.queued.Queue); qerr != nil {
				return errors.Join(err, qerr)
			}
			c.sb.kickDispatch()
			return fmt.Errorf("%w (to %s): %w", ErrTransferFailed, n, err)
		}
		return errHungUp // the channel left the app for the dialplan
	}
	return fmt.Errorf("%w: transfer to %q", ErrBadTarget, to.Kind)
}

// requeue puts the caller, whose agent has left the call, back in queue with their data, on hold
// music.
func (c *call) requeue(ctx context.Context, queue string) error {
	c.queued = QueuedCall{CallID: c.id, Queue: queue, Priority: c.queued.Priority, Data: c.queued.Data}
	if err := c.sb.acd.Enqueue(ctx, c.queued); err != nil {
		return err
	}
	c.since = time.Now()
	return c.sb.ari.moh(ctx, c.channel)
}

// teardown removes the agent's side of the call: bridge, externalMedia channel, leg, and a
// consultation in progress.
func (c *call) teardown(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	c.stopMonitor(ctx)
	if c.consult != nil {
		c.endConsult(ctx, ConsultCancelled)
	}
	c.stopRecording(ctx)
	c.dropLeg(ctx)
	if c.bridge != "" {
		if err := c.sb.ari.destroyBridge(ctx, c.bridge); err != nil && !errors.Is(err, ErrGone) {
			c.log.Warn("destroy bridge failed", "bridge", c.bridge, "err", err)
		}
		c.bridge = ""
	}
	c.agent, c.talking, c.ringing, c.held = "", false, false, false
	c.publish()
}
