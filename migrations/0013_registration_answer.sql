-- 0013: registration with its answer (issue 13 item 3; docs/operations.md "Contract
-- registration", docs/formats.md "Registration packet").
--
-- 1. Each market may have its own registration endpoint and signing secret; a market without
--    one inherits its parent's, up the tree; the deployment's AUCTION_REGISTRATION_URL is the
--    default. The secret is kept as given (it keys the HMAC, so it cannot be hashed) and is
--    never answered by the API nor recorded in the audit trail.
CREATE TABLE market_registration_endpoints (
    market_id   BIGINT PRIMARY KEY REFERENCES markets (id),
    url         TEXT   NOT NULL CHECK (url ~ '^https?://'),
    secret      TEXT   NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by  TEXT   NOT NULL DEFAULT ''
);

-- 2. The outbox row says which market's endpoint it is for (the lot's session's market; rows
--    written without it are resolved the same way when claimed), which version of the packet it
--    holds, and the office's answer: registered with its 16-digit number, or rejected with a
--    reason.
ALTER TABLE registration_outbox
    ADD COLUMN market_id        BIGINT REFERENCES markets (id),
    ADD COLUMN version          INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN registration_no  TEXT CHECK (registration_no ~ '^[0-9]{16}$'),
    ADD COLUMN answer_reason    TEXT NOT NULL DEFAULT '',
    ADD COLUMN answered_at      TIMESTAMPTZ;

UPDATE registration_outbox o SET market_id = s.market_id
FROM lots l JOIN sessions s ON s.id = l.session_id
WHERE l.id = o.lot_id AND o.market_id IS NULL;

ALTER TABLE registration_outbox DROP CONSTRAINT IF EXISTS registration_outbox_status_check;
ALTER TABLE registration_outbox ADD CONSTRAINT registration_outbox_status_check
    CHECK (status IN ('pending', 'delivered', 'filed', 'dead', 'registered', 'rejected'));
ALTER TABLE registration_outbox ADD CONSTRAINT registration_outbox_registered_has_no
    CHECK ((status = 'registered') = (registration_no IS NOT NULL));

-- 3. Earlier versions of a lot's packet, kept when the market corrects a rejected one and sends
--    it again (the outbox row then holds the new version). Append-only in use.
CREATE TABLE registration_versions (
    lot_id           BIGINT  NOT NULL REFERENCES lots (id),
    version          INTEGER NOT NULL CHECK (version >= 1),
    idempotency_key  TEXT    NOT NULL UNIQUE,
    packet           JSONB   NOT NULL,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    registration_no  TEXT,
    answer_reason    TEXT    NOT NULL DEFAULT '',
    answered_at      TIMESTAMPTZ,
    delivered_at     TIMESTAMPTZ,
    superseded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    superseded_by    TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (lot_id, version)
);

-- 4. Every answer that came by POST /api/v1/registration/callback, taken or refused (a bad
--    signature, an unknown key, a malformed number …), with the caller's address: refused
--    callbacks are never in the audit trail (it records successful writes only), so they are
--    here.
CREATE TABLE registration_callbacks (
    id               BIGSERIAL PRIMARY KEY,
    received_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    lot_id           BIGINT REFERENCES lots (id),
    idempotency_key  TEXT   NOT NULL DEFAULT '',
    outcome          TEXT   NOT NULL
                     CHECK (outcome IN ('accepted', 'duplicate', 'bad_signature', 'no_secret',
                                        'unknown_key', 'invalid', 'superseded', 'conflict')),
    http_status      INTEGER NOT NULL,
    detail           TEXT   NOT NULL DEFAULT '',
    address          TEXT   NOT NULL DEFAULT '',
    body_excerpt     TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX registration_callbacks_lot_idx ON registration_callbacks (lot_id, id);
