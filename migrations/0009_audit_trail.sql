-- 0009: the audit trail (issue 12, item 7; docs/http-api.md "Audit trail").
--
-- One row per write that succeeded: an HTTP POST/PUT/PATCH/DELETE answered 2xx, or a console
-- command acked on the websocket. Bids are not here: they are in their lot's event journal
-- (lot_events). Written by auction/api/audit.py; read by GET /api/v1/markets/{code}/audit.
--
-- Append-only: a trigger refuses UPDATE and DELETE (row level) and TRUNCATE (statement
-- level) with SQLSTATE 42501 (insufficient_privilege), whoever asks. Removing a row takes a
-- migration that drops the trigger, which is itself recorded in schema_migrations.
CREATE TABLE audit_log (
    id                BIGSERIAL   PRIMARY KEY,
    at                TIMESTAMPTZ NOT NULL DEFAULT now(),  -- the server's clock
    -- who: the principal of the request (role, account or token subject, its binding)
    actor_role        TEXT        NOT NULL,
    actor_account_id  BIGINT,
    actor_subject     TEXT        NOT NULL DEFAULT '',
    actor_market_id   BIGINT,
    actor_session_id  BIGINT,
    actor_address     TEXT        NOT NULL DEFAULT '',
    -- what: the method and the route's template ('POST /api/v1/sessions/{session_id}/lots',
    -- 'WS cmd' for a command over the socket), the path's ids, the query, the redacted body
    method            TEXT        NOT NULL,
    route             TEXT        NOT NULL,
    path_ids          JSONB       NOT NULL DEFAULT '{}'::jsonb,
    query             JSONB       NOT NULL DEFAULT '{}'::jsonb,
    -- the market the write concerns (resolved from the ids; NULL: none, e.g. a sign-up)
    market_id         BIGINT,
    body              JSONB       NOT NULL DEFAULT '{}'::jsonb,
    status            INTEGER     NOT NULL,
    created           JSONB       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_market_at_idx ON audit_log (market_id, at);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
