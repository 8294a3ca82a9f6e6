package records

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRecorderLoad is the recorder's load test, off unless asked for:
//
//	HOTLINE_RECORDS_LOAD=200 HOTLINE_RECORDS_SECONDS=60 go test -run TestRecorderLoad -v ./records/
//
// Calls are set up at the given rate, each writing what a real one does to the streams: four IVR
// steps (the menu, a key, the queue node, the end) and five ACD events (enqueue, ring, connect,
// complete, the wrap-up's end), on a real redis-server, while a recorder copies them into a real
// PostgreSQL and keeps the calls table. Every 100 ms it samples the lag: the age of the oldest
// entry not yet committed. It reports the lag's p50, p99 and max, and how long the recorder took
// to finish after the last call.
func TestRecorderLoad(t *testing.T) {
	rate, _ := strconv.Atoi(os.Getenv("HOTLINE_RECORDS_LOAD"))
	if rate <= 0 {
		t.Skip("set HOTLINE_RECORDS_LOAD to call setups a second")
	}
	seconds := 30
	if s, err := strconv.Atoi(os.Getenv("HOTLINE_RECORDS_SECONDS")); err == nil && s > 0 {
		seconds = s
	}
	r := newRig(t)
	r.recordBatch(0)
	ctx := context.Background()

	var lags []time.Duration
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			lags = append(lags, r.lag(ctx))
		}
	}()
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	n := 0
	for time.Since(start) < time.Duration(seconds)*time.Second {
		due := start.Add(time.Duration(n) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		r.writeCall(ctx, n)
		n++
	}
	wrote := time.Since(start)
	close(stop)
	<-sampled
	waitCaught := time.Now()
	for r.lag(ctx) > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	catchUp := time.Since(waitCaught)
	var calls int
	if err := r.store.pool.QueryRow(ctx, `SELECT count(*) FROM calls WHERE center = 'c1'`).Scan(&calls); err != nil {
		t.Fatal(err)
	}
	if calls != n {
		t.Errorf("%d calls recorded, %d made", calls, n)
	}
	slices.Sort(lags)
	q := func(p float64) time.Duration {
		return lags[min(len(lags)-1, int(p*float64(len(lags))))].Round(time.Millisecond)
	}
	t.Logf("RESULT: %d call setups in %v (%.0f/s, %d stream entries/s); lag p50 %v, p99 %v, max %v (%d samples); caught up %v after the last",
		n, wrote.Round(time.Millisecond), float64(n)/wrote.Seconds(), int(9*float64(n)/wrote.Seconds()),
		q(0.5), q(0.99), lags[len(lags)-1].Round(time.Millisecond), len(lags), catchUp.Round(time.Millisecond))
}

// writeCall writes call n's entries as the IVR and the ACD would.
func (r *rig) writeCall(ctx context.Context, n int) {
	call := fmt.Sprintf("load-%d", n)
	agent := fmt.Sprintf("p%03d", n%250)
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	p := r.rdb.Pipeline()
	for _, s := range [][]string{{"main", "node", ""}, {"main", "key", "2"}, {"queue", "node", ""}, {"queue", "end", "queue"}} {
		p.XAdd(ctx, &redis.XAddArgs{Stream: "{c1}:ivr", Values: []any{"time", now, "call", call, "did", "8800",
			"caller", fmt.Sprintf("+7916%07d", n), "node", s[0], "event", s[1], "value", s[2]}})
	}
	for _, e := range [][]string{{"", "ENQUEUE", "0"}, {agent, "RING", ""}, {agent, "CONNECT", "4000"}, {agent, "COMPLETE", "180000"}} {
		p.XAdd(ctx, &redis.XAddArgs{Stream: "{c1}:events", Values: []any{"time", now, "call", call, "queue", "private",
			"agent", e[0], "event", e[1], "data", e[2]}})
	}
	p.XAdd(ctx, &redis.XAddArgs{Stream: "{c1}:events", Values: []any{"time", now, "call", "", "queue", "", "agent", agent, "event", "WRAPUPEND", "data", ""}})
	if _, err := p.Exec(ctx); err != nil {
		r.t.Fatal(err)
	}
}

