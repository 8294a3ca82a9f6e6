package acd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/redisconn"
)

// The ACD over production Redis topologies (issue 10, finding 8 and deliverable 6), each started
// from the Debian redis-server by internal/redistest and reached through redisconn, the client
// `hotline run` builds from its config.

const topoCenter = `center: topo
skills: [s]
queues:
  - {name: q1, strategy: longest-idle, skill: s, wrapup: 0s}
  - {name: q2, strategy: longest-idle, skill: s, wrapup: 0s}
groups:
  - {name: g, count: 0}
agents:
  - {id: a1, group: g, skills: {s: 1}}
  - {id: a2, group: g, skills: {s: 1}}
  - {id: a3, group: g, skills: {s: 1}}
  - {id: a4, group: g, skills: {s: 1}}
  - {id: a5, group: g, skills: {s: 1}}
  - {id: a6, group: g, skills: {s: 1}}
`

func topoConfig(mode string) config.Redis {
	r := config.Default().Redis
	r.Mode = mode
	// Short, so an operation caught by the failover fails fast and is retried on the new primary.
	r.DialTimeout, r.ReadTimeout, r.WriteTimeout = config.Duration(time.Second), config.Duration(time.Second), config.Duration(time.Second)
	return r
}

func topoCenterOn(t *testing.T, cfg config.Redis) (*Center, redis.UniversalClient) {
	t.Helper()
	rdb, err := redisconn.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	m, err := Load("topo.yaml", []byte(topoCenter))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(rdb, m, Options{Instance: "i1", Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	return c, rdb
}

// TestSentinelFailoverDuringTraffic kills the primary while a controller enqueues, assigns and
// finishes calls, after cutting the replica off it so that the primary's last acknowledged writes
// are lost, as asynchronous replication loses them when a primary dies. The client follows the
// sentinels to the promoted replica; what the controller knows and Redis lost is reconciled; the
// state is consistent throughout; nothing acknowledged before the replica was cut off is lost; and
// no call is ever with two agents.
func TestSentinelFailoverDuringTraffic(t *testing.T) {
	s := redistest.StartSentinel(t, 1)
	cfg := topoConfig(config.RedisSentinel)
	cfg.Addrs, cfg.MasterName = s.Addrs, s.MasterName
	c, rdb := topoCenterOn(t, cfg)
	ctx := context.Background()

	d, stop := startDriver(t, c)
	d.waitOps(t, 40)

	// A checkpoint: every event up to lastID is on the replica (WAIT), so it must survive.
	oldMaster, err := s.Master(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn := s.Node(oldMaster).Client(t).Conn()
	defer conn.Close()
	checkpoint := time.Now()
	last, err := conn.XRevRangeN(ctx, c.Key("events"), "+", "-", 1).Result()
	if err != nil || len(last) != 1 {
		t.Fatalf("last event: %v %v", last, err)
	}
	if err := conn.Set(ctx, c.Key("checkpoint"), 1, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := conn.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT: %d replicas, %v", n, err)
	}
	d.lostAfter.Store(checkpoint.UnixNano())

	s.CutReplication(t)
	d.waitOps(t, d.ops.Load()+30) // acknowledged by the primary alone: these writes will be lost
	written, err := conn.XRange(ctx, c.Key("events"), "("+last[0].ID, "+").Result()
	if err != nil || len(written) == 0 {
		t.Fatalf("events after the checkpoint: %d, %v", len(written), err)
	}
	if got := s.KillMaster(t); got != oldMaster {
		t.Fatalf("killed %s, the primary was %s", got, oldMaster)
	}
	newMaster := s.WaitFailover(t, oldMaster, 60*time.Second)
	t.Logf("failover %s → %s", oldMaster, newMaster)
	d.waitOps(t, d.ops.Load()+60) // and traffic goes on on the new primary

	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.XRange(ctx, c.Key("events"), last[0].ID, last[0].ID).Result(); err != nil || len(n) != 1 {
		t.Errorf("event %s, acknowledged by a replica before the failover, is gone (%v)", last[0].ID, err)
	}
	kept, err := rdb.XRange(ctx, c.Key("events"), "("+last[0].ID, written[len(written)-1].ID).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) >= len(written) {
		t.Errorf("all %d events after the checkpoint survived: the test did not play a loss", len(written))
	}
	d.drain()
	// Some lost writes leave nothing to repair (a call enqueued, answered and finished in the lost
	// moments is gone from Redis as it would be anyway); the driver counts those it repaired.
	t.Logf("%d of %d events after the checkpoint lost; ops %d, transport errors %d; repaired: %s",
		len(written)-len(kept), len(written), d.ops.Load(), d.transportErrs, d.stats())
}

// TestClusterACD runs the whole ACD (its Lua script touches only keys of the {hotline:<center>}
// hash tag) on a 3-master Redis Cluster with a replica each, and keeps it running when the master
// serving the center's slot hands it to its replica: by a coordinated failover, which loses
// nothing, or by dying, after which traffic goes on within seconds of the cluster promoting the
// replica (not after the client's next periodic topology reload) and what the dead master had not
// passed on is reconciled.
func TestClusterACD(t *testing.T) {
	for _, tc := range []struct {
		name string
		move func(t *testing.T, cl *redistest.Cluster, key string) (from, to string)
		// lossless: the replica had everything (CLUSTER FAILOVER waits for it).
		lossless bool
	}{
		{"failover", func(t *testing.T, cl *redistest.Cluster, key string) (string, string) {
			return cl.Failover(t, key, 30*time.Second)
		}, true},
		{"master killed", func(t *testing.T, cl *redistest.Cluster, key string) (string, string) {
			return cl.KillMaster(t, key, 30*time.Second)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := redistest.StartCluster(t, 3, 1)
			cfg := topoConfig(config.RedisCluster)
			cfg.Addrs = cl.Addrs[:1] // one seed: the client finds the rest
			c, _ := topoCenterOn(t, cfg)
			d, stop := startDriver(t, c)
			d.waitOps(t, 40)
			from, to := tc.move(t, cl, c.Key("events"))
			t.Logf("the center's slot moved from %s to %s", from, to)
			moved, at := d.ops.Load(), time.Now()
			waitfor.True(t, "60 operations on the new master", 15*time.Second, func() bool { return d.ops.Load() >= moved+60 })
			t.Logf("60 operations %v after the move", time.Since(at).Round(time.Millisecond))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			d.drain()
			if tc.lossless && d.lostTotal() != 0 {
				t.Errorf("a coordinated failover lost writes: %s", d.stats())
			}
			if d.finished == 0 {
				t.Error("no call was finished")
			}
			t.Logf("ops %d, transport errors %d; repaired: %s", d.ops.Load(), d.transportErrs, d.stats())
		})
	}
}

// TestTLSACLUserACD runs the ACD on a TLS-only redis-server that wants a client certificate, as
// an ACL user whose keys are only the center's: the client connects with the CA, the certificate
// and the user from config, and the user cannot reach beyond the center.
func TestTLSACLUserACD(t *testing.T) {
	certs := redistest.NewCerts(t)
	srv := redistest.StartWith(t, redistest.Options{TLS: certs, Users: []string{
		"hotline on >s3cret resetkeys ~{hotline:topo}:* resetchannels &{hotline:topo}:* -@all +@read +@write +@scripting +@transaction +@connection +time +@pubsub -@dangerous",
	}})
	cfg := topoConfig(config.RedisSingle)
	cfg.Addr, cfg.Username, cfg.Password = srv.Addr, "hotline", "s3cret"
	cfg.TLS = config.RedisTLS{Enabled: true, CAFile: certs.CA, CertFile: certs.ClientCert, KeyFile: certs.ClientKey,
		ServerName: certs.ServerName}
	c, rdb := topoCenterOn(t, cfg)
	ctx := context.Background()

	d := newDriver(t, c)
	for _, a := range d.agents {
		d.must(c.Login(ctx, a))
	}
	for d.finished < 20 {
		if err := d.step(); err != nil {
			t.Fatal(err)
		}
	}
	d.drain()
	if err := rdb.Set(ctx, "{hotline:other}:x", 1, 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("the ACL user wrote another center's key: %v", err)
	}
	noCert := cfg
	noCert.TLS.CertFile, noCert.TLS.KeyFile = "", ""
	other, err := redisconn.New(noCert)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Ping(ctx).Err(); err == nil {
		t.Error("a client without a certificate was let in")
	}
}

// driver plays one controller instance owning every call: it enqueues callers, dispatches, accepts
// offers and finishes calls, retrying what fails for Redis being away. What it knows (who talks to
// whom) is its truth, as the channels are the switchboard's; after an outage it reconciles Redis
// with it, as a restarted controller does, and counts what Redis had lost.
type driver struct {
	t      *testing.T
	c      *Center
	ctx    context.Context
	agents []string

	next    int
	waiting map[string]bool   // call → waiting, as far as the driver knows
	talking map[string]string // call → agent
	busy    map[string]string // agent → call
	paused  map[string]bool   // agents the driver paused (an offer while it talks): freed after
	ackAt   map[string]time.Time

	ops           atomic.Int64 // operations Redis acknowledged
	lostAfter     atomic.Int64 // unix ns: losses of writes acknowledged before this are failures
	dirty         bool         // a transport error since the last reconciliation
	transportErrs int
	finished      int
	lost          map[string]int

	mu sync.Mutex // guards the above against stats() from the test goroutine after run
}

// startDriver logs the driver's agents in and runs it; stop ends it and returns what run did. The
// test's end stops it too: a test that fails first must not leave it running.
func startDriver(t *testing.T, c *Center) (d *driver, stop func() error) {
	d = newDriver(t, c)
	for _, a := range d.agents {
		d.must(c.Login(context.Background(), a))
	}
	quit := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- d.run(quit) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { close(quit); err = <-done })
		return err
	}
	t.Cleanup(func() { stop() })
	return d, stop
}

