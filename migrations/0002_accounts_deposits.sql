-- 0002: accounts and roles per market, agent authorisations, lot deposit requirements and the
-- deposits ledger (docs/roles.md, docs/http-api.md "Deposits"). Money is BIGINT fen.

-- A person who logs in. Staff roles are bound to one market (market_admin: that market and the
-- markets below it); a bidder account acts for one enterprise (bidders row); platform_admin is
-- bound to nothing.
CREATE TABLE accounts (
    id             BIGSERIAL PRIMARY KEY,
    username       TEXT   NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{3,64}$'),
    password_hash  TEXT   NOT NULL,  -- argon2id, PHC string
    role           TEXT   NOT NULL
                   CHECK (role IN ('platform_admin', 'market_admin', 'auctioneer', 'finance',
                                   'bidder')),
    market_id      BIGINT REFERENCES markets (id),
    bidder_id      BIGINT REFERENCES bidders (id),
    person_name    TEXT   NOT NULL DEFAULT '',
    resident_id    TEXT   NOT NULL DEFAULT '',  -- GB 11643-1999, validated by the API
    disabled       BOOLEAN NOT NULL DEFAULT false,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((role IN ('market_admin', 'auctioneer', 'finance')) = (market_id IS NOT NULL)),
    CHECK ((role = 'bidder') = (bidder_id IS NOT NULL))
);
CREATE INDEX accounts_market_idx ON accounts (market_id);

-- Agent bidding (委托代理竞买): the person authorised to bid for the enterprise in this session,
-- recorded before bidding starts.
ALTER TABLE registrations
    ADD COLUMN agent_name         TEXT NOT NULL DEFAULT '',
    ADD COLUMN agent_resident_id  TEXT NOT NULL DEFAULT '',
    ADD COLUMN agent_recorded_at  TIMESTAMPTZ;

-- The deposit a bidder must hold to bid on the lot (保证金, DESIGN §2: typically 5–20 % of the
-- start price; the API defaults to 10 %).
ALTER TABLE lots ADD COLUMN deposit_fen BIGINT NOT NULL DEFAULT 0 CHECK (deposit_fen >= 0);
UPDATE lots SET deposit_fen = start_price_fen / 10;

-- One deposit of one registration: for one lot (lot_id) or for the session band (lot_id NULL:
-- it covers every lot whose deposit_fen <= amount_fen). state is where the money is now.
CREATE TABLE deposits (
    id               BIGSERIAL PRIMARY KEY,
    market_id        BIGINT NOT NULL REFERENCES markets (id),
    session_id       BIGINT NOT NULL REFERENCES sessions (id),
    registration_id  BIGINT NOT NULL REFERENCES registrations (id),
    lot_id           BIGINT REFERENCES lots (id),
    amount_fen       BIGINT NOT NULL CHECK (amount_fen >= 0),
    state            TEXT   NOT NULL DEFAULT 'required'
                     CHECK (state IN ('required', 'confirmed', 'held', 'released', 'applied',
                                      'forfeited')),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX deposits_one_per_scope
    ON deposits (registration_id, coalesce(lot_id, 0));
CREATE INDEX deposits_session_idx ON deposits (session_id, state);
CREATE INDEX deposits_market_idx ON deposits (market_id, state);

-- Every change of a deposit, append-only: kind is the state entered. Σ of 'confirmed' entries
-- is the money received; it must equal the sum of deposits past 'required', per market.
CREATE TABLE deposit_entries (
    id          BIGSERIAL PRIMARY KEY,
    deposit_id  BIGINT NOT NULL REFERENCES deposits (id),
    market_id   BIGINT NOT NULL REFERENCES markets (id),
    kind        TEXT   NOT NULL
                CHECK (kind IN ('required', 'confirmed', 'held', 'released', 'applied',
                                'forfeited')),
    from_state  TEXT,
    amount_fen  BIGINT NOT NULL CHECK (amount_fen >= 0),
    actor       TEXT   NOT NULL DEFAULT '',
    reason      TEXT   NOT NULL DEFAULT '',
    at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX deposit_entries_market_idx ON deposit_entries (market_id, kind);
CREATE INDEX deposit_entries_deposit_idx ON deposit_entries (deposit_id);

-- The ledger is append-only: no UPDATE or DELETE of an entry.
CREATE FUNCTION deposit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'deposit_entries is append-only' USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER deposit_entries_no_change BEFORE UPDATE OR DELETE ON deposit_entries
    FOR EACH ROW EXECUTE FUNCTION deposit_entries_append_only();
