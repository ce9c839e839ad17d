-- 0006: a session's increment table (加价幅度表, issue 10; auction/domain/increments.py).
--
-- A JSON array of price bands, ascending, the first from 0: [{"from_fen", "inc_fen"}, …]; [] is
-- no table (a lot keeps its own increment throughout). The API checks it before it is stored
-- (increments.check) and hands it to every room of the session (init_lot ``bands``).
--
-- Sessions made before this migration get [] : their rooms were created without a table, and the
-- table a session shows must be the one its lots follow. Sessions made after it default to the
-- DESIGN §6 table (< 10万元: 2,000 元; 10万–100万: 10,000 元; ≥ 100万: 50,000 元), which the API
-- writes anyway when a session is created without one.
ALTER TABLE sessions ADD COLUMN increments JSONB NOT NULL DEFAULT '[]'::jsonb
    CHECK (jsonb_typeof(increments) = 'array');
ALTER TABLE sessions ALTER COLUMN increments SET DEFAULT
    '[{"from_fen": 0, "inc_fen": 200000},
      {"from_fen": 10000000, "inc_fen": 1000000},
      {"from_fen": 100000000, "inc_fen": 5000000}]'::jsonb;
