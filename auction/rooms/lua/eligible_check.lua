-- eligible_check: the first half of an eligibility push (auction/rooms/eligibility.py). When the
-- lot's set already is what PostgreSQL says (the same digest of requirement and bidder ids, as
-- eligible.lua stored it), the push takes its ticket and requirement without rewriting the set:
-- the periodic resync of a large session sends a digest per lot, not every bidder id.
-- KEYS: 1 state hash, 2 eligibility hash (both with the lot's hash tag).
-- ARGV: 1 ticket (taken before PostgreSQL was read), 2 deposit requirement fen, 3 digest.
-- Returns 0: dropped as stale (as eligible.lua); 1: the same set, ticket and requirement taken;
-- 2: a different set (or none yet): eligible.lua must replace it.
local STATE, ELIGIBLE = KEYS[1], KEYS[2]
local ticket = tonumber(ARGV[1])

local written = tonumber(redis.call('HGET', ELIGIBLE, 'written') or '0') or 0
if written > ticket then
  return 0
end
if redis.call('HGET', ELIGIBLE, 'digest') ~= ARGV[3] then
  return 2
end
redis.call('HSET', ELIGIBLE, 'written', ARGV[1])
if redis.call('EXISTS', STATE) == 1 then
  redis.call('HSET', STATE, 'deposit', ARGV[2])
end
return 1
