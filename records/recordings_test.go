package records

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/internal/waitfor"
)

// addRecording writes a recording's start and (with ended) its end to the recording stream, as the
// server's glue does.
func (r *rig) addRecording(name, call, agent, queue, caller string, started, ended time.Time) {
	r.t.Helper()
	ctx := context.Background()
	fields := []any{RecName, name, RecNode, "n1", RecCall, call, RecAgent, agent, RecQueue, queue, RecCaller, caller,
		RecFormat, "wav", RecStarted, strconv.FormatInt(started.UnixMilli(), 10)}
	if err := r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: "{c1}:recording", Values: append([]any{RecEvent, "started"}, fields...)}).Err(); err != nil {
		r.t.Fatal(err)
	}
	if ended.IsZero() {
		return
	}
	fields = append(fields, RecEnded, strconv.FormatInt(ended.UnixMilli(), 10))
	if err := r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: "{c1}:recording", Values: append([]any{RecEvent, "finished"}, fields...)}).Err(); err != nil {
		r.t.Fatal(err)
	}
}

// TestRecordingsCopied: a recording's start and end entries make one row with its metadata and
// duration, also when the stream is copied again from its start; a recording whose end never came
// (its controller died) is a row without a duration. The search filters by number, agent, queue
// and time; retention deletes the files through Asterisk, marks the rows, masks the numbers, and
// deletes the rows of deleted files only.
func TestRecordingsCopied(t *testing.T) {
	r := newRig(t)
	r.srcs = append(r.srcs, Source{StreamRecording, "{c1}:recording"})
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	r.addRecording("hotline/a-1", "a", "p001", "claims", "+79161234567", t0, t0.Add(90*time.Second))
	r.addRecording("hotline/b-1", "b", "p002", "claims", "+79035550000", t0.Add(time.Minute), t0.Add(2*time.Minute))
	r.addRecording("hotline/c-1", "c", "p001", "business_claims", "+79161110000", t0.Add(2*time.Minute), time.Time{})
	r.record()
	waitfor.True(t, "three recordings copied", 30*time.Second, func() bool { return r.count("recordings") == 3 })

	ctx := context.Background()
	all, err := r.store.Recordings(ctx, RecordingQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].CallID != "c" || all[0].Duration != nil || all[2].Duration == nil || *all[2].Duration != 90 {
		t.Fatalf("recordings %+v", all)
	}
	a := all[2]
	if a.Name != "hotline/a-1" || a.Node != "n1" || a.Agent != "p001" || a.Queue != "claims" || a.Caller != "+79161234567" ||
		a.Format != "wav" || !a.Started.Equal(t0) {
		t.Errorf("recording a: %+v", a)
	}

	// Copied again from the streams' start: still one row each.
	if _, err := r.store.pool.Exec(ctx, `DELETE FROM recorder_positions`); err != nil {
		t.Fatal(err)
	}
	r.record()
	r.addRecording("hotline/d-1", "d", "p003", "general", "+79160000000", t0.Add(3*time.Minute), t0.Add(4*time.Minute))
	waitfor.True(t, "the fourth recording copied", 30*time.Second, func() bool { return r.count("recordings") == 4 })

	for _, tc := range []struct {
		name string
		q    RecordingQuery
		want []string // call ids, newest first
	}{
		{"number", RecordingQuery{Number: "9161"}, []string{"c", "a"}},
		{"agent", RecordingQuery{Agent: "p001"}, []string{"c", "a"}},
		{"queue", RecordingQuery{Queue: "claims"}, []string{"b", "a"}},
		{"from", RecordingQuery{From: t0.Add(time.Minute)}, []string{"d", "c", "b"}},
		{"to", RecordingQuery{To: t0.Add(time.Minute)}, []string{"a"}},
		{"all of them", RecordingQuery{Number: "79161234567", Agent: "p001", Queue: "claims", From: t0, To: t0.Add(time.Second)}, []string{"a"}},
		{"none", RecordingQuery{Agent: "nobody"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.store.Recordings(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, g := range got {
				ids = append(ids, g.CallID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("calls %v, want %v", ids, tc.want)
			}
		})
	}

	// Retention: the files started more than 80 s before t0+3m30s go (a, b, c), not d's.
	var deleted []string
	del := func(_ context.Context, name string) error { deleted = append(deleted, name); return nil }
	n, err := r.store.PruneRecordings(ctx, "n1", 80*time.Second, t0.Add(3*time.Minute+30*time.Second), del)
	if err != nil || n != 3 || !slices.Equal(deleted, []string{"hotline/a-1", "hotline/b-1", "hotline/c-1"}) {
		t.Fatalf("pruned %d %v (%v)", n, deleted, err)
	}
	if _, err := r.store.Recording(ctx, a.ID); !errors.Is(err, ErrNoRecording) {
		t.Errorf("a deleted recording: %v", err)
	}
	left, _ := r.store.Recordings(ctx, RecordingQuery{})
	if len(left) != 1 || left[0].CallID != "d" {
		t.Fatalf("left %+v", left)
	}
	if d, err := r.store.Recording(ctx, left[0].ID); err != nil || d.Name != "hotline/d-1" {
		t.Errorf("recording d: %+v (%v)", d, err)
	}
	if n, err := r.store.PruneRecordings(ctx, "other-node", time.Second, time.Now(), del); n != 0 || err != nil {
		t.Errorf("another node's recordings pruned: %d %v", n, err)
	}
	failing := func(context.Context, string) error { return errors.New("asterisk away") }
	if _, err := r.store.PruneRecordings(ctx, "n1", time.Second, time.Now().Add(time.Hour), failing); err == nil {
		t.Error("a failed deletion was not reported")
	}

	// Numbers masked; rows of deleted files go with the records' retention, d's stays.
	if err := r.store.Prune(ctx, Retention{MaskNumbersAfter: time.Minute, Keep: time.Minute}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var caller string
	if err := r.store.pool.QueryRow(ctx, `SELECT caller FROM recordings WHERE call_id = 'd'`).Scan(&caller); err != nil || caller != "+7********00" {
		t.Errorf("d's caller after masking: %q (%v)", caller, err)
	}
	if n := r.count("recordings"); n != 1 {
		t.Errorf("%d recordings' rows left, want d's", n)
	}
}
