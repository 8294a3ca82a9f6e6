-- Every agent a ring names has an interval, and every ring ends. Before, a ring-all offer (several
-- agents in one RING) was nobody's interval, and a ring ended by the caller (ABANDON), by the
-- controller (EXIT), by a lost controller (PARK) or by another agent answering a ring-all
-- (RINGCANCELED) was no event of the agent's: they stayed "ringing", busy in the occupancy, until
-- their next event.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION agent_intervals_in(p_center text, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (agent text, state text, reason text, started_at timestamptz, ended_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT agent, state, reason, at, coalesce(lead(at) OVER w, greatest(now(), at))
    FROM (
        SELECT a.agent, e.at, e.id_ms, e.id_seq,
            CASE e.event
                WHEN 'AGENTLOGIN' THEN 'available' WHEN 'UNPAUSE' THEN 'available' WHEN 'WRAPUPEND' THEN 'available'
                WHEN 'RINGNOANSWER' THEN 'available' WHEN 'RECONCILE' THEN 'available'
                WHEN 'RINGCANCELED' THEN 'available' WHEN 'ABANDON' THEN 'available' WHEN 'EXIT' THEN 'available'
                WHEN 'PARK' THEN 'available'
                WHEN 'PAUSE' THEN 'paused' WHEN 'AGENTLOGOFF' THEN 'offline'
                WHEN 'RING' THEN 'ringing' WHEN 'CONNECT' THEN 'oncall' WHEN 'COMPLETE' THEN 'wrapup'
                WHEN 'CONSULT' THEN 'consult' WHEN 'CONSULTEND' THEN 'available'
            END AS state,
            CASE WHEN e.event = 'PAUSE' THEN e.data ELSE '' END AS reason
        -- A ring-all's RING names every agent it rings, and an ABANDON, EXIT or PARK every agent it
        -- stops ringing: a row for each.
        FROM acd_events e CROSS JOIN LATERAL unnest(string_to_array(e.agent, ' ')) AS a(agent)
        WHERE e.center = p_center AND e.at >= p_from - interval '1 day' AND e.at < p_to
            AND e.agent <> ''
            AND e.event IN ('AGENTLOGIN', 'UNPAUSE', 'WRAPUPEND', 'RINGNOANSWER', 'RECONCILE', 'PAUSE', 'AGENTLOGOFF',
                'RING', 'CONNECT', 'COMPLETE', 'CONSULT', 'CONSULTEND', 'RINGCANCELED', 'ABANDON', 'EXIT', 'PARK')
    ) e
    WINDOW w AS (PARTITION BY agent ORDER BY id_ms, id_seq)
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION agent_intervals_in(p_center text, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (agent text, state text, reason text, started_at timestamptz, ended_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT agent, state, reason, at, coalesce(lead(at) OVER w, greatest(now(), at))
    FROM (
        SELECT agent, at, id_ms, id_seq,
            CASE event
                WHEN 'AGENTLOGIN' THEN 'available' WHEN 'UNPAUSE' THEN 'available' WHEN 'WRAPUPEND' THEN 'available'
                WHEN 'RINGNOANSWER' THEN 'available' WHEN 'RECONCILE' THEN 'available'
                WHEN 'PAUSE' THEN 'paused' WHEN 'AGENTLOGOFF' THEN 'offline'
                WHEN 'RING' THEN 'ringing' WHEN 'CONNECT' THEN 'oncall' WHEN 'COMPLETE' THEN 'wrapup'
                WHEN 'CONSULT' THEN 'consult' WHEN 'CONSULTEND' THEN 'available'
            END AS state,
            CASE WHEN event = 'PAUSE' THEN data ELSE '' END AS reason
        FROM acd_events
        WHERE center = p_center AND at >= p_from - interval '1 day' AND at < p_to
            AND agent <> '' AND position(' ' IN agent) = 0
            AND event IN ('AGENTLOGIN', 'UNPAUSE', 'WRAPUPEND', 'RINGNOANSWER', 'RECONCILE', 'PAUSE', 'AGENTLOGOFF',
                'RING', 'CONNECT', 'COMPLETE', 'CONSULT', 'CONSULTEND')
    ) e
    WINDOW w AS (PARTITION BY agent ORDER BY id_ms, id_seq)
$$;
-- +goose StatementEnd
