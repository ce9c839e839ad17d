-- 0008: what a bidder must read and hand in (issue 11, items 2–4; docs/http-api.md "Lot page",
-- "Attachments", "Applying").
--
-- A session's texts and facts: 拍卖公告 (announcement), 竞买须知 (terms), the market's contact
-- phone, an optional registration deadline, and the account the deposit is paid into (payee).
-- Sessions made before this migration have none ('' / NULL): their bidders have nothing to
-- agree to, so applying to them needs no agreement.
ALTER TABLE sessions
    ADD COLUMN announcement           TEXT NOT NULL DEFAULT '',
    ADD COLUMN terms                  TEXT NOT NULL DEFAULT '',
    ADD COLUMN contact_phone          TEXT NOT NULL DEFAULT '',
    ADD COLUMN registration_deadline  TIMESTAMPTZ,
    ADD COLUMN payee_name             TEXT NOT NULL DEFAULT '',
    ADD COLUMN payee_bank             TEXT NOT NULL DEFAULT '',
    ADD COLUMN payee_account          TEXT NOT NULL DEFAULT '';

-- 评估价, when the lot was appraised (NULL: not given).
ALTER TABLE lots ADD COLUMN appraisal_fen BIGINT CHECK (appraisal_fen IS NULL OR appraisal_fen >= 0);

-- The bidder's agreement to the session's announcement and terms, with the server's time and
-- the SHA-256 of the texts as they stood (what exactly was agreed to).
ALTER TABLE registrations
    ADD COLUMN agreed_at      TIMESTAMPTZ,
    ADD COLUMN agreed_sha256  TEXT NOT NULL DEFAULT '';

-- Uploaded files: pictures and attachments of a lot (by the market) and documents of a
-- registration (营业执照 copy … by the bidder). Kept in PostgreSQL (bytea), not on disk: the
-- file and its row commit together, are backed up together and are served by every process of
-- a deployment alike, whatever host it runs on; at most 5 MiB each and 20 per owner, which
-- PostgreSQL stores out of line (TOAST) without trouble. Virus scanning is out of scope; the
-- type is checked against the content's magic bytes and served with nosniff.
CREATE TABLE files (
    id               BIGSERIAL PRIMARY KEY,
    lot_id           BIGINT REFERENCES lots (id),
    registration_id  BIGINT REFERENCES registrations (id),
    label            TEXT    NOT NULL DEFAULT '',
    filename         TEXT    NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),
    content_type     TEXT    NOT NULL
                     CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp',
                                             'application/pdf')),
    size_bytes       INTEGER NOT NULL CHECK (size_bytes BETWEEN 1 AND 5242880),
    sha256           CHAR(64) NOT NULL,
    content          BYTEA   NOT NULL,
    uploaded_by      TEXT    NOT NULL DEFAULT '',
    uploaded_by_account BIGINT REFERENCES accounts (id),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((lot_id IS NULL) <> (registration_id IS NULL)),
    CHECK (octet_length(content) = size_bytes)
);
CREATE INDEX files_lot_idx ON files (lot_id, id) WHERE lot_id IS NOT NULL;
CREATE INDEX files_registration_idx ON files (registration_id, id)
    WHERE registration_id IS NOT NULL;
