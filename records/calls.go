package records

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// refreshCalls rebuilds the calls rows of ids from their events and steps: what a batch touched.
// Rebuilt whole, a row is right whatever order its events were copied in, and copying them again
// changes nothing.
const refreshCalls = `
WITH ids AS (SELECT unnest($2::text[]) AS call_id),
acd AS (
    SELECT call_id,
        min(at) AS first_at,
        min(at) FILTER (WHERE event = 'ENQUEUE') AS enqueued_at,
        (array_agg(queue ORDER BY id_ms, id_seq) FILTER (WHERE event = 'ENQUEUE'))[1] AS first_queue,
        (array_agg(queue ORDER BY id_ms DESC, id_seq DESC) FILTER (WHERE queue <> ''))[1] AS queue,
        min(at) FILTER (WHERE event = 'CONNECT') AS answered_at,
        (array_agg(agent ORDER BY id_ms, id_seq) FILTER (WHERE event = 'CONNECT'))[1] AS agent,
        (array_agg(records_ms(data) ORDER BY id_ms, id_seq) FILTER (WHERE event = 'CONNECT'))[1] AS wait_ms,
        sum(records_ms(data)) FILTER (WHERE event = 'COMPLETE') AS talk_ms,
        sum(records_ms(data)) FILTER (WHERE event = 'UNHOLD') AS hold_ms,
        (array_agg(event ORDER BY id_ms DESC, id_seq DESC) FILTER (WHERE event IN ('COMPLETE', 'ABANDON', 'EXIT')))[1] AS ended_by,
        max(at) FILTER (WHERE event IN ('COMPLETE', 'ABANDON', 'EXIT')) AS ended_at,
        (array_agg(records_ms(data) ORDER BY id_ms DESC, id_seq DESC) FILTER (WHERE event IN ('ABANDON', 'EXIT')))[1] AS left_after_ms,
        (array_agg(split_part(data, ' ', 2) ORDER BY id_ms DESC, id_seq DESC) FILTER (WHERE event = 'EXIT'))[1] AS exit_reason,
        count(*) FILTER (WHERE event = 'RING') AS offers,
        count(*) FILTER (WHERE event = 'RINGNOANSWER') AS unanswered_offers,
        count(*) FILTER (WHERE event = 'MOVE') AS moves,
        count(*) FILTER (WHERE event = 'CONSULT') AS consultations,
        count(*) FILTER (WHERE event = 'HANDOVER') AS handovers,
        bool_or(event = 'CALLBACK') AS callback_requested
    FROM acd_events
    WHERE center = $1 AND call_id IN (SELECT call_id FROM ids)
    GROUP BY call_id
), ivr AS (
    SELECT call_id,
        min(at) AS first_at,
        max(did) AS did,
        max(caller) AS caller,
        string_agg(node, ' > ' ORDER BY id_ms, id_seq) FILTER (WHERE event = 'node') AS ivr_path,
        (array_agg(value ORDER BY id_ms DESC, id_seq DESC) FILTER (WHERE event = 'end'))[1] AS ivr_outcome,
        bool_or(event = 'lookup' AND value NOT IN ('not_found', 'error')) AS self_served
    FROM ivr_steps
    WHERE center = $1 AND call_id IN (SELECT call_id FROM ids)
    GROUP BY call_id
), wu AS (
    SELECT DISTINCT ON (call_id) call_id, disposition, note
    FROM wrapups
    WHERE center = $1 AND call_id IN (SELECT call_id FROM ids)
    ORDER BY call_id, id_ms DESC, id_seq DESC
), sv AS (
    SELECT DISTINCT ON (call_id) call_id, score
    FROM surveys
    WHERE center = $1 AND call_id IN (SELECT call_id FROM ids)
    ORDER BY call_id, id_ms DESC, id_seq DESC
)
INSERT INTO calls (center, call_id, arrived_at, did, caller, ivr_path, ivr_outcome, self_served,
    enqueued_at, first_queue, queue, answered_at, agent, wait_ms, talk_ms, ended_by, ended_at,
    left_after_ms, exit_reason, offers, unanswered_offers, moves, consultations, handovers, callback_requested,
    disposition, note, survey_score, hold_ms)
SELECT $1, call_id, least(i.first_at, a.first_at), coalesce(i.did, ''), coalesce(i.caller, ''),
    coalesce(i.ivr_path, ''), coalesce(i.ivr_outcome, ''), coalesce(i.self_served, false),
    a.enqueued_at, coalesce(a.first_queue, ''), coalesce(a.queue, ''), a.answered_at, coalesce(a.agent, ''),
    a.wait_ms, a.talk_ms, coalesce(a.ended_by, ''), a.ended_at, a.left_after_ms, coalesce(a.exit_reason, ''),
    coalesce(a.offers, 0), coalesce(a.unanswered_offers, 0), coalesce(a.moves, 0),
    coalesce(a.consultations, 0), coalesce(a.handovers, 0), coalesce(a.callback_requested, false),
    coalesce(wu.disposition, ''), coalesce(wu.note, ''), sv.score, a.hold_ms
FROM acd a FULL JOIN ivr i USING (call_id) LEFT JOIN wu USING (call_id) LEFT JOIN sv USING (call_id)
ON CONFLICT (center, call_id) DO UPDATE SET
    arrived_at = EXCLUDED.arrived_at, did = EXCLUDED.did, caller = EXCLUDED.caller,
    ivr_path = EXCLUDED.ivr_path, ivr_outcome = EXCLUDED.ivr_outcome, self_served = EXCLUDED.self_served,
    enqueued_at = EXCLUDED.enqueued_at, first_queue = EXCLUDED.first_queue, queue = EXCLUDED.queue,
    answered_at = EXCLUDED.answered_at, agent = EXCLUDED.agent, wait_ms = EXCLUDED.wait_ms,
    talk_ms = EXCLUDED.talk_ms, ended_by = EXCLUDED.ended_by, ended_at = EXCLUDED.ended_at,
    left_after_ms = EXCLUDED.left_after_ms, exit_reason = EXCLUDED.exit_reason, offers = EXCLUDED.offers,
    unanswered_offers = EXCLUDED.unanswered_offers, moves = EXCLUDED.moves,
    consultations = EXCLUDED.consultations, handovers = EXCLUDED.handovers,
    callback_requested = EXCLUDED.callback_requested, disposition = EXCLUDED.disposition, note = EXCLUDED.note,
    survey_score = EXCLUDED.survey_score, hold_ms = EXCLUDED.hold_ms`

