package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/softphone"
	"github.com/hotline-cc/hotline/switchboard"
)

// desk is what the agent page's buttons do: agent state goes to the ACD, call control to the
// switchboard, muting to the gateway's leg, the day's calls to the history.
type desk struct {
	model      *acd.Model
	center     *acd.Center
	sb         *switchboard.Switchboard
	phones     *phones
	history    *history
	autoAnswer bool
	states     *stateSync // tells the pages the ACD's state; nil in tests of the desk alone
	// link forwards commands for calls another controller holds to it; nil: all calls are here.
	link *link
}

// Operations on calls, as they cross to the controller holding the call (deskReq.Op).
const (
	opAnswer   = "answer"
	opReject   = "reject"
	opHangup   = "hangup"
	opHold     = "hold"
	opResume   = "resume"
	opDTMF     = "dtmf"
	opTransfer = "transfer"
	opConsult  = "consult"
	opComplete = "complete"
	opCancel   = "cancel"
)

// call runs a page's command on a call here when this controller holds the call, and otherwise on
// the controller that does (the call's owner in the ACD).
func (d *desk) call(ctx context.Context, req deskReq) error {
	if d.link != nil && !d.sb.Holds(req.Call) {
		owner, err := callOwner(ctx, d.center, req.Call)
		if err != nil {
			return err
		}
		if owner != "" && owner != d.link.bus.Self() {
			return d.link.forward(ctx, owner, req)
		}
	}
	return d.local(ctx, req)
}

// local runs a page's command on a call this controller holds.
func (d *desk) local(ctx context.Context, req deskReq) error {
	a, id := req.Agent, req.Call
	switch req.Op {
	case opAnswer:
		return callErr(d.sb.Answer(ctx, a, id))
	case opReject:
		return callErr(d.sb.Reject(ctx, a, id))
	case opHangup:
		return callErr(d.sb.Hangup(ctx, a, id))
	case opHold:
		return callErr(d.sb.Hold(ctx, a, id))
	case opResume:
		return callErr(d.sb.Resume(ctx, a, id))
	case opDTMF:
		return callErr(d.sb.SendDTMF(ctx, a, id, req.Digits))
	case opTransfer:
		return d.blindTransfer(ctx, a, id, req.Target)
	case opConsult:
		return d.consult(ctx, a, id, req.Target)
	case opComplete:
		return callErr(d.sb.CompleteTransfer(ctx, a, id))
	case opCancel:
		return callErr(d.sb.CancelConsult(ctx, a, id))
	}
	return fmt.Errorf("%w: %q", softphone.ErrUnknownMessage, req.Op)
}

var _ softphone.Desk = (*desk)(nil)

var pauseReasons = []string{"break", "lunch", "training", "meeting", "technical"}

var dispositions = []softphone.Disposition{
	{Code: "resolved", Labels: map[string]string{"ru": "Решено", "en": "Resolved"}},
	{Code: "info", Labels: map[string]string{"ru": "Справка", "en": "Information given"}},
	{Code: "claim_filed", Labels: map[string]string{"ru": "Претензия принята", "en": "Claim filed"}},
	{Code: "callback", Labels: map[string]string{"ru": "Перезвонить", "en": "Call back"}},
	{Code: "escalated", Labels: map[string]string{"ru": "Эскалация", "en": "Escalated"}},
	{Code: "wrong_number", Labels: map[string]string{"ru": "Ошибка номера", "en": "Wrong number"}},
}

// Profile is the page's view of an authenticated account: an agent's desk, or a supervisor's
// monitoring softphone (no ACD state, no calls).
func (d *desk) Profile(ctx context.Context, acct account.Account) (softphone.Agent, error) {
	if acct.Role != account.RoleAgent {
		return softphone.Agent{ID: acct.ID, Name: acct.Name, Lang: "ru", Role: string(acct.Role)}, nil
	}
	a, ok := d.model.Agent(acct.ID)
	if !ok {
		return softphone.Agent{}, fmt.Errorf("profile: %q is not an agent of the center", acct.ID)
	}
	return softphone.Agent{
		ID: a.ID, Name: a.Name, Lang: "ru", Role: string(acct.Role), AutoAnswer: d.autoAnswer,
		PauseReasons: pauseReasons, Dispositions: dispositions,
	}, nil
}

