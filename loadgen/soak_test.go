package loadgen_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/internal/waitfor"
	"github.com/hotline-cc/hotline/loadgen"
)

// soakEnv reads a positive number from the environment, or def.
func soakEnv(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
		return v
	}
	return def
}

// TestSoak (issue 13, deliverable 5): rounds of steady traffic through the whole call path on the
// simulator, each followed by a quiet moment in which every call must be gone: goroutines, the
// heap and Redis's keys must come back to where the first round left them, the ACD must stay
// consistent, and no call may be stuck. In CI it is short; scripts/soak.sh runs the long one:
//
//	HOTLINE_SOAK_ROUNDS=48 HOTLINE_SOAK_SECONDS=10 HOTLINE_SOAK_RATE=47 go test -run TestSoak -v -timeout 2h ./loadgen/
//
// (48 rounds of 10 s at 47 calls a second: 8 peak hours of the seed center, 2,800 calls an hour,
// with time running 60 times faster.)
func TestSoak(t *testing.T) {
	rounds := int(soakEnv("HOTLINE_SOAK_ROUNDS", 4))
	seconds := soakEnv("HOTLINE_SOAK_SECONDS", 1.5)
	rate := soakEnv("HOTLINE_SOAK_RATE", 10)

	const crewSize = 40
	srv, redisAddr := startCrewServer(t, "soak", crewSize, 400*time.Millisecond)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()

	quiet := func(round int) {
		t.Helper()
		waitfor.True(t, "every call of the round gone", 60*time.Second, func() bool {
			snap, err := srv.Center().Snapshot(ctx)
			return err == nil && len(snap.Calls) == 0
		})
		if err := srv.Center().Verify(ctx); err != nil {
			t.Fatalf("round %d: the ACD is inconsistent: %v", round, err)
		}
	}
	type sample struct {
		goroutines int
		heap       uint64
		keys       int64
	}
	measure := func() sample {
		// The crew's wrap-ups and the page-less agents' timers settle; then what is left is kept.
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		keys, err := rdb.DBSize(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		return sample{runtime.NumGoroutine(), m.HeapInuse, keys}
	}
	var base, last sample
	calls := 0
	for round := 1; round <= rounds; round++ {
		res, err := loadgen.Run(ctx, srv, loadgen.Config{Rate: rate, Duration: time.Duration(seconds * float64(time.Second))})
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed != 0 || res.Connected != res.Dialled {
			t.Fatalf("round %d: %v", round, res)
		}
		calls += res.Dialled
		quiet(round)
		last = measure()
		if round == 1 {
			base = last // after the first round: caches, pools and the crew are warm
		}
		t.Logf("round %d: %d calls, %d goroutines, heap %.1f MiB, %d Redis keys", round, res.Dialled, last.goroutines,
			float64(last.heap)/(1<<20), last.keys)
	}
	t.Logf("RESULT: %d rounds, %d calls; after the first round %d goroutines, heap %.1f MiB, %d keys; after the last %d, %.1f MiB, %d",
		rounds, calls, base.goroutines, float64(base.heap)/(1<<20), base.keys, last.goroutines, float64(last.heap)/(1<<20), last.keys)
	// Bounded, not equal: a goroutine or a key may be between two states when sampled.
	if last.goroutines > base.goroutines+25 {
		t.Errorf("goroutines grew from %d to %d", base.goroutines, last.goroutines)
	}
	// Keys per agent (a day's history, the presence of a page) appear as the crew take their first
	// calls; keys per call must all be gone.
	if last.keys > base.keys+2*crewSize {
		t.Errorf("Redis keys grew from %d to %d", base.keys, last.keys)
	}
	if left := rdb.Keys(ctx, "{hotline:soak}:c:*").Val(); len(left) > 0 {
		t.Errorf("%d calls' keys left in Redis: %v", len(left), left[:min(5, len(left))])
	}
	if last.heap > 2*base.heap+32<<20 {
		t.Errorf("heap grew from %d to %d bytes", base.heap, last.heap)
	}
	snap, err := srv.Center().Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range snap.Agents {
		if a.State == acd.Ringing || a.State == acd.OnCall || a.State == acd.Consulting {
			t.Errorf("agent %s stuck %s", a.ID, a.State)
		}
	}
}
