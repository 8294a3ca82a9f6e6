package records

import (
	"context"
	"fmt"
	"time"
)

// Contact is one earlier call of a caller, for the agent's screen pop.
type Contact struct {
	CallID  string
	At      time.Time
	Queue   string
	Agent   string // who answered; "" when nobody did
	Outcome string // answered, abandoned, exited (overflow, message, callback given up), ivr (served there), waiting
	Talk    time.Duration
	// Disposition is the code the agent gave it at wrap-up ("" if none).
	Disposition string
}

// Contacts lists the caller's calls since since, newest first, except the call except (the one
// ringing now): what an agent needs to see that the caller has called before, and how it went.
func (s *Store) Contacts(ctx context.Context, caller, except string, since time.Time, limit int) ([]Contact, error) {
	if caller == "" {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT call_id, arrived_at, queue, agent,
			CASE WHEN answered_at IS NOT NULL THEN 'answered'
				WHEN ended_by = 'ABANDON' THEN 'abandoned'
				WHEN ended_by = 'EXIT' THEN 'exited'
				WHEN enqueued_at IS NULL THEN 'ivr'
				ELSE 'waiting' END,
			coalesce(talk_ms, 0), disposition
		FROM calls
		WHERE center = $1 AND caller = $2 AND call_id <> $3 AND arrived_at >= $4
		ORDER BY arrived_at DESC
		LIMIT $5`, s.center, caller, except, since, limit)
	if err != nil {
		return nil, fmt.Errorf("records: contacts: %w", err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var c Contact
		var talkMS int64
		if err := rows.Scan(&c.CallID, &c.At, &c.Queue, &c.Agent, &c.Outcome, &talkMS, &c.Disposition); err != nil {
			return nil, fmt.Errorf("records: contacts: %w", err)
		}
		c.Talk = time.Duration(talkMS) * time.Millisecond
		out = append(out, c)
	}
	return out, rows.Err()
}
