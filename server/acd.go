package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/switchboard"
)

// distributor is the switchboard's Distributor over the Redis ACD. Ring-all offers and the agents an
// answer or a hangup frees are told to the pages here, where both sides are known.
type distributor struct {
	center *acd.Center
	cancel func(agentID, callID, reason string) // stop an agent's page ringing (switchboard.Ring* reasons)
	log    *slog.Logger
	// retryFor bounds how long a write that must not be lost (Accept, RingNoAnswer, Finish) is
	// retried through a Redis outage; default a minute, as the switchboard's persist.
	retryFor time.Duration
}

var _ switchboard.Distributor = (*distributor)(nil)

func (d *distributor) Enqueue(ctx context.Context, c switchboard.QueuedCall) error {
	_, err := d.center.Enqueue(ctx, acd.Waiting{CallID: c.CallID, Queue: c.Queue, Priority: c.Priority, Data: c.Data})
	return err
}

func (d *distributor) Abandon(ctx context.Context, callID string) error {
	freed, err := d.center.Abandon(ctx, callID)
	d.unring(freed, callID, switchboard.RingEndCallerLeft)
	return stale(err)
}

// stale marks the ACD's "no longer in that state" answers, which a retry cannot fix.
func stale(err error) error {
	for _, s := range []error{acd.ErrUnknownCall, acd.ErrNotOnCall, acd.ErrNotRinging, acd.ErrNotWaiting, acd.ErrConnected, acd.ErrNotConsulting} {
		if errors.Is(err, s) {
			return fmt.Errorf("%w: %w", switchboard.ErrStale, err)
		}
	}
	return err
}

func (d *distributor) Accept(ctx context.Context, callID, agentID string) error {
	var freed []string
	err := d.retry(ctx, "accept", callID, func() (err error) {
		freed, err = d.center.Accept(ctx, callID, agentID)
		return err
	})
	d.unring(freed, callID, switchboard.RingEndAnsweredElsewhere)
	return err
}

// acdAnswers are the ACD's own refusals: Redis answered, so trying again cannot change the answer.
var acdAnswers = []error{acd.ErrUnknownQueue, acd.ErrUnknownAgent, acd.ErrUnknownCall, acd.ErrDuplicateCall,
	acd.ErrAgentBusy, acd.ErrNotLoggedIn, acd.ErrNotRinging, acd.ErrNotOnCall, acd.ErrNotWaiting, acd.ErrConnected,
	acd.ErrBadRequest, acd.ErrNoAgent, acd.ErrConsulting, acd.ErrNotConsulting}

