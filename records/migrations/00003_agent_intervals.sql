-- What each agent did and for how long: each state-changing event of theirs starts an interval that
-- the next one ends (an open one, the agent's present state, ends now). Reports cut them into
-- periods for occupancy and for the time logged in and paused.

-- +goose Up
CREATE VIEW agent_intervals AS
SELECT center, agent, state, reason, at AS started_at,
    coalesce(lead(at) OVER w, greatest(now(), at)) AS ended_at
FROM (
    SELECT center, agent, at, id_ms, id_seq,
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
    WHERE agent <> '' AND position(' ' IN agent) = 0
        AND event IN ('AGENTLOGIN', 'UNPAUSE', 'WRAPUPEND', 'RINGNOANSWER', 'RECONCILE', 'PAUSE', 'AGENTLOGOFF',
            'RING', 'CONNECT', 'COMPLETE', 'CONSULT', 'CONSULTEND')
) e
WINDOW w AS (PARTITION BY center, agent ORDER BY id_ms, id_seq);

-- +goose Down
DROP VIEW agent_intervals;
