-- 0005: separation of duties in registration (issue 9; docs/roles.md "Registration and
-- deposits").
--
-- New registration states: 'invited' (a desk registration by the market: it takes effect only
-- when the bidder's account accepts it, which makes it 'applied'), 'withdrawn' (by the bidder)
-- and 'forfeited' (a deposit of the registration was forfeited). The bidder's credential of a
-- registration that is rejected, withdrawn or forfeited is revoked.
ALTER TABLE registrations DROP CONSTRAINT IF EXISTS registrations_status_check;
ALTER TABLE registrations ADD CONSTRAINT registrations_status_check
    CHECK (status IN ('invited', 'applied', 'approved', 'rejected', 'deposit_paid', 'withdrawn',
                      'forfeited'));

-- Every step of every registration, with who did it and when, append-only: applied, invited,
-- accepted, approved, rejected, deposit_confirmed, withdrawn, forfeited, credential_issued
-- (the bidder took its credential), agent_recorded. actor is the username (or a staff token's
-- name, or 'admin' for the deployment's admin token); actor_account_id the account when there
-- is one.
CREATE TABLE registration_steps (
    id                BIGSERIAL PRIMARY KEY,
    registration_id   BIGINT NOT NULL REFERENCES registrations (id),
    step              TEXT   NOT NULL
                      CHECK (step IN ('invited', 'applied', 'accepted', 'approved', 'rejected',
                                      'deposit_confirmed', 'withdrawn', 'forfeited',
                                      'credential_issued', 'agent_recorded', 'migrated')),
    from_status       TEXT,
    to_status         TEXT   NOT NULL,
    actor_role        TEXT   NOT NULL,
    actor_account_id  BIGINT REFERENCES accounts (id),
    actor             TEXT   NOT NULL DEFAULT '',
    detail            JSONB  NOT NULL DEFAULT '{}'::jsonb,
    at                TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX registration_steps_registration_idx ON registration_steps (registration_id, id);

CREATE FUNCTION registration_steps_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'registration_steps is append-only' USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER registration_steps_no_change BEFORE UPDATE OR DELETE ON registration_steps
    FOR EACH ROW EXECUTE FUNCTION registration_steps_append_only();

-- Registrations made before this migration: one step that says where they stood.
INSERT INTO registration_steps (registration_id, step, to_status, actor_role, actor, at)
SELECT id, 'migrated', status, 'system', 'migration 0005', created_at FROM registrations;

-- An agent (委托代理人) logs in as itself: a bidder account of the enterprise bound to one
-- registration of it (created by the enterprise's own account with the agent record).
ALTER TABLE accounts ADD COLUMN registration_id BIGINT REFERENCES registrations (id);
ALTER TABLE accounts ADD CONSTRAINT accounts_agent_is_bidder
    CHECK (registration_id IS NULL OR role = 'bidder');