func newDriver(t *testing.T, c *Center) *driver {
	d := &driver{t: t, c: c, ctx: context.Background(), waiting: map[string]bool{}, talking: map[string]string{},
		busy: map[string]string{}, paused: map[string]bool{}, ackAt: map[string]time.Time{}, lost: map[string]int{}}
	for _, a := range c.Model().Agents {
		d.agents = append(d.agents, a.ID)
	}
	return d
}

func (d *driver) must(err error) {
	d.t.Helper()
	if err != nil {
		d.t.Fatal(err)
	}
}

func (d *driver) waitOps(t *testing.T, n int64) {
	t.Helper()
	waitfor.True(t, fmt.Sprintf("%d acknowledged operations", n), 90*time.Second, func() bool { return d.ops.Load() >= n })
}

func (d *driver) run(stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := d.step(); err != nil {
			return err
		}
	}
}

// isACD tells the ACD's answers (a sentinel error) from Redis being away.
func isACD(err error) bool {
	for _, s := range scriptErrors {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// try runs op until Redis answers it: nil or an ACD error. Anything else is Redis away (a failover
// under way), retried for up to a minute.
func (d *driver) try(what string, op func(ctx context.Context) error) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(d.ctx, 3*time.Second)
		err := op(ctx)
		cancel()
		if err == nil || isACD(err) {
			if err == nil {
				d.ops.Add(1)
			}
			return err
		}
		d.dirty = true
		d.transportErrs++
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: Redis did not come back: %w", what, err)
		}
		<-time.After(50 * time.Millisecond) // back off while the sentinels elect a new primary
	}
}

