package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/internal/redistest"
)

const staffingCenter = `center: staffing
skills: [s, t]
queues:
  - {name: q, skill: s, wrapup: 20s, handle_time: 100s, service_level: {percent: 80, within: 20s}}
  - {name: other, skill: t}
groups:
  - {name: g, count: 0}
agents:
  - {id: a1, group: g, skills: {s: 1}}
  - {id: a2, group: g, skills: {s: 1, t: 1}}
  - {id: a3, group: g, skills: {s: 1}}
  - {id: a4, group: g, skills: {t: 1}}
`

// TestBoardStaffing: the board's staffing advice for a queue comes from its arrivals (ENQUEUE events
// read from the ACD's stream), its handle time plus wrap-up, and its target, beside the agents who
// serve it: logged in, and available.
func TestBoardStaffing(t *testing.T) {
	b := staffingBoard(t)
	center := b.center
	ctx := context.Background()
	for _, a := range []string{"a1", "a2", "a4"} {
		if err := center.Login(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := center.Pause(ctx, "a2", "break"); err != nil {
		t.Fatal(err)
	}
	// 30 arrivals just now: 120 an hour over 15 minutes, 60 over 30.
	for i := range 30 {
		if _, err := center.Enqueue(ctx, acd.Waiting{CallID: fmt.Sprintf("c%d", i), Queue: "q"}); err != nil {
			t.Fatal(err)
		}
	}
	v, err := b.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, vq := range v.Queues {
		st := vq.Staffing
		switch vq.Name {
		case "q":
			if st == nil {
				t.Fatal("no staffing advice for q")
			}
			// 120 calls/h × 120 s (100 s talk, the estimator's guess, + 20 s wrap-up) = 4 Erlangs:
			// 80% within 20 s needs 7 agents (6 give 79.6%); at 60 calls/h, 2 Erlangs, 4. Of its
			// agents a1 is available, a2 paused, a3 offline.
			want := struct {
				r15, r30            float64
				handle, n15, n30    int
				loggedIn, available int
			}{120, 60, 120, 7, 4, 2, 1}
			got := want
			got.r15, got.r30, got.handle, got.n15, got.n30, got.loggedIn, got.available =
				st.CallsPerHour15, st.CallsPerHour30, st.HandleSeconds, st.Needed15, st.Needed30, st.LoggedIn, st.Available
			if got != want {
				t.Errorf("q's staffing = %+v, want %+v", got, want)
			}
		case "other":
			// No target configured beyond the default: advice with no traffic needs nobody.
			if st != nil && (st.Needed15 != 0 || st.LoggedIn != 2 || st.Available != 1) {
				t.Errorf("other's staffing = %+v", st)
			}
		}
	}
}

func TestArrivals(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := arrivals{}
	for _, ago := range []time.Duration{40 * time.Minute, 29 * time.Minute, 20 * time.Minute, 10 * time.Minute, time.Minute} {
		a.add("q", now.Add(-ago))
	}
	a.add("old", now.Add(-time.Hour))
	a.prune(now)
	if _, ok := a["old"]; ok {
		t.Error("a queue whose arrivals are all older than the window kept them")
	}
	if len(a["q"]) != 4 {
		t.Errorf("after prune: %d arrivals kept, want 4", len(a["q"]))
	}
	if r := a.perHour("q", now, 15*time.Minute); r != 8 {
		t.Errorf("rate over 15 min = %v, want 8 (2 calls)", r)
	}
	if r := a.perHour("q", now, 30*time.Minute); r != 8 {
		t.Errorf("rate over 30 min = %v, want 8 (4 calls)", r)
	}
}

// TestBoardDayInCenterZone: the board's day counts start at the center's midnight
// (records.time_zone), not the machine's: a center in Moscow on a UTC host would otherwise start its
// day at 03:00. Checked with a zone 14 hours ahead and one 11 hours behind, so that at least one of
// them is on another date than UTC at any hour.
func TestBoardDayInCenterZone(t *testing.T) {
	for _, loc := range []*time.Location{time.FixedZone("UTC+14", 14*3600), time.FixedZone("UTC-11", -11*3600)} {
		b := staffingBoard(t)
		b.loc = loc
		before := time.Now().In(loc)
		if _, err := b.today(context.Background()); err != nil {
			t.Fatal(err)
		}
		after := time.Now().In(loc)
		if b.day != before.Format(time.DateOnly) && b.day != after.Format(time.DateOnly) {
			t.Errorf("%s: the board's day is %s, want the center's %s", loc, b.day, after.Format(time.DateOnly))
		}
		midnight, _ := time.ParseInLocation(time.DateOnly, b.day, loc)
		if want := fmt.Sprintf("%d-0", midnight.UnixMilli()-1); b.cursor != want {
			t.Errorf("%s: the day's counts start after %s, want %s (the center's midnight)", loc, b.cursor, want)
		}
	}
}

// staffingBoard is a board over staffingCenter in a redis-server of its own.
func staffingBoard(t *testing.T) *board {
	t.Helper()
	rdb := redistest.Start(t).Client(t)
	m, err := acd.Load("staffing.yaml", []byte(staffingCenter))
	if err != nil {
		t.Fatal(err)
	}
	center, err := acd.New(rdb, m, acd.Options{Instance: "i1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return &board{center: center, model: m, rdb: rdb, annKey: "ann"}
}
