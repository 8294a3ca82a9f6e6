package records

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/audit"
	"github.com/hotline-cc/hotline/internal/pgtest"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// rig is a Redis with the three streams, a PostgreSQL, and recorders of one center between them.
type rig struct {
	t     *testing.T
	rdb   *redis.Client
	pg    *pgtest.Server
	store *Store
	aud   *audit.Stream
	srcs  []Source
	n     int // entries written to each stream
}

func newRig(t *testing.T) *rig {
	t.Helper()
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	pg := pgtest.Start(t)
	store, err := Open(pg.URL, "c1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return &rig{t: t, rdb: rdb, pg: pg, store: store,
		aud:  audit.NewStream(rdb, "{c1}:audit", 0, nil),
		srcs: []Source{{StreamACD, "{c1}:events"}, {StreamIVR, "{c1}:ivr"}, {StreamAudit, "{c1}:audit"}}}
}

// testLog shows the recorder's log with the test's (on failure, or with -v).
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// record starts a recorder until the test ends, reading small batches so that several are needed.
func (r *rig) record() { r.recordBatch(7) }

// recordBatch starts a recorder that reads batch entries at a time (0: the default).
func (r *rig) recordBatch(batch int64) {
	r.t.Helper()
	rec, err := NewRecorder(r.store, r.rdb, r.srcs, Options{Batch: batch, Retry: 50 * time.Millisecond, Registry: prometheus.NewRegistry()},
		slog.New(slog.NewTextHandler(testLog{r.t}, nil)))
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rec.Run(ctx); close(done) }()
	r.t.Cleanup(func() { cancel(); <-done })
}

// write adds n entries to each stream, in the producers' formats.
func (r *rig) write(n int) {
	r.t.Helper()
	ctx := context.Background()
	for range n {
		r.n++
		call := fmt.Sprintf("call-%d", r.n)
		now := time.Now().UnixMilli()
		if err := r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: "{c1}:events", Values: []any{"time", now, "call", call,
			"queue", "private", "agent", "", "event", "ENQUEUE", "data", "0"}}).Err(); err != nil {
			r.t.Fatal(err)
		}
		if err := r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: "{c1}:ivr", Values: map[string]any{"time": now, "call": call,
			"did": "8800", "caller": "+79161234567", "node": "main", "event": "enter"}}).Err(); err != nil {
			r.t.Fatal(err)
		}
		if err := r.aud.Record(ctx, audit.Entry{Actor: "sup1", Role: "supervisor", Action: "dial", Target: "+79161234567",
			Detail: map[string]string{"call": call}}); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *rig) count(table string) int {
	r.t.Helper()
	var n int
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.store.pool.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE center = 'c1'`).Scan(&n); err != nil {
		return -1
	}
	return n
}

// copied waits until every stream's entries are rows, and no more.
func (r *rig) copied(what string) {
	r.t.Helper()
	waitfor.True(r.t, "the recorder copying "+what, 60*time.Second, func() bool {
		return r.count("acd_events") == r.n && r.count("ivr_steps") == r.n && r.count("audit_log") == r.n
	})
}

// TestRecorderCopies: every entry of the three streams becomes a row with its fields, in batches.
func TestRecorderCopies(t *testing.T) {
	r := newRig(t)
	r.write(20)
	r.record()
	r.copied("the first entries")
	r.write(3)
	r.copied("entries written while it runs")

	var queue, event, caller, did, actor, target, call string
	ctx := context.Background()
	if err := r.store.pool.QueryRow(ctx, `SELECT queue, event FROM acd_events WHERE call_id = 'call-5'`).Scan(&queue, &event); err != nil || queue != "private" || event != "ENQUEUE" {
		t.Errorf("acd event: %q %q %v", queue, event, err)
	}
	if err := r.store.pool.QueryRow(ctx, `SELECT caller, did FROM ivr_steps WHERE call_id = 'call-5'`).Scan(&caller, &did); err != nil || caller != "+79161234567" || did != "8800" {
		t.Errorf("ivr step: %q %q %v", caller, did, err)
	}
	if err := r.store.pool.QueryRow(ctx, `SELECT actor, target, detail->>'call' FROM audit_log WHERE detail->>'call' = 'call-5'`).Scan(&actor, &target, &call); err != nil || actor != "sup1" || target != "+79161234567" {
		t.Errorf("audit: %q %q %q %v", actor, target, call, err)
	}
}

// TestRecorderOutage (issue 11, deliverable 1): PostgreSQL goes away under traffic and comes back:
// nothing written meanwhile is lost, and nothing is written twice, even by a second recorder that
// starts from the beginning of the streams.
func TestRecorderOutage(t *testing.T) {
	r := newRig(t)
	r.record()
	r.write(10)
	r.copied("before the outage")
	r.pg.Stop()
	for range 5 {
		r.write(10) // the controller goes on; the streams hold it
	}
	r.pg.Start()
	r.copied("after the outage")

	// A second recorder, from the streams' start: the rows are there once.
	ctx := context.Background()
	if _, err := r.store.pool.Exec(ctx, `DELETE FROM recorder_positions`); err != nil {
		t.Fatal(err)
	}
	r.record()
	r.write(5)
	r.copied("with two recorders, one of them starting over")
	var dup int
	if err := r.store.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT call_id FROM acd_events GROUP BY call_id HAVING count(*) > 1) d`).Scan(&dup); err != nil || dup != 0 {
		t.Fatalf("%d calls with duplicated events (%v)", dup, err)
	}
}

