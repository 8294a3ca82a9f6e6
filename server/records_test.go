package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/pgtest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestCallRecorded (issue 11, deliverable 1): with records.postgres set, what the producers write
// (the ACD's events, the IVR's steps with the caller's number, the audit log's logins) reaches
// PostgreSQL, where the schema was made at start.
func TestCallRecorded(t *testing.T) {
	pg := pgtest.Start(t)
	srv := startSimServer(t, "recorded", func(c *config.Config) { c.Records.Postgres = pg.URL })
	abandonOne(t, srv)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	has := func(sql string) bool {
		var ok bool
		return db.QueryRow(ctx, sql).Scan(&ok) == nil && ok
	}
	waitfor.True(t, "the call's enqueue and abandon in acd_events", 30*time.Second, func() bool {
		return has(`SELECT count(DISTINCT event) = 2 FROM acd_events WHERE center = 'recorded' AND event IN ('ENQUEUE', 'ABANDON')`)
	})
	waitfor.True(t, "the caller's IVR steps in ivr_steps", 30*time.Second, func() bool {
		return has(`SELECT count(*) > 0 FROM ivr_steps WHERE center = 'recorded' AND caller = '79161112233' AND did = '8800'`)
	})
	waitfor.True(t, "p001's login in audit_log", 30*time.Second, func() bool {
		return has(`SELECT count(*) > 0 FROM audit_log WHERE center = 'recorded' AND actor = 'p001' AND action = 'login' AND outcome = 'ok'`)
	})
	waitfor.True(t, "the call's record", 30*time.Second, func() bool {
		return has(`SELECT count(*) = 1 FROM calls WHERE center = 'recorded' AND caller = '79161112233' AND first_queue <> ''
			AND enqueued_at IS NOT NULL AND ended_by = 'ABANDON' AND ivr_outcome = 'queue'`)
	})

	reportsShowAbandon(t, srv)

	// The same number calls again: the agent's screen pop shows the earlier, abandoned call.
	p := loginPage(t, srv, "p001", "hotline-demo")
	p.open()
	p.send(`{"type":"state.set","id":"1","state":"available"}`)
	waitfor.True(t, "p001 available", 20*time.Second, func() bool { return agentStatus(t, srv, "p001").State == acd.Available })
	if _, err := srv.Sim().Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "79161112233", Dialplan: "caller-agent-tone"}); err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the ring's screen pop with the earlier call", 30*time.Second, func() bool {
		return p.told(`"type":"call.ringing"`, `"previous":[{`, `"outcome":"abandoned"`)
	})
}

// TestDemoRecords (issue 11, deliverable 7): the demo's throwaway PostgreSQL (records.embedded)
// fills the reports with its calls.
func TestDemoRecords(t *testing.T) {
	srv := startSimServer(t, "demo-records", func(c *config.Config) { c.Records.Embedded, c.InsecureDemo = true, true })
	if srv.records == nil {
		t.Fatal("no records store: the throwaway PostgreSQL did not start")
	}
	abandonOne(t, srv)
	reportsShowAbandon(t, srv)
}

// abandonOne logs p001 in (an audited login), and has a caller wait in a queue and hang up.
func abandonOne(t *testing.T, srv *Server) {
	t.Helper()
	ctx := context.Background()
	loginPage(t, srv, "p001", "hotline-demo")
	caller, err := srv.Sim().Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "79161112233", Dialplan: "caller-agent-tone"})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the caller waiting", 30*time.Second, func() bool {
		snap, err := srv.center.Snapshot(ctx)
		return err == nil && len(snap.Calls) > 0
	})
	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
}

// reportsShowAbandon waits until the supervisor's reports API counts the abandoned call.
func reportsShowAbandon(t *testing.T, srv *Server) {
	t.Helper()
	var rows []reportRow
	waitfor.True(t, "the reports counting the abandoned call", 30*time.Second, func() bool {
		rows = reportRows(t, srv, "")
		return len(rows) == 1 && rows[0].Offered == 1 && rows[0].Abandoned+rows[0].ShortAbandoned == 1
	})
	// By the agents' groups (the model's, added by the server): the call nobody answered is under
	// no group.
	rows = reportRows(t, srv, "group")
	keys := map[string]reportRow{}
	for _, r := range rows {
		keys[r.Key] = r
	}
	if keys[""].Offered != 1 {
		t.Errorf("by group: %+v, want the unanswered call under no group", rows)
	}
}

// reportRow is what these tests read of a report's row.
type reportRow struct {
	Key            string  `json:"key"`
	Offered        int     `json:"offered"`
	Abandoned      int     `json:"abandoned"`
	ShortAbandoned int     `json:"short_abandoned"`
	Surveyed       int     `json:"surveyed"`
	NPS            float64 `json:"nps"`
}

// reportRows asks the supervisor's reports API, as sup1, for the day around now split by by.
func reportRows(t *testing.T, srv *Server, by string) []reportRow {
	t.Helper()
	base := "http://" + srv.WebAddr().String()
	// A busy server (bcrypt on a loaded machine) answers a login 503: try again after its
	// Retry-After, as the page does, for up to 30 s.
	var login *http.Response
	for deadline := time.Now().Add(30 * time.Second); ; {
		var err error
		login, err = http.Post(base+"/supervisor/api/login", "application/json", strings.NewReader(`{"account":"sup1","password":"hotline-demo"}`))
		if err != nil {
			t.Fatal(err)
		}
		login.Body.Close()
		if login.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if login.StatusCode != http.StatusOK {
		t.Fatalf("log sup1 in for the reports: %s", login.Status)
	}
	req, _ := http.NewRequest("GET", base+"/supervisor/api/reports?interval=day&by="+by+"&from="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+
		"&to="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), nil)
	for _, c := range login.Cookies() {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var report struct {
		Rows []reportRow `json:"rows"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&report); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("reports: %s, %v", resp.Status, err)
	}
	return report.Rows
}
