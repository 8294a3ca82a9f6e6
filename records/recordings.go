package records

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// StreamRecording is the stream of call recordings: an entry when one starts (event "started") and
// one when it ends ("finished"), each with the whole metadata, so either alone makes the row.
const StreamRecording = "recording"

// Recording stream fields, as the switchboard's glue writes them.
const (
	RecEvent   = "event"   // started | finished
	RecName    = "name"    // the stored recording's name on the node's Asterisk
	RecNode    = "node"    // the controller instance whose Asterisk holds it
	RecCall    = "call"    // the call id
	RecAgent   = "agent"   // who talked
	RecQueue   = "queue"   // the call's queue
	RecCaller  = "caller"  // the caller's number
	RecFormat  = "format"  // wav
	RecStarted = "started" // Unix ms
	RecEnded   = "ended"   // Unix ms, finished only
	RecBytes   = "bytes"   // the file's size when known
)

// upsertRecording makes or completes a recording's row from one stream entry. Applying an entry
// again changes nothing: the row is the recording's (center, node, name), and an end only fills
// what is missing.
const upsertRecording = `
	INSERT INTO recordings (center, node, name, id_ms, id_seq, call_id, agent, queue, caller, format, started_at, duration_ms, bytes)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
	ON CONFLICT (center, node, name) DO UPDATE SET
		duration_ms = COALESCE(recordings.duration_ms, EXCLUDED.duration_ms),
		bytes = COALESCE(recordings.bytes, EXCLUDED.bytes)`

// recordingRow is one entry of the recording stream, read.
type recordingRow struct {
	id                                             streamID
	node, name, call, agent, queue, caller, format string
	started                                        time.Time
	duration, bytes                                *int64
}

func parseRecording(id streamID, v map[string]any) (recordingRow, bool) {
	str := func(k string) string { s, _ := v[k].(string); return s }
	num := func(k string) (int64, bool) {
		n, err := strconv.ParseInt(str(k), 10, 64)
		return n, err == nil
	}
	r := recordingRow{id: id, node: str(RecNode), name: str(RecName), call: str(RecCall), agent: str(RecAgent),
		queue: str(RecQueue), caller: str(RecCaller), format: str(RecFormat)}
	started, ok := num(RecStarted)
	if !ok || r.name == "" || r.node == "" || r.call == "" || r.format == "" {
		return r, false
	}
	r.started = time.UnixMilli(started)
	if ended, ok := num(RecEnded); ok && str(RecEvent) == "finished" && ended >= started {
		d := ended - started
		r.duration = &d
	}
	if b, ok := num(RecBytes); ok && b >= 0 {
		r.bytes = &b
	}
	return r, true
}

// writeRecordings applies one batch of the recording stream. Entries are few (two per recorded
// call), and a start and its end may share a batch: one statement each.
func writeRecordings(ctx context.Context, tx pgx.Tx, center string, rows []recordingRow) error {
	for _, r := range rows {
		if _, err := tx.Exec(ctx, upsertRecording, center, r.node, r.name, r.id.ms, r.id.seq, r.call, r.agent, r.queue,
			r.caller, r.format, r.started, r.duration, r.bytes); err != nil {
			return err
		}
	}
	return nil
}

// Recording is a recording's row, as the supervisor's search shows it.
type Recording struct {
	ID       int64     `json:"id"`
	CallID   string    `json:"call_id"`
	Node     string    `json:"node"`
	Name     string    `json:"-"` // Asterisk's: never sent to a page, never taken from one
	Agent    string    `json:"agent"`
	Queue    string    `json:"queue"`
	Caller   string    `json:"caller"`
	Format   string    `json:"format"`
	Started  time.Time `json:"started"`
	Duration *float64  `json:"duration_sec"` // nil while unknown
	Bytes    *int64    `json:"bytes,omitempty"`
}