// linkCallers sets next_call_at of each earlier call of the callers of ids: the same number
// calling again is what first-contact resolution counts.
const linkCallers = `
UPDATE calls p SET next_call_at = n.arrived_at
FROM (SELECT caller, arrived_at FROM calls WHERE center = $1 AND call_id = ANY($2::text[]) AND caller <> '') n
WHERE p.center = $1 AND p.caller = n.caller AND p.arrived_at < n.arrived_at
    AND (p.next_call_at IS NULL OR p.next_call_at > n.arrived_at)`

// setWrapups times the wrap-ups that events of the batch ended: the agent's first state change
// after a call's finish (the timer ran out, the agent submitted it, paused after it, logged off,
// or was offered the next call).
const setWrapups = `
UPDATE calls c SET wrapup_ms = w.ms
FROM (
    SELECT DISTINCT ON (done.call_id) done.call_id,
        (extract(epoch FROM (e.at - done.at)) * 1000)::bigint AS ms
    FROM acd_events e
    JOIN LATERAL (
        SELECT call_id, at, event FROM acd_events x
        WHERE x.center = e.center AND x.agent = e.agent
            AND x.event IN ('COMPLETE', 'WRAPUPEND', 'UNPAUSE', 'PAUSE', 'AGENTLOGOFF', 'RING')
            AND (x.id_ms, x.id_seq) < (e.id_ms, e.id_seq)
        ORDER BY x.id_ms DESC, x.id_seq DESC LIMIT 1
    ) done ON done.event = 'COMPLETE' -- e is the first state change after the finish
    WHERE e.center = $1 AND (e.id_ms, e.id_seq) IN (SELECT * FROM unnest($2::bigint[], $3::bigint[]))
        AND e.event IN ('WRAPUPEND', 'UNPAUSE', 'PAUSE', 'AGENTLOGOFF', 'RING')
    ORDER BY done.call_id, e.id_ms, e.id_seq
) w
WHERE c.center = $1 AND c.call_id = w.call_id AND c.wrapup_ms IS NULL`

// updateCalls brings the calls rows a batch touched up to date, in the batch's transaction.
func (b *batch) updateCalls(ctx context.Context, tx pgx.Tx, center, stream string) error {
	if b.n == 0 || stream == StreamAudit || stream == StreamRefusal {
		return nil // no call's
	}
	seen := map[string]bool{}
	var ids []string
	for _, id := range b.cols[0] { // call_id leads both the events' and the steps' columns
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, refreshCalls, center, ids); err != nil {
			return fmt.Errorf("calls: %w", err)
		}
		if _, err := tx.Exec(ctx, linkCallers, center, ids); err != nil {
			return fmt.Errorf("calls' callers: %w", err)
		}
	}
	if stream == StreamACD {
		if _, err := tx.Exec(ctx, setWrapups, center, b.ms, b.seq); err != nil {
			return fmt.Errorf("wrap-ups: %w", err)
		}
	}
	return nil
}
