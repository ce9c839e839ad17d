-- 0018: the tamper-evident record (issue 16, item 4; docs/formats.md "The chained record").
--
-- Every lot event (lot_events) and every back-office / console action (audit_log) carries the
-- SHA-256 of the previous entry of its chain and its own SHA-256:
--
-- * lot_events: one chain per lot, in seq order; seq n's prev_sha256 is seq n-1's sha256, seq 1
--   starts from 64 zeros. A row whose predecessor is not in the table is refused (a chain with a
--   hole cannot be built), so the drainer writes strictly in seq order (it already does).
-- * audit_log: one chain per market (entries of no market form one chain of their own), in
--   chain_n order; chain_n is given by the trigger, 1, 2, 3 ... per market.
--
-- Both hashes are computed by BEFORE INSERT triggers, in the inserting statement itself, under a
-- transaction-level advisory lock per lot (class 16) or per market (class 17): two drainers
-- (or two API processes) cannot fork a chain, and the writers make no extra round trip. The
-- canonical text of an entry is built by lot_event_canonical() / audit_entry_canonical() below;
-- auction/audit/chain.py builds the same bytes in Python (tests/audit/test_chain.py holds them
-- equal) and docs/formats.md states them for an outside verifier.
--
-- Append-only: UPDATE, DELETE and TRUNCATE on lot_events are refused like on audit_log (0009).
-- Undo (bid_retracted), reopen (reopened) and corrections are new entries, never edits.

-- -- lot_events ---------------------------------------------------------------------------------

ALTER TABLE lot_events ADD COLUMN prev_sha256 CHAR(64), ADD COLUMN sha256 CHAR(64);

-- The canonical text of a lot event: a JSON array without spaces (docs/formats.md).
CREATE FUNCTION lot_event_canonical(
    lot_id BIGINT, seq BIGINT, epoch TEXT, kind TEXT, at TIMESTAMPTZ, bidder_id BIGINT,
    paddle INTEGER, amount_fen BIGINT, data JSONB, prev_sha256 TEXT
) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT '["lot_event",' || lot_id::text || ',' || seq::text || ','
        || to_json(epoch)::text || ',' || to_json(kind)::text || ','
        || ((extract(epoch FROM at) * 1000)::bigint)::text || ','
        || coalesce(bidder_id::text, 'null') || ',' || coalesce(paddle::text, 'null') || ','
        || coalesce(amount_fen::text, 'null') || ',' || data::text || ','
        || to_json(prev_sha256)::text || ']'
$$;

-- Backfill: the journal written before this migration, chained lot by lot in seq order.
DO $$
DECLARE
    r RECORD;
    prev TEXT := NULL;
    cur_lot BIGINT := NULL;
    h TEXT;
BEGIN
    FOR r IN SELECT * FROM lot_events ORDER BY lot_id, seq LOOP
        IF cur_lot IS DISTINCT FROM r.lot_id THEN
            cur_lot := r.lot_id;
            prev := repeat('0', 64);
        END IF;
        h := encode(sha256(convert_to(lot_event_canonical(
            r.lot_id, r.seq, r.epoch, r.kind, r.at, r.bidder_id, r.paddle, r.amount_fen, r.data,
            prev), 'UTF8')), 'hex');
        UPDATE lot_events SET prev_sha256 = prev, sha256 = h
        WHERE lot_id = r.lot_id AND seq = r.seq;
        prev := h;
    END LOOP;
END;
$$;

ALTER TABLE lot_events ALTER COLUMN prev_sha256 SET NOT NULL,
                       ALTER COLUMN sha256 SET NOT NULL;

CREATE FUNCTION lot_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prev TEXT;
BEGIN
    -- one writer per lot at a time; the query below then sees what the previous one committed
    PERFORM pg_advisory_xact_lock(16, (NEW.lot_id % 2147483647)::integer);
    IF NEW.seq = 1 THEN
        prev := repeat('0', 64);
    ELSE
        SELECT e.sha256 INTO prev FROM lot_events e
        WHERE e.lot_id = NEW.lot_id AND e.seq = NEW.seq - 1;
        IF prev IS NULL THEN
            RAISE EXCEPTION 'lot_events: lot % seq % has no predecessor in the log',
                NEW.lot_id, NEW.seq USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    NEW.prev_sha256 := prev;
    NEW.sha256 := encode(sha256(convert_to(lot_event_canonical(
        NEW.lot_id, NEW.seq, NEW.epoch, NEW.kind, NEW.at, NEW.bidder_id, NEW.paddle,
        NEW.amount_fen, NEW.data, prev), 'UTF8')), 'hex');
    RETURN NEW;
