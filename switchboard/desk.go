package switchboard

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hotline-cc/hotline/audit"
)

// ErrNotYourCall means an agent acted on a call that is not ringing or talking with them.
var ErrNotYourCall = errors.New("not this agent's call")

// ErrNoSuchCall means the call ended or never existed on this controller.
var ErrNoSuchCall = errors.New("no such call")

// ErrBadTarget means a transfer target is not a queue, an agent or a number.
var ErrBadTarget = errors.New("bad transfer target")

// ErrTargetBusy means the colleague or the queue consulted has nobody available now: the agent keeps
// the caller, nothing changed.
var ErrTargetBusy = errors.New("transfer target not available now")

// TargetKind says where a transfer goes.
type TargetKind string

const (
	TargetQueue  TargetKind = "queue"
	TargetAgent  TargetKind = "agent"
	TargetNumber TargetKind = "number"
)

// Target is where a transfer goes.
type Target struct {
	Kind TargetKind
	ID   string
}

// The methods below are what agents' pages do to calls. Each checks that the call is the agent's own:
// the agent id comes from the page's authenticated session, never from the request.

// Answer connects a ringing call to the agent.
func (sb *Switchboard) Answer(ctx context.Context, agentID, callID string) error {
	return sb.command(ctx, callID, command{kind: cmdAnswer, agent: agentID})
}

// Reject declines a ringing call; it goes back to the head of its queue.
func (sb *Switchboard) Reject(ctx context.Context, agentID, callID string) error {
	return sb.command(ctx, callID, command{kind: cmdReject, agent: agentID})
}

// Hangup ends the agent's call.
func (sb *Switchboard) Hangup(ctx context.Context, agentID, callID string) error {
	err := sb.command(ctx, callID, command{kind: cmdHangup, agent: agentID})
	if errors.Is(err, errHungUp) {
		return nil
	}
	return err
}

// Hold puts the caller on hold music; Resume brings them back.
func (sb *Switchboard) Hold(ctx context.Context, agentID, callID string) error {
	return sb.command(ctx, callID, command{kind: cmdHold, agent: agentID})
}

// Resume takes the caller off hold.
func (sb *Switchboard) Resume(ctx context.Context, agentID, callID string) error {
	return sb.command(ctx, callID, command{kind: cmdResume, agent: agentID})
}

// SendDTMF plays keys to the caller (for an IVR at the far end).
func (sb *Switchboard) SendDTMF(ctx context.Context, agentID, callID, digits string) error {
	for _, d := range digits {
		if !(d >= '0' && d <= '9' || d == '*' || d == '#' || d >= 'A' && d <= 'D') {
			return fmt.Errorf("%q is not a DTMF key", d)
		}
	}
	return sb.command(ctx, callID, command{kind: cmdDTMF, agent: agentID, arg: digits})
}

// Transfer hands the call to a queue or an outside number (blind).
func (sb *Switchboard) Transfer(ctx context.Context, agentID, callID string, to Target) error {
	if to.ID == "" {
		return fmt.Errorf("%w: empty", ErrBadTarget)
	}
	err := sb.command(ctx, callID, command{kind: cmdTransfer, agent: agentID, target: to})
	if errors.Is(err, errHungUp) {
		return nil
	}
	return err
}

// Consult starts an attended transfer: the caller holds while the agent talks to the target, an
// outside number, a named colleague or an agent picked from a queue (ErrTargetBusy when nobody is
// available there now).
func (sb *Switchboard) Consult(ctx context.Context, agentID, callID string, to Target) error {
	if to.ID == "" {
		return fmt.Errorf("%w: empty", ErrBadTarget)
	}
	return sb.command(ctx, callID, command{kind: cmdConsult, agent: agentID, target: to})
}

// CompleteTransfer joins the caller and the consulted party; the agent leaves the call. A consulted
// colleague then owns the call.
func (sb *Switchboard) CompleteTransfer(ctx context.Context, agentID, callID string) error {
	return sb.command(ctx, callID, command{kind: cmdComplete, agent: agentID})
}

// CancelConsult hangs up on the consulted party and brings the agent back to the caller.
func (sb *Switchboard) CancelConsult(ctx context.Context, agentID, callID string) error {
	return sb.command(ctx, callID, command{kind: cmdCancel, agent: agentID})
}

// CallDone returns a channel closed when the call's goroutine has ended (closed at once for a call
// this switchboard does not hold): for a drain, or a test, to wait on.
func (sb *Switchboard) CallDone(callID string) <-chan struct{} {
	if c := sb.call(callID); c != nil {
		return c.done
	}
	done := make(chan struct{})
	close(done)
	return done
}

// Holds says whether this switchboard holds the call (its channel is on this controller's Asterisk).
func (sb *Switchboard) Holds(callID string) bool { return sb.call(callID) != nil }

// ActiveCall returns the card of the call ringing or talking with agentID, for a page that reloads;
// a colleague consulted on a call sees it too (talking once they answered).
func (sb *Switchboard) ActiveCall(agentID string) (CallCard, bool, bool) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for c := range sb.byAgent[agentID] {
		if p := c.snapshot(); p.agent == agentID || slices.Contains(p.rung, agentID) {
			return p.card, p.talking, true
		} else if p.consultAgent == agentID {
			return p.card, p.consultTalking, true
		}
	}
	return CallCard{}, false, false
}

// command sends an agent's action to the call, refusing it at once when the call is neither theirs
// nor a consultation they are asked to.
func (sb *Switchboard) command(ctx context.Context, callID string, cmd command) error {
	if c := sb.call(callID); c != nil {
		if p := c.snapshot(); p.agent != cmd.agent && p.consultAgent != cmd.agent && !slices.Contains(p.rung, cmd.agent) {
			return ErrNotYourCall
		}
	}
	return sb.send(ctx, callID, cmd)
}

// send hands a command to the call's goroutine and waits for its answer.
func (sb *Switchboard) send(ctx context.Context, callID string, cmd command) error {
	c := sb.call(callID)
	if c == nil {
		return ErrNoSuchCall
	}
	cmd.reply = make(chan error, 1)
	cmd.remote = audit.RemoteFrom(ctx)
	if !c.send(ctx, cmd) {
		return ErrNoSuchCall
	}
	select {
	case err := <-cmd.reply:
		return err
	case <-c.done:
		// A command that ends the call (hangup, transfer out) is answered just before the goroutine
		// ends: when both are ready, select may see the end first, and the answer is still there.
		select {
		case err := <-cmd.reply:
			return err
		default:
			return ErrNoSuchCall
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}
