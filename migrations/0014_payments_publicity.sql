-- 0014: after the hammer (issue 13 items 2 and 4): the buyer's payments of the balance, the
-- defaults (悔拍), the 成交公示 notices with their objections, and each market's notice period.
--
-- Payments of the balance are not deposits: the deposit stays in `deposits` / `deposit_entries`
-- (the ledger, with its conservation check); the balance is the hammer price less the winner's
-- deposit that is applied to the lot, and `lot_payments` records what the buyer paid of it.

ALTER TABLE markets
    ADD COLUMN notice_working_days INTEGER NOT NULL DEFAULT 5
        CHECK (notice_working_days BETWEEN 1 AND 30),
    ADD COLUMN objection_contact   TEXT    NOT NULL DEFAULT '';

-- One row per part payment of a sold lot's balance, recorded by the market (finance).
CREATE TABLE lot_payments (
    id              BIGSERIAL   PRIMARY KEY,
    lot_id          BIGINT      NOT NULL REFERENCES lot_results (lot_id),
    amount_fen      BIGINT      NOT NULL CHECK (amount_fen > 0),
    paid_on         DATE        NOT NULL,
    bank_reference  TEXT        NOT NULL CHECK (length(bank_reference) BETWEEN 1 AND 64),
    recorded_by     TEXT        NOT NULL DEFAULT '',
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (lot_id, bank_reference)
);

-- A sold lot whose buyer did not pay the balance by its due date (悔拍): at most one per lot.
-- The row is the lot's "defaulted" mark; relisting the lot is a later issue.
CREATE TABLE lot_defaults (
    lot_id           BIGINT      PRIMARY KEY REFERENCES lot_results (lot_id),
    bidder_id        BIGINT      NOT NULL REFERENCES bidders (id),
    market_id        BIGINT      NOT NULL REFERENCES markets (id),
    reason           TEXT        NOT NULL,
    forfeited_fen    BIGINT      NOT NULL CHECK (forfeited_fen >= 0),
    declared_by      TEXT        NOT NULL DEFAULT '',
    declared_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX lot_defaults_bidder_idx ON lot_defaults (bidder_id);

-- 成交公示: one notice per sold lot, opened when its result is written (the trigger below), so
-- the period is the market's at settlement even if the market changes it later. The end date
-- is computed from `opened_at` and `working_days` with the working-day calendar
-- (auction/domain/deadlines.py notice_ends), which lives in the code, not here.
CREATE TABLE publicity_notices (
    lot_id        BIGINT      PRIMARY KEY REFERENCES lot_results (lot_id),
    opened_at     TIMESTAMPTZ NOT NULL,
    working_days  INTEGER     NOT NULL CHECK (working_days BETWEEN 1 AND 30)
);

CREATE FUNCTION publicity_notice_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.outcome = 'sold' THEN
        INSERT INTO publicity_notices (lot_id, opened_at, working_days)
        SELECT NEW.lot_id, NEW.settled_at, m.notice_working_days
        FROM lots l JOIN sessions s ON s.id = l.session_id JOIN markets m ON m.id = s.market_id
        WHERE l.id = NEW.lot_id
        ON CONFLICT (lot_id) DO NOTHING;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER lot_results_open_notice AFTER INSERT ON lot_results
    FOR EACH ROW EXECUTE FUNCTION publicity_notice_open();

-- lots sold before this migration get their notice from their settlement
INSERT INTO publicity_notices (lot_id, opened_at, working_days)
SELECT r.lot_id, r.settled_at, 5 FROM lot_results r WHERE r.outcome = 'sold'
ON CONFLICT (lot_id) DO NOTHING;

-- Objections (异议) filed by anyone during a notice's period; the market records how each was
-- resolved.
CREATE TABLE publicity_objections (
    id           BIGSERIAL   PRIMARY KEY,
    lot_id       BIGINT      NOT NULL REFERENCES publicity_notices (lot_id),
    name         TEXT        NOT NULL,
    contact      TEXT        NOT NULL,
    text         TEXT        NOT NULL,
    filed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    resolution   TEXT,
    resolved_by  TEXT,
    resolved_at  TIMESTAMPTZ
);
CREATE INDEX publicity_objections_lot_idx ON publicity_objections (lot_id);
