package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/cluster"
	"github.com/hotline-cc/hotline/internal/redistest"
)

var errNotYours = errors.New("not yours")

func startBus(t *testing.T, addr, self string, setup func(*cluster.Bus)) *cluster.Bus {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
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

// TestBus: a request is served by the controller named and its reply (or its sentinel error)
// comes back; a request to a controller nobody runs fails at once with ErrNoAnswer; a slow handler
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
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
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