func (d *desk) SetState(ctx context.Context, agentID string, st softphone.AgentState, reason string) error {
	if _, ok := d.model.Agent(agentID); !ok {
		return fmt.Errorf("%w: %s is not an agent", softphone.ErrInvalidState, agentID)
	}
	var err error
	switch st {
	case softphone.StateAvailable:
		if err = d.center.SetAvailable(ctx, agentID); errors.Is(err, acd.ErrNotLoggedIn) {
			err = d.center.Login(ctx, agentID)
		} else if errors.Is(err, acd.ErrAgentBusy) {
			err = d.center.PauseAfterCall(ctx, agentID, "") // "available after all": the pause asked for is off
		}
	case softphone.StatePaused:
		if reason == "" {
			reason = "break"
		}
		// On a call or in its wrap-up, the pause comes after it (the wrap-up's submit would
		// otherwise make them available again); idle, at once.
		err = d.center.PauseAfterCall(ctx, agentID, reason)
	case softphone.StateLoggedOut:
		err = d.center.Logout(ctx, agentID)
	default:
		return fmt.Errorf("%w: %q", softphone.ErrInvalidState, st)
	}
	if errors.Is(err, acd.ErrAgentBusy) {
		return fmt.Errorf("%w: finish the call first", softphone.ErrInvalidState)
	}
	if err == nil {
		// What the ACD made of it (the state asked for, or the call going on with a pause to
		// follow), in order with the pushes of the ACD's events.
		if d.states == nil || d.states.push(ctx, agentID, true) != nil {
			d.phones.web.Notify(agentID, softphone.StateChanged{State: string(st), Reason: reason})
		}
	}
	return err
}

// callErr turns the switchboard's sentinels into the page's.
func callErr(err error) error {
	switch {
	case errors.Is(err, switchboard.ErrNotYourCall):
		return fmt.Errorf("%w: %w", softphone.ErrNotYourCall, err)
	case errors.Is(err, switchboard.ErrNoSuchCall):
		return fmt.Errorf("%w: %w", softphone.ErrNoSuchCall, err)
	case errors.Is(err, switchboard.ErrDialRefused):
		return fmt.Errorf("%w: %w", softphone.ErrRefused, err)
	case errors.Is(err, switchboard.ErrTransferFailed):
		return fmt.Errorf("%w: %w", softphone.ErrTransferFailed, err)
	case errors.Is(err, switchboard.ErrTargetBusy):
		return fmt.Errorf("%w: %w", softphone.ErrUnavailable, err)
	case errors.Is(err, switchboard.ErrBadTarget), errors.Is(err, switchboard.ErrNoConsultation):
		return fmt.Errorf("%w: %w", softphone.ErrInvalidState, err)
	}
	return err
}

func (d *desk) Answer(ctx context.Context, agentID, callID string) error {
	return d.call(ctx, deskReq{Op: opAnswer, Agent: agentID, Call: callID})
}

func (d *desk) Reject(ctx context.Context, agentID, callID string) error {
	return d.call(ctx, deskReq{Op: opReject, Agent: agentID, Call: callID})
}

func (d *desk) Hangup(ctx context.Context, agentID, callID string) error {
	return d.call(ctx, deskReq{Op: opHangup, Agent: agentID, Call: callID})
}

func (d *desk) Hold(ctx context.Context, agentID, callID string) error {
	return d.call(ctx, deskReq{Op: opHold, Agent: agentID, Call: callID})
}

func (d *desk) Resume(ctx context.Context, agentID, callID string) error {
	return d.call(ctx, deskReq{Op: opResume, Agent: agentID, Call: callID})
}

// Mute replaces the agent's audio with silence at the gateway: instant, and no ARI round trip.
func (d *desk) Mute(ctx context.Context, agentID, callID string) error {
	return d.mute(agentID, callID, true)
}

func (d *desk) Unmute(ctx context.Context, agentID, callID string) error {
	return d.mute(agentID, callID, false)
}

func (d *desk) mute(agentID, callID string, muted bool) error {
	card, talking, ok := d.sb.ActiveCall(agentID)
	if !ok || card.ID != callID {
		// Another controller's call: its leg is on this gateway all the same, and this
		// controller's pushes say whether the agent is connected.
		if !d.phones.talking(agentID, callID) {
			return softphone.ErrNotYourCall
		}
		talking = true
	}
	leg := d.phones.leg(agentID, callID)
	if !talking || leg == nil {
		return fmt.Errorf("%w: the call is not connected", softphone.ErrInvalidState)
	}
	leg.SetMuted(muted)
	msg := softphone.Unmuted(callID)
	if muted {
		msg = softphone.Muted(callID)
	}
	d.phones.web.Notify(agentID, msg)
	return nil
}

func (d *desk) SendDTMF(ctx context.Context, agentID, callID, digits string) error {
	return d.call(ctx, deskReq{Op: opDTMF, Agent: agentID, Call: callID, Digits: digits})
}

func (d *desk) BlindTransfer(ctx context.Context, agentID, callID string, to softphone.Target) error {
	return d.call(ctx, deskReq{Op: opTransfer, Agent: agentID, Call: callID, Target: to})
}

