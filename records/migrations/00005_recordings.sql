-- Call recordings' metadata: one row per recording (a segment of an agent's conversation) that an
-- Asterisk node stores as a file, from the "recording" stream (an entry when it starts, another
-- when it ends). The file stays on the node; deleted_at says retention removed it.

-- +goose Up
CREATE TABLE recordings (
    id          bigserial   PRIMARY KEY,  -- what the supervisor's page names a recording by
    center      text        NOT NULL,
    node        text        NOT NULL,     -- the controller instance whose Asterisk holds the file
    name        text        NOT NULL,     -- the stored recording's name on that Asterisk
    id_ms       bigint      NOT NULL,     -- the stream entry that made the row
    id_seq      bigint      NOT NULL,
    call_id     text        NOT NULL,
    agent       text        NOT NULL DEFAULT '',
    queue       text        NOT NULL DEFAULT '',
    caller      text        NOT NULL DEFAULT '', -- masked after records.mask_numbers_after_days
    format      text        NOT NULL,
    started_at  timestamptz NOT NULL,
    duration_ms bigint,                   -- NULL until its end is known
    bytes       bigint,                   -- NULL unless known
    deleted_at  timestamptz,              -- the file was deleted (retention)
    UNIQUE (center, node, name)
);
CREATE INDEX recordings_started ON recordings (center, started_at);
CREATE INDEX recordings_agent ON recordings (center, agent, started_at);
CREATE INDEX recordings_call ON recordings (center, call_id);

-- +goose Down
DROP TABLE recordings;