// TestPrune: callers' numbers and numbers dialled are masked after MaskNumbersAfter; rows older than
// Keep are deleted.
func TestPrune(t *testing.T) {
	r := newRig(t)
	r.record()
	r.write(4)
	r.copied("the entries")
	ctx := context.Background()
	now := time.Now()
	if err := r.store.Prune(ctx, Retention{Keep: 365 * 24 * time.Hour, MaskNumbersAfter: time.Hour}, now); err != nil {
		t.Fatal(err)
	}
	var caller string
	if err := r.store.pool.QueryRow(ctx, `SELECT caller FROM ivr_steps LIMIT 1`).Scan(&caller); err != nil || caller != "+79161234567" {
		t.Fatalf("a fresh number: %q (%v)", caller, err)
	}
	if err := r.store.Prune(ctx, Retention{Keep: 365 * 24 * time.Hour, MaskNumbersAfter: time.Hour}, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var target string
	if err := r.store.pool.QueryRow(ctx, `SELECT i.caller, a.target FROM ivr_steps i, audit_log a LIMIT 1`).Scan(&caller, &target); err != nil ||
		caller != "+7********67" || target != "+7********67" {
		t.Fatalf("numbers after the masking: %q %q (%v)", caller, target, err)
	}
	// A full node's refusals are kept as long as the calls.
	if _, err := r.store.write(ctx, StreamRefusal, []redis.XMessage{{ID: fmt.Sprintf("%d-0", now.UnixMilli()), Values: map[string]any{"node": "a@1", "count": "2"}}}); err != nil {
		t.Fatal(err)
	}
	if n := r.count("refusals"); n != 1 {
		t.Fatalf("refusals: %d rows, want 1", n)
	}
	if err := r.store.Prune(ctx, Retention{Keep: 24 * time.Hour}, now.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"acd_events", "ivr_steps", "audit_log", "refusals"} {
		if n := r.count(table); n != 0 {
			t.Errorf("%s: %d rows past retention", table, n)
		}
	}
}

// TestRecorderTrimmedUncopied: a stream's trimming drops entries not yet copied (before the first
// copy; with PostgreSQL away). The recorder says so once per loss, counts it, and copies what is
// left; a trim of entries already copied is not a loss.
func TestRecorderTrimmedUncopied(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	trim := func(key string, n int64) {
		t.Helper()
		if err := r.rdb.XTrimMaxLen(ctx, key, n).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Before the first copy: 2 of the IVR's 10 steps are gone.
	r.write(10)
	trim("{c1}:ivr", 8)

	reg := prometheus.NewRegistry()
	var logged strings.Builder
	var mu sync.Mutex
	rec, err := NewRecorder(r.store, r.rdb, r.srcs, Options{Batch: 7, Retry: 50 * time.Millisecond, Registry: reg},
		slog.New(slog.NewTextHandler(lockedWriter{&mu, &logged}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { rec.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	lost := func(stream string) float64 { return testutil.ToFloat64(rec.m.lost.WithLabelValues(stream)) }
	copied := func(what string, acd, ivr int) {
		t.Helper()
		waitfor.True(t, what, 60*time.Second, func() bool { return r.count("acd_events") == acd && r.count("ivr_steps") == ivr })
	}

	copied("the first entries", 10, 8)
	// Trimmed after the copy: nothing lost.
	trim("{c1}:events", 2)
	r.write(1)
	copied("after a trim of copied entries", 11, 9)

	r.pg.Stop()
	r.write(10)
	// The producer's bound, reached during the outage: of the 13 events kept, the 5 newest are left.
	trim("{c1}:events", 5)
	r.pg.Start()
	copied("what the trim left", 16, 19)
	waitfor.True(t, "the losses counted", 10*time.Second, func() bool { return lost(StreamACD) == 1 && lost(StreamIVR) == 1 })
	mu.Lock()
	out := logged.String()
	mu.Unlock()
	if n := strings.Count(out, "trimmed from a stream before they were copied"); n != 2 ||
		!strings.Contains(out, "stream=acd") || !strings.Contains(out, `stream=ivr key={c1}:ivr after="the stream's start"`) {
		t.Errorf("the losses logged %d times, want once for each stream:\n%s", n, out)
	}
	if a, i, au := lost(StreamACD), lost(StreamIVR), lost(StreamAudit); a != 1 || i != 1 || au != 0 {
		t.Errorf("losses counted: acd %v, ivr %v, audit %v; want 1, 1, 0", a, i, au)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
