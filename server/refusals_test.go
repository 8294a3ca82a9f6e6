package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/internal/redistest"
)

// TestRefusalsCounted: the day's total of refused carrier calls rises by what each node run counted
// since the last report, whichever controller reports it, across dialplan reloads and restarts, and
// starts again at the center's midnight (Moscow's, not the machine's).
func TestRefusalsCounted(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	// 20:59 UTC on 3 December is 23:59 in Moscow; a minute later the center's day is the 4th.
	evening := time.Date(2026, 12, 3, 20, 59, 0, 0, time.UTC)
	type report struct {
		node  string
		count int64
		at    time.Duration // after evening
	}
	rdb := redistest.Start(t).Client(t)
	for _, tc := range []struct {
		name    string
		reports []report
		today   int      // the day's total at the last report's time
		stream  []string // the stream's entries for the records: node run, count, time after evening
	}{
		{"first report of a run counts all of it", []report{{"a@t1", 3, 0}}, 3, []string{"a@t1 3 0s"}},
		{"only the new part of a later count", []report{{"a@t1", 3, 0}, {"a@t1", 5, time.Second}}, 5, []string{"a@t1 3 0s", "a@t1 2 1s"}},
		{"the same count from two controllers of one node", []report{{"a@t1", 3, 0}, {"a@t1", 3, 0}, {"a@t1", 4, 0}, {"a@t1", 4, 0}}, 4,
			[]string{"a@t1 3 0s", "a@t1 1 0s"}},
		{"two nodes add up", []report{{"a@t1", 3, 0}, {"b@t1", 2, 0}, {"a@t1", 4, 0}}, 6, []string{"a@t1 3 0s", "b@t1 2 0s", "a@t1 1 0s"}},
		{"a reload starts the count again", []report{{"a@t1", 5, 0}, {"a@t1", 2, 0}, {"a@t1", 3, 0}}, 8, []string{"a@t1 5 0s", "a@t1 2 0s", "a@t1 1 0s"}},
		{"a restart is a new run", []report{{"a@t1", 5, 0}, {"a@t2", 5, 0}}, 10, []string{"a@t1 5 0s", "a@t2 5 0s"}},
		{"a count of 0 adds nothing", []report{{"a@t1", 0, 0}}, 0, nil},
		{"midnight in Moscow starts a new day", []report{{"a@t1", 3, 0}, {"a@t1", 5, 2 * time.Minute}}, 2, []string{"a@t1 3 0s", "a@t1 2 2m0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if err := rdb.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			var now time.Time
			r := &refusals{rdb: rdb, key: func(n string) string { return "{test}:" + n }, loc: msk, now: func() time.Time { return now }, maxLen: 100}
			for _, rep := range tc.reports {
				now = evening.Add(rep.at)
				if err := r.Seen(ctx, rep.node, rep.count); err != nil {
					t.Fatal(err)
				}
			}
			got, err := r.Today(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.today {
				t.Errorf("today: %d, want %d", got, tc.today)
			}
			entries, err := rdb.XRange(ctx, "{test}:"+refusalsStream, "-", "+").Result()
			if err != nil {
				t.Fatal(err)
			}
			var stream []string
			for _, e := range entries {
				ms, _ := strconv.ParseInt(e.Values["time"].(string), 10, 64)
				stream = append(stream, fmt.Sprint(e.Values["node"], " ", e.Values["count"], " ", time.UnixMilli(ms).Sub(evening)))
			}
			if !slices.Equal(stream, tc.stream) {
				t.Errorf("stream: %q, want %q", stream, tc.stream)
			}
			// Keys are bounded: a node run's last count lives a week, a day's total two days.
			for key, want := range map[string]time.Duration{"{test}:refused:node:a@t1": refusalsNodeTTL, r.dayKey(now): refusalsDayTTL} {
				ttl := rdb.TTL(ctx, key).Val()
				if tc.today == 0 && key == r.dayKey(now) {
					if n := rdb.Exists(ctx, key).Val(); n != 0 {
						t.Errorf("a day with no refusal has a key")
					}
					continue
				}
				if ttl > want || ttl < want-time.Minute {
					t.Errorf("%s expires in %v, want %v", key, ttl, want)
				}
			}
		})
	}
}
