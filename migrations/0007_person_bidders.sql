-- 0007: natural persons as bidders, and an enterprise's legal representative (docs/roles.md
-- "Sign-up"; issue 11 "Accounts in the pages").
--
-- A bidder is an enterprise (统一社会信用代码, unique) or a natural person (公民身份号码,
-- unique; its phone). Both codes are validated by the API (auction/domain/identity.py); a
-- person has no credit code, so `uscc` becomes NULL for persons (the existing UNIQUE constraint
-- and `ON CONFLICT (uscc)` keep working: NULLs never conflict).
ALTER TABLE bidders
    ADD COLUMN kind                  TEXT NOT NULL DEFAULT 'enterprise'
                                     CHECK (kind IN ('enterprise', 'person')),
    ADD COLUMN legal_representative  TEXT NOT NULL DEFAULT '',
    ADD COLUMN resident_id           TEXT,
    ADD COLUMN phone                 TEXT NOT NULL DEFAULT '';

ALTER TABLE bidders ALTER COLUMN uscc DROP NOT NULL;

ALTER TABLE bidders
    ADD CONSTRAINT bidders_kind_code CHECK (
        (kind = 'enterprise' AND uscc IS NOT NULL AND resident_id IS NULL)
        OR (kind = 'person' AND uscc IS NULL AND resident_id IS NOT NULL)
    );

CREATE UNIQUE INDEX bidders_resident_id_key ON bidders (resident_id);
