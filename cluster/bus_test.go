package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/cluster"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/redisconn"
)

var errNotYours = errors.New("not yours")

func startBus(t *testing.T, addr, self string, setup func(*cluster.Bus)) *cluster.Bus {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	return startBusOn(t, rdb, self, setup)
}

// startBusOn starts instance self's bus on rdb, stopped when the test ends.
func startBusOn(t *testing.T, rdb redis.UniversalClient, self string, setup func(*cluster.Bus)) *cluster.Bus {
	t.Helper()
	b := cluster.New(rdb, "{hotline:t}:", self, nil)
	b.Error("not_yours", errNotYours)
	if setup != nil {
		setup(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); b.Wait() })
	return b
}

// TestBus: a listening bus hears itself (Check) and one never started does not; a request is served
// by the controller named and its reply (or its sentinel error) comes back; a request to a controller nobody runs fails at once with ErrNoAnswer; a slow handler
// makes the request fail at its deadline; one-way messages keep their order; a broadcast reaches
// the others and not its sender.
func TestBus(t *testing.T) {
	rs := redistest.Start(t)
	got := make(chan string, 16)
	release := make(chan struct{})
	startBus(t, rs.Addr, "b", func(b *cluster.Bus) {
		b.Handle("echo", func(ctx context.Context, from string, body json.RawMessage) (any, error) {
			var s string
			json.Unmarshal(body, &s)
			if s == "theirs" {
				return nil, fmt.Errorf("call c1: %w", errNotYours)
			}
			return from + ":" + s, nil
		})
		b.Handle("slow", func(ctx context.Context, _ string, _ json.RawMessage) (any, error) {
			<-ctx.Done()
			<-release
			return nil, nil
		})
		b.Handle("push", func(_ context.Context, from string, body json.RawMessage) (any, error) {
			got <- from + ":" + string(body)
			return nil, nil
		})
	})
	a := startBus(t, rs.Addr, "a", func(b *cluster.Bus) {
		b.Handle("push", func(_ context.Context, from string, body json.RawMessage) (any, error) {
			got <- "a got " + string(body)
			return nil, nil
		})
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if err := a.Check(ctx); err != nil {
		t.Fatalf("check a listening bus: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	deaf := cluster.New(rdb, "{hotline:t}:", "deaf", nil) // never started
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if err := deaf.Check(short); !errors.Is(err, cluster.ErrNoAnswer) {
		t.Fatalf("check a bus that does not listen: %v, want ErrNoAnswer", err)
	}

	var reply string
	if err := a.Call(ctx, "b", "echo", "hi", &reply); err != nil || reply != "a:hi" {
		t.Fatalf("echo: %q, %v", reply, err)
	}
	if err := a.Call(ctx, "b", "echo", "theirs", nil); !errors.Is(err, errNotYours) {
		t.Fatalf("echo theirs: %v, want errNotYours", err)
	}
	if err := a.Call(ctx, "b", "nothing", nil, nil); !errors.Is(err, cluster.ErrUnknownKind) {
		t.Fatalf("unknown kind: %v", err)
	}
	if err := a.Call(ctx, "nobody", "echo", "hi", nil); !errors.Is(err, cluster.ErrNoAnswer) {
		t.Fatalf("to nobody: %v, want ErrNoAnswer", err)
	}
	short, cancelShort = context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if err := a.Call(short, "b", "slow", nil, nil); !errors.Is(err, cluster.ErrNoAnswer) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: %v, want ErrNoAnswer at the deadline", err)
	}

	for i := range 10 {
		if err := a.Send(ctx, "b", "push", i); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		select {
		case m := <-got:
			if want := fmt.Sprintf("a:%d", i); m != want {
				t.Fatalf("push %d: got %q, want %q", i, m, want)
			}
		case <-ctx.Done():
			t.Fatalf("push %d never arrived", i)
		}
	}
	if err := a.Broadcast(ctx, "push", "all"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != "a:\"all\"" {
			t.Fatalf("broadcast: got %q (the sender must not get its own)", m)
		}
	case <-ctx.Done():
		t.Fatal("broadcast never arrived")
	}
}

// holding is a one-way handler that waits until released: a slow handler. started is closed when
// it starts; release may be called more than once. Defer it: it must come before the buses stop
// (their cleanup), whose Wait would otherwise wait on the handler for ever.
func holding() (h cluster.Handler, started <-chan struct{}, release func()) {
	began, released := make(chan struct{}), make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(released) }) }
	return func(context.Context, string, json.RawMessage) (any, error) {
		close(began)
		<-released
		return nil, nil
	}, began, release
}

