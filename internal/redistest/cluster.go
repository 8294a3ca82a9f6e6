package redistest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster on loopback: masters sharing the 16384 slots evenly, each with its
// replicas. A node is judged failed after 1 s without an answer.
type Cluster struct {
	Addrs []string // the masters', a client's seeds

	nodes map[string]*Server
	ids   map[string]string // node id → address
}

// StartCluster starts masters masters and replicas replicas of each, joins them into one cluster
// and returns once every node agrees the cluster is ok and every replica is in sync.
func StartCluster(tb testing.TB, masters, replicas int) *Cluster {
	tb.Helper()
	bin := mustBinary(tb)
	c := &Cluster{nodes: map[string]*Server{}, ids: map[string]string{}}
	bus := map[*Server]int{}
	var all []*Server
	for i := range masters * (1 + replicas) {
		var busPort int
		n := launch(tb, bin, Options{}, func(int) []string {
			p, err := freePort()
			if err != nil {
				tb.Fatal(err)
			}
			busPort = p
			// cluster-port: the bus is not always free at port+10000 (nor below 65536).
			return []string{"cluster-enabled yes", "cluster-config-file nodes.conf",
				"cluster-node-timeout 1000", fmt.Sprintf("cluster-port %d", p),
				// A replica syncs at once, not after the 5 s a master waits for more replicas, and
				// is listed in CLUSTER SLOTS within a second, not the 10 s it takes an idle master
				// to move the replication offset off 0 (Redis 7.0 lists no replica at offset 0).
				"repl-diskless-sync-delay 0", "repl-ping-replica-period 1"}
		})
		bus[n] = busPort
		all = append(all, n)
		c.nodes[n.Addr] = n
		if i < masters {
			c.Addrs = append(c.Addrs, n.Addr)
		}
	}
	clients := map[*Server]*redis.Client{}
	for _, n := range all {
		clients[n] = n.plain()
	}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatalf("cluster setup: %v", err)
		}
	}
	id := map[*Server]string{}
	for _, n := range all {
		v, err := clients[n].Do(ctx, "CLUSTER", "MYID").Text()
		must(err)
		id[n], c.ids[v] = v, n.Addr
	}
	per := 16384 / masters
	for i, n := range all[:masters] {
		last := (i+1)*per - 1
		if i == masters-1 {
			last = 16383
		}
		must(clients[n].Do(ctx, "CLUSTER", "ADDSLOTSRANGE", i*per, last).Err())
	}
	for _, n := range all[1:] {
		must(clients[all[0]].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.Port, bus[n]).Err())
	}
	must(poll(30*time.Second, func(ctx context.Context) error {
		for _, n := range all {
			nodes, err := clients[n].ClusterNodes(ctx).Result()
			if err != nil {
				return err
			}
			lines := strings.Split(strings.TrimSpace(nodes), "\n")
			if len(lines) != len(all) || strings.Contains(nodes, "handshake") || strings.Contains(nodes, "noaddr") {
				return fmt.Errorf("%s knows %d of %d nodes so far", n.Addr, len(lines), len(all))
			}
		}
		return nil
	}))
	for i, n := range all[masters:] {
		must(clients[n].Do(ctx, "CLUSTER", "REPLICATE", id[all[i%masters]]).Err())
	}
	must(poll(30*time.Second, func(ctx context.Context) error {
		for _, n := range all {
			info, err := clients[n].ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("%s: cluster not ok yet", n.Addr)
			}
			slots, err := clients[n].ClusterSlots(ctx).Result()
			if err != nil {
				return err
			}
			for _, s := range slots {
				if len(s.Nodes) != 1+replicas {
					return fmt.Errorf("%s sees slots %d-%d on %d nodes", n.Addr, s.Start, s.End, len(s.Nodes))
				}
			}
		}
		for _, n := range all[masters:] {
			info, err := clients[n].Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "master_link_status:up") {
				return fmt.Errorf("replica %s not in sync yet", n.Addr)
			}
		}
		return nil
	}))
	return c
}

// Failover makes a replica of the master serving key take over, by CLUSTER FAILOVER (a coordinated
// failover: the replica catches up first, nothing is lost), and waits until every node agrees. It
// returns the old and the new master's addresses.
func (c *Cluster) Failover(tb testing.TB, key string, timeout time.Duration) (from, to string) {
	tb.Helper()
	slot, nodes := c.serving(tb, key, timeout)
	from, to = nodes[0], nodes[1]
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rc := c.nodes[to].plain()
	defer rc.Close()
	if err := rc.Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		tb.Fatalf("CLUSTER FAILOVER on %s: %v", to, err)
	}
	c.waitMaster(tb, slot, to, timeout)
	return from, to
}

// KillMaster kills the master serving key (SIGKILL, as a crash) and waits until the cluster itself
// has promoted its replica and every node left agrees: a failover nobody asked for, after the
// cluster-node-timeout. It returns the dead and the new master's addresses.
func (c *Cluster) KillMaster(tb testing.TB, key string, timeout time.Duration) (from, to string) {
	tb.Helper()
	slot, nodes := c.serving(tb, key, timeout)
	from, to = nodes[0], nodes[1]
	c.nodes[from].Stop()
	c.waitMaster(tb, slot, to, timeout)
	return from, to
}

// serving returns key's slot and the nodes serving it, master first, once it has a replica in sync
// with its master (after a failover the old master takes a moment to rejoin as a replica); it fails
// the test when none comes.
func (c *Cluster) serving(tb testing.TB, key string, timeout time.Duration) (int64, []string) {
	tb.Helper()
	seed := c.nodes[c.Addrs[0]].plain()
	defer seed.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	slot, err := seed.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		tb.Fatal(err)
	}
	var nodes []string
	err = poll(timeout, func(ctx context.Context) error {
		nodes, err = slotOwners(ctx, seed, slot)
		if err != nil {
			return err
		}
		if len(nodes) < 2 {
			return fmt.Errorf("slot %d on %v: no replica to take over", slot, nodes)
		}
		rc := c.nodes[nodes[1]].plain()
		defer rc.Close()
		info, err := rc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("replica %s not in sync yet", nodes[1])
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("slot of %q: %v", key, err)
	}
	return slot, nodes
}

// waitMaster waits until every live node sees slot served by master.
func (c *Cluster) waitMaster(tb testing.TB, slot int64, master string, timeout time.Duration) {
	tb.Helper()
	err := poll(timeout, func(ctx context.Context) error {
		for addr, n := range c.nodes {
			if n.stopped() {
				continue
			}
			cl := n.plain()
			got, err := slotOwners(ctx, cl, slot)
			cl.Close()
			if err != nil {
				return err
			}
			if got[0] != master {
				return fmt.Errorf("%s still sees slot %d on %s", addr, slot, got[0])
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("cluster failover: %v", err)
	}
}

// slotOwners returns the nodes serving slot as cl sees them, master first.
func slotOwners(ctx context.Context, cl *redis.Client, slot int64) ([]string, error) {
	slots, err := cl.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) {
			var addrs []string
			for _, n := range s.Nodes {
				addrs = append(addrs, n.Addr)
			}
			return addrs, nil
		}
	}
	return nil, fmt.Errorf("no node serves slot %d", slot)
}

// Node returns the node at addr.
func (c *Cluster) Node(addr string) *Server { return c.nodes[addr] }