func (d *desk) blindTransfer(ctx context.Context, agentID, callID string, to softphone.Target) error {
	var t switchboard.Target
	switch to.Kind {
	case softphone.TargetQueue:
		if _, ok := d.model.Queue(to.Value); !ok {
			return fmt.Errorf("%w: no queue %q", softphone.ErrInvalidState, to.Value)
		}
		t = switchboard.Target{Kind: switchboard.TargetQueue, ID: to.Value}
	case softphone.TargetNumber:
		t = switchboard.Target{Kind: switchboard.TargetNumber, ID: to.Value}
	case softphone.TargetAgent:
		if _, ok := d.model.Agent(to.Value); !ok {
			return fmt.Errorf("%w: no agent %q", softphone.ErrInvalidState, to.Value)
		}
		// Refuse at once when the colleague is busy, so the agent keeps the caller; a race after this
		// check leaves the caller waiting in their queue for whoever frees up first.
		if st, err := d.agentState(ctx, to.Value); err == nil && st != acd.Available {
			return fmt.Errorf("%w: %s is %s", softphone.ErrInvalidState, to.Value, st)
		}
		t = switchboard.Target{Kind: switchboard.TargetAgent, ID: to.Value}
	}
	return callErr(d.sb.Transfer(ctx, agentID, callID, t))
}

// agentState reads one agent's state from the ACD (a whole snapshot: transfers are rare).
func (d *desk) agentState(ctx context.Context, agentID string) (acd.AgentState, error) {
	snap, err := d.center.Snapshot(ctx)
	if err != nil {
		return "", err
	}
	for _, a := range snap.Agents {
		if a.ID == agentID {
			return a.State, nil
		}
	}
	return acd.Offline, nil
}

// Consult starts an attended transfer: the caller holds while the agent talks to the target first,
// an outside number, a named colleague or whoever a queue would offer its next call to. A colleague
// or a queue with nobody available now is refused at once (the page says so; the caller stays).
func (d *desk) Consult(ctx context.Context, agentID, callID string, to softphone.Target) error {
	return d.call(ctx, deskReq{Op: opConsult, Agent: agentID, Call: callID, Target: to})
}

func (d *desk) consult(ctx context.Context, agentID, callID string, to softphone.Target) error {
	var t switchboard.Target
	switch to.Kind {
	case softphone.TargetNumber:
		t = switchboard.Target{Kind: switchboard.TargetNumber, ID: to.Value}
	case softphone.TargetQueue:
		if _, ok := d.model.Queue(to.Value); !ok {
			return fmt.Errorf("%w: no queue %q", softphone.ErrInvalidState, to.Value)
		}
		t = switchboard.Target{Kind: switchboard.TargetQueue, ID: to.Value}
	case softphone.TargetAgent:
		if _, ok := d.model.Agent(to.Value); !ok {
			return fmt.Errorf("%w: no agent %q", softphone.ErrInvalidState, to.Value)
		}
		t = switchboard.Target{Kind: switchboard.TargetAgent, ID: to.Value}
	default:
		return fmt.Errorf("%w: consult %q", softphone.ErrInvalidState, to.Kind)
	}
	return callErr(d.sb.Consult(ctx, agentID, callID, t))
}

func (d *desk) CompleteTransfer(ctx context.Context, agentID, callID string) error {
	return d.call(ctx, deskReq{Op: opComplete, Agent: agentID, Call: callID})
}

func (d *desk) CancelConsult(ctx context.Context, agentID, callID string) error {
	return d.call(ctx, deskReq{Op: opCancel, Agent: agentID, Call: callID})
}

// WrapUp records the disposition and ends after-call work early: the agent is available again.
// Only for a call the agent talked on (a line in their history) and with one of the center's codes:
// anything else is refused before anything changes, as the page's other call actions are.
func (d *desk) WrapUp(ctx context.Context, agentID, callID, disposition, note string) error {
	if !slices.ContainsFunc(dispositions, func(c softphone.Disposition) bool { return c.Code == disposition }) {
		return fmt.Errorf("%w: disposition %q is not one of the center's", softphone.ErrBadMessage, disposition)
	}
	switch err := d.history.dispose(ctx, agentID, callID, disposition, note); {
	case errors.Is(err, errNoLine):
		return fmt.Errorf("%w: %w", softphone.ErrNotYourCall, err)
	case errors.Is(err, errDisposedSame):
		return nil // done already: the agent's state has moved on since
	case errors.Is(err, errDisposed):
		return fmt.Errorf("%w: %w", softphone.ErrInvalidState, err)
	case err != nil:
		return err
	}
	if err := d.center.SetAvailable(ctx, agentID); err != nil && !errors.Is(err, acd.ErrAgentBusy) {
		return err
	}
	d.phones.web.Notify(agentID, softphone.CallEvent{Kind: softphone.MsgWrapUpEnded, CallID: callID})
	d.phones.web.Notify(agentID, softphone.StateChanged{State: "available"})
	return nil
}

// ExtendWrapUp gives the agent more wrap-up time after the call, within acd.MaxWrapUp in all.
func (d *desk) ExtendWrapUp(ctx context.Context, agentID, callID string, by time.Duration) (time.Duration, error) {
	until, err := d.center.ExtendWrapUp(ctx, agentID, by)
	if errors.Is(err, acd.ErrNotWrappingUp) {
		return 0, fmt.Errorf("%w: the wrap-up is over", softphone.ErrInvalidState)
	}
	if err != nil {
		return 0, err
	}
	return time.Until(until), nil
}

func (d *desk) CallsToday(ctx context.Context, agentID string) ([]softphone.CallSummary, error) {
	return d.history.today(ctx, agentID)
}
