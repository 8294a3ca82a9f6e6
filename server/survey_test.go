package server

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/asterisksim"
	"github.com/hotline-cc/hotline/config"
	"github.com/hotline-cc/hotline/internal/pgtest"
	"github.com/hotline-cc/hotline/internal/waitfor"
)

// TestSurveyRecorded (issue 11, deliverable 3): in a center whose queues offer every caller the
// survey, a caller presses 2 while an agent's page rings, talks, and rates the call 9 after the
// agent hangs up; the score reaches PostgreSQL with the call and the agent, and the reports' NPS.
func TestSurveyRecorded(t *testing.T) {
	file := filepath.Join(t.TempDir(), "center.yaml")
	center := bytes.ReplaceAll(acd.DefaultCenter, []byte("survey: {share: 0.3}"), []byte("survey: {share: 1}"))
	if bytes.Equal(center, acd.DefaultCenter) {
		t.Fatal("the default center offers no survey to change")
	}
	if err := os.WriteFile(file, center, 0o600); err != nil {
		t.Fatal(err)
	}
	pg := pgtest.Start(t)
	// The default center's accounts, with their published password (sup1 reads the reports): a demo.
	srv := startSimServer(t, "surveyed", func(c *config.Config) {
		c.ACD.CenterFile, c.Records.Postgres, c.InsecureDemo = file, pg.URL, true
	})
	ctx := context.Background()
	if err := srv.center.Login(ctx, "p001"); err != nil {
		t.Fatal(err)
	}
	if err := srv.center.SetAvailable(ctx, "p001"); err != nil {
		t.Fatal(err)
	}
	script := []asterisksim.Step{asterisksim.Pause(2 * time.Second), asterisksim.Press("1"),
		asterisksim.Pause(time.Second), asterisksim.Press("0"), asterisksim.Pause(5 * time.Second), asterisksim.Press("2")}
	for range 60 {
		script = append(script, asterisksim.Pause(2*time.Second), asterisksim.Press("9"))
	}
	caller, err := srv.Sim().Dial(ctx, asterisksim.CallerSpec{DID: "8800", Number: "79161112233", Script: script})
	if err != nil {
		t.Fatal(err)
	}
	id := caller.ChannelID()
	waitfor.True(t, "p001 ringing for a caller who agreed to the survey", 30*time.Second, func() bool {
		card, _, ok := srv.sb.ActiveCall("p001")
		return ok && card.ID == id && card.Survey
	})
	if err := srv.sb.Answer(ctx, "p001", id); err != nil {
		t.Fatal(err)
	}
	if err := srv.sb.Hangup(ctx, "p001", id); err != nil {
		t.Fatal(err)
	}
	db, err := pgx.Connect(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	waitfor.True(t, "the score with its call and agent in PostgreSQL", 60*time.Second, func() bool {
		var ok bool
		return db.QueryRow(ctx, `SELECT count(*) = 1 FROM surveys s JOIN calls c USING (center, call_id)
			WHERE s.center = 'surveyed' AND s.call_id = $1 AND s.agent = 'p001' AND s.score = 9 AND c.survey_score = 9`, id).Scan(&ok) == nil && ok
	})
	select {
	case <-caller.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the caller was not hung up after the survey")
	}
	rows := reportRows(t, srv, "agent")
	if len(rows) != 1 || rows[0].Key != "p001" || rows[0].Surveyed != 1 || rows[0].NPS != 100 {
		t.Fatalf("the reports by agent: %+v", rows)
	}
}
