-- How long each call's caller was held by its agents (HOLD/UNHOLD events), for the reports.

-- +goose Up
ALTER TABLE calls ADD COLUMN hold_ms bigint;

-- +goose Down
ALTER TABLE calls DROP COLUMN hold_ms;