// lag is the age of the oldest entry of either stream not yet committed to PostgreSQL.
func (r *rig) lag(ctx context.Context) time.Duration {
	var worst time.Duration
	for _, s := range []Source{{StreamACD, "{c1}:events"}, {StreamIVR, "{c1}:ivr"}} {
		pos, err := r.store.position(ctx, s.Stream)
		if err != nil {
			r.t.Fatal(err)
		}
		next, err := r.rdb.XRangeN(ctx, s.Key, "("+pos.String(), "+", 1).Result()
		if err != nil {
			r.t.Fatal(err)
		}
		if len(next) == 0 {
			continue
		}
		id, err := parseID(next[0].ID)
		if err != nil {
			r.t.Fatal(err)
		}
		worst = max(worst, time.Since(time.UnixMilli(id.ms)))
	}
	return worst
}

// TestReportYear times reports over a generated year of the center, off unless asked for:
//
//	HOTLINE_RECORDS_YEAR=1500000 go test -run TestReportYear -v -timeout 20m ./records/
//
// It writes that many calls into the calls table (spread over 2025, 20 queues, 500 agents, a
// tenth abandoned, callers calling again now and then), then runs the reports a supervisor asks
// for most, each three times, and reports the best time.
func TestReportYear(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("HOTLINE_RECORDS_YEAR"))
	if n <= 0 {
		t.Skip("set HOTLINE_RECORDS_YEAR to the number of calls to generate")
	}
	r := newRig(t)
	ctx := context.Background()
	if err := r.store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := r.store.pool.Exec(ctx, `
		INSERT INTO calls (center, call_id, arrived_at, caller, ivr_outcome, enqueued_at, first_queue, queue,
			answered_at, agent, wait_ms, talk_ms, wrapup_ms, ended_by, ended_at, left_after_ms, offers, next_call_at)
		SELECT 'c1', 'y' || i, at, '+7916' || lpad((i % 400000)::text, 7, '0'), 'queue', at + interval '10 s',
			'q' || (i % 20), 'q' || (i % 20),
			CASE WHEN i % 10 <> 0 THEN at + interval '10 s' + (i % 60) * interval '1 s' END,
			CASE WHEN i % 10 <> 0 THEN 'p' || lpad((i % 500)::text, 3, '0') ELSE '' END,
			CASE WHEN i % 10 <> 0 THEN (i % 60) * 1000 END,
			CASE WHEN i % 10 <> 0 THEN 60000 + (i % 600) * 1000 END,
			CASE WHEN i % 10 <> 0 THEN 30000 END,
			CASE WHEN i % 10 <> 0 THEN 'COMPLETE' ELSE 'ABANDON' END,
			at + interval '5 min',
			CASE WHEN i % 10 = 0 THEN (i % 90) * 1000 END,
			1,
			CASE WHEN i % 7 = 0 THEN at + interval '30 h' END
		FROM (SELECT i, timestamptz '2025-01-01 00:00+03' + (i::float8 / $1) * interval '365 days' AS at
			FROM generate_series(1, $1) i) g`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.pool.Exec(ctx, `ANALYZE calls`); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d calls in %v", n, time.Since(start).Round(time.Millisecond))
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	year := time.Date(2025, 1, 1, 0, 0, 0, 0, msk)
	for _, q := range []struct {
		name string
		q    ReportQuery
	}{
		{"the year by month, per queue", ReportQuery{From: year, To: year.AddDate(1, 0, 0), Interval: "month", By: "queue"}},
		{"the year by month, whole center", ReportQuery{From: year, To: year.AddDate(1, 0, 0), Interval: "month"}},
		{"a month by day, per agent", ReportQuery{From: year.AddDate(0, 6, 0), To: year.AddDate(0, 7, 0), Interval: "day", By: "agent"}},
		{"a day by 15 minutes, per queue", ReportQuery{From: year.AddDate(0, 6, 14), To: year.AddDate(0, 6, 15), Interval: "15m", By: "queue"}},
	} {
		q.q.Location = msk
		best := time.Hour
		var rows int
		for range 3 {
			t0 := time.Now()
			out, err := r.store.Report(ctx, q.q)
			if err != nil {
				t.Fatalf("%s: %v", q.name, err)
			}
			best, rows = min(best, time.Since(t0)), len(out)
		}
		t.Logf("RESULT: %-32s %5d rows in %v (best of 3)", q.name, rows, best.Round(time.Millisecond))
	}
}
