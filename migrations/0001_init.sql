-- 0001: markets, sessions, lots, bidders, registrations, the lot event journal, results and the
-- registration outbox. Money columns are BIGINT fen (分) and end in _fen; never NUMERIC/float.

CREATE TABLE markets (
    id          BIGSERIAL PRIMARY KEY,
    code        CHAR(6)  NOT NULL UNIQUE CHECK (code ~ '^[0-9]{6}$'),  -- GB/T 2260 division code
    slug        TEXT     NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{2,64}$'),
    name        TEXT     NOT NULL,
    level       TEXT     NOT NULL CHECK (level IN ('province', 'city', 'county')),
    parent_id   BIGINT   REFERENCES markets (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    id                  BIGSERIAL PRIMARY KEY,
    market_id           BIGINT  NOT NULL REFERENCES markets (id),
    name                TEXT    NOT NULL,
    season              TEXT    NOT NULL CHECK (season IN ('spring', 'autumn', 'special')),
    mode                TEXT    NOT NULL CHECK (mode IN ('live', 'timed')),
    starts_at           TIMESTAMPTZ NOT NULL,
    -- anti-sniping (DESIGN §6): a bid in the last window_s seconds moves the close to
    -- extension_s seconds after that bid
    extension_window_s  INTEGER NOT NULL DEFAULT 300 CHECK (extension_window_s >= 0),
    extension_s         INTEGER NOT NULL DEFAULT 300 CHECK (extension_s >= 0),
    status              TEXT    NOT NULL DEFAULT 'scheduled'
                        CHECK (status IN ('scheduled', 'running', 'finished')),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sessions_market_idx ON sessions (market_id);

CREATE TABLE lots (
    id                BIGSERIAL PRIMARY KEY,
    session_id        BIGINT  NOT NULL REFERENCES sessions (id),
    ordinal           INTEGER NOT NULL,
    title             TEXT    NOT NULL,
    description       TEXT    NOT NULL DEFAULT '',
    result_type       TEXT    NOT NULL,  -- 专利/技术秘密/软件著作权/… (DOMAIN.md IP categories)
    ip_type           TEXT    NOT NULL,  -- e.g. 发明专利
    technology_field  TEXT    NOT NULL,  -- one of the 11 statistics fields
    transaction_mode  TEXT    NOT NULL CHECK (transaction_mode IN ('转让', '许可', '作价投资')),
    contract_type     TEXT    NOT NULL
                      CHECK (contract_type IN ('技术转让', '技术许可', '技术开发', '技术咨询', '技术服务')),
    holder_name       TEXT    NOT NULL,
    holder_uscc       TEXT    NOT NULL,
    start_price_fen   BIGINT  NOT NULL CHECK (start_price_fen > 0),
    increment_fen     BIGINT  NOT NULL CHECK (increment_fen > 0),
    reserve_fen       BIGINT  NOT NULL DEFAULT 0 CHECK (reserve_fen >= 0),
    non_tech_fen      BIGINT  NOT NULL DEFAULT 0 CHECK (non_tech_fen >= 0),
    duration_s        INTEGER NOT NULL DEFAULT 0 CHECK (duration_s >= 0),  -- timed lots only
    status            TEXT    NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'open', 'sold', 'passed', 'withdrawn')),
    UNIQUE (session_id, ordinal)
);

CREATE TABLE bidders (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    uscc        TEXT NOT NULL UNIQUE,
    contact     TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE registrations (
    id           BIGSERIAL PRIMARY KEY,
    session_id   BIGINT  NOT NULL REFERENCES sessions (id),
    bidder_id    BIGINT  NOT NULL REFERENCES bidders (id),
    status       TEXT    NOT NULL DEFAULT 'applied'
                 CHECK (status IN ('applied', 'approved', 'rejected', 'deposit_paid')),
    paddle       INTEGER,
    deposit_fen  BIGINT  NOT NULL DEFAULT 0 CHECK (deposit_fen >= 0),
    reason       TEXT    NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (session_id, bidder_id),
    UNIQUE (session_id, paddle)
);

-- Every event of every lot, drained from the lot's Redis stream; (lot_id, seq) makes the drain
-- idempotent. Bid columns are filled for kind = 'bid' and the terminal kinds.
CREATE TABLE lot_events (
    lot_id      BIGINT  NOT NULL REFERENCES lots (id),
    seq         BIGINT  NOT NULL CHECK (seq > 0),
    epoch       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    bidder_id   BIGINT,
    paddle      INTEGER,
    amount_fen  BIGINT,
    data        JSONB   NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (lot_id, seq)
);

CREATE TABLE lot_results (
    lot_id          BIGINT PRIMARY KEY REFERENCES lots (id),
    outcome         TEXT   NOT NULL CHECK (outcome IN ('sold', 'passed', 'withdrawn')),
    reason          TEXT   NOT NULL DEFAULT '',
    winner_id       BIGINT REFERENCES bidders (id),
    paddle          INTEGER,
    amount_fen      BIGINT,
    winning_seq     BIGINT,
    closed_at       TIMESTAMPTZ NOT NULL,
    bid_count       INTEGER NOT NULL,
    bid_log_sha256  CHAR(64) NOT NULL,
    settled_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((outcome = 'sold') = (winner_id IS NOT NULL AND amount_fen IS NOT NULL))
);

CREATE TABLE registration_outbox (
    lot_id           BIGINT PRIMARY KEY REFERENCES lots (id),
    idempotency_key  TEXT   NOT NULL UNIQUE,
    packet           JSONB  NOT NULL,
    status           TEXT   NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'filed', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error       TEXT   NOT NULL DEFAULT '',
    delivered_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX registration_outbox_due_idx ON registration_outbox (next_attempt_at)
    WHERE status = 'pending';
