-- 0011: a session is a draft until it is published (issue 12, item 2; docs/http-api.md
-- "Publishing a session").
--
-- published_at NULL: a draft, seen by the staff of its market only (no public read shows it,
-- nobody may apply to it, none of its lots may be opened). Sessions made before this migration
-- were public from the start: they count as published when they were created. The default keeps
-- it so for a row inserted without the column; POST /sessions {"draft": true} inserts NULL.
ALTER TABLE sessions ADD COLUMN published_at TIMESTAMPTZ DEFAULT now();
UPDATE sessions SET published_at = created_at;