// retry runs a write the live state must not miss (an answer, a ring's end, a call's end) until
// Redis takes it: a Redis error here used to leave agent and call ringing until a restart. It gives
// up after retryFor or when ctx ends (the reconciler then frees what stays stuck). A "no longer in
// that state" answer after a failed attempt means that attempt landed and only its reply was lost.
func (d *distributor) retry(ctx context.Context, what, callID string, f func() error) error {
	limit := d.retryFor
	if limit <= 0 {
		limit = time.Minute
	}
	deadline := time.Now().Add(limit)
	wait := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		for _, a := range acdAnswers {
			if errors.Is(err, a) {
				if attempt > 0 && errors.Is(stale(err), switchboard.ErrStale) {
					d.log.Info("an earlier attempt was recorded; its reply was lost", "what", what, "call", callID, "err", err)
					return nil
				}
				return err
			}
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			d.log.Error("gave up recording in the ACD", "what", what, "call", callID, "err", err)
			return err
		}
		d.log.Warn("recording in the ACD failed; retrying", "what", what, "call", callID, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait): // a backoff between retries, not synchronisation
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func (d *distributor) unring(agents []string, callID, reason string) {
	for _, a := range agents {
		d.cancel(a, callID, reason)
	}
}

func (d *distributor) RingNoAnswer(ctx context.Context, callID, agentID string) error {
	return d.retry(ctx, "ring no answer", callID, func() error { return d.center.RingNoAnswer(ctx, callID, agentID) })
}

func (d *distributor) Finish(ctx context.Context, callID, agentID string) error {
	return stale(d.retry(ctx, "finish", callID, func() error { return d.center.Finish(ctx, callID, agentID) }))
}

// liveCalls is the switchboard's picture of its calls in the ACD's terms, for the reconciler.
type liveCalls struct{ sb *switchboard.Switchboard }

func (l liveCalls) LiveCalls() (map[string]acd.LiveCall, bool) {
	calls, ok := l.sb.LiveCalls()
	if !ok {
		return nil, false
	}
	out := make(map[string]acd.LiveCall, len(calls))
	for id, c := range calls {
		out[id] = acd.LiveCall{Ringing: c.Ringing, Talking: c.Talking}
	}
	return out, true
}

func (d *distributor) CallbackNoAnswer(ctx context.Context, callID, agentID string) (time.Time, error) {
	_, retryAt, err := d.center.CallbackNoAnswer(ctx, callID, agentID)
	return retryAt, stale(err)
}

func (d *distributor) Dispatch(ctx context.Context) (int, error) {
	offers, err := d.center.Dispatch(ctx)
	return len(offers), err
}

func (d *distributor) Offers(ctx context.Context, owner string) <-chan switchboard.Offer {
	in := d.center.Offers(ctx, owner)
	out := make(chan switchboard.Offer)
	go func() {
		defer close(out)
		for o := range in {
			select {
			case out <- switchboard.Offer{CallID: o.CallID, Agents: o.Agents, Queue: o.Queue, Callback: o.Callback, Data: o.Data}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Waiting lists owner's calls from the ACD's snapshot, to take them back after a restart.
func (d *distributor) Waiting(ctx context.Context, owner string) ([]switchboard.QueuedCall, error) {
	snap, err := d.center.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var out []switchboard.QueuedCall
	for _, c := range snap.Calls {
		if owner != "" && c.Owner != owner {
			continue
		}
		q := switchboard.QueuedCall{CallID: c.ID, Queue: c.Queue, Priority: c.Priority, Data: c.Data,
			Talking: c.Stage == acd.StageOnCall, Since: c.EnqueuedAt, Consult: c.Consult, Owner: c.Owner}
		if len(c.Agents) > 0 {
			q.Agent = c.Agents[0]
		}
		if c.Stage == acd.StageRinging {
			q.Ringing = c.Agents
		}
		out = append(out, q)
	}
	return out, nil
}

func (d *distributor) Alive(ctx context.Context, ttl time.Duration) error {
	_, err := d.center.Alive(ctx, ttl)
	return err
}

func (d *distributor) Claim(ctx context.Context, callID, owner string) error {
	_, err := d.center.Claim(ctx, callID, owner)
	return stale(err)
}

func (d *distributor) Position(ctx context.Context, callID string) (switchboard.Position, error) {
	p, err := d.center.Position(ctx, callID)
	if err != nil {
		return switchboard.Position{}, err
	}
	q, _ := d.center.Model().Queue(p.Queue)
	return switchboard.Position{Place: p.Position, Wait: p.Wait, WaitKnown: p.Known, Every: q.AnnounceEvery}, nil
}

func (d *distributor) RequestCallback(ctx context.Context, callID, number string) error {
	return d.center.RequestCallback(ctx, callID, number)
}

func (d *distributor) Overdue(ctx context.Context, owner string) ([]switchboard.Overflow, error) {
	list, err := d.center.Overdue(ctx, 100)
	if err != nil {
		return nil, err
	}
	var out []switchboard.Overflow
	for _, o := range list {
		if o.Owner != owner {
			continue
		}
		out = append(out, switchboard.Overflow{
			CallID: o.CallID, Action: switchboard.OverflowAction(o.Overflow.Kind), Queue: o.Overflow.Queue, Message: o.Overflow.Message,
		})
	}
	return out, nil
}

func (d *distributor) Move(ctx context.Context, callID, queue string) error {
	_, err := d.center.Move(ctx, callID, queue)
	return err
}

func (d *distributor) Exit(ctx context.Context, callID, reason string) error {
	freed, err := d.center.Exit(ctx, callID, reason)
	d.unring(freed, callID, switchboard.RingEndCallerLeft)
	return err
}

func (d *distributor) Direct(ctx context.Context, callID, agentID string) error {
	return d.center.Direct(ctx, callID, agentID)
}

// Consult reserves the colleague of an attended transfer. Nobody available is ErrTargetBusy (the
// agent keeps the caller); a target the center does not have is ErrBadTarget.
func (d *distributor) Consult(ctx context.Context, callID, fromAgent string, to switchboard.Target) (string, error) {
	var agent string
	var err error
	switch to.Kind {
	case switchboard.TargetAgent:
		agent, err = to.ID, d.center.ConsultAgent(ctx, callID, fromAgent, to.ID)
	case switchboard.TargetQueue:
		agent, err = d.center.ConsultQueue(ctx, callID, fromAgent, to.ID)
	default:
		return "", fmt.Errorf("%w: consult %q in the ACD", switchboard.ErrBadTarget, to.Kind)
	}
	switch {
	case err == nil:
		return agent, nil
	case errors.Is(err, acd.ErrAgentBusy):
		return "", fmt.Errorf("%w: %s is not available", switchboard.ErrTargetBusy, to.ID)
	case errors.Is(err, acd.ErrNoAgent):
		return "", fmt.Errorf("%w: nobody in %s is available", switchboard.ErrTargetBusy, to.ID)
	case errors.Is(err, acd.ErrUnknownAgent), errors.Is(err, acd.ErrUnknownQueue), errors.Is(err, acd.ErrBadRequest), errors.Is(err, acd.ErrConsulting):
		return "", fmt.Errorf("%w: %w", switchboard.ErrBadTarget, err)
	}
	return "", stale(err)
}

func (d *distributor) EndConsult(ctx context.Context, callID, agentID string, talked bool) error {
	return stale(d.center.EndConsult(ctx, callID, agentID, talked))
}

func (d *distributor) HandOver(ctx context.Context, callID, fromAgent, toAgent string) error {
	return stale(d.center.HandOver(ctx, callID, fromAgent, toAgent))
}

func (d *distributor) Hold(ctx context.Context, callID, agentID string, on bool) error {
	_, err := d.center.Hold(ctx, callID, agentID, on)
	return stale(err)
}

func (d *distributor) Unpause(ctx context.Context, agentID string) error {
	return d.center.SetAvailable(ctx, agentID)
}
