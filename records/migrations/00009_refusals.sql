-- Carrier calls a full node refused (HOTLINE_MAX_CALLS), as the controllers saw its count rise:
-- a row per rise, with how many and which node run. A refused caller never reached the IVR or a
-- queue, so has no row in calls; the reports' center rows count them beside the calls offered, for
-- sizing trunks and nodes.

-- +goose Up
CREATE TABLE refusals (
    center text        NOT NULL,
    id_ms  bigint      NOT NULL,
    id_seq bigint      NOT NULL,
    at     timestamptz NOT NULL,
    node   text        NOT NULL,
    count  integer     NOT NULL CHECK (count > 0),
    PRIMARY KEY (center, id_ms, id_seq)
);
CREATE INDEX refusals_at ON refusals (center, at);

-- +goose Down
DROP TABLE refusals;
