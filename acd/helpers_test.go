package acd

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/internal/redistest"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.UnixMilli(1_780_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testCenter = `center: test
weights: {queue_priority: 30s, caller_priority: 60s}
skills: [sales, support, vip, all]
queues:
  - {name: sales, strategy: longest-idle, skill: sales, wrapup: 10s, max_wait: 2m, overflow: {to: queue, queue: support}}
  - {name: support, strategy: longest-idle, skill: support, wrapup: 0s}
  - {name: vip, priority: 2, strategy: best-skill, skill: vip, min_level: 3}
  - {name: least, strategy: least-calls, skill: all}
  - {name: lin, strategy: linear, skill: all}
  - {name: ring, strategy: ring-all, skill: all}
groups:
  - {name: g, count: 0}
agents:
  - {id: a1, group: g, skills: {sales: 5, support: 5, vip: 3, all: 1}}
  - {id: a2, group: g, skills: {sales: 5, vip: 9, all: 1}}
  - {id: a3, group: g, skills: {support: 5, vip: 2, all: 1}}
`

type env struct {
	t     *testing.T
	ctx   context.Context
	clock *fakeClock
	c     *Center
	rdb   redis.UniversalClient
}

func newEnv(t *testing.T, src string) *env {
	t.Helper()
	srv := redistest.Start(t)
	return newEnvOn(t, srv.Client(t), src)
}

func newEnvOn(t *testing.T, rdb redis.UniversalClient, src string) *env {
	t.Helper()
	m, err := Load("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	c, err := New(rdb, m, Options{Instance: "i1", Now: clock.Now, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	c.scriptNow = clock.Now // the script's clock too: tests move time by hand
	return &env{t: t, ctx: context.Background(), clock: clock, c: c, rdb: rdb}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) login(ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		e.must(e.c.Login(e.ctx, id))
		e.clock.Advance(time.Second) // distinct idle times make longest-idle deterministic
	}
}

func (e *env) enqueue(id, q string, prio int) {
	e.t.Helper()
	if _, err := e.c.Enqueue(e.ctx, Waiting{CallID: id, Queue: q, Priority: prio}); err != nil {
		e.t.Fatal(err)
	}
}

// dispatch runs Dispatch and returns call → agents (space-joined), checking state after.
func (e *env) dispatch() map[string]string {
	e.t.Helper()
	offers, err := e.c.Dispatch(e.ctx)
	e.must(err)
	e.must(e.c.Verify(e.ctx))
	out := map[string]string{}
	for _, o := range offers {
		s := o.Agents[0]
		for _, a := range o.Agents[1:] {
			s += " " + a
		}
		out[o.CallID] = s
	}
	return out
}

func (e *env) agent(id string) AgentStatus {
	e.t.Helper()
	s, err := e.c.Snapshot(e.ctx)
	e.must(err)
	for _, a := range s.Agents {
		if a.ID == id {
			return a
		}
	}
	e.t.Fatalf("agent %s not in snapshot", id)
	return AgentStatus{}
}

func (e *env) waiting(q string) []string {
	e.t.Helper()
	s, err := e.c.Snapshot(e.ctx)
	e.must(err)
	for _, qs := range s.Queues {
		if qs.Name == q {
			return qs.Waiting
		}
	}
	return nil
}

// quietLog keeps test output to what fails.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))
