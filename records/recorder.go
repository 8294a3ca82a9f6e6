package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/audit"
)

var errNoRows = pgx.ErrNoRows

// The streams a Recorder copies, by their name in recorder_positions.
const (
	StreamACD    = "acd"    // the ACD's events (acd.Event)
	StreamIVR    = "ivr"    // the IVR's steps
	StreamAudit  = "audit"  // audit.Entry, JSON in field "e"
	StreamWrapUp = "wrapup" // the agent's disposition and note for a call
	StreamSurvey = "survey" // a caller's post-call survey score
	// StreamRefusal: carrier calls a full node refused, as its count rose ("node": the node run,
	// "count": how many since the last entry).
	StreamRefusal = "refusal"
)

// Source is one stream to copy: which kind, and its Redis key.
type Source struct{ Stream, Key string }

// Options tune a Recorder; zero values take the defaults.
type Options struct {
	Batch     int64         // entries read per stream at a time (500)
	Retry     time.Duration // wait after a PostgreSQL or Redis error (2 s)
	Retention Retention     // what the recorder deletes and masks, once an hour
	Registry  prometheus.Registerer
}

// Recorder copies the streams into the Store. Every controller may run one: they agree through a
// PostgreSQL advisory lock that one copies at a time, and the others wait to take over.
type Recorder struct {
	store   *Store
	rdb     redis.UniversalClient
	sources []Source
	opt     Options
	log     *slog.Logger
	m       *metrics

	sinceAnalyze, analyzeEvery int                 // entries written since the last ANALYZE, and the next threshold
	lossSeen                   map[string]streamID // per stream, the last trim past the copy already reported
}

// NewRecorder returns a Recorder of sources into store.
func NewRecorder(store *Store, rdb redis.UniversalClient, sources []Source, opt Options, log *slog.Logger) (*Recorder, error) {
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Retry <= 0 {
		opt.Retry = 2 * time.Second
	}
	for _, s := range sources {
		switch s.Stream {
		case StreamACD, StreamIVR, StreamAudit, StreamWrapUp, StreamSurvey, StreamRecording, StreamRefusal:
		default:
			return nil, fmt.Errorf("records: unknown stream %q", s.Stream)
		}
	}
	m, err := newMetrics(opt.Registry)
	if err != nil {
		return nil, err
	}
	return &Recorder{store: store, rdb: rdb, sources: sources, opt: opt, log: log, m: m, analyzeEvery: 1000,
		lossSeen: map[string]streamID{}}, nil
}

// Run copies until ctx ends. PostgreSQL or Redis being away is waited out: the position does not
// move until rows are committed, so nothing is skipped, and nothing is written twice.
func (r *Recorder) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := r.session(ctx)
		if ctx.Err() != nil {
			break
		}
		r.m.up.Set(0)
		if err != nil {
			r.log.Warn("records: copying stopped; retrying", "err", err, "retry", r.opt.Retry)
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.opt.Retry):
		}
	}
	return nil
}

// session migrates, takes the copier's lock and copies until an error.
func (r *Recorder) session(ctx context.Context) error {
	if err := r.store.Migrate(ctx); err != nil {
		return err
	}
	conn, err := r.store.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("records: connect: %w", err)
	}
	defer conn.Release()
	var held bool
	key := lockKey(r.store.center)
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&held); err != nil {
		return fmt.Errorf("records: lock: %w", err)
	}
	if !held {
		return nil // another controller copies; try again after Retry
	}
	defer func() {
		// The lock is the session's: a dead connection has dropped it already.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key)
	}()
	pos := make([]string, len(r.sources))
	for i, s := range r.sources {
		id, err := r.store.position(ctx, s.Stream)
		if err != nil {
			return fmt.Errorf("records: position of %s: %w", s.Stream, err)
		}
		pos[i] = id.String()
	}
	r.log.Info("records: copying the streams to PostgreSQL", "positions", pos)
	r.m.up.Set(1)
	r.checkTrimmed(ctx, pos)
	nextPrune, lastPing := time.Now(), time.Now()
	for ctx.Err() == nil {
		if time.Now().After(nextPrune) {
			if err := r.store.Prune(ctx, r.opt.Retention, time.Now()); err != nil {
				return err
			}
			nextPrune = time.Now().Add(time.Hour)
		}
		// The lock lives with its connection: once a few seconds is enough to notice it gone
		// (a batch that fails says so sooner), not a round trip per batch.
		if time.Since(lastPing) > 5*time.Second {
			if err := conn.Ping(ctx); err != nil {
				return fmt.Errorf("records: the lock's connection: %w", err)
			}
			r.checkTrimmed(ctx, pos)
			lastPing = time.Now()
		}
		if err := r.copyOnce(ctx, pos); err != nil {
			return err
		}
	}
	return nil
}

