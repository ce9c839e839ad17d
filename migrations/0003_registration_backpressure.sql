-- 0003: registration back-pressure (issue 8, part 5; docs/operations.md "Contract registration").
--
-- A row is no longer dead-lettered after a number of attempts but when it has been failing for
-- the retry window (7 days) since its first attempt; 429 and 503 answers are counted apart, as
-- deferrals, and never use up attempts.

-- deferrals: 429 / 503 answers (the receiver asked us to wait; not counted as attempts).
-- first_attempt_at: the first attempt since the row was queued or last re-queued; the retry
-- window is measured from it. NULL until the first claim.
ALTER TABLE registration_outbox
    ADD COLUMN deferrals        INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN first_attempt_at TIMESTAMPTZ;

-- Rows already tried before this migration: their first attempt followed their creation.
UPDATE registration_outbox SET first_attempt_at = created_at
WHERE attempts > 0 AND first_attempt_at IS NULL;

-- The backlog (/healthz details, the outbox gauges) counts dead rows every deliverer pass.
CREATE INDEX registration_outbox_dead_idx ON registration_outbox (lot_id) WHERE status = 'dead';
