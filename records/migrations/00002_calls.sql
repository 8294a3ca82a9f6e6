-- A record per call (CDR), kept up to date by the recorder from the events of each batch it
-- copies: reports read it, not the events, so a year of the center answers in about a second.

-- +goose Up
-- +goose StatementBegin
-- records_ms reads the milliseconds that lead an event's data ("5230", "5230 overflow").
CREATE FUNCTION records_ms(data text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN data ~ '^[0-9]+' THEN substring(data FROM '^[0-9]+')::bigint END
$$;
-- +goose StatementEnd

CREATE TABLE calls (
    center             text        NOT NULL,
    call_id            text        NOT NULL,
    arrived_at         timestamptz NOT NULL,          -- the first step or event of the call
    did                text        NOT NULL DEFAULT '',
    caller             text        NOT NULL DEFAULT '', -- masked with ivr_steps.caller
    ivr_path           text        NOT NULL DEFAULT '', -- the menu nodes, "main > track"
    ivr_outcome        text        NOT NULL DEFAULT '', -- queue, resolved, abandoned, hangup, transfer, callback, error
    self_served        boolean     NOT NULL DEFAULT false, -- a lookup answered the caller
    enqueued_at        timestamptz,                    -- null: the call never reached a queue
    first_queue        text        NOT NULL DEFAULT '',
    queue              text        NOT NULL DEFAULT '', -- the last (after moves)
    answered_at        timestamptz,
    agent              text        NOT NULL DEFAULT '', -- who answered
    wait_ms            bigint,                         -- enqueue to answer
    talk_ms            bigint,                         -- answer to finish (hold included)
    wrapup_ms          bigint,                         -- finish to the agent's next state
    ended_by           text        NOT NULL DEFAULT '', -- COMPLETE, ABANDON or EXIT
    ended_at           timestamptz,
    left_after_ms      bigint,                         -- the wait of an abandon or exit
    exit_reason        text        NOT NULL DEFAULT '',
    offers             int         NOT NULL DEFAULT 0,
    unanswered_offers  int         NOT NULL DEFAULT 0,
    moves              int         NOT NULL DEFAULT 0,
    consultations      int         NOT NULL DEFAULT 0,
    handovers          int         NOT NULL DEFAULT 0,
    callback_requested boolean     NOT NULL DEFAULT false,
    next_call_at       timestamptz,                    -- the same caller's next call: first-contact resolution
    PRIMARY KEY (center, call_id)
);
CREATE INDEX calls_arrived ON calls (center, arrived_at);
CREATE INDEX calls_caller ON calls (center, caller, arrived_at) WHERE caller <> '';

DROP INDEX acd_events_agent;
CREATE INDEX acd_events_agent ON acd_events (center, agent, id_ms, id_seq) WHERE agent <> '';

-- +goose Down
DROP INDEX acd_events_agent;
CREATE INDEX acd_events_agent ON acd_events (center, agent, at) WHERE agent <> '';
DROP TABLE calls;
DROP FUNCTION records_ms(text);
