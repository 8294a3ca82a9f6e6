-- The center's memory: copies of the Redis streams (the ACD's queue_log-style events, the IVR's
-- steps, the audit log), keyed by center and stream entry id so a copy made twice is one row, and
-- the recorder's position in each stream.

-- +goose Up
CREATE TABLE acd_events (
    center   text        NOT NULL,
    id_ms    bigint      NOT NULL, -- the Redis stream entry id, <ms>-<seq>
    id_seq   bigint      NOT NULL,
    at       timestamptz NOT NULL,
    call_id  text        NOT NULL DEFAULT '',
    queue    text        NOT NULL DEFAULT '',
    agent    text        NOT NULL DEFAULT '',
    event    text        NOT NULL,
    data     text        NOT NULL DEFAULT '',
    PRIMARY KEY (center, id_ms, id_seq)
);
CREATE INDEX acd_events_call ON acd_events (center, call_id) WHERE call_id <> '';
CREATE INDEX acd_events_agent ON acd_events (center, agent, at) WHERE agent <> '';
CREATE INDEX acd_events_at ON acd_events (at);

CREATE TABLE ivr_steps (
    center   text        NOT NULL,
    id_ms    bigint      NOT NULL,
    id_seq   bigint      NOT NULL,
    at       timestamptz NOT NULL,
    call_id  text        NOT NULL,
    did      text        NOT NULL DEFAULT '',
    caller   text        NOT NULL DEFAULT '', -- masked after records.mask_numbers_after_days
    node     text        NOT NULL DEFAULT '',
    event    text        NOT NULL,
    field    text        NOT NULL DEFAULT '',
    value    text        NOT NULL DEFAULT '',
    PRIMARY KEY (center, id_ms, id_seq)
);
CREATE INDEX ivr_steps_call ON ivr_steps (center, call_id);
CREATE INDEX ivr_steps_caller ON ivr_steps (center, caller, at) WHERE caller <> '';
CREATE INDEX ivr_steps_at ON ivr_steps (at);

CREATE TABLE audit_log (
    center   text        NOT NULL,
    id_ms    bigint      NOT NULL,
    id_seq   bigint      NOT NULL,
    at       timestamptz NOT NULL,
    actor    text        NOT NULL,
    role     text        NOT NULL DEFAULT '',
    remote   text        NOT NULL DEFAULT '',
    action   text        NOT NULL,
    target   text        NOT NULL DEFAULT '', -- a number dialled is masked with the callers'
    outcome  text        NOT NULL DEFAULT '',
    detail   jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (center, id_ms, id_seq)
);
CREATE INDEX audit_log_at ON audit_log (center, at);
CREATE INDEX audit_log_actor ON audit_log (center, actor, at);

-- Where the recorder stands in each stream: everything up to this id is in the tables above.
CREATE TABLE recorder_positions (
    center     text        NOT NULL,
    stream     text        NOT NULL,
    id_ms      bigint      NOT NULL,
    id_seq     bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (center, stream)
);

-- +goose Down
DROP TABLE recorder_positions;
DROP TABLE audit_log;
DROP TABLE ivr_steps;
DROP TABLE acd_events;