func (d *driver) noteLost(kind, call string) {
	d.lost[kind]++
	if at, ok := d.ackAt[kind+" "+call]; ok && at.UnixNano() < d.lostAfter.Load() {
		d.t.Errorf("%s of %s was acknowledged at %v, before the checkpoint, and lost", kind, call, at.Format(time.StampMicro))
	}
}

func (d *driver) ack(kind, call string) { d.ackAt[kind+" "+call] = time.Now() }

// step is one round of a controller's work: reconcile after an outage, a new caller, a dispatch
// with its offers answered, and the oldest calls finished.
func (d *driver) step() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Also every few rounds, as the controller's periodic reconciliation does: go-redis may have
	// ridden out the failover by its own retries, and then nothing failed here.
	if d.dirty || d.next%10 == 5 {
		d.dirty = false
		if err := d.reconcile(); err != nil {
			return err
		}
		if d.dirty {
			return nil // Redis went away again: reconcile again first
		}
	}
	if len(d.waiting)+len(d.talking) < 8 {
		d.next++
		id := fmt.Sprintf("c%d", d.next)
		if err := d.enqueue(id); err != nil {
			return err
		}
	}
	var offers []Offer
	if err := d.try("dispatch", func(ctx context.Context) (err error) { offers, err = d.c.Dispatch(ctx); return err }); err != nil {
		return err
	}
	for _, o := range offers {
		if err := d.answer(o); err != nil {
			return err
		}
	}
	calls := make([]string, 0, len(d.talking))
	for id := range d.talking {
		calls = append(calls, id)
	}
	sort.Slice(calls, func(i, j int) bool { return callNum(calls[i]) < callNum(calls[j]) })
	for _, id := range calls[:min(2, len(calls))] {
		if err := d.finish(id); err != nil {
			return err
		}
	}
	if d.next%10 == 0 {
		if err := d.try("verify", d.c.Verify); err != nil {
			return fmt.Errorf("during traffic: %w", err)
		}
	}
	return nil
}

