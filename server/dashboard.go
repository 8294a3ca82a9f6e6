package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/account"
	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/dashboard"
	"github.com/hotline-cc/hotline/switchboard"
)

// board is the dashboard's Source and Actions over the ACD. Today's counts come from the ACD's event
// stream (shared by every controller), read incrementally: each poll reads only the new entries.
type board struct {
	sb       *switchboard.Switchboard
	audioUp  func(agentID string) bool     // the agent's softphone audio is connected
	legs     func(agentID string) []string // the calls an account's softphone carries now
	accounts *account.Service
	center   *acd.Center
	model    *acd.Model
	rdb      redis.UniversalClient
	annKey   string // where the announcement switch lives in Redis
	// link sends a monitor of a call another controller holds to it; nil: all calls are here.
	link *link
	// refused is the center's day count of carrier calls its nodes refused (refusals.go).
	refused *refusals
	loc     *time.Location // where the center's days begin; nil: the process's time zone

	monMu sync.Mutex // one monitor decision at a time: the busy check and the join are one step

	mu     sync.Mutex
	day    string // the day the counts are for
	cursor string // the last stream entry counted
	counts map[string]*dayCounts
	recent arrivals // for the staffing advice
}

type dayCounts struct{ offered, answered, inTarget, abandoned int }

var _ dashboard.Source = (*board)(nil)
var _ dashboard.Actions = (*board)(nil)

func (b *board) Snapshot(ctx context.Context) (dashboard.View, error) {
	snap, err := b.center.Snapshot(ctx)
	if err != nil {
		return dashboard.View{}, err
	}
	counts, err := b.today(ctx)
	if err != nil {
		return dashboard.View{}, err
	}
	var refused int
	if b.refused != nil {
		if refused, err = b.refused.Today(ctx); err != nil {
			return dashboard.View{}, err
		}
	}
	calls := make(map[string]acd.CallState, len(snap.Calls))
	// Calls out of their queues for now, by queue: callbacks to retry, calls of a stopped controller.
	retries, stranded := map[string]int{}, map[string]int{}
	for _, c := range snap.Calls {
		calls[c.ID] = c
		switch c.Stage {
		case acd.StageDeferred:
			retries[c.Queue]++
		case acd.StageParked:
			stranded[c.Queue]++
		}
	}
	// Agents who serve each queue: logged in, and of those available.
	loggedIn, available := map[string]int{}, map[string]int{}
	for _, as := range snap.Agents {
		if as.State == acd.Offline {
			continue
		}
		ma, _ := b.model.Agent(as.ID)
		for _, q := range ma.Queues() {
			loggedIn[q]++
			if as.State == acd.Available {
				available[q]++
			}
		}
	}
	now := time.Now()
	v := dashboard.View{Announcement: b.announcement(ctx), Totals: dashboard.Totals{Refused: refused}}
	for _, qs := range snap.Queues {
		q := dashboard.Queue{Name: qs.Name}
		if mq, ok := b.model.Queue(qs.Name); ok {
			q.Titles = mq.Title
			q.TargetPercent, q.TargetSeconds = float64(mq.ServiceLevel.Percent), int(mq.ServiceLevel.Within.Seconds())
			b.mu.Lock()
			r15, r30 := b.recent.perHour(qs.Name, now, 15*time.Minute), b.recent.perHour(qs.Name, now, arrivalWindow)
			b.mu.Unlock()
			q.Staffing = staffingAdvice(mq, qs.HandleTime, r15, r30, loggedIn[qs.Name], available[qs.Name])
		}
		if c := counts[qs.Name]; c != nil {
			q.Offered, q.Answered, q.AnsweredInTarget, q.Abandoned = c.offered, c.answered, c.inTarget, c.abandoned
		}
		q.Retries, q.Stranded = retries[qs.Name], stranded[qs.Name]
		for _, id := range qs.Waiting {
			c := calls[id]
			q.Calls = append(q.Calls, dashboard.WaitingCall{
				ID: id, Caller: c.Data["caller_number"], Since: c.EnqueuedAt, Priority: c.Priority,
				Lang: c.Data["lang"], CallerType: c.Data["caller_type"], Entered: entered(c.Data),
			})
		}
		v.Queues = append(v.Queues, q)
	}
	for _, g := range b.model.Groups {
		v.Groups = append(v.Groups, dashboard.Group{Name: g, Titles: b.model.GroupTitles[g]})
	}
	for _, as := range snap.Agents {
		a := dashboard.Agent{ID: as.ID, Group: as.Group, State: boardState(as.State), Reason: as.Reason, Since: as.Since, CallID: as.Call}
		if ma, ok := b.model.Agent(as.ID); ok {
			a.Name = ma.Name
		}
		if c, ok := calls[as.Call]; ok {
			a.Queue, a.Caller = c.Queue, c.Data["caller_number"]
		}
		v.Agents = append(v.Agents, a)
	}
	return v, nil
}

