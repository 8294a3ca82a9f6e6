package switchboard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/CyCoreSystems/ari/v5"
)

// A supervisor steps into a talking call through their own softphone session (they are logged in on
// the agent page with their account): listen hears both sides unheard, whisper speaks to the agent
// alone, barge joins the conversation. Listen and whisper go through an ARI snoop channel bridged with
// an externalMedia channel to the supervisor's leg; barge puts that externalMedia channel into the
// call's own bridge. One supervisor at a time per call; the monitor ends with the call.

// MonitorMode is how a supervisor joins a call.
type MonitorMode string

const (
	MonitorListen  MonitorMode = "listen"
	MonitorWhisper MonitorMode = "whisper"
	MonitorBarge   MonitorMode = "barge"
	MonitorLeave   MonitorMode = "leave" // the supervisor steps out
)

// MonitorLegPrefix starts the call id a supervisor's leg is opened under (then the call's id), so
// it is not taken for the agent's leg on the call.
const MonitorLegPrefix = "monitor-"

// ErrNotTalking means the call is not connected to an agent, so there is nothing to listen to.
var ErrNotTalking = errors.New("call is not connected to an agent")

type monitor struct {
	supervisor string
	mode       MonitorMode
	leg        Leg
	em         string // externalMedia to the supervisor's leg
	snoop      string // listen, whisper
	bridge     string // listen, whisper: the snoop and em
}

// Monitor lets a supervisor listen to, whisper into or barge into a talking call.
func (sb *Switchboard) Monitor(ctx context.Context, supervisorID, callID string, mode MonitorMode) error {
	switch mode {
	case MonitorListen, MonitorWhisper, MonitorBarge, MonitorLeave:
	default:
		return fmt.Errorf("%w: monitor mode %q", ErrBadTarget, mode)
	}
	if supervisorID == "" {
		return fmt.Errorf("%w: no supervisor", ErrBadTarget)
	}
	c := sb.call(callID)
	if c == nil {
		return ErrNoSuchCall
	}
	if !c.snapshot().talking {
		return ErrNotTalking // and its goroutine may be in the IVR, not reading commands
	}
	return sb.send(ctx, callID, command{kind: cmdMonitor, agent: supervisorID, arg: string(mode)})
}

func (c *call) startMonitor(ctx context.Context, supervisor string, mode MonitorMode) error {
	if mode == MonitorLeave {
		if c.mon == nil || c.mon.supervisor != supervisor {
			return fmt.Errorf("%w: %s is not in this call", ErrBadTarget, supervisor)
		}
		c.stopMonitor(ctx)
		return nil
	}
	if !c.talking || c.em == "" {
		return ErrNotTalking
	}
	if supervisor == c.agent {
		return fmt.Errorf("%w: the agent on the call", ErrBadTarget)
	}
	c.stopMonitor(ctx)
	leg, err := c.sb.phones.OpenLeg(ctx, supervisor, MonitorLegPrefix+c.id)
	if err != nil {
		return fmt.Errorf("open the supervisor's audio leg: %w", err)
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	m := &monitor{supervisor: supervisor, mode: mode, leg: leg, em: "mon-em-" + c.id + "-" + suffix}
	c.mon = m
	remote, err := c.sb.externalMedia(ctx, m.em, leg.LocalAddr())
	if err != nil {
		c.stopMonitor(ctx)
		return err
	}
	if err := leg.SetRemote(ctx, remote); err != nil {
		c.stopMonitor(ctx)
		return fmt.Errorf("point the supervisor's audio leg at Asterisk: %w", err)
	}
	switch mode {
	case MonitorBarge:
		err = c.sb.ari.addToBridge(ctx, c.bridge, m.em)
	case MonitorListen, MonitorWhisper:
		// Listen snoops on the caller's channel: in is the caller, out is what the agent says to them.
		// Whisper snoops on the agent's externalMedia channel and speaks into what goes to the agent.
		target, whisper := c.channel, ari.DirectionNone
		if mode == MonitorWhisper {
			target, whisper = c.em, ari.DirectionOut
		}
		m.snoop, m.bridge = "mon-sn-"+c.id+"-"+suffix, "mon-br-"+c.id+"-"+suffix
		if err = c.sb.snoop(ctx, target, m.snoop, ari.DirectionBoth, whisper); err == nil {
			if err = c.sb.ari.createBridge(ctx, m.bridge, "monitor-"+c.id); err == nil {
				if err = c.sb.ari.addToBridge(ctx, m.bridge, m.snoop); err == nil {
					err = c.sb.ari.addToBridge(ctx, m.bridge, m.em)
				}
			}
		}
	}
	if err != nil {
		c.stopMonitor(ctx)
		return err
	}
	c.log.Info("supervisor joined", "supervisor", supervisor, "mode", mode, "agent", c.agent)
	return nil
}

// stopMonitor removes the supervisor's channels and leg, if any.
func (c *call) stopMonitor(ctx context.Context) {
	m := c.mon
	if m == nil {
		return
	}
	c.mon = nil
	ctx = context.WithoutCancel(ctx)
	for _, ch := range []string{m.snoop, m.em} {
		if ch == "" {
			continue
		}
		if err := c.sb.ari.hangup(ctx, ch); err != nil && !errors.Is(err, ErrGone) {
			c.log.Warn("hang up a supervisor's channel", "channel", ch, "err", err)
		}
	}
	if m.bridge != "" {
		if err := c.sb.ari.destroyBridge(ctx, m.bridge); err != nil && !errors.Is(err, ErrGone) {
			c.log.Warn("destroy the supervisor's bridge", "bridge", m.bridge, "err", err)
		}
	}
	m.leg.Close()
	c.log.Info("supervisor left", "supervisor", m.supervisor, "mode", m.mode)
}
