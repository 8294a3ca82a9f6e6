package acd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/internal/redistest"
)

// TestDispatchLoad is the ACD's load generator: a real redis-server, 5,000 agents, 20 queues and
// 10,000 waiting calls. It measures assignments per second and latency of Dispatch, and beside it, on
// the same Redis with the same concurrency, the rate of a trivial EVALSHA ("return 1") from Go and
// from redis-benchmark when installed. Run it with
//
//	HOTLINE_ACD_LOAD=1 go test -run TestDispatchLoad -v ./acd/
func TestDispatchLoad(t *testing.T) {
	if os.Getenv("HOTLINE_ACD_LOAD") == "" {
		t.Skip("set HOTLINE_ACD_LOAD=1 to run the load generator")
	}
	const (
		agents = 5000
		queues = 20
		calls  = 10000
	)
	conc := 16
	if v, err := strconv.Atoi(os.Getenv("HOTLINE_ACD_CONC")); err == nil && v > 0 {
		conc = v
	}
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: conc * 2})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()

	m := loadModel(t, agents, queues)
	setup, err := New(rdb, m, Options{Instance: "setup", Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	one, _ := New(rdb, m, Options{Instance: "load", DispatchBatch: 1, Logger: quietLog})
	batch, _ := New(rdb, m, Options{Instance: "load", DispatchBatch: 100, Logger: quietLog})
	ten, _ := New(rdb, m, Options{Instance: "load", DispatchBatch: 10, Logger: quietLog})
	for _, c := range []*Center{setup, one, batch, ten} {
		if err := c.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	parallel(t, conc, calls, func(i int) error {
		_, err := setup.Enqueue(ctx, Waiting{CallID: fmt.Sprintf("c%05d", i), Queue: fmt.Sprintf("q%02d", i%queues), Priority: i % 3})
		return err
	})
	parallel(t, conc, agents, func(i int) error { return setup.Login(ctx, m.Agents[i].ID) })

	// Dispatch one pair per script run, conc clients at once, until 2,000 agents ring.
	rdb.ConfigResetStat(ctx)
	lat, elapsed := measure(t, conc, 2000, func() (int, error) {
		o, err := one.Dispatch(ctx)
		return len(o), err
	})
	rate := float64(len(lat)) / elapsed.Seconds()
	serverUS := evalshaUsec(ctx, rdb)
	if os.Getenv("HOTLINE_ACD_STATS") != "" {
		info, _ := rdb.Info(ctx, "commandstats").Result()
		t.Log(info)
	}
	// Then batches of up to 10 pairs per run for the next 1,000: the latency of each assignment is
	// at most its run's.
	rdb.ConfigResetStat(ctx)
	tlat, telapsed := measure(t, conc, 100, func() (int, error) {
		o, err := ten.Dispatch(ctx)
		return len(o), err
	})
	trate := 1000 / telapsed.Seconds()
	// Then batches of up to 100 pairs per run for the next 1,900.
	rdb.ConfigResetStat(ctx)
	blat, belapsed := measure(t, conc, 19, func() (int, error) {
		o, err := batch.Dispatch(ctx)
		return len(o), err
	})
	brate := 1900 / belapsed.Seconds()
	batchUS := evalshaUsec(ctx, rdb)
	if os.Getenv("HOTLINE_ACD_STATS") != "" {
		info, _ := rdb.Info(ctx, "commandstats").Result()
		t.Log(info)
	}

	raw := redis.NewScript("return 1")
	if err := raw.Load(ctx, rdb).Err(); err != nil {
		t.Fatal(err)
	}
	rlat, relapsed := measure(t, conc, 50000, func() (int, error) { return 1, raw.EvalSha(ctx, rdb, nil).Err() })
	rawRate := float64(len(rlat)) / relapsed.Seconds()

	t.Logf("machine: %d CPUs (%s), GOMAXPROCS %d, %s", runtime.NumCPU(), cpuModel(), runtime.GOMAXPROCS(0), redisVersion(ctx, rdb))
	t.Logf("state: %d agents, %d queues, %d waiting calls; concurrency %d clients", agents, queues, calls, conc)
	t.Logf("Dispatch, 1 pair per run:   %6.0f assignments/s, p50 %v, p99 %v, max %v", rate, pct(lat, 50), pct(lat, 99), pct(lat, 100))
	t.Logf("Dispatch, ≤10 per run:      %6.0f assignments/s, p50 %v, p99 %v per run", trate, pct(tlat, 50), pct(tlat, 99))
	t.Logf("Dispatch, ≤100 per run:     %6.0f assignments/s, p50 %v, p99 %v per run", brate, pct(blat, 50), pct(blat, 99))
	t.Logf("EVALSHA return 1 from Go:   %6.0f calls/s, p99 %v", rawRate, pct(rlat, 99))
	t.Logf("server time per single-pair Dispatch run: %.1f µs (INFO commandstats)", serverUS)
	t.Logf("server time per ≤100-pair Dispatch run: %.1f µs", batchUS)
	t.Logf("assignment rate / raw rate:  %.2f one pair per run, %.2f ≤10 per run, %.2f ≤100 per run", rate/rawRate, trate/rawRate, brate/rawRate)
	if out, ok := redisBenchmark(srv.Addr, conc); ok {
		t.Logf("redis-benchmark EVALSHA:    %s", out)
	} else {
		t.Logf("redis-benchmark: %s", out)
	}
	if err := one.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// measure runs fn from conc goroutines until it has been called n times (each call counting its
// returned pairs is the caller's business) and returns the per-call latencies and wall time.
func measure(t *testing.T, conc, n int, fn func() (int, error)) ([]time.Duration, time.Duration) {
	t.Helper()
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				t0 := time.Now()
				if _, err := fn(); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	return lat, time.Since(start)
}

func parallel(t *testing.T, conc, n int, fn func(i int) error) {
	t.Helper()
	var next atomic.Int64
	measure(t, conc, n, func() (int, error) { return 0, fn(int(next.Add(1) - 1)) })
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i].Round(time.Microsecond)
}

// evalshaUsec reads the server's average time per EVALSHA since the last CONFIG RESETSTAT.
func evalshaUsec(ctx context.Context, rdb *redis.Client) float64 {
	info, _ := rdb.Info(ctx, "commandstats").Result()
	if m := regexp.MustCompile(`cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)`).FindStringSubmatch(info); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	return 0
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	if m := regexp.MustCompile(`model name\s*:\s*(.*)`).FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return "unknown CPU"
}

func redisVersion(ctx context.Context, rdb *redis.Client) string {
	info, _ := rdb.Info(ctx, "server").Result()
	if m := regexp.MustCompile(`redis_version:(\S+)`).FindStringSubmatch(info); m != nil {
		return "redis " + m[1]
	}
	return "redis ?"
}

func redisBenchmark(addr string, conc int) (string, bool) {
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		return "not installed", false
	}
	host, port, _ := strings.Cut(addr, ":")
	// EVAL with a constant script: the server caches it and runs it as EVALSHA would.
	out, err := exec.Command(bin, "-h", host, "-p", port, "-c", strconv.Itoa(conc), "-n", "200000", "-q",
		"EVAL", "return 1", "0").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("failed: %v: %s", err, out), false
	}
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndex(s, "\r"); i >= 0 {
		s = s[i+1:]
	}
	return s, true
}