func boardState(s acd.AgentState) dashboard.AgentState {
	switch s {
	case acd.Available:
		return dashboard.StateAvailable
	case acd.Ringing:
		return dashboard.StateRinging
	case acd.OnCall:
		return dashboard.StateOnCall
	case acd.Consulting:
		return dashboard.StateConsult
	case acd.WrapUp:
		return dashboard.StateWrapUp
	case acd.Paused:
		return dashboard.StatePaused
	}
	return dashboard.StateOffline
}

// summary is what the caller told the IVR, in one line.
func entered(d map[string]string) map[string]string {
	var out map[string]string
	for _, k := range []string{"contract", "tracking", "claim"} {
		if v := d[k]; v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// today brings the day's counts up to date with the event stream.
func (b *board) today(ctx context.Context) (map[string]*dayCounts, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if b.loc != nil {
		now = now.In(b.loc)
	}
	day := now.Format(time.DateOnly)
	if day != b.day {
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
		b.day, b.counts = day, map[string]*dayCounts{}
		if b.recent == nil {
			b.recent = arrivals{}
		}
		b.cursor = strconv.FormatInt(midnight.UnixMilli()-1, 10) + "-0"
	}
	defer b.recent.prune(now)
	for {
		evs, err := b.center.Events(ctx, b.cursor, 1000)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			c := b.counts[e.Queue]
			if c == nil {
				c = &dayCounts{}
				b.counts[e.Queue] = c
			}
			switch e.Event {
			case "ENQUEUE":
				c.offered++
				b.recent.add(e.Queue, e.Time)
			case "CONNECT":
				c.answered++
				waited, _ := strconv.Atoi(strings.Fields(e.Data + " 0")[0])
				if q, ok := b.model.Queue(e.Queue); ok && time.Duration(waited)*time.Millisecond <= q.ServiceLevel.Within {
					c.inTarget++
				}
			case "ABANDON":
				c.abandoned++
			}
			b.cursor = e.ID
		}
		if len(evs) < 1000 {
			return b.counts, nil
		}
	}
}

func (b *board) announcement(ctx context.Context) dashboard.Announcement {
	v, err := b.rdb.Get(ctx, b.annKey).Result()
	if err != nil || v == "" {
		return dashboard.AnnouncementNone
	}
	return dashboard.Announcement(v)
}

// Listen, Whisper and Barge reach the supervisor through their own softphone session: the dashboard
// passes the session's account id, never one from the request, and the call's audio goes into that
// account's softphone (they keep the agent page open with their account: a monitoring-only
// softphone). Monitoring "as" someone else cannot be asked for.
func (b *board) Listen(ctx context.Context, supervisorID, callID string) error {
	return b.monitor(ctx, supervisorID, callID, switchboard.MonitorListen)
}

func (b *board) Whisper(ctx context.Context, supervisorID, callID string) error {
	return b.monitor(ctx, supervisorID, callID, switchboard.MonitorWhisper)
}

func (b *board) Barge(ctx context.Context, supervisorID, callID string) error {
	return b.monitor(ctx, supervisorID, callID, switchboard.MonitorBarge)
}

func (b *board) Leave(ctx context.Context, supervisorID, callID string) error {
	return monitorErr(b.runMonitor(ctx, supervisorID, callID, switchboard.MonitorLeave))
}

func (b *board) monitor(ctx context.Context, supervisorID, callID string, mode switchboard.MonitorMode) error {
	if err := b.supervises(supervisorID); err != nil {
		return err
	}
	// The supervisor's softphone is on another controller (this board was reached through another
	// route of the load balancer): that controller's board checks and runs the request, as if the
	// supervisor had used it.
	if b.link != nil && !b.audioUp(supervisorID) {
		if home := b.link.home(ctx, supervisorID); home != "" {
			return monitorErr(b.link.monitorAtHome(ctx, home, monitorReq{Supervisor: supervisorID, Call: callID, Mode: string(mode)}))
		}
	}
	return b.monitorHere(ctx, supervisorID, callID, mode)
}

// supervises refuses an account that may not monitor. Only a supervisor's or an administrator's
// softphone monitors: never an agent's, whose audio belongs to their own caller. The dashboard
// already requires the role; this holds by itself.
func (b *board) supervises(supervisorID string) error {
	if acct, ok := b.accounts.Lookup(supervisorID); !ok || !acct.Role.Supervises() {
		return fmt.Errorf("%w: %s is not a supervisor's account", dashboard.ErrNotAllowed, supervisorID)
	}
	return nil
}

// monitorHere runs a monitor whose supervisor's softphone is on this controller.
func (b *board) monitorHere(ctx context.Context, supervisorID, callID string, mode switchboard.MonitorMode) error {
	if !b.audioUp(supervisorID) {
		return fmt.Errorf("%w: %s has no softphone open: log in on /agent/ with that account first, the call's audio comes there",
			dashboard.ErrNotAllowed, supervisorID)
	}
	b.monMu.Lock()
	defer b.monMu.Unlock()
	// One thing at a time in a softphone: refused while it carries a call or another monitor (moving
	// from listen to barge on the same call is a change of mode, not a second monitor).
	for _, c := range b.legs(supervisorID) {
		if c != monitorLeg(callID) {
			return fmt.Errorf("%w: your softphone is busy with %s: leave it first", dashboard.ErrNotAllowed, strings.TrimPrefix(c, switchboard.MonitorLegPrefix))
		}
	}
	return monitorErr(b.runMonitor(ctx, supervisorID, callID, mode))
}

// onMonitorAtHome runs a monitor request another controller's board sent here, to the
// supervisor's softphone's home.
func (b *board) onMonitorAtHome(ctx context.Context, from string, body json.RawMessage) (any, error) {
	var m monitorReq
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if err := b.supervises(m.Supervisor); err != nil {
		return nil, err
	}
	b.link.log.Info("a supervisor's request from another controller's board", "supervisor", m.Supervisor, "call", m.Call, "mode", m.Mode, "from", from)
	return nil, b.monitorHere(ctx, m.Supervisor, m.Call, switchboard.MonitorMode(m.Mode))
}

// runMonitor runs the monitor here when this controller holds the call, and otherwise on the one
// that does (the call's owner in the ACD), which opens the supervisor's leg on this controller's
// gateway (their softphone's home) as it does an agent's.
func (b *board) runMonitor(ctx context.Context, supervisorID, callID string, mode switchboard.MonitorMode) error {
	if b.link != nil && !b.sb.Holds(callID) {
		owner, err := callOwner(ctx, b.center, callID)
		if err != nil {
			return err
		}
		if owner != "" && owner != b.link.bus.Self() {
			return b.link.monitor(ctx, owner, monitorReq{Supervisor: supervisorID, Call: callID, Mode: string(mode)})
		}
	}
	return b.sb.Monitor(ctx, supervisorID, callID, mode)
}

// monitorLeg is the leg the switchboard opens for a monitor of callID.
func monitorLeg(callID string) string { return switchboard.MonitorLegPrefix + callID }

func monitorErr(err error) error {
	switch {
	case errors.Is(err, switchboard.ErrNoSuchCall):
		return fmt.Errorf("%w: %w", dashboard.ErrNotFound, err)
	case errors.Is(err, switchboard.ErrNotTalking), errors.Is(err, switchboard.ErrBadTarget):
		return fmt.Errorf("%w: %w", dashboard.ErrNotAllowed, err)
	}
	return err
}

func (b *board) MoveCall(ctx context.Context, callID, toQueue string) error {
	_, err := b.center.Move(ctx, callID, toQueue)
	return boardErr(err)
}

func (b *board) SetAgentState(ctx context.Context, agentID string, st dashboard.AgentState, reason string) error {
	var err error
	switch st {
	case dashboard.StatePaused:
		err = b.center.Pause(ctx, agentID, reason)
	case dashboard.StateOffline:
		// Log out first: an agent on a call is refused and keeps their session. Then revoke every
		// session (their pages close, their audio drops, their cookie stops working) and log out once
		// more, undoing an "available" the agent's page may have slipped in between.
		if err = b.center.Logout(ctx, agentID); err == nil {
			if err = b.accounts.RevokeAccount(ctx, agentID, "logged out by a supervisor"); err == nil {
				if err = b.center.Logout(ctx, agentID); errors.Is(err, acd.ErrNotLoggedIn) {
					err = nil
				}
			}
		}
	case dashboard.StateAvailable:
		err = b.center.SetAvailable(ctx, agentID)
	default:
		err = fmt.Errorf("%w: state %q", dashboard.ErrNotAllowed, st)
	}
	return boardErr(err)
}

// SetAnnouncement stores the switch in Redis, where every controller's IVR reads it.
func (b *board) SetAnnouncement(ctx context.Context, kind dashboard.Announcement) error {
	return b.rdb.Set(ctx, b.annKey, string(kind), 0).Err()
}

func boardErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, acd.ErrUnknownCall), errors.Is(err, acd.ErrUnknownAgent), errors.Is(err, acd.ErrUnknownQueue):
		return fmt.Errorf("%w: %w", dashboard.ErrNotFound, err)
	case errors.Is(err, acd.ErrAgentBusy), errors.Is(err, acd.ErrNotWaiting), errors.Is(err, acd.ErrConnected), errors.Is(err, acd.ErrNotLoggedIn):
		return fmt.Errorf("%w: %w", dashboard.ErrNotAllowed, err)
	}
	return err
}
