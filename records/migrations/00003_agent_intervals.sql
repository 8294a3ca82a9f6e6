-- What each agent did and for how long: each state-changing event of theirs starts an interval that
-- the next one ends (an open one, the agent's present state, ends now). Reports cut them into
-- periods for occupancy and for the time logged in and paused.

-- +goose Up
-- +goose StatementBegin
-- agent_intervals_in is the intervals of a center's agents that reach into [p_from, p_to), from the
-- events since a day before p_from (the state an agent was in when the range began): a report
-- reads the events of its range, not the whole history.
CREATE FUNCTION agent_intervals_in(p_center text, p_from timestamptz, p_to timestamptz)
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
        -- A ring-all offer names several agents in one event; it is not an interval of any one of them.
        WHERE center = p_center AND at >= p_from - interval '1 day' AND at < p_to
            AND agent <> '' AND position(' ' IN agent) = 0
            AND event IN ('AGENTLOGIN', 'UNPAUSE', 'WRAPUPEND', 'RINGNOANSWER', 'RECONCILE', 'PAUSE', 'AGENTLOGOFF',
                'RING', 'CONNECT', 'COMPLETE', 'CONSULT', 'CONSULTEND')
    ) e
    WINDOW w AS (PARTITION BY agent ORDER BY id_ms, id_seq)
$$;
-- +goose StatementEnd

-- The whole history, for people querying the database.
CREATE VIEW agent_intervals AS
SELECT c.center, i.*
FROM (SELECT DISTINCT center FROM acd_events) c, agent_intervals_in(c.center, '-infinity', 'infinity') i;

-- +goose Down
DROP VIEW agent_intervals;
DROP FUNCTION agent_intervals_in(text, timestamptz, timestamptz);