func callNum(id string) int {
	var n int
	fmt.Sscanf(id, "c%d", &n)
	return n
}

func (d *driver) enqueue(id string) error {
	q := []string{"q1", "q2"}[callNum(id)%2]
	err := d.try("enqueue", func(ctx context.Context) error {
		_, err := d.c.Enqueue(ctx, Waiting{CallID: id, Queue: q})
		return err
	})
	if err != nil && !errors.Is(err, ErrDuplicateCall) { // a duplicate: the first try's reply was lost
		return err
	}
	d.waiting[id] = true
	d.ack("enqueue", id)
	return nil
}

// answer handles one offer as the call's owner does.
func (d *driver) answer(o Offer) error {
	id, a := o.CallID, o.Agent
	switch {
	case d.talking[id] != "":
		// Redis lost the answer of a call that is talking: take it out of the queue again.
		d.noteLost("accept", id)
		return d.ignore(ErrUnknownCall, d.try("exit", func(ctx context.Context) error { _, err := d.c.Exit(ctx, id, "reconciled"); return err }))
	case !d.waiting[id]:
		// Finished here, but Redis lost that: let it go.
		d.noteLost("finish", id)
		return d.ignore(ErrUnknownCall, d.try("abandon", func(ctx context.Context) error { _, err := d.c.Abandon(ctx, id); return err }))
	case d.busy[a] != "":
		// The agent talks on a call whose answer Redis lost: they let this one ring out.
		d.paused[a] = true
		return d.ignore(ErrNotRinging, d.try("ring no answer", func(ctx context.Context) error { return d.c.RingNoAnswer(ctx, id, a) }))
	}
	err := d.try("accept", func(ctx context.Context) error { _, err := d.c.Accept(ctx, id, a); return err })
	switch {
	case err == nil:
		delete(d.waiting, id)
		d.talking[id], d.busy[a] = a, id
		d.ack("accept", id)
		return nil
	case errors.Is(err, ErrUnknownCall):
		d.noteLost("enqueue", id)
		return d.enqueue(id)
	case errors.Is(err, ErrNotRinging):
		return nil // a stale offer (Redis lost a dispatch), or an answer whose reply was lost: reconciled next
	}
	return err
}

func (d *driver) finish(id string) error {
	a := d.talking[id]
	err := d.try("finish", func(ctx context.Context) error { return d.c.Finish(ctx, id, a) })
	if errors.Is(err, ErrNotOnCall) || errors.Is(err, ErrUnknownCall) {
		// Redis lost the answer (the call waits or rings there), or a finish whose reply was lost.
		if errors.Is(err, ErrNotOnCall) {
			d.noteLost("accept", id)
		}
		err = d.ignore(ErrUnknownCall, d.try("exit", func(ctx context.Context) error { _, err := d.c.Exit(ctx, id, "reconciled"); return err }))
		d.paused[a] = true // whatever Redis thinks of them, they are free now
	}
	if err != nil {
		return err
	}
	delete(d.talking, id)
	delete(d.busy, a)
	d.finished++
	d.ack("finish", id)
	if d.paused[a] {
		delete(d.paused, a)
		return d.ignore(ErrAgentBusy, d.try("available", func(ctx context.Context) error { return d.c.SetAvailable(ctx, a) }))
	}
	return nil
}

func (d *driver) ignore(want, err error) error {
	if errors.Is(err, want) {
		return nil
	}
	return err
}