END;
$$;

CREATE TRIGGER lot_events_chain BEFORE INSERT ON lot_events
    FOR EACH ROW EXECUTE FUNCTION lot_events_chain();

CREATE FUNCTION lot_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'lot_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER lot_events_no_change BEFORE UPDATE OR DELETE ON lot_events
    FOR EACH ROW EXECUTE FUNCTION lot_events_append_only();
CREATE TRIGGER lot_events_no_truncate BEFORE TRUNCATE ON lot_events
    FOR EACH STATEMENT EXECUTE FUNCTION lot_events_append_only();

-- -- audit_log ----------------------------------------------------------------------------------

ALTER TABLE audit_log ADD COLUMN chain_n BIGINT, ADD COLUMN prev_sha256 CHAR(64),
                      ADD COLUMN sha256 CHAR(64);

-- The canonical text of an audit entry: a JSON array without spaces (docs/formats.md).
CREATE FUNCTION audit_entry_canonical(a audit_log, prev_sha256 TEXT) RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT '["audit",' || coalesce(a.market_id::text, 'null') || ',' || a.chain_n::text || ','
        || a.id::text || ',' || ((extract(epoch FROM a.at) * 1000000)::bigint)::text || ','
        || to_json(a.actor_role)::text || ',' || coalesce(a.actor_account_id::text, 'null') || ','
        || to_json(a.actor_subject)::text || ',' || coalesce(a.actor_market_id::text, 'null')
        || ',' || coalesce(a.actor_session_id::text, 'null') || ','
        || to_json(a.actor_address)::text || ',' || to_json(a.method)::text || ','
        || to_json(a.route)::text || ',' || a.path_ids::text || ',' || a.query::text || ','
        || a.body::text || ',' || a.status::text || ',' || a.created::text || ','
        || to_json(prev_sha256)::text || ']'
$$;

-- Backfill, market by market in id order (0009's trigger refuses the UPDATE: off meanwhile).
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change;
DO $$
DECLARE
    r audit_log;
    prev TEXT := NULL;
    cur_market BIGINT := NULL;
    n BIGINT := 0;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY coalesce(market_id, 0), id LOOP
        IF cur_market IS DISTINCT FROM coalesce(r.market_id, 0) THEN
            cur_market := coalesce(r.market_id, 0);
            prev := repeat('0', 64);
            n := 0;
        END IF;
        n := n + 1;
        r.chain_n := n;
        r.prev_sha256 := prev;
        r.sha256 := encode(sha256(convert_to(audit_entry_canonical(r, prev), 'UTF8')), 'hex');
        UPDATE audit_log SET chain_n = r.chain_n, prev_sha256 = r.prev_sha256, sha256 = r.sha256
        WHERE id = r.id;
        prev := r.sha256;
    END LOOP;
END;
$$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change;

ALTER TABLE audit_log ALTER COLUMN chain_n SET NOT NULL,
                      ALTER COLUMN prev_sha256 SET NOT NULL,
                      ALTER COLUMN sha256 SET NOT NULL;
CREATE UNIQUE INDEX audit_log_chain_idx ON audit_log ((coalesce(market_id, 0)), chain_n);

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_n BIGINT;
    last_sha TEXT;
BEGIN
    PERFORM pg_advisory_xact_lock(17, (coalesce(NEW.market_id, 0) % 2147483647)::integer);
    SELECT a.chain_n, a.sha256 INTO last_n, last_sha FROM audit_log a
    WHERE coalesce(a.market_id, 0) = coalesce(NEW.market_id, 0)
    ORDER BY a.chain_n DESC LIMIT 1;
    NEW.chain_n := coalesce(last_n, 0) + 1;
    NEW.prev_sha256 := coalesce(last_sha, repeat('0', 64));
    NEW.sha256 := encode(sha256(convert_to(
        audit_entry_canonical(NEW, NEW.prev_sha256), 'UTF8')), 'hex');
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
