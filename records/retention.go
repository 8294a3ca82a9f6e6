package records

import (
	"context"
	"fmt"
	"time"
)

// Retention is how long the records keep what they hold. Zero keeps for ever.
type Retention struct {
	// Keep: rows older than this are deleted.
	Keep time.Duration
	// MaskNumbersAfter: callers' numbers (and numbers dialled out) older than this keep only their
	// first two and last two characters (+7*******98), so a call can still be told from another
	// without the number being kept.
	MaskNumbersAfter time.Duration
}

// maskSQL masks a number in column c: what has five digits in a row is a number not yet masked.
func maskSQL(c string) string {
	return fmt.Sprintf(`left(%[1]s, 2) || repeat('*', greatest(length(%[1]s) - 4, 0)) || right(%[1]s, 2)`, c)
}

// Prune deletes and masks what ret says is due at now.
func (s *Store) Prune(ctx context.Context, ret Retention, now time.Time) error {
	var stmts []struct {
		sql    string
		cutoff time.Time
	}
	add := func(d time.Duration, sql string) {
		if d > 0 {
			stmts = append(stmts, struct {
				sql    string
				cutoff time.Time
			}{sql, now.Add(-d)})
		}
	}
	add(ret.MaskNumbersAfter, `UPDATE ivr_steps SET caller = `+maskSQL("caller")+
		` WHERE center = $1 AND at < $2 AND caller ~ '[0-9]{5}'`)
	add(ret.MaskNumbersAfter, `UPDATE audit_log SET target = `+maskSQL("target")+
		` WHERE center = $1 AND at < $2 AND action = 'dial' AND target ~ '[0-9]{5}'`)
	add(ret.MaskNumbersAfter, `UPDATE calls SET caller = `+maskSQL("caller")+
		` WHERE center = $1 AND arrived_at < $2 AND caller ~ '[0-9]{5}'`)
	add(ret.MaskNumbersAfter, `UPDATE recordings SET caller = `+maskSQL("caller")+
		` WHERE center = $1 AND started_at < $2 AND caller ~ '[0-9]{5}'`)
	for _, table := range []string{"acd_events", "ivr_steps", "audit_log", "wrapups", "surveys", "refusals"} {
		add(ret.Keep, `DELETE FROM `+table+` WHERE center = $1 AND at < $2`)
	}
	add(ret.Keep, `DELETE FROM calls WHERE center = $1 AND arrived_at < $2`)
	// A recording's row goes once its file has (PruneRecordings): never the metadata of a file kept.
	add(ret.Keep, `DELETE FROM recordings WHERE center = $1 AND started_at < $2 AND deleted_at IS NOT NULL`)
	for _, st := range stmts {
		if _, err := s.pool.Exec(ctx, st.sql, s.center, st.cutoff); err != nil {
			return fmt.Errorf("records: retention: %w", err)
		}
	}
	return nil
}
