package records

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// scripted is a morning of known calls, written straight into the tables as the recorder would.
// Times are Moscow's.
type scripted struct {
	t     *testing.T
	store *Store
	day   time.Time
	seq   int64
}

func (s *scripted) at(hms string) time.Time {
	d, err := time.ParseDuration(hms)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.day.Add(d)
}

// write copies one entry through the recorder's own write, as if read from the stream.
func (s *scripted) write(stream, hms string, values map[string]any) {
	s.t.Helper()
	at := s.at(hms)
	s.seq++
	values["time"] = fmt.Sprint(at.UnixMilli())
	msg := redis.XMessage{ID: fmt.Sprintf("%d-%d", at.UnixMilli(), s.seq), Values: values}
	if _, err := s.store.write(context.Background(), stream, []redis.XMessage{msg}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *scripted) ev(hms, call, queue, agent, event, data string) {
	s.t.Helper()
	s.write(StreamACD, hms, map[string]any{"call": call, "queue": queue, "agent": agent, "event": event, "data": data})
}

func (s *scripted) step(hms, call, caller, node, event, value string) {
	s.t.Helper()
	s.write(StreamIVR, hms, map[string]any{"call": call, "did": "8800", "caller": caller, "node": node, "event": event, "value": value})
}

func scriptedMorning(t *testing.T) (*Store, *time.Location, time.Time) {
	r := newRig(t)
	if err := r.store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{t: t, store: r.store, day: time.Date(2026, 12, 1, 0, 0, 0, 0, msk)}
	// The shift: three agents from 9:55 to 10:30; p003 at lunch from 10:10 to 10:20.
	for _, a := range []string{"p001", "p002", "p003"} {
		s.ev("9h55m", "", "", a, "AGENTLOGIN", "")
		defer s.ev("10h30m", "", "", a, "AGENTLOGOFF", "")
	}
	s.ev("10h10m", "", "", "p003", "PAUSE", "lunch")
	s.ev("10h20m", "", "", "p003", "UNPAUSE", "paused")
	// A: answered in 10 s by p001, 300 s of talk, 30 s of wrap-up that ran out.
	s.step("9h59m50s", "A", "+79160000001", "main", "node", "")
	s.step("9h59m58s", "A", "+79160000001", "main", "end", "queue")
	s.ev("10h", "A", "private", "", "ENQUEUE", "0")
	s.ev("10h0m5s", "A", "private", "p001", "RING", "")
	s.ev("10h0m10s", "A", "private", "p001", "CONNECT", "10000")
	s.ev("10h1m", "A", "private", "p001", "HOLD", "")
	s.ev("10h1m20s", "A", "private", "p001", "UNHOLD", "20000")
	s.ev("10h5m10s", "A", "private", "p001", "COMPLETE", "300000")
	s.ev("10h5m40s", "", "", "p001", "WRAPUPEND", "")
	s.write(StreamWrapUp, "10h5m41s", map[string]any{"call": "A", "agent": "p001", "disposition": "claim_filed", "note": "ждёт ответа"})
	// B: answered in 30 s by p002 after a ring p001 let go, 120 s of talk, wrap-up submitted after 30 s.
	s.step("10h0m55s", "B", "+79160000002", "main", "end", "queue")
	s.ev("10h1m", "B", "private", "", "ENQUEUE", "0")
	s.ev("10h1m5s", "B", "private", "p003", "RING", "")
	s.ev("10h1m25s", "B", "private", "p003", "RINGNOANSWER", "")
	s.ev("10h1m26s", "B", "private", "p002", "RING", "")
	s.ev("10h1m30s", "B", "private", "p002", "CONNECT", "30000")
	s.ev("10h3m30s", "B", "private", "p002", "COMPLETE", "120000")
	s.ev("10h4m", "", "", "p002", "UNPAUSE", "wrapup")
	// A's caller rated the call 10 (a promoter), B's 7 (passive): NPS 50.
	s.write(StreamSurvey, "10h5m25s", map[string]any{"call": "A", "agent": "p001", "queue": "private", "lang": "ru", "score": "10"})
	s.write(StreamSurvey, "10h3m50s", map[string]any{"call": "B", "agent": "p002", "queue": "private", "lang": "en", "score": "7"})
	// C: hung up after 3 s (a short abandon); D: after a minute, in the next quarter hour.
	s.ev("10h2m", "C", "private", "", "ENQUEUE", "0")
	s.ev("10h2m3s", "C", "private", "", "ABANDON", "3000")
	s.ev("10h20m", "D", "private", "", "ENQUEUE", "0")
	s.ev("10h21m", "D", "private", "", "ABANDON", "60000")
	// E: business, asked for a callback, given up on after a minute.
	s.ev("10h5m", "E", "business", "", "ENQUEUE", "0")
	s.ev("10h5m20s", "E", "business", "", "CALLBACK", "")
	s.ev("10h6m", "E", "business", "", "EXIT", "60000 callback_unanswered")
	// F: served by the IVR alone.
	s.step("10h7m", "F", "+79160000006", "track", "lookup", "delivered")
	s.step("10h7m30s", "F", "+79160000006", "track", "end", "resolved")
	// G: A's caller again, 30 hours later: A resolved their need for a day, not for three.
	s.step("40h", "G", "+79160000001", "main", "end", "queue")
	s.ev("40h0m1s", "G", "private", "", "ENQUEUE", "0")
	s.ev("40h0m2s", "G", "private", "p001", "CONNECT", "1000")
	// H: a business caller the next day asks for a callback and is called back: a callback kept.
	s.ev("41h", "H", "business", "", "ENQUEUE", "0")
	s.ev("41h0m10s", "H", "business", "", "CALLBACK", "")
	s.ev("41h5m", "H", "business", "p002", "CONNECT", "300000")
	s.ev("41h8m", "H", "business", "p002", "COMPLETE", "180000")
	// G's caller agreed to the survey and then keyed nothing; an entry with a score out of range
	// (written by hand) counts as none too.
	s.write(StreamSurvey, "40h5m", map[string]any{"call": "G", "agent": "p001", "queue": "private", "lang": "ru", "score": ""})
	s.write(StreamSurvey, "40h5m1s", map[string]any{"call": "G", "agent": "p001", "queue": "private", "lang": "ru", "score": "11"})
	// A full node turned carrier calls away: 2 seen at 10:03, 1 on another node at 10:20, 4 at 11:00
	// when no call came in, 1 the next day; entries no controller writes are passed over.
	s.write(StreamRefusal, "10h3m", map[string]any{"node": "a@1764900000", "count": "2"})
	s.write(StreamRefusal, "10h20m", map[string]any{"node": "b@1764900000", "count": "1"})
	s.write(StreamRefusal, "11h", map[string]any{"node": "a@1764900000", "count": "4"})
	s.write(StreamRefusal, "40h", map[string]any{"node": "a@1764999999", "count": "1"})
	s.write(StreamRefusal, "10h4m", map[string]any{"node": "a@1764900000", "count": "0"})
	s.write(StreamRefusal, "10h4m", map[string]any{"node": "a@1764900000", "count": "x"})
	s.write(StreamRefusal, "10h4m", map[string]any{"count": "3"})
	return r.store, msk, s.day
}

// TestReport (issue 11, deliverable 4): a scripted morning's figures by day, queue, agent and
// quarter hour, each known in advance.
func TestReport(t *testing.T) {
	store, msk, day := scriptedMorning(t)
	ctx := context.Background()
	report := func(interval, by string) []ReportRow {
		t.Helper()
		rows, err := store.Report(ctx, ReportQuery{From: day, To: day.Add(24 * time.Hour), Interval: interval, By: by, Location: msk})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 0.001 {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}

	byQueue := report("day", "queue")
	if len(byQueue) != 2 {
		t.Fatalf("by queue: %+v", byQueue)
	}
	b, p := byQueue[0], byQueue[1]
	if !b.Period.Equal(day) || b.Key != "business" || p.Key != "private" {
		t.Fatalf("rows: %+v", byQueue)
	}
	want := ReportRow{Period: day, Key: "private", Offered: 4, Answered: 2, AnsweredInSL: 1, Abandoned: 1, ShortAbandoned: 1}
	if p.Offered != want.Offered || p.Answered != want.Answered || p.AnsweredInSL != want.AnsweredInSL ||
		p.Abandoned != want.Abandoned || p.ShortAbandoned != want.ShortAbandoned || p.Exited != 0 {
		t.Errorf("private: %+v", p)
	}
	near("private service level", p.ServiceLevel, 1.0/3) // 1 in 20 s of 4 offered less 1 short abandon
	near("private ASA", p.ASA, 20)
	near("private talk", p.Talk, 210)
	near("private wrap-up", p.Wrapup, 30)
	near("private AHT", p.AHT, 240)
	near("private FCR within 24 h", p.FCR24, 1)
	near("private FCR within 72 h", p.FCR72, 0.5)
	if p.Surveyed != 2 || p.Promoters != 1 || p.Detractors != 0 {
		t.Errorf("private surveys: %+v", p)
	}
	near("private NPS", p.NPS, 50)
	near("private hold per answered call", p.Hold, 10) // A's 20 s over two calls
	if p.Held != 1 || b.CallbacksKept != 0 {
		t.Errorf("held %d (want 1), business callbacks kept %d (want 0)", p.Held, b.CallbacksKept)
	}
	if b.Offered != 1 || b.Exited != 1 || b.Callbacks != 1 || b.Answered != 0 || b.ServiceLevel != 0 {
		t.Errorf("business: %+v", b)
	}

	// Quarter hours: the shift's first five minutes (agents logged in, no call yet), then the calls,
	// then 11:00, when a full node refused callers and no call came in.
	quarters := report("15m", "")
	if len(quarters) != 4 || quarters[0].Offered != 0 || quarters[1].Offered != 4 || quarters[2].Offered != 1 || quarters[2].Abandoned != 1 ||
		!quarters[1].Period.Equal(day.Add(10*time.Hour)) || !quarters[2].Period.Equal(day.Add(10*time.Hour+15*time.Minute)) ||
		!quarters[3].Period.Equal(day.Add(11*time.Hour)) || quarters[3].Offered != 0 {
		t.Fatalf("quarter hours: %+v", quarters)
	}
	for i, want := range []int{0, 2, 1, 4} {
		if quarters[i].Refused != want {
			t.Errorf("quarter %d refused %d, want %d", i, quarters[i].Refused, want)
		}
	}
	for _, r := range byQueue {
		if r.Refused != 0 {
			t.Errorf("queue %s has refusals: a refused caller has no queue", r.Key)
		}
	}
	near("logged in, 9:45-10:00", quarters[0].LoggedIn, 3*300)
	near("paused, 10:15-10:30", quarters[2].Paused, 300)
	byAgent := report("day", "agent")
	got := map[string]ReportRow{}
	for _, r := range byAgent {
		got[r.Key] = r
	}
	if len(byAgent) != 4 || got["p001"].Answered != 1 || got["p002"].Answered != 1 || got[""].Answered != 0 {
		t.Errorf("by agent: %+v", byAgent)
	}
	// p001: 35 min logged in, busy 5 s ringing + 300 s talking + 30 s wrapping up.
	near("p001 NPS", got["p001"].NPS, 100)
	near("p002 NPS", got["p002"].NPS, 0)
	near("p001 logged in", got["p001"].LoggedIn, 2100)
	near("p001 busy", got["p001"].Busy, 335)
	near("p001 occupancy", got["p001"].Occupancy, 335.0/2100)
	// p003: a ring let go (20 s) and 10 min of lunch, no call: occupancy over the time not paused.
	near("p003 paused", got["p003"].Paused, 600)
	near("p003 occupancy", got["p003"].Occupancy, 20.0/1500)
	// By group: p001 and p002 in one, p003 in another; the unanswered calls under no agent.
	groups := Merge(byAgent, func(agent string) string {
		switch agent {
		case "p001", "p002":
			return "private"
		case "p003":
			return "business"
		}
		return ""
	})
	gr := map[string]ReportRow{}
	for _, r := range groups {
		gr[r.Key] = r
	}
	if len(groups) != 3 || gr["private"].Answered != 2 || gr["private"].AnsweredInSL != 1 || gr[""].Offered != 3 {
		t.Errorf("by group: %+v", groups)
	}
	near("private group ASA", gr["private"].ASA, 20)
	near("private group AHT", gr["private"].AHT, 240)
	near("private group occupancy", gr["private"].Occupancy, (335.0+154)/(2100+2100))
	near("private group FCR 72 h", gr["private"].FCR72, 0.5)
	near("private group NPS", gr["private"].NPS, 50)
	near("private group hold", gr["private"].Hold, 10)
	// The answers are kept with their call and agent, the call's record has its score, and the
	// malformed one is kept as none.
	var scored, none int
	if err := store.pool.QueryRow(ctx, `SELECT count(score), count(*) - count(score) FROM surveys WHERE center = 'c1'`).Scan(&scored, &none); err != nil || scored != 2 || none != 2 {
		t.Errorf("surveys: %d scored, %d none (%v)", scored, none, err)
	}
	var aScore int
	if err := store.pool.QueryRow(ctx, `SELECT survey_score FROM calls WHERE center = 'c1' AND call_id = 'A'`).Scan(&aScore); err != nil || aScore != 10 {
		t.Errorf("A's score on its record: %d (%v)", aScore, err)
	}
	// The whole history, as people query it: p003's lunch is there with its reason.
	var lunch float64
	if err := store.pool.QueryRow(ctx, `SELECT extract(epoch FROM ended_at - started_at) FROM agent_intervals
		WHERE center = 'c1' AND agent = 'p003' AND state = 'paused' AND reason = 'lunch'`).Scan(&lunch); err != nil || lunch != 600 {
		t.Errorf("p003's lunch in agent_intervals: %v s (%v)", lunch, err)
	}
	// The IVR that day: A, B and F went through it, and it resolved F's need by itself.
	center := report("day", "")
	if len(center) != 1 || center[0].IVRSessions != 3 || center[0].IVRResolved != 1 || center[0].Refused != 7 {
		t.Errorf("the center's day: %+v", center)
	}
	near("IVR resolution", center[0].IVRResolution, 1.0/3)
	month, err := store.Report(ctx, ReportQuery{From: day, To: day.AddDate(0, 1, 0), Interval: "month", Location: msk})
	if err != nil {
		t.Fatal(err)
	}
	if len(month) != 1 || !month[0].Period.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, msk)) || month[0].Offered != 7 || month[0].Surveyed != 2 ||
		month[0].Callbacks != 2 || month[0].CallbacksKept != 1 || month[0].Refused != 8 {
		t.Errorf("month: %+v", month)
	}

	// At most maxReports run at once: with every slot taken, the next waits, until its context ends.
	for range maxReports {
		store.reports <- struct{}{}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if _, err := store.Report(short, ReportQuery{From: day, To: day.Add(24 * time.Hour), Interval: "day", Location: msk}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a report beyond %d at once: %v, want it to wait", maxReports, err)
	}
	cancel()
	for range maxReports {
		<-store.reports
	}
	if _, err := store.Report(ctx, ReportQuery{From: day, To: day.Add(24 * time.Hour), Interval: "day", Location: msk}); err != nil {
		t.Errorf("a report once the others ended: %v", err)
	}

	for _, q := range []ReportQuery{
		{From: day, To: day.Add(time.Hour), Interval: "2h"},
		{From: day, To: day.Add(time.Hour), Interval: "day", By: "caller"},
		{From: day, To: day, Interval: "day"},
	} {
		if _, err := store.Report(ctx, q); err == nil {
			t.Errorf("%+v: no error", q)
		}
	}
}

// TestContacts: a caller's earlier calls, newest first, without the one ringing now, each with how
// it went.
func TestContacts(t *testing.T) {
	store, _, day := scriptedMorning(t)
	got, err := store.Contacts(context.Background(), "+79160000001", "G", day, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].CallID != "A" || got[0].Outcome != "answered" || got[0].Agent != "p001" ||
		got[0].Queue != "private" || got[0].Talk != 300*time.Second || got[0].Disposition != "claim_filed" {
		t.Fatalf("contacts of A's caller: %+v", got)
	}
	got, err = store.Contacts(context.Background(), "+79160000006", "", day, 10)
	if err != nil || len(got) != 1 || got[0].Outcome != "ivr" {
		t.Fatalf("contacts of F's caller: %+v, %v", got, err)
	}
	if got, err := store.Contacts(context.Background(), "", "", day, 10); err != nil || got != nil {
		t.Fatalf("an unknown number: %+v, %v", got, err)
	}
}

// TestAgentIntervalsRingEnds: each agent a ring names has a ringing interval, ended by whatever ends
// the ring for them: the caller hanging up (ABANDON), the controller taking the caller out (EXIT),
// another agent answering a ring-all (RINGCANCELED); a ring-all's winner rings until CONNECT.
func TestAgentIntervalsRingEnds(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if err := r.store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s := &scripted{t: t, store: r.store, day: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	for _, a := range []string{"p1", "p2", "p3"} {
		s.ev("10h", "", "", a, "AGENTLOGIN", "")
	}
	s.ev("10h1m", "X", "private", "p1", "RING", "")
	s.ev("10h1m5s", "X", "private", "p1", "ABANDON", "8000")
	s.ev("10h2m", "Y", "sales", "p1 p2 p3", "RING", "")
	s.ev("10h2m4s", "Y", "sales", "p2", "CONNECT", "5000")
	s.ev("10h2m4s", "Y", "sales", "p1", "RINGCANCELED", "p2")
	s.ev("10h2m4s", "Y", "sales", "p3", "RINGCANCELED", "p2")
	s.ev("10h3m", "Z", "private", "p3", "RING", "")
	s.ev("10h3m2s", "Z", "private", "p3", "EXIT", "9000 channel gone")
	s.ev("10h4m", "W", "sales", "p1 p3", "RING", "")
	s.ev("10h4m3s", "W", "sales", "p1 p3", "ABANDON", "4000")
	for _, a := range []string{"p1", "p2", "p3"} {
		s.ev("10h5m", "", "", a, "AGENTLOGOFF", "")
	}

	rows, err := r.store.pool.Query(ctx, `SELECT agent, state, extract(epoch FROM ended_at - started_at)::int
		FROM agent_intervals_in('c1', $1, $2) ORDER BY agent, started_at, state`, s.at("9h"), s.at("11h"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for rows.Next() {
		var agent, state string
		var secs int
		if err := rows.Scan(&agent, &state, &secs); err != nil {
			t.Fatal(err)
		}
		if state == "offline" {
			continue // open: ends now
		}
		got[agent] = append(got[agent], fmt.Sprintf("%s %ds", state, secs))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"p1": {"available 60s", "ringing 5s", "available 55s", "ringing 4s", "available 116s", "ringing 3s", "available 57s"},
		"p2": {"available 120s", "ringing 4s", "oncall 176s"},
		"p3": {"available 120s", "ringing 4s", "available 56s", "ringing 2s", "available 58s", "ringing 3s", "available 57s"},
	}
	for _, a := range []string{"p1", "p2", "p3"} {
		if fmt.Sprint(got[a]) != fmt.Sprint(want[a]) {
			t.Errorf("%s:\n got %v\nwant %v", a, got[a], want[a])
		}
	}
}
