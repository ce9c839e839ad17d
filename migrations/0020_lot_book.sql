-- 0020: the secret book's journal (issue 16, item 4; docs/formats.md "The secret book's journal").
--
-- A room's secret book (auction/domain/book.py) holds the proxy maxima of an english lot and the
-- quotes of a sealed lot. Neither is in a public event (P5, S3), so lot_events alone cannot
-- rebuild such a room. Every write of the book is journalled here instead: the Lua script that
-- writes it appends it to the lot's private book stream, and the drainer copies that stream to
-- this table (after the lot's events up to the write's seq), never to a public table.
--
-- * n: the write's order (the room's book_n), 1, 2, 3 ... per lot without a gap;
-- * after_seq: the room's seq when it was written: the write comes after event after_seq and
--   before every event of a higher seq (a proxy's automatic bids follow it; a sealed quote's
--   quote_received is after_seq + 1);
-- * revision: the sealed quote's revision (0 the first quote; a proxy: 0);
-- * at_ms: server time of the write (ms);
-- * nonce: 16 random bytes (hex) drawn by the drainer, so that an entry's hash reveals nothing of
--   the amount (a bare hash of a few guessable numbers could be searched);
-- * prev_sha256 / sha256: a hash chain per lot like lot_events' (0018), computed by the insert
--   trigger over lot_book_canonical(); auction/audit/chain.py builds the same text.
--
-- Private: no route, page, bundle or result reads this table. auction verify checks its chains
-- from PostgreSQL; the rooms' recovery folds it with the events (auction/domain/replay.py).
-- Append-only like lot_events: UPDATE, DELETE and TRUNCATE are refused.

CREATE TABLE lot_book (
    lot_id      BIGINT  NOT NULL REFERENCES lots (id),
    n           BIGINT  NOT NULL CHECK (n > 0),
    after_seq   BIGINT  NOT NULL CHECK (after_seq >= 0),
    bidder_id   BIGINT  NOT NULL,
    paddle      INTEGER NOT NULL,
    amount_fen  BIGINT  NOT NULL CHECK (amount_fen > 0),
    revision    INTEGER NOT NULL CHECK (revision >= 0),
    at_ms       BIGINT  NOT NULL,
    nonce       CHAR(32) NOT NULL,
    prev_sha256 CHAR(64) NOT NULL,
    sha256      CHAR(64) NOT NULL,
    PRIMARY KEY (lot_id, n)
);

CREATE FUNCTION lot_book_canonical(b lot_book, prev_sha256 TEXT) RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT '["lot_book",' || b.lot_id::text || ',' || b.n::text || ',' || b.after_seq::text
        || ',' || b.bidder_id::text || ',' || b.paddle::text || ',' || b.amount_fen::text || ','
        || b.revision::text || ',' || b.at_ms::text || ',' || to_json(b.nonce::text)::text || ','
        || to_json(prev_sha256)::text || ']'
$$;

CREATE FUNCTION lot_book_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prev TEXT;
BEGIN
    -- the lot's writer lock of 0018 (class 16): one writer of a lot's journal at a time
    PERFORM pg_advisory_xact_lock(16, (NEW.lot_id % 2147483647)::integer);
    IF NEW.n = 1 THEN
        prev := repeat('0', 64);
    ELSE
        SELECT b.sha256 INTO prev FROM lot_book b WHERE b.lot_id = NEW.lot_id AND b.n = NEW.n - 1;
        IF prev IS NULL THEN
            RAISE EXCEPTION 'lot_book: lot % entry % has no predecessor', NEW.lot_id, NEW.n
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    NEW.prev_sha256 := prev;
    NEW.sha256 := encode(sha256(convert_to(lot_book_canonical(NEW, prev), 'UTF8')), 'hex');
    RETURN NEW;
END;
$$;

CREATE TRIGGER lot_book_chain BEFORE INSERT ON lot_book
    FOR EACH ROW EXECUTE FUNCTION lot_book_chain();

CREATE FUNCTION lot_book_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'lot_book is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER lot_book_no_change BEFORE UPDATE OR DELETE ON lot_book
    FOR EACH ROW EXECUTE FUNCTION lot_book_append_only();
CREATE TRIGGER lot_book_no_truncate BEFORE TRUNCATE ON lot_book
    FOR EACH STATEMENT EXECUTE FUNCTION lot_book_append_only();