// TestBusReplyBehindSlowMessage: a one-way message whose handler waits (a page's audio state
// waiting on a call's goroutine, which itself waits on a reply) does not hold up the replies that
// come in meanwhile: a request sent then gets its answer.
func TestBusReplyBehindSlowMessage(t *testing.T) {
	rs := redistest.Start(t)
	hold, started, release := holding()
	defer release()
	a := startBus(t, rs.Addr, "a", func(b *cluster.Bus) { b.Handle("hold", hold) })
	b := startBus(t, rs.Addr, "b", func(b *cluster.Bus) {
		b.Handle("echo", func(_ context.Context, from string, _ json.RawMessage) (any, error) { return "to " + from, nil })
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Send(ctx, "a", "hold", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the one-way message never reached its handler")
	}
	var reply string
	if err := a.Call(ctx, "b", "echo", nil, &reply); err != nil || reply != "to a" {
		t.Fatalf("a request while a one-way handler waits: %q, %v", reply, err)
	}
}

// TestBusSlowSenderAlone: while a one-way message from one controller waits in its handler, the
// messages another controller sends are handled, in their order, and the first sender's next
// message waits its turn behind its first.
func TestBusSlowSenderAlone(t *testing.T) {
	rs := redistest.Start(t)
	hold, started, unblock := holding()
	defer unblock()
	got := make(chan string, 8)
	startBus(t, rs.Addr, "a", func(b *cluster.Bus) {
		b.Handle("hold", hold)
		b.Handle("push", func(_ context.Context, from string, body json.RawMessage) (any, error) {
			got <- from + " " + string(body)
			return nil, nil
		})
	})
	slow, other := startBus(t, rs.Addr, "slow", nil), startBus(t, rs.Addr, "other", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := slow.Send(ctx, "a", "hold", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the one-way message never reached its handler")
	}
	if err := slow.Send(ctx, "a", "push", 0); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := other.Send(ctx, "a", "push", i+1); err != nil {
			t.Fatal(err)
		}
	}
	next := func() string {
		select {
		case m := <-got:
			return m
		case <-ctx.Done():
			t.Fatal("a one-way message was not handled")
			return ""
		}
	}
	for i := range 3 {
		if m, want := next(), fmt.Sprintf("other %d", i+1); m != want {
			t.Fatalf("while another sender's handler waits: %q, want %q", m, want)
		}
	}
	unblock()
	if m := next(); m != "slow 0" {
		t.Fatalf("the slow sender's next message: %q, want it after its first", m)
	}
}

// TestBusOneWayQueueFull: a sender whose handler is behind by more than its queue holds loses the
// overflow, not the bus: a request from it is still answered meanwhile, and what was queued is
// handled once the handler catches up.
func TestBusOneWayQueueFull(t *testing.T) {
	rs := redistest.Start(t)
	hold, started, unblock := holding()
	defer unblock()
	var handled atomic.Int64
	last, all := make(chan struct{}), make(chan struct{})
	const queued = 1024 // what one sender's queue holds
	startBus(t, rs.Addr, "a", func(b *cluster.Bus) {
		b.Handle("hold", hold)
		b.Handle("push", func(_ context.Context, _ string, body json.RawMessage) (any, error) {
			if string(body) == `"last"` {
				close(last)
			} else if handled.Add(1) == queued {
				close(all)
			}
			return nil, nil
		})
		b.Handle("echo", func(_ context.Context, from string, _ json.RawMessage) (any, error) { return "to " + from, nil })
	})
	flood := startBus(t, rs.Addr, "flood", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := flood.Send(ctx, "a", "hold", nil); err != nil {
		t.Fatal(err)
	}
	<-started
	const sent = 1500
	for range sent {
		if err := flood.Send(ctx, "a", "push", nil); err != nil {
			t.Fatal(err)
		}
	}
	var reply string
	if err := flood.Call(ctx, "a", "echo", nil, &reply); err != nil || reply != "to flood" {
		t.Fatalf("a request behind a full queue: %q, %v", reply, err)
	}
	unblock()
	select {
	case <-all:
	case <-ctx.Done():
		t.Fatalf("%d pushes handled once the handler caught up, want the queue's %d", handled.Load(), queued)
	}
	// A marker sent now comes after anything left of the flood.
	if err := flood.Send(ctx, "a", "push", "last"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-last:
	case <-ctx.Done():
		t.Fatal("the queued pushes were not handled once the handler caught up")
	}
	if n := handled.Load(); n != queued {
		t.Fatalf("%d of %d pushes handled behind a held handler, want the queue's %d", n, sent, queued)
	}
}

// TestBusHandlerPanics: a handler that panics (a bug) answers its request with an error, at once,
// and the bus goes on serving, one-way messages too.
func TestBusHandlerPanics(t *testing.T) {
	rs := redistest.Start(t)
	got := make(chan string, 1)
	startBus(t, rs.Addr, "b", func(b *cluster.Bus) {
		b.Handle("bug", func(context.Context, string, json.RawMessage) (any, error) { panic("a bug") })
		b.Handle("echo", func(_ context.Context, from string, _ json.RawMessage) (any, error) { return "to " + from, nil })
		b.Handle("push", func(_ context.Context, _ string, body json.RawMessage) (any, error) {
			got <- string(body)
			return nil, nil
		})
	})
	a := startBus(t, rs.Addr, "a", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Call(ctx, "b", "bug", nil, nil); err == nil || errors.Is(err, cluster.ErrNoAnswer) {
		t.Fatalf("a request whose handler panics: %v, want its error at once", err)
	}
	if err := a.Send(ctx, "b", "bug", nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, "b", "push", "after"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != `"after"` {
			t.Fatalf("push after the panics: %q", m)
		}
	case <-ctx.Done():
		t.Fatal("no one-way message handled after a handler panicked")
	}
	var reply string
	if err := a.Call(ctx, "b", "echo", nil, &reply); err != nil || reply != "to a" {
		t.Fatalf("a request after the panics: %q, %v", reply, err)
	}
}

// TestBusOnCluster: two controllers' buses over a Redis Cluster (3 masters with a replica each,
// reached from one seed address as `hotline run` does) exchange requests, replies and broadcasts;
// then the master serving the center's slot (the bus channels' hash tag) hands it to its replica,
// by a coordinated CLUSTER FAILOVER or by dying (SIGKILL: the cluster promotes the replica itself),
// and the buses work again within a bounded wait: a request gets its reply, a broadcast arrives.
func TestBusOnCluster(t *testing.T) {
	for _, tc := range []struct {
		name string
		move func(t *testing.T, cl *redistest.Cluster, key string) (from, to string)
		// within bounds the bus's recovery: from the slot's new master being agreed on to a reply.
		within time.Duration
	}{
		{"failover", func(t *testing.T, cl *redistest.Cluster, key string) (string, string) {
			return cl.Failover(t, key, 30*time.Second)
		}, 5 * time.Second},
		{"master killed", func(t *testing.T, cl *redistest.Cluster, key string) (string, string) {
			return cl.KillMaster(t, key, 30*time.Second)
		}, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := redistest.StartCluster(t, 3, 1)
			cfg := topoConfig(config.RedisCluster)
			cfg.Addrs = cl.Addrs[:1]
			exchange := busPair(t, cfg)
			exchange(t, "before", 0)
			from, to := tc.move(t, cl, "{hotline:t}:bus")
			t.Logf("the bus's slot moved from %s to %s", from, to)
			exchange(t, "after", tc.within)
		})
	}
}

// TestBusOnSentinel: as TestBusOnCluster under Sentinel, whose primary dies: the buses, reached
// through the sentinels, work again within a bounded wait of the replica's promotion.
func TestBusOnSentinel(t *testing.T) {
	s := redistest.StartSentinel(t, 1)
	cfg := topoConfig(config.RedisSentinel)
	cfg.Addrs, cfg.MasterName = s.Addrs, s.MasterName
	exchange := busPair(t, cfg)
	exchange(t, "before", 0)
	old := s.KillMaster(t)
	now := s.WaitFailover(t, old, 60*time.Second)
	t.Logf("the primary moved from %s to %s", old, now)
	exchange(t, "after", 10*time.Second)
}

func topoConfig(mode string) config.Redis {
	cfg := config.Default().Redis
	cfg.Mode = mode
	// Short, as in production's advice: a command caught by the failover fails fast and is retried
	// on the new master.
	cfg.DialTimeout, cfg.ReadTimeout, cfg.WriteTimeout = config.Duration(time.Second), config.Duration(time.Second), config.Duration(time.Second)
	return cfg
}

// busPair starts the buses of controllers a and b over cfg, each with its own client as each
// process has, and returns exchange: it has each ask the other (a request lost while a bus
// resubscribes, or not published while the client still sends to a dead master, fails by its own
// deadline and is sent again, until within has passed), checks both hear themselves, then has each
// broadcast and the other get it.
func busPair(t *testing.T, cfg config.Redis) (exchange func(t *testing.T, round string, within time.Duration)) {
	client := func() redis.UniversalClient {
		rdb, err := redisconn.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rdb.Close() })
		return rdb
	}
	got := make(chan string, 16)
	serve := func(b *cluster.Bus) {
		b.Handle("echo", func(_ context.Context, from string, body json.RawMessage) (any, error) {
			var s string
			json.Unmarshal(body, &s)
			return b.Self() + " to " + from + ":" + s, nil
		})
		b.Handle("push", func(_ context.Context, from string, body json.RawMessage) (any, error) {
			got <- b.Self() + " got " + string(body) + " from " + from
			return nil, nil
		})
	}
	a := startBusOn(t, client(), "a", serve)
	b := startBusOn(t, client(), "b", serve)
	other := map[*cluster.Bus]*cluster.Bus{a: b, b: a}

	return func(t *testing.T, round string, within time.Duration) {
		t.Helper()
		start := time.Now()
		for _, from := range []*cluster.Bus{a, b} {
			to := other[from]
			var reply string
			deadline := time.Now().Add(within)
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				err := from.Call(ctx, to.Self(), "echo", round, &reply)
				cancel()
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: %s asking %s, still after %v: %v", round, from.Self(), to.Self(), within, err)
				}
			}
			if want := to.Self() + " to " + from.Self() + ":" + round; reply != want {
				t.Fatalf("%s: reply %q, want %q", round, reply, want)
			}
		}
		t.Logf("%s: requests answered both ways after %v", round, time.Since(start).Round(time.Millisecond))
		for _, bus := range []*cluster.Bus{a, b} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := bus.Check(ctx); err != nil {
				t.Errorf("%s: %s's check: %v", round, bus.Self(), err)
			}
			cancel()
		}
		// Both buses answered, so both listen: a broadcast is not to be lost now.
		for _, from := range []*cluster.Bus{a, b} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := from.Broadcast(ctx, "push", round); err != nil {
				cancel()
				t.Fatalf("%s: broadcast from %s: %v", round, from.Self(), err)
			}
			select {
			case m := <-got:
				if want := fmt.Sprintf("%s got %q from %s", other[from].Self(), round, from.Self()); m != want {
					t.Fatalf("%s: %q, want %q", round, m, want)
				}
			case <-ctx.Done():
				t.Fatalf("%s: %s's broadcast never arrived", round, from.Self())
			}
			cancel()
		}
	}
}

// TestHomes: the last controller to take an agent's page is their home; leaving only clears a home
// that is still ours.
func TestHomes(t *testing.T) {
	rs := redistest.Start(t)
	a := startBus(t, rs.Addr, "a", nil)
	b := startBus(t, rs.Addr, "b", nil)
	ctx := context.Background()
	home := func() string {
		t.Helper()
		h, err := a.Home(ctx, "p001")
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if h := home(); h != "" {
		t.Fatalf("home before any page: %q", h)
	}
	if err := a.SetHome(ctx, "p001"); err != nil {
		t.Fatal(err)
	}
	if err := b.KeepHomes(ctx, []string{"p001"}); err != nil {
		t.Fatal(err)
	}
	if err := a.LeaveHome(ctx, "p001"); err != nil {
		t.Fatal(err)
	}
	if h := home(); h != "b" {
		t.Fatalf("home after b took the page and a left: %q, want b", h)
	}
	if err := b.LeaveHome(ctx, "p001"); err != nil {
		t.Fatal(err)
	}
	if h := home(); h != "" {
		t.Fatalf("home after the last page closed: %q", h)
	}
}
