package switchboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// A callback is a call whose caller hung up after asking to be called back, keeping their place.
// When their turn comes the offer arrives with Callback set and no channel: the agent's page rings
// with the screen pop, and on answer the switchboard dials the caller through the trunk and joins
// them to the agent in a bridge, as an inbound call would be.

// startCallback takes an offer for a callback: the caller's original channel is long gone.
func (sb *Switchboard) startCallback(ctx context.Context, o Offer) {
	data := o.Data
	c := sb.newCall(o.CallID, CallerID{Number: o.Callback, Name: data["caller_name"]}, data["did"])
	c.channel = ""
	c.callbackTo = o.Callback
	c.ivr.Lang = data["lang"]
	c.queued = QueuedCall{CallID: o.CallID, Queue: o.Queue, Data: data}
	c.offered.Store(&o.Agents)
	if !sb.register(c) {
		return
	}
	sb.goCall(c, func(context.Context) {
		defer close(c.done)
		c.runCallback(ctx, o.Agents)
	})
}

// runCallback rings the agents, and once one answers dials the caller; then the call is served as
// any talking call.
func (c *call) runCallback(ctx context.Context, agents []string) {
	c.onCommand(ctx, command{kind: cmdOffer, agents: agents, queue: c.queued.Queue})
	ring := time.NewTimer(c.sb.cfg.RingTimeout)
	defer ring.Stop()
	for !c.talking {
		select {
		case <-ctx.Done():
			return
		case <-ring.C:
			c.unring(ctx, true) // back to the head of the queue, still a callback
			return
		case cmd := <-c.cmds:
			var err error
			switch cmd.kind {
			case cmdAnswer:
				if !slices.Contains(c.rung, cmd.agent) {
					err = ErrNotYourCall
				} else {
					err = c.dialBack(ctx, cmd.agent)
				}
			case cmdReject:
				if !slices.Contains(c.rung, cmd.agent) {
					err = ErrNotYourCall
				} else {
					c.unringAgent(ctx, cmd.agent)
				}
			default:
				err = ErrNotYourCall
			}
			if cmd.reply != nil {
				cmd.reply <- err
			}
			if !c.ringing && !c.talking {
				return
			}
		}
	}
	c.serve(ctx)
}

// dialBack gives the call to the agent who answered, connects them to a bridge and dials the
// caller into it. A caller who cannot be dialled counts as not answering (callbackUnanswered).
func (c *call) dialBack(ctx context.Context, agent string) error {
	// The ACD first: among the agents a ring-all queue rang, it says who takes the call.
	if err := c.sb.acd.Accept(ctx, c.id, agent); err != nil {
		return fmt.Errorf("take the callback: %w", err)
	}
	// The number was checked when the caller asked, but the rules may have changed since, or an
	// older controller stored it unchecked.
	n, err := c.dialCheck(ctx, actorSystem, dialCallback, c.callbackTo)
	if errors.Is(err, ErrDialRefused) {
		// Never dialled, never retried: the call ends here and the agent is told why.
		c.agent, c.rung, c.ringing = agent, nil, false
		c.publish()
		c.persist(ctx, "finish a refused callback", func() error { return c.sb.acd.Finish(ctx, c.id, agent) })
		c.sb.phones.Notify(agent, AgentEvent{Type: EventEnded, Call: c.card(), Reason: EndRefused})
		return err
	}
	c.agent, c.rung, c.ringing, c.talking = agent, nil, false, true
	c.publish()
	c.log.Info("calling back", "number", n.Canonical, "agent", c.agent)
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventConnected, Call: c.card()})
	if err == nil { // else not audited: not dialled, tried again later like a number that did not answer
		c.bridge = newBridgeID(c.id)
		err = c.sb.ari.createBridge(ctx, c.bridge, "callback-"+c.id)
	}
	if err == nil {
		err = c.attachLeg(ctx)
	}
	if err == nil {
		ch := "cb-" + c.id + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		c.channel = ch
		c.sb.mu.Lock()
		c.sb.channels[ch] = c.inbox
		c.sb.mu.Unlock()
		err = c.sb.ari.originate(ctx, ch, c.sb.dialString(n), "Hotline <"+c.did+">", "callback,"+c.id)
		if err != nil {
			c.dialFailed(ctx, actorSystem, dialCallback, n, err)
		}
	}
	if err != nil {
		c.callbackUnanswered(ctx, err.Error())
		return fmt.Errorf("dial back %s: %w", n, err)
	}
	return nil
}

// callbackUnanswered ends a callback whose number did not answer or could not be dialled: the agent
// is free at once, the ACD tries again later or gives up.
func (c *call) callbackUnanswered(ctx context.Context, why string) {
	ctx = context.WithoutCancel(ctx)
	agent := c.agent
	c.teardown(ctx)
	var retryAt time.Time
	c.persist(ctx, "callback not answered", func() (err error) {
		retryAt, err = c.sb.acd.CallbackNoAnswer(ctx, c.id, agent)
		return err
	})
	c.sb.phones.Notify(agent, AgentEvent{Type: EventCallbackUnanswered, Call: c.card()})
	c.log.Info("callback not answered", "agent", agent, "number", c.callbackTo, "why", why, "retry_at", retryAt)
	c.sb.kickDispatch()
}

// answeredBack runs when the dialled caller answers: greet them, then join the agent.
func (c *call) answeredBack(ctx context.Context) error {
	c.calledBack = true
	media := []string{"sound:hotline/callback_greeting"}
	if c.records() {
		media = append(media, RecordingNotice)
	}
	if err := c.player.Play(ctx, c.lang(), media...); err != nil {
		return errHungUp
	}
	if err := c.sb.ari.addToBridge(ctx, c.bridge, c.channel); err != nil {
		if errors.Is(err, ErrGone) {
			return errHungUp
		}
		return err
	}
	c.startRecording(ctx)
	c.log.Info("caller answered the callback")
	return nil
}