// reconcile brings Redis in line with what the driver knows, as a controller does after an outage
// or a restart: a ring nobody is answering goes back to its queue, a talking call Redis forgot is
// taken out of it when offered (answer), a waiting caller Redis forgot is queued again.
func (d *driver) reconcile() error {
	var snap Snapshot
	if err := d.try("snapshot", func(ctx context.Context) (err error) { snap, err = d.c.Snapshot(ctx); return err }); err != nil {
		return err
	}
	inRedis := map[string]bool{}
	for _, cs := range snap.Calls {
		inRedis[cs.ID] = true
		switch cs.Stage {
		case StageRinging:
			// The driver leaves no ring unanswered: this one's Dispatch reply was lost.
			for _, a := range cs.Agents {
				if err := d.ignore(ErrNotRinging, d.try("ring no answer", func(ctx context.Context) error { return d.c.RingNoAnswer(ctx, cs.ID, a) })); err != nil {
					return err
				}
				if d.busy[a] == "" {
					if err := d.ignore(ErrAgentBusy, d.try("available", func(ctx context.Context) error { return d.c.SetAvailable(ctx, a) })); err != nil {
						return err
					}
				} else {
					d.paused[a] = true
				}
			}
		case StageOnCall:
			a := cs.Agents[0]
			switch {
			case d.talking[cs.ID] == a:
			case d.talking[cs.ID] != "":
				d.t.Errorf("call %s is with %s in Redis and with %s here: given to two agents", cs.ID, a, d.talking[cs.ID])
			case d.waiting[cs.ID] && d.busy[a] == "":
				// An answer whose reply was lost: it did happen.
				delete(d.waiting, cs.ID)
				d.talking[cs.ID], d.busy[a] = a, cs.ID
			case d.waiting[cs.ID]:
				d.t.Errorf("agent %s talks on %s here and on %s in Redis", a, d.busy[a], cs.ID)
			default:
				// Finished here; Redis lost the finish.
				d.noteLost("finish", cs.ID)
				if err := d.ignore(ErrNotOnCall, d.try("finish", func(ctx context.Context) error { return d.c.Finish(ctx, cs.ID, a) })); err != nil {
					return err
				}
			}
		}
	}
	for id := range d.waiting {
		if !inRedis[id] {
			d.noteLost("enqueue", id)
			if err := d.enqueue(id); err != nil {
				return err
			}
		}
	}
	for _, as := range snap.Agents {
		if as.State == Paused && d.busy[as.ID] == "" {
			if err := d.ignore(ErrAgentBusy, d.try("available", func(ctx context.Context) error { return d.c.SetAvailable(ctx, as.ID) })); err != nil {
				return err
			}
		}
	}
	return nil
}

// drain ends the traffic: every call served and finished, then the state must be empty and sound.
func (d *driver) drain() {
	t := d.t
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.must(d.reconcile())
	for round := 0; len(d.waiting)+len(d.talking) > 0; round++ {
		if round > 200 {
			t.Fatalf("calls never drained: waiting %v, talking %v", d.waiting, d.talking)
		}
		if d.dirty {
			d.dirty = false
			d.must(d.reconcile())
		}
		var offers []Offer
		d.must(d.try("dispatch", func(ctx context.Context) (err error) { offers, err = d.c.Dispatch(ctx); return err }))
		for _, o := range offers {
			d.must(d.answer(o))
		}
		for id := range d.talking {
			d.must(d.finish(id))
		}
	}
	d.must(d.try("verify", d.c.Verify))
	var snap Snapshot
	d.must(d.try("snapshot", func(ctx context.Context) (err error) { snap, err = d.c.Snapshot(ctx); return err }))
	if len(snap.Calls) != 0 {
		t.Errorf("calls left in Redis after the drain: %+v", snap.Calls)
	}
	for _, a := range snap.Agents {
		if a.State != Available {
			t.Errorf("agent %s is %s after the drain", a.ID, a.State)
		}
	}
}

func (d *driver) lostTotal() int {
	n := 0
	for _, v := range d.lost {
		n += v
	}
	return n
}

func (d *driver) stats() string {
	keys := make([]string, 0, len(d.lost))
	for k := range d.lost {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d ", k, d.lost[k])
	}
	fmt.Fprintf(&b, "(finished %d calls)", d.finished)
	return b.String()
}