// copyOnce reads what follows pos in every stream (waiting up to a second for news) and writes
// it, moving pos past what was committed.
func (r *Recorder) copyOnce(ctx context.Context, pos []string) error {
	args := make([]string, 0, 2*len(r.sources))
	for _, s := range r.sources {
		args = append(args, s.Key)
	}
	args = append(args, pos...)
	// go-redis does not end a blocking read when ctx does: the block is short.
	res, err := r.rdb.XRead(ctx, &redis.XReadArgs{Streams: args, Count: r.opt.Batch, Block: time.Second}).Result()
	if errors.Is(err, redis.Nil) {
		for _, s := range r.sources {
			r.m.behind.WithLabelValues(s.Stream).Set(0)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("records: read the streams: %w", err)
	}
	for _, st := range res {
		i := r.sourceOf(st.Stream)
		if i < 0 || len(st.Messages) == 0 {
			continue
		}
		src := r.sources[i]
		n, err := r.store.write(ctx, src.Stream, st.Messages)
		if err != nil {
			return err
		}
		last := st.Messages[len(st.Messages)-1]
		pos[i] = last.ID
		r.m.written.WithLabelValues(src.Stream).Add(float64(n))
		if err := r.analyze(ctx, n); err != nil {
			return err
		}
		if skipped := len(st.Messages) - n; skipped > 0 {
			r.m.skipped.WithLabelValues(src.Stream).Add(float64(skipped))
		}
		behind := 0.0
		if int64(len(st.Messages)) == r.opt.Batch {
			// More waits: how far behind the newest entry written is.
			if id, err := parseID(last.ID); err == nil {
				behind = max(0, time.Since(time.UnixMilli(id.ms)).Seconds())
			}
		}
		r.m.behind.WithLabelValues(src.Stream).Set(behind)
	}
	return nil
}

// analyze refreshes the planner's statistics of the tables the copy reads back (calls, the
// events) as they grow: from empty, the planner would scan them whole for every batch until
// autovacuum's first pass, and the copy would fall behind at the first peak. After 1,000 entries,
// then each time they have doubled, up to every 1,000,000.
func (r *Recorder) analyze(ctx context.Context, n int) error {
	r.sinceAnalyze += n
	if r.sinceAnalyze < r.analyzeEvery {
		return nil
	}
	r.sinceAnalyze = 0
	r.analyzeEvery = min(2*r.analyzeEvery, 1_000_000)
	if _, err := r.store.pool.Exec(ctx, `ANALYZE calls, acd_events, ivr_steps, wrapups, surveys`); err != nil {
		return fmt.Errorf("records: analyze: %w", err)
	}
	return nil
}

// checkTrimmed reports entries a stream lost to its trimming before they were copied. The
// producers bound their streams by length, so a PostgreSQL away for hours at a peak lets the oldest
// uncopied entries go: that must not pass in silence. While the copy keeps up, the entry at its
// position is still in the stream (the trim takes entries far older); once that entry is gone, so
// are those that followed it up to the oldest one left. Before the first copy, Redis's count of
// entries ever added, less those still there, is the loss. Each loss is logged once, with its span
// of time, and counted.
func (r *Recorder) checkTrimmed(ctx context.Context, pos []string) {
	for i, s := range r.sources {
		at, err := parseID(pos[i])
		if err != nil {
			continue
		}
		var gone, first streamID
		if at == (streamID{}) {
			info, err := r.rdb.XInfoStream(ctx, s.Key).Result()
			if err != nil || info.EntriesAdded <= info.Length {
				continue // no stream yet, Redis away (the copy says so), or nothing trimmed
			}
			if first, err = parseID(info.FirstEntry.ID); err != nil {
				continue
			}
		} else {
			msgs, err := r.rdb.XRangeN(ctx, s.Key, pos[i], "+", 1).Result()
			if err != nil || len(msgs) == 0 || msgs[0].ID == pos[i] {
				continue
			}
			if first, err = parseID(msgs[0].ID); err != nil {
				continue
			}
			gone = at
		}
		if !r.lossSeen[s.Stream].before(first) {
			continue // reported already
		}
		r.lossSeen[s.Stream] = first
		r.m.lost.WithLabelValues(s.Stream).Inc()
		after := "the stream's start"
		if gone != (streamID{}) {
			after = time.UnixMilli(gone.ms).UTC().Format(time.RFC3339Nano)
		}
		r.log.Error("records: entries were trimmed from a stream before they were copied to PostgreSQL; the records of this span are incomplete",
			"stream", s.Stream, "key", s.Key, "after", after, "before", time.UnixMilli(first.ms).UTC().Format(time.RFC3339Nano),
			"position", pos[i], "oldest_kept", first.String())
	}
}

func (r *Recorder) sourceOf(key string) int {
	for i, s := range r.sources {
		if s.Key == key {
			return i
		}
	}
	return -1
}

func lockKey(center string) int64 {
	h := fnv.New64a()
	h.Write([]byte("hotline records " + center))
	return int64(h.Sum64())
}

// write copies one batch of a stream and moves its position, in one transaction. It returns how
// many entries were rows (a malformed entry is skipped, never retried for ever).
func (s *Store) write(ctx context.Context, stream string, msgs []redis.XMessage) (int, error) {
	var last streamID
	rows := &batch{}
	var recs []recordingRow
	for _, m := range msgs {
		id, err := parseID(m.ID)
		if err != nil {
			continue
		}
		last = id
		if stream == StreamRecording {
			if r, ok := parseRecording(id, m.Values); ok {
				recs = append(recs, r)
			}
			continue
		}
		rows.add(stream, id, m.Values)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("records: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	if err := writeRecordings(ctx, tx, s.center, recs); err != nil {
		return 0, fmt.Errorf("records: write %s: %w", stream, err)
	}
	if err := rows.insert(ctx, tx, s.center, stream); err != nil {
		return 0, fmt.Errorf("records: write %s: %w", stream, err)
	}
	if err := rows.updateCalls(ctx, tx, s.center, stream); err != nil {
		return 0, fmt.Errorf("records: %s: %w", stream, err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO recorder_positions (center, stream, id_ms, id_seq) VALUES ($1, $2, $3, $4)
		ON CONFLICT (center, stream) DO UPDATE SET id_ms = EXCLUDED.id_ms, id_seq = EXCLUDED.id_seq, updated_at = now()
		WHERE (recorder_positions.id_ms, recorder_positions.id_seq) < (EXCLUDED.id_ms, EXCLUDED.id_seq)`,
		s.center, stream, last.ms, last.seq); err != nil {
		return 0, fmt.Errorf("records: position of %s: %w", stream, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("records: commit %s: %w", stream, err)
	}
	return rows.n + len(recs), nil
}

// batch holds one stream's rows as columns, for an INSERT over unnest.
type batch struct {
	n    int
	ms   []int64
	seq  []int64
	at   []time.Time
	cols [][]string
}

func (b *batch) add(stream string, id streamID, v map[string]any) {
	str := func(k string) string { s, _ := v[k].(string); return s }
	var row []string
	at := time.UnixMilli(id.ms)
	if ms, err := strconv.ParseInt(str("time"), 10, 64); err == nil {
		at = time.UnixMilli(ms)
	}
	switch stream {
	case StreamACD:
		if str("event") == "" {
			return
		}
		row = []string{str("call"), str("queue"), str("agent"), str("event"), str("data")}
	case StreamIVR:
		if str("call") == "" || str("event") == "" {
			return
		}
		row = []string{str("call"), str("did"), str("caller"), str("node"), str("event"), str("field"), str("value")}
	case StreamWrapUp:
		if str("call") == "" || str("agent") == "" {
			return
		}
		row = []string{str("call"), str("agent"), str("disposition"), str("note")}
	case StreamSurvey:
		if str("call") == "" || str("agent") == "" {
			return
		}
		row = []string{str("call"), str("agent"), str("queue"), str("lang"), str("score")}
	case StreamRefusal:
		if n, err := strconv.Atoi(str("count")); err != nil || n <= 0 || n > math.MaxInt32 || str("node") == "" {
			return
		}
		row = []string{str("node"), str("count")}
	case StreamAudit:
		var e audit.Entry
		if json.Unmarshal([]byte(str("e")), &e) != nil || e.Action == "" || e.Actor == "" {
			return
		}
		detail, _ := json.Marshal(e.Detail)
		if e.Detail == nil {
			detail = []byte("{}")
		}
		at = e.Time
		row = []string{e.Actor, e.Role, e.Remote, e.Action, e.Target, e.Outcome, string(detail)}
	}
	b.n++
	b.ms, b.seq, b.at = append(b.ms, id.ms), append(b.seq, id.seq), append(b.at, at)
	if b.cols == nil {
		b.cols = make([][]string, len(row))
	}
	for i, c := range row {
		b.cols[i] = append(b.cols[i], c)
	}
}

var inserts = map[string]string{
	StreamACD: `INSERT INTO acd_events (center, id_ms, id_seq, at, call_id, queue, agent, event, data)
		SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
		ON CONFLICT DO NOTHING`,
	StreamIVR: `INSERT INTO ivr_steps (center, id_ms, id_seq, at, call_id, did, caller, node, event, field, value)
		SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
		ON CONFLICT DO NOTHING`,
	StreamWrapUp: `INSERT INTO wrapups (center, id_ms, id_seq, at, call_id, agent, disposition, note)
		SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[])
		ON CONFLICT DO NOTHING`,
	// A score that is not 0..10 (a hand-made entry) is kept as none rather than stopping the copy.
	StreamSurvey: `INSERT INTO surveys (center, id_ms, id_seq, at, call_id, agent, queue, lang, score)
		SELECT $1, ms, seq, at, call_id, agent, queue, lang,
			CASE WHEN score ~ '^([0-9]|10)$' THEN score::smallint END
		FROM unnest($2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
			AS t(ms, seq, at, call_id, agent, queue, lang, score)
		ON CONFLICT DO NOTHING`,
	StreamRefusal: `INSERT INTO refusals (center, id_ms, id_seq, at, node, count)
		SELECT $1, ms, seq, at, node, count::integer
		FROM unnest($2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[]) AS t(ms, seq, at, node, count)
		ON CONFLICT DO NOTHING`,
	StreamAudit: `INSERT INTO audit_log (center, id_ms, id_seq, at, actor, role, remote, action, target, outcome, detail)
		SELECT $1, ms, seq, at, actor, role, remote, action, target, outcome, detail::jsonb
		FROM unnest($2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
			AS t(ms, seq, at, actor, role, remote, action, target, outcome, detail)
		ON CONFLICT DO NOTHING`,
}

func (b *batch) insert(ctx context.Context, tx pgx.Tx, center, stream string) error {
	if b.n == 0 {
		return nil
	}
	args := []any{center, b.ms, b.seq, b.at}
	for _, c := range b.cols {
		args = append(args, c)
	}
	_, err := tx.Exec(ctx, inserts[stream], args...)
	return err
}

// metrics are the recorder's series.
type metrics struct {
	up      prometheus.Gauge
	written *prometheus.CounterVec
	skipped *prometheus.CounterVec
	behind  *prometheus.GaugeVec
	lost    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hotline_records_up",
			Help: "1 while this controller copies the streams to PostgreSQL (0: PostgreSQL or Redis is away, or another controller copies)."}),
		written: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_records_written_total",
			Help: "Stream entries this controller copied to PostgreSQL, by stream."}, []string{"stream"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_records_skipped_total",
			Help: "Stream entries that could not be read as rows and were passed over, by stream."}, []string{"stream"}),
		behind: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hotline_records_behind_seconds",
			Help: "Age of the newest entry copied while more were waiting, by stream: 0 when the copy is up to date."}, []string{"stream"}),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotline_records_trimmed_uncopied_total",
			Help: "Times a stream was found trimmed past the copy's position, by stream: entries lost before PostgreSQL had them (the log gives the span)."}, []string{"stream"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.up, m.written, m.skipped, m.behind, m.lost} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("records: metrics: %w", err)
			}
		}
	}
	return m, nil
}
