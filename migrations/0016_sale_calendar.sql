-- 0016: the sale calendar (issue 15 items 1-3; docs/formats.md "Scheduling", "Relisting").
--
-- A timed session with ends_at runs itself (auction/rooms/scheduler.py): its lots open at
-- starts_at (or a lot's own starts_at) and lot n (running order, 1-based) closes at
-- ends_at + (n - 1) * close_gap_s, each with its own anti-sniping extension. max_extensions
-- caps the extensions of each lot (NULL: no cap; 0: none at all); hard_end_at is a time no
-- close of the session may pass, extended or not (NULL: none).
ALTER TABLE sessions
    ADD COLUMN ends_at        TIMESTAMPTZ,
    ADD COLUMN close_gap_s    INTEGER NOT NULL DEFAULT 0
                              CHECK (close_gap_s >= 0 AND close_gap_s <= 86400),
    ADD COLUMN max_extensions INTEGER CHECK (max_extensions IS NULL OR max_extensions >= 0),
    ADD COLUMN hard_end_at    TIMESTAMPTZ;

-- A lot's own opening time in a timed session (NULL: the session's starts_at), and the lot it
-- relists (流拍 or 悔拍): at most one relisting of each lot.
ALTER TABLE lots
    ADD COLUMN starts_at      TIMESTAMPTZ,
    ADD COLUMN relisted_from  BIGINT REFERENCES lots (id);
CREATE UNIQUE INDEX lots_relisted_from_idx ON lots (relisted_from)
    WHERE relisted_from IS NOT NULL;
