package server

import (
	"context"
	"time"

	"github.com/hotline-cc/hotline/acd"
	"github.com/hotline-cc/hotline/softphone"

	"github.com/hotline-cc/hotline/internal/pgserver"
	"github.com/hotline-cc/hotline/records"
)

// streamMaxLen bounds each of the center's streams the controller writes (IVR steps, wrap-ups,
// surveys, recordings) and the ACD's events: the records copy from them, so they must outlast a
// PostgreSQL outage (a day at the seed center's peak hour), and at 75–100 bytes an entry a million
// cost Redis less than 100 MB. The demo's embedded Redis keeps them in this process's heap, at
// several times that: it keeps demoStreamMaxLen.
const (
	streamMaxLen     = 1_000_000
	demoStreamMaxLen = 100_000
)

// openRecords readies the copy of the center's streams to PostgreSQL, when records.postgres is set.
// Nothing connects yet: a controller starts and takes calls while PostgreSQL is away.
func (s *Server) openRecords(reg Registry) error {
	rc := s.cfg.Records
	if rc.Embedded {
		c, err := pgserver.New(context.Background(), "")
		if err != nil {
			s.log.Warn("records: no throwaway PostgreSQL for the demo, so no reports", "err", err)
			return nil
		}
		s.closers = append(s.closers, func() {
			if err := c.Remove(); err != nil {
				s.log.Warn("records: remove the throwaway PostgreSQL", "err", err)
			}
		})
		s.log.Info("records: a throwaway PostgreSQL for the demo", "url", c.URL)
		rc.Postgres = c.URL
	}
	if rc.Postgres == "" {
		return nil
	}
	store, err := records.Open(rc.Postgres, s.cfg.Center)
	if err != nil {
		return s.cfg.Errorf("records.postgres", "%v", err)
	}
	s.closers = append(s.closers, store.Close)
	s.records = store
	day := 24 * time.Hour
	s.recorder, err = records.NewRecorder(store, s.rdb, []records.Source{
		{Stream: records.StreamACD, Key: s.center.Key("events")},
		{Stream: records.StreamIVR, Key: s.center.Key("ivr")},
		{Stream: records.StreamAudit, Key: s.center.Key("audit")},
		{Stream: records.StreamWrapUp, Key: s.center.Key(wrapupsStream)},
		{Stream: records.StreamSurvey, Key: s.center.Key(surveysStream)},
		{Stream: records.StreamRecording, Key: s.center.Key(recordingStream)},
		{Stream: records.StreamRefusal, Key: s.center.Key(refusalsStream)},
	}, records.Options{
		Registry:  reg,
		Retention: records.Retention{Keep: time.Duration(rc.RetentionDays) * day, MaskNumbersAfter: time.Duration(rc.MaskNumbersAfterDays) * day},
	}, s.log.With("part", "records"))
	return err
}

// contactsDays and contactsShown: how far back a screen pop looks for the caller's earlier calls,
// and how many it shows.
const (
	contactsDays  = 90
	contactsShown = 5
)

// contacts looks up a caller's earlier calls for the screen pop; nil without records.
func (s *Server) contacts(model *acd.Model) func(ctx context.Context, caller, callID string) []softphone.Contact {
	if s.records == nil {
		return nil
	}
	return func(ctx context.Context, caller, callID string) []softphone.Contact {
		cs, err := s.records.Contacts(ctx, caller, callID, time.Now().AddDate(0, 0, -contactsDays), contactsShown)
		if err != nil {
			s.log.Warn("records: the caller's earlier calls", "call", callID, "err", err)
			return nil
		}
		out := make([]softphone.Contact, 0, len(cs))
		for _, c := range cs {
			q, _ := model.Queue(c.Queue)
			a, _ := model.Agent(c.Agent)
			out = append(out, softphone.Contact{At: c.At.UTC().Format(time.RFC3339), Queue: c.Queue, QueueTitle: q.Title,
				AgentName: a.Name, Outcome: c.Outcome, TalkSeconds: int(c.Talk.Seconds()), Disposition: c.Disposition})
		}
		return out
	}
}

// reports answers the supervisor's report queries from the records, adding the agents' groups
// (by=group), which the center's model knows and the records do not.
type reports struct {
	store *records.Store
	model *acd.Model
}

func (r reports) Report(ctx context.Context, q records.ReportQuery) ([]records.ReportRow, error) {
	if q.By != "group" {
		return r.store.Report(ctx, q)
	}
	q.By = "agent"
	rows, err := r.store.Report(ctx, q)
	if err != nil {
		return nil, err
	}
	return records.Merge(rows, func(agent string) string {
		a, _ := r.model.Agent(agent)
		return a.Group // "" for calls nobody answered
	}), nil
}
