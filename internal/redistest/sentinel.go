package redistest

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sentinel is a primary, its replicas and three sentinels watching them (quorum 2), all on
// loopback. The sentinels judge a primary down after 1 s without an answer.
type Sentinel struct {
	MasterName string
	Addrs      []string // the sentinels'

	mu    sync.Mutex
	nodes map[string]*Server // primary and replicas by address
	sents []*Server
	first *Server // the first primary
}

const replUser, replPass = "replication", "replication-pw"

// StartSentinel starts a primary, replicas replicas of it and three sentinels, and returns once the
// replicas are in sync and every sentinel knows every replica and the other sentinels, so that a
// failover can happen from then on.
func StartSentinel(tb testing.TB, replicas int) *Sentinel {
	tb.Helper()
	bin := mustBinary(tb)
	s := &Sentinel{MasterName: "hotline-test", nodes: map[string]*Server{}}
	// Replicas log in to the primary as their own user, so that CutReplication can lock them out.
	replConf := []string{"user " + replUser + " on >" + replPass + " ~* &* +@all"}
	master := launch(tb, bin, Options{Conf: replConf}, nil)
	s.nodes[master.Addr] = master
	s.first = master
	for range replicas {
		r := launch(tb, bin, Options{Conf: append(replConf, fmt.Sprintf("replicaof 127.0.0.1 %d", master.Port),
			"masteruser "+replUser, "masterauth "+replPass)}, nil)
		s.nodes[r.Addr] = r
	}
	for range 3 {
		sn := startSentinelProcess(tb, bin, s.MasterName, master.Port)
		s.sents = append(s.sents, sn)
		s.Addrs = append(s.Addrs, sn.Addr)
	}
	clients := map[*Server]*redis.Client{}
	for _, n := range append(s.sents, mapValues(s.nodes)...) {
		clients[n] = n.plain()
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	err := poll(30*time.Second, func(ctx context.Context) error {
		for addr, n := range s.nodes {
			if addr == master.Addr {
				continue
			}
			info, err := clients[n].Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "master_link_status:up") {
				return fmt.Errorf("replica %s not in sync yet", addr)
			}
		}
		for _, sn := range s.sents {
			c := clients[sn]
			reps, err := c.Do(ctx, "SENTINEL", "REPLICAS", s.MasterName).Slice()
			if err != nil {
				return err
			}
			others, err := c.Do(ctx, "SENTINEL", "SENTINELS", s.MasterName).Slice()
			if err != nil {
				return err
			}
			if len(reps) < replicas || len(others) < len(s.sents)-1 {
				return fmt.Errorf("sentinel %s knows %d replicas and %d sentinels so far", sn.Addr, len(reps), len(others))
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("sentinel setup: %v", err)
	}
	return s
}

func startSentinelProcess(tb testing.TB, bin, name string, masterPort int) *Server {
	tb.Helper()
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			tb.Fatal(err)
		}
		sn := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, dir: tb.TempDir()}
		conf := []string{
			fmt.Sprintf("port %d", port), "bind 127.0.0.1", "dir " + sn.dir,
			"logfile " + filepath.Join(sn.dir, "redis.log"),
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", name, masterPort),
			"sentinel down-after-milliseconds " + name + " 1000",
			// Also how long before a failed election is tried again (twice this).
			"sentinel failover-timeout " + name + " 4000",
			"sentinel parallel-syncs " + name + " 1",
		}
		if lastErr = sn.start(bin, conf, "--sentinel"); lastErr == nil {
			tb.Cleanup(sn.Stop)
			return sn
		}
	}
	tb.Fatalf("redis sentinel did not come up: %v", lastErr)
	return nil
}

// plain is a client for the helper's own checks, without retries; the caller closes it.
func (s *Server) plain() *redis.Client {
	o := s.options()
	o.MaxRetries = -1
	return redis.NewClient(o)
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Master returns the primary's address as a majority of the sentinels report it.
func (s *Sentinel) Master(ctx context.Context) (string, error) {
	votes := map[string]int{}
	var lastErr error
	for _, sn := range s.sents {
		c := sn.plain()
		a, err := c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.MasterName).StringSlice()
		c.Close()
		if err != nil || len(a) != 2 {
			lastErr = err
			continue
		}
		addr := net.JoinHostPort(a[0], a[1])
		votes[addr]++
		if votes[addr] > len(s.sents)/2 {
			return addr, nil
		}
	}
	return "", fmt.Errorf("no majority of sentinels agrees on the primary (%v, last error %v)", votes, lastErr)
}

// CutReplication cuts every replica off the first primary (their replication user is locked out):
// what the primary acknowledges from now on is lost if it dies, as asynchronous replication loses
// a primary's last writes when it dies before its replicas hear of them. (A proxy would not do:
// the sentinels point a replica that follows another address back at the primary.)
func (s *Sentinel) CutReplication(tb testing.TB) {
	tb.Helper()
	c := s.first.plain()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Do(ctx, "ACL", "SETUSER", replUser, "off").Err(); err != nil {
		tb.Fatal(err)
	}
	if err := c.Do(ctx, "CLIENT", "KILL", "USER", replUser).Err(); err != nil {
		tb.Fatal(err)
	}
}

// Node returns the primary or replica at addr.
func (s *Sentinel) Node(addr string) *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[addr]
}

// KillMaster kills the current primary (SIGKILL) and returns its address.
func (s *Sentinel) KillMaster(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr, err := s.Master(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	n := s.Node(addr)
	if n == nil {
		tb.Fatalf("primary %s is not one of this topology's nodes", addr)
	}
	n.Stop()
	return addr
}

// WaitFailover waits until a majority of the sentinels names another primary than old and that node
// says it is one, and returns its address.
func (s *Sentinel) WaitFailover(tb testing.TB, old string, timeout time.Duration) string {
	tb.Helper()
	var addr string
	err := poll(timeout, func(ctx context.Context) error {
		a, err := s.Master(ctx)
		if err != nil {
			return err
		}
		if a == old {
			return fmt.Errorf("the sentinels still name %s", old)
		}
		n := s.Node(a)
		if n == nil {
			return fmt.Errorf("the sentinels name %s, not a node of this topology", a)
		}
		c := n.plain()
		defer c.Close()
		role, err := c.Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("%s is still %v", a, role)
		}
		addr = a
		return nil
	})
	if err != nil {
		tb.Fatalf("no failover: %v", err)
	}
	return addr
}
