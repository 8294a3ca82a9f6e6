-- The agents' wrap-ups (disposition and note), copied from their stream, and on each call's record.

-- +goose Up
CREATE TABLE wrapups (
    center      text        NOT NULL,
    id_ms       bigint      NOT NULL,
    id_seq      bigint      NOT NULL,
    at          timestamptz NOT NULL,
    call_id     text        NOT NULL,
    agent       text        NOT NULL,
    disposition text        NOT NULL DEFAULT '',
    note        text        NOT NULL DEFAULT '',
    PRIMARY KEY (center, id_ms, id_seq)
);
CREATE INDEX wrapups_call ON wrapups (center, call_id);
CREATE INDEX wrapups_at ON wrapups (at);
ALTER TABLE calls ADD COLUMN disposition text NOT NULL DEFAULT '', ADD COLUMN note text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE calls DROP COLUMN disposition, DROP COLUMN note;
DROP TABLE wrapups;
