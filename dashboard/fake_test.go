package dashboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// fakeSource serves a View that a test changes. Each Snapshot returns a deep copy, like a real
// Source that reads Redis each time.
type fakeSource struct {
	mu    sync.Mutex
	v     View
	err   error
	calls int
}

func (f *fakeSource) Snapshot(ctx context.Context) (View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return View{}, f.err
	}
	return cloneView(f.v), nil
}

func (f *fakeSource) set(change func(v *View)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.v)
}

func (f *fakeSource) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeSource) snapshots() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func cloneView(v View) View {
	out := v
	out.Queues = make([]Queue, len(v.Queues))
	for i, q := range v.Queues {
		q.Calls = append([]WaitingCall(nil), q.Calls...)
		out.Queues[i] = q
	}
	out.Agents = append([]Agent(nil), v.Agents...)
	return out
}

// fakeActions records what it was asked as "listen sup1 c1" and answers by call or agent id:
// "missing" → ErrNotFound, "busy" → ErrNotAllowed, "boom" → an internal error.
type fakeActions struct {
	mu  sync.Mutex
	got []string
	ch  chan string // every action, for tests that wait for one
}

func newFakeActions() *fakeActions { return &fakeActions{ch: make(chan string, 100)} }

func (f *fakeActions) record(id, s string) error {
	f.mu.Lock()
	f.got = append(f.got, s)
	f.mu.Unlock()
	select {
	case f.ch <- s:
	default:
	}
	switch id {
	case "missing":
		return fmt.Errorf("call %s: %w", id, ErrNotFound)
	case "busy":
		return fmt.Errorf("call %s: already bridged: %w", id, ErrNotAllowed)
	case "boom":
		return errors.New("ari: dial tcp 10.0.0.7:8088: connection refused")
	case "slow":
		return context.DeadlineExceeded
	}
	return nil
}

func (f *fakeActions) Listen(ctx context.Context, sup, call string) error {
	return f.record(call, "listen "+sup+" "+call)
}
func (f *fakeActions) Whisper(ctx context.Context, sup, call string) error {
	return f.record(call, "whisper "+sup+" "+call)
}
func (f *fakeActions) Barge(ctx context.Context, sup, call string) error {
	return f.record(call, "barge "+sup+" "+call)
}
func (f *fakeActions) Leave(ctx context.Context, sup, call string) error {
	return f.record(call, "leave "+sup+" "+call)
}
func (f *fakeActions) MoveCall(ctx context.Context, call, queue string) error {
	return f.record(call, "move "+call+" "+queue)
}
func (f *fakeActions) SetAgentState(ctx context.Context, agent string, st AgentState, reason string) error {
	return f.record(agent, fmt.Sprintf("state %s %s %s", agent, st, reason))
}
func (f *fakeActions) SetAnnouncement(ctx context.Context, kind Announcement) error {
	return f.record(string(kind), "announce "+string(kind))
}

func (f *fakeActions) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) == 0 {
		return ""
	}
	return f.got[len(f.got)-1]
}

// base is a fixed moment so that views compare byte for byte.
var base = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

// sampleView is a small center: two queues, three agents.
func sampleView() View {
	return View{
		Queues: []Queue{
			{
				Name: "parcels", Titles: map[string]string{"ru": "Посылки", "en": "Parcels"}, TargetPercent: 80, TargetSeconds: 20,
				Offered: 10, Answered: 8, AnsweredInTarget: 6, Abandoned: 2,
				Staffing: &Staffing{CallsPerHour15: 120, CallsPerHour30: 60, HandleSeconds: 120, Needed15: 7, Needed30: 4, LoggedIn: 2, Available: 1},
				Calls: []WaitingCall{
					{ID: "c1", Caller: "+79990000001", Since: base.Add(-90 * time.Second), Priority: 0, Lang: "ru", Entered: map[string]string{"tracking": "12345678901234"}},
					{ID: "c2", Caller: "+79990000002", Since: base.Add(-30 * time.Second), Priority: 5, Lang: "en", CallerType: "business", Entered: map[string]string{"contract": "12-345"}},
				},
			},
			{Name: "claims", Titles: map[string]string{"ru": "Претензии"}, TargetPercent: 80, TargetSeconds: 30},
		},
		Groups: []Group{{Name: "private", Titles: map[string]string{"ru": "Частные клиенты", "en": "Private customers"}}, {Name: "business"}},
		Agents: []Agent{
			{ID: "a1", Name: "Анна", Group: "private", State: StateAvailable, Since: base.Add(-time.Minute)},
			{ID: "a2", Name: "Борис", Group: "private", State: StateOnCall, Since: base.Add(-2 * time.Minute), CallID: "c5", Queue: "parcels"},
			{ID: "a3", Name: "Вера", Group: "business", State: StatePaused, Reason: "break", Since: base.Add(-3 * time.Minute)},
		},
		Announcement: AnnouncementNone,
	}
}

// bigView is a center of the customer's size: 500 agents in four groups, 8 queues, 64 waiting.
func bigView() View { return bigViewQueues(8) }

// bigViewQueues is bigView with n queues of 8 waiting callers each.
func bigViewQueues(n int) View {
	groups := []struct {
		name string
		n    int
	}{{"private", 250}, {"business", 200}, {"social", 20}, {"payouts", 30}}
	states := []AgentState{StateAvailable, StateRinging, StateOnCall, StateOnCall, StateOnCall, StateWrapUp, StatePaused, StateOffline}
	var v View
	i := 0
	for _, g := range groups {
		for range g.n {
			a := Agent{
				ID: fmt.Sprintf("a%03d", i), Name: fmt.Sprintf("Оператор %03d", i), Group: g.name,
				State: states[i%len(states)], Since: base.Add(-time.Duration(i) * time.Second),
			}
			if a.State == StateOnCall {
				a.CallID, a.Queue = fmt.Sprintf("call-%d", i), "q1"
			}
			v.Agents = append(v.Agents, a)
			i++
		}
	}
	for q := range n {
		qu := Queue{Name: fmt.Sprintf("q%d", q), TargetPercent: 80, TargetSeconds: 20, Offered: 1000, Answered: 900, AnsweredInTarget: 800, Abandoned: 50}
		for c := range 8 {
			qu.Calls = append(qu.Calls, WaitingCall{
				ID: fmt.Sprintf("w%d-%d", q, c), Caller: "+7999000" + fmt.Sprint(q*100+c), Since: base.Add(-time.Duration(c) * time.Minute),
				Priority: c % 3, Lang: "ru", CallerType: "private", Entered: map[string]string{"tracking": "RA123456789RU"},
			})
		}
		v.Queues = append(v.Queues, qu)
	}
	return v
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
