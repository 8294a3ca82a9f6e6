-- Post-call survey answers (0–10, or none when a caller agreed and then keyed nothing), copied
-- from their stream, and the score on each call's record: the reports' NPS reads it.

-- +goose Up
CREATE TABLE surveys (
    center  text        NOT NULL,
    id_ms   bigint      NOT NULL,
    id_seq  bigint      NOT NULL,
    at      timestamptz NOT NULL,
    call_id text        NOT NULL,
    agent   text        NOT NULL,
    queue   text        NOT NULL DEFAULT '',
    lang    text        NOT NULL DEFAULT '',
    score   smallint CHECK (score BETWEEN 0 AND 10), -- null: no score
    PRIMARY KEY (center, id_ms, id_seq)
);
CREATE INDEX surveys_call ON surveys (center, call_id);
CREATE INDEX surveys_at ON surveys (at);
CREATE INDEX surveys_agent ON surveys (center, agent, at);
ALTER TABLE calls ADD COLUMN survey_score smallint;

-- +goose Down
ALTER TABLE calls DROP COLUMN survey_score;
DROP TABLE surveys;
