package server

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
}
