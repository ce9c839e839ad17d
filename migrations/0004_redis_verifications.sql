-- Which Redis instance each deployment (Redis namespace) last checked against this database
-- (auction/rooms/recovery.py). A Redis that restarted, or was restored or replaced, has another
-- run id: before any room script runs on it, its rooms are compared with lot_events and those
-- that lost history are rebuilt under a new epoch.
CREATE TABLE redis_verifications (
    namespace    TEXT PRIMARY KEY,
    run_id       TEXT NOT NULL,
    verified_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    rooms_checked INTEGER NOT NULL DEFAULT 0,
    rooms_rebuilt INTEGER NOT NULL DEFAULT 0,
    rooms_reepoched INTEGER NOT NULL DEFAULT 0
);
