-- 0019: listings (挂牌, issue 15 item 4; docs/formats.md "Listing"). A lot of format 'listing'
-- is listed at its start price from its opening time (the lot's starts_at, else its session's)
-- until listing_ends_at (given, or listing_days working days later); buyers register intent
-- (意向受让) through the session's registration. At the end the scheduler records who qualified
-- (listing_ends, listing_buyers: the first decision stands, so a restart or a second process
-- repeats it) and ends the room: 0 buyers expired, 1 协议成交, 2 or more an auction among them.
ALTER TABLE lots DROP CONSTRAINT IF EXISTS lots_format_check;
ALTER TABLE lots
    ADD CONSTRAINT lots_format_check
        CHECK (format IN ('english', 'sealed', 'dutch', 'rounds', 'listing')),
    ADD COLUMN listing_ends_at TIMESTAMPTZ,
    ADD COLUMN listing_days    INTEGER CHECK (listing_days IS NULL OR listing_days BETWEEN 1 AND 250),
    ADD CONSTRAINT lots_listing_terms CHECK (
        (format = 'listing') = (listing_ends_at IS NOT NULL) AND
        (format = 'listing' OR listing_days IS NULL));

CREATE TABLE listing_ends (
    lot_id     BIGINT      PRIMARY KEY REFERENCES lots (id),
    outcome    TEXT        NOT NULL CHECK (outcome IN ('expired', 'agreement', 'auction')),
    buyers     INTEGER     NOT NULL CHECK (buyers >= 0),
    decided_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((outcome = 'expired') = (buyers = 0) AND (outcome = 'agreement') = (buyers = 1))
);

-- The qualified buyers at the end: who may bid in the auction a listing becomes (never shown).
CREATE TABLE listing_buyers (
    lot_id    BIGINT  NOT NULL REFERENCES listing_ends (lot_id),
    bidder_id BIGINT  NOT NULL REFERENCES bidders (id),
    paddle    INTEGER NOT NULL,
    PRIMARY KEY (lot_id, bidder_id)
);

CREATE INDEX lots_listing_due_idx ON lots (listing_ends_at)
    WHERE format = 'listing' AND status = 'scheduled';
