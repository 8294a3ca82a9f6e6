package server

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/internal/redistest"
	"github.com/hotline-cc/hotline/records"
	"github.com/hotline-cc/hotline/switchboard"
)

// TestRecordingStream: the default center records its claims queues only, and a recording's start
// and end go to the recording stream with the fields the records read.
func TestRecordingStream(t *testing.T) {
	model, err := acd.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	r := recordingsOf{model: model, rdb: rdb, key: "{c}:recording"}
	for q, want := range map[string]bool{"claims": true, "business_claims": true, "general": false, "missing": false} {
		if got := r.Records(q); got != want {
			t.Errorf("Records(%s) = %v, want %v", q, got, want)
		}
	}
	ctx := context.Background()
	start := time.UnixMilli(1_790_000_000_000)
	rec := switchboard.Recording{Name: "hotline/x-1", Format: "wav", Node: "n1", CallID: "c1", Agent: "p001", Queue: "claims",
		CallerNumber: "+79161234567", Started: start}
	if err := r.Recorded(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rec.Ended = start.Add(90 * time.Second)
	if err := r.Recorded(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, err := rdb.XRange(ctx, "{c}:recording", "-", "+").Result()
	if err != nil || len(got) != 2 {
		t.Fatalf("%d entries (%v)", len(got), err)
	}
	want := map[string]string{records.RecEvent: "started", records.RecName: "hotline/x-1", records.RecNode: "n1", records.RecCall: "c1",
		records.RecAgent: "p001", records.RecQueue: "claims", records.RecCaller: "+79161234567", records.RecFormat: "wav",
		records.RecStarted: "1790000000000"}
	for k, v := range want {
		if got[0].Values[k] != v {
			t.Errorf("start %s = %v, want %q", k, got[0].Values[k], v)
		}
	}
	if got[1].Values[records.RecEvent] != "finished" || got[1].Values[records.RecEnded] != "1790000090000" {
		t.Errorf("end %v", got[1].Values)
	}
}