// RecordingQuery filters recordings; zero values do not filter. Number matches a part of the
// caller's number (digits); Agent and Queue match exactly; From and To bound the start.
type RecordingQuery struct {
	Number, Agent, Queue string
	From, To             time.Time
	Limit                int // 200 when 0
}

// ErrNoRecording means no recording (not deleted) has that id.
var ErrNoRecording = errors.New("records: no such recording")

const recordingCols = `id, call_id, node, name, agent, queue, caller, format, started_at, duration_ms, bytes`

func scanRecording(row pgx.Row) (Recording, error) {
	var r Recording
	var ms *int64
	if err := row.Scan(&r.ID, &r.CallID, &r.Node, &r.Name, &r.Agent, &r.Queue, &r.Caller, &r.Format, &r.Started, &ms, &r.Bytes); err != nil {
		return r, err
	}
	if ms != nil {
		d := float64(*ms) / 1000
		r.Duration = &d
	}
	return r, nil
}

// Recordings finds the recordings q asks for that still have their file, newest first.
func (s *Store) Recordings(ctx context.Context, q RecordingQuery) ([]Recording, error) {
	where := []string{"center = $1", "deleted_at IS NULL"}
	args := []any{s.center}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if q.Number != "" {
		add("strpos(caller, ?) > 0", q.Number)
	}
	if q.Agent != "" {
		add("agent = ?", q.Agent)
	}
	if q.Queue != "" {
		add("queue = ?", q.Queue)
	}
	if !q.From.IsZero() {
		add("started_at >= ?", q.From)
	}
	if !q.To.IsZero() {
		add("started_at < ?", q.To)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 200
	}
	rows, err := s.pool.Query(ctx, `SELECT `+recordingCols+` FROM recordings WHERE `+strings.Join(where, " AND ")+
		` ORDER BY started_at DESC, id DESC LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("records: recordings: %w", err)
	}
	defer rows.Close()
	out := []Recording{}
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("records: recordings: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Recording returns the recording id, if its file has not been deleted.
func (s *Store) Recording(ctx context.Context, id int64) (Recording, error) {
	r, err := scanRecording(s.pool.QueryRow(ctx, `SELECT `+recordingCols+` FROM recordings
		WHERE center = $1 AND id = $2 AND deleted_at IS NULL`, s.center, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNoRecording
	}
	if err != nil {
		return r, fmt.Errorf("records: recording %d: %w", id, err)
	}
	return r, nil
}

// PruneRecordings deletes the files of node's recordings that started before now-keep, through
// del (which takes Asterisk's name and treats a file already gone as deleted), and marks their rows
// deleted. It returns how many it deleted; the first error stops it (the rest wait for the next run).
func (s *Store) PruneRecordings(ctx context.Context, node string, keep time.Duration, now time.Time,
	del func(ctx context.Context, name string) error) (int, error) {
	if keep <= 0 {
		return 0, nil
	}
	n := 0
	for {
		rows, err := s.pool.Query(ctx, `SELECT id, name FROM recordings
			WHERE center = $1 AND node = $2 AND deleted_at IS NULL AND started_at < $3
			ORDER BY started_at LIMIT 100`, s.center, node, now.Add(-keep))
		if err != nil {
			return n, fmt.Errorf("records: recordings due: %w", err)
		}
		type due struct {
			id   int64
			name string
		}
		var batch []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.name); err != nil {
				rows.Close()
				return n, fmt.Errorf("records: recordings due: %w", err)
			}
			batch = append(batch, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, fmt.Errorf("records: recordings due: %w", err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		for _, d := range batch {
			if err := del(ctx, d.name); err != nil {
				return n, fmt.Errorf("records: delete recording %s: %w", d.name, err)
			}
			if _, err := s.pool.Exec(ctx, `UPDATE recordings SET deleted_at = $2 WHERE id = $1`, d.id, now); err != nil {
				return n, fmt.Errorf("records: mark recording %d deleted: %w", d.id, err)
			}
			n++
		}
	}
}
