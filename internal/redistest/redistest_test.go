package redistest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/internal/waitfor"
)

func TestStart(t *testing.T) {
	c := Start(t).Client(t)
	if err := c.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(context.Background(), "k").Val(); got != "v" {
		t.Fatalf("get = %q", got)
	}
}

func TestStartSentinelFailover(t *testing.T) {
	s := StartSentinel(t, 1)
	ctx := context.Background()
	old, err := s.Master(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.KillMaster(t); got != old {
		t.Fatalf("killed %s, the primary was %s", got, old)
	}
	if now := s.WaitFailover(t, old, 60*time.Second); now == old {
		t.Fatalf("primary still %s", now)
	}
}

func TestStartCluster(t *testing.T) {
	c := StartCluster(t, 3, 1)
	// A short reload: a dead master is only noticed by a reload (redisconn does the same).
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, ClusterStateReloadInterval: time.Second})
	defer rdb.Close()
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c", "{x}1", "{x}2"} {
		if err := rdb.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	from, to := c.Failover(t, "{x}1", 30*time.Second)
	if from == to {
		t.Fatalf("failover from %s to itself", from)
	}
	waitfor.True(t, "the client follows the failover", 10*time.Second, func() bool {
		return rdb.Get(ctx, "{x}2").Val() == "{x}2"
	})
	// The old master is the replica now: killing the new one hands the slot back to it.
	dead, back := c.KillMaster(t, "{x}1", 30*time.Second)
	if dead != to || back != from {
		t.Fatalf("killed %s, promoted %s; want %s killed, %s promoted", dead, back, to, from)
	}
	waitfor.True(t, "the client follows the promotion", 20*time.Second, func() bool {
		return rdb.Get(ctx, "{x}2").Val() == "{x}2"
	})
}

func TestStartTLSWithUsers(t *testing.T) {
	certs := NewCerts(t)
	s := StartWith(t, Options{TLS: certs, Users: []string{"app on >pw ~app:* +@all"}})
	app := redis.NewClient(&redis.Options{Addr: s.Addr, TLSConfig: certs.ClientTLS(), Username: "app", Password: "pw"})
	defer app.Close()
	ctx := context.Background()
	if err := app.Set(ctx, "app:k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := app.Set(ctx, "other", "v", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("a key outside the user's pattern: %v", err)
	}
	plain := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Fatal("plain text accepted on the TLS port")
	}
}
