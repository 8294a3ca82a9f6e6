package server

import (
	"context"
	"time"

	"github.com/hotline-cc/hotline/internal/pgserver"
	"github.com/hotline-cc/hotline/records"
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
	}, records.Options{
		Registry:  reg,
		Retention: records.Retention{Keep: time.Duration(rc.RetentionDays) * day, MaskNumbersAfter: time.Duration(rc.MaskNumbersAfterDays) * day},
	}, s.log.With("part", "records"))
	return err
}
