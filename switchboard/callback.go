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
	if !sb.register(c) {
		return
	}
	sb.wg.Add(1)
	go func() {
		defer sb.wg.Done()
		defer sb.unregister(c)
		defer close(c.done)
		c.runCallback(ctx, o.Agents)
	}()
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
					c.agent, c.rung = cmd.agent, nil
					err = c.dialBack(ctx)
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

// dialBack connects the agent to a bridge and dials the caller into it.
func (c *call) dialBack(ctx context.Context) error {
	c.bridge = bridgeID(c.id)
	if err := c.sb.ari.createBridge(ctx, c.bridge, "callback-"+c.id); err != nil {
		return err
	}
	if err := c.attachLeg(ctx); err != nil {
		return err
	}
	ch := "cb-" + c.id + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	c.channel = ch
	c.sb.mu.Lock()
	c.sb.channels[ch] = c.inbox
	c.sb.mu.Unlock()
	endpoint := fmt.Sprintf(c.sb.cfg.CallbackEndpoint, c.callbackTo)
	if err := c.sb.ari.originate(ctx, ch, endpoint, "Hotline <"+c.did+">", "callback,"+c.id); err != nil {
		c.teardown(ctx)
		return fmt.Errorf("dial back %s: %w", c.callbackTo, err)
	}
	if err := c.sb.acd.Accept(ctx, c.id, c.agent); err != nil {
		c.log.Warn("record the callback's answer", "err", err)
	}
	c.ringing, c.talking = false, true
	c.publish()
	c.log.Info("calling back", "number", c.callbackTo, "agent", c.agent)
	c.sb.phones.Notify(c.agent, AgentEvent{Type: EventConnected, Call: c.card()})
	return nil
}

// calledBack runs when the dialled caller answers: greet them, then join the agent.
func (c *call) calledBack(ctx context.Context) error {
	if err := c.player.Play(ctx, c.lang(), "sound:hotline/callback_greeting"); err != nil {
		return errHungUp
	}
	if err := c.sb.ari.addToBridge(ctx, c.bridge, c.channel); err != nil {
		if errors.Is(err, ErrGone) {
			return errHungUp
		}
		return err
	}
	c.log.Info("caller answered the callback")
	return nil
}