// loadModel builds a center of agents agents in queues queues; each group of agents serves three
// queues at levels 8, 5 and 3, so queues share agents.
func loadModel(t testing.TB, agents, queues int) *Model {
	t.Helper()
	var b strings.Builder
	b.WriteString("center: load\nskills: [")
	for q := range queues {
		if q > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "k%02d", q)
	}
	b.WriteString("]\nqueues:\n")
	strats := []Strategy{LongestIdle, BestSkill, LeastCalls, Linear}
	for q := range queues {
		fmt.Fprintf(&b, "  - {name: q%02d, skill: k%02d, priority: %d, strategy: %s, wrapup: 0s}\n", q, q, q%3, strats[q%len(strats)])
	}
	b.WriteString("groups:\n")
	per := agents / queues
	for g := range queues {
		// Each group serves three queues at different levels, so queues share agents.
		fmt.Fprintf(&b, "  - {name: g%02d, count: %d, id: \"g%02da%%03d\", skills: {k%02d: 8, k%02d: 5, k%02d: 3}}\n",
			g, per, g, g, (g+1)%queues, (g+7)%queues)
	}
	m, err := Load("load.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// BenchmarkDispatch measures one assignment's whole cycle on a loaded center (5,000 agents, 20 queues,
// 10,000 waiting calls kept waiting): Dispatch of one pair, then Accept, Finish (no wrap-up) and a new
// Enqueue, from parallel goroutines. It reports assignments/s and Dispatch's p99.
//
//	go test -run '^$' -bench BenchmarkDispatch ./acd/
func BenchmarkDispatch(b *testing.B) {
	const agents, queues, calls = 5000, 20, 10000
	srv := redistest.Start(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 64})
	b.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	m := loadModel(b, agents, queues)
	c, err := New(rdb, m, Options{Instance: "bench", DispatchBatch: 1, Logger: quietLog})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	enqueue := func() error {
		i := seq.Add(1)
		_, err := c.Enqueue(ctx, Waiting{CallID: fmt.Sprintf("c%07d", i), Queue: fmt.Sprintf("q%02d", i%queues), Priority: int(i % 3)})
		return err
	}
	for range calls {
		if err := enqueue(); err != nil {
			b.Fatal(err)
		}
	}
	for _, a := range m.Agents {
		if err := c.Login(ctx, a.ID); err != nil {
			b.Fatal(err)
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	var assigned atomic.Int64
	b.SetParallelism(4) // 4 × GOMAXPROCS goroutines: enough to keep Redis busy on a small machine
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			offers, err := c.Dispatch(ctx)
			mine = append(mine, time.Since(t0))
			if err != nil {
				b.Error(err)
				return
			}
			for _, o := range offers {
				assigned.Add(1)
				if _, err := c.Accept(ctx, o.CallID, o.Agent); err != nil {
					b.Error(err)
					return
				}
				if err := c.Finish(ctx, o.CallID, o.Agent); err != nil {
					b.Error(err)
					return
				}
				if err := enqueue(); err != nil {
					b.Error(err)
					return
				}
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) > 0 {
		b.ReportMetric(float64(assigned.Load())/elapsed.Seconds(), "assignments/s")
		b.ReportMetric(float64(pct(lat, 99).Microseconds()), "p99-µs")
	}
}
