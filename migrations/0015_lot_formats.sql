-- 0015: how a lot is sold (issue 14, docs/formats.md): its format and the format's parameters.
-- english: ascending bids with proxy bids (today's lots); sealed: one-shot quotes with
-- `revisions` allowed changes; dutch: a price falling from the start price by `step_fen` every
-- `interval_s` down to `floor_fen`; rounds: free bidding for `free_s` from the opening, then
-- rounds of `round_s` until one passes without a bid.

ALTER TABLE lots
    ADD COLUMN format     TEXT    NOT NULL DEFAULT 'english'
        CHECK (format IN ('english', 'sealed', 'dutch', 'rounds')),
    ADD COLUMN revisions  INTEGER NOT NULL DEFAULT 0 CHECK (revisions BETWEEN 0 AND 10),
    ADD COLUMN step_fen   BIGINT  NOT NULL DEFAULT 0 CHECK (step_fen >= 0),
    ADD COLUMN interval_s INTEGER NOT NULL DEFAULT 0 CHECK (interval_s >= 0),
    ADD COLUMN floor_fen  BIGINT  NOT NULL DEFAULT 0 CHECK (floor_fen >= 0),
    ADD COLUMN free_s     INTEGER NOT NULL DEFAULT 0 CHECK (free_s >= 0),
    ADD COLUMN round_s    INTEGER NOT NULL DEFAULT 0 CHECK (round_s >= 0),
    ADD COLUMN preempt_window_s INTEGER NOT NULL DEFAULT 0 CHECK (preempt_window_s >= 0),
    ADD CONSTRAINT lots_dutch_terms CHECK (
        format <> 'dutch'
        OR (step_fen > 0 AND interval_s > 0 AND floor_fen > 0)),
    ADD CONSTRAINT lots_rounds_terms CHECK (format <> 'rounds' OR (free_s > 0 AND round_s > 0));

-- Preemptive rights (优先购买权, rule R9 of docs/formats.md): who holds one on a lot, in which
-- order (1 = first). Set by the market before bidding starts.
CREATE TABLE lot_preemptors (
    lot_id     BIGINT      NOT NULL REFERENCES lots (id) ON DELETE CASCADE,
    bidder_id  BIGINT      NOT NULL REFERENCES bidders (id),
    rank       INTEGER     NOT NULL CHECK (rank BETWEEN 1 AND 99),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (lot_id, bidder_id)
);
