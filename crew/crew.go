// Package crew staffs a demo with agents the process plays itself: they go available, answer what
// rings them after a moment, talk a while, hang up and wrap up, and now and then take a break, so
// the demo's queues move and its supervisor board shows a working center. A person can still log
// in as any agent the crew does not play.
//
// The crew drives the same desk the agent page drives; it runs with a simulated Asterisk, and on a
// real one only for the load generator (a crew on real lines would answer real callers with
// silence).
package crew

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Desk is what a crew member does: the agent page's actions, as the controller's desk serves them.
type Desk interface {
	Available(ctx context.Context, agent string) error
	Pause(ctx context.Context, agent, reason string) error
	Answer(ctx context.Context, agent, call string) error
	Hangup(ctx context.Context, agent, call string) error
	WrapUp(ctx context.Context, agent, call, disposition, note string) error
}

// Calls tells a member the call ringing them or talking with them now.
type Calls func(agent string) (call string, talking, ok bool)

// Config is how the crew behaves. Durations are real time before TimeScale.
type Config struct {
	Agents       []string
	Dispositions []string      // codes to wrap up with; "resolved" when empty
	AnswerAfter  time.Duration // the longest a ring waits for a member; default 4 s
	TalkMin      time.Duration // default 40 s
	TalkMax      time.Duration // default 3 min
	WrapUp       time.Duration // the longest wrap-up; default 15 s
	BreakEvery   int           // a break after about this many calls; default 8
	Break        time.Duration // default 2 min
	TimeScale    float64       // the simulator's: 0.2 runs five times faster; default 1
	Poll         time.Duration // how often a member looks at their phone; default 300 ms
	Bell         *Bell         // wakes a member between looks; nil: looks only
	ArriveWithin time.Duration // members log in over this long at the start; default 5 s
	Seed         uint64        // 0: from the clock
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AnswerAfter, 4*time.Second)
	def(&c.TalkMin, 40*time.Second)
	def(&c.TalkMax, 3*time.Minute)
	def(&c.WrapUp, 15*time.Second)
	def(&c.Break, 2*time.Minute)
	def(&c.Poll, 300*time.Millisecond)
	def(&c.ArriveWithin, 5*time.Second)
	if c.TalkMax < c.TalkMin {
		c.TalkMax = c.TalkMin
	}
	if c.BreakEvery <= 0 {
		c.BreakEvery = 8
	}
	if c.TimeScale <= 0 {
		c.TimeScale = 1
	}
	if len(c.Dispositions) == 0 {
		c.Dispositions = []string{"resolved"}
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	return c
}

// Run plays every member until ctx ends.
func Run(ctx context.Context, cfg Config, desk Desk, calls Calls, log *slog.Logger) {
	cfg = cfg.withDefaults()
	done := make(chan struct{})
	for i, a := range cfg.Agents {
		m := &member{id: a, cfg: cfg, desk: desk, calls: calls, log: log.With("agent", a), bell: cfg.Bell.of(a),
			r: rand.New(rand.NewPCG(cfg.Seed, uint64(i)))}
		go func() { m.run(ctx); done <- struct{}{} }()
	}
	for range cfg.Agents {
		<-done
	}
}

type member struct {
	id    string
	cfg   Config
	desk  Desk
	calls Calls
	log   *slog.Logger
	bell  <-chan struct{}
	r     *rand.Rand
}

// wait sleeps between lo and hi (scaled); false when ctx ended.
func (m *member) wait(ctx context.Context, lo, hi time.Duration) bool {
	d := lo
	if hi > lo {
		d += time.Duration(m.r.Int64N(int64(hi - lo)))
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(time.Duration(float64(d) * m.cfg.TimeScale)):
		return true
	}
}

func (m *member) run(ctx context.Context) {
	// Members arrive over the first seconds, not all at once.
	if !m.wait(ctx, 0, m.cfg.ArriveWithin) {
		return
	}
	if err := m.desk.Available(ctx, m.id); err != nil {
		m.log.Warn("crew: go available", "err", err)
	}
	handled := 0
	tick := time.NewTicker(m.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-m.bell:
		}
		call, talking, ok := m.calls(m.id)
		if !ok || talking {
			continue
		}
		if !m.wait(ctx, min(500*time.Millisecond, m.cfg.AnswerAfter), m.cfg.AnswerAfter) {
			return
		}
		if err := m.desk.Answer(ctx, m.id, call); err != nil {
			continue // the caller left, or the ring went on: the next one
		}
		m.talk(ctx, call)
		if ctx.Err() != nil {
			return
		}
		if handled++; handled%m.cfg.BreakEvery == 0 {
			m.takeBreak(ctx)
		}
	}
}

// talk holds the call for a while (unless the caller hangs up first), then wraps it up.
func (m *member) talk(ctx context.Context, call string) {
	until := time.Now().Add(time.Duration(float64(m.cfg.TalkMin+time.Duration(m.r.Int64N(int64(m.cfg.TalkMax-m.cfg.TalkMin)+1))) * m.cfg.TimeScale))
	for time.Now().Before(until) {
		if c, talking, ok := m.calls(m.id); !ok || c != call || !talking {
			break // the caller hung up
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(m.cfg.Poll, time.Until(until))):
		case <-m.bell:
		}
	}
	if err := m.desk.Hangup(ctx, m.id, call); err != nil && ctx.Err() == nil {
		m.log.Debug("crew: hang up", "call", call, "err", err)
	}
	if !m.wait(ctx, min(2*time.Second, m.cfg.WrapUp), m.cfg.WrapUp) {
		return
	}
	d := m.cfg.Dispositions[m.r.IntN(len(m.cfg.Dispositions))]
	if err := m.desk.WrapUp(ctx, m.id, call, d, ""); err != nil && !errors.Is(err, context.Canceled) {
		// The wrap-up ran out by itself: nothing left to submit.
		m.log.Debug("crew: wrap up", "call", call, "err", err)
	}
}

func (m *member) takeBreak(ctx context.Context) {
	if err := m.desk.Pause(ctx, m.id, "break"); err != nil {
		return
	}
	if !m.wait(ctx, m.cfg.Break/2, m.cfg.Break) {
		return
	}
	if err := m.desk.Available(ctx, m.id); err != nil {
		m.log.Warn("crew: back from a break", "err", err)
	}
}
