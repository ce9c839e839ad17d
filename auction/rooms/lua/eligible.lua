-- eligible: replace the set of bidders who may bid on one lot, and the lot's deposit
-- requirement, with what PostgreSQL says (auction/rooms/eligibility.py computes it). One atomic
-- replace, so a bid never sees half a set.
-- KEYS: 1 state hash, 2 eligibility hash (both with the lot's hash tag).
-- ARGV: 1 ticket (taken before PostgreSQL was read), 2 deposit requirement fen, 3 digest of
-- requirement and ids (kept for eligible_check.lua), 4.. bidder ids.
-- Pushes can cross (two processes, a slow one): a push whose ticket is older than the one that
-- wrote the hash read PostgreSQL earlier, so it is dropped.
-- Returns 1 when written, 0 when dropped as stale.
local STATE, ELIGIBLE = KEYS[1], KEYS[2]
local ticket = tonumber(ARGV[1])
local deposit = ARGV[2]

local written = tonumber(redis.call('HGET', ELIGIBLE, 'written') or '0') or 0
if written > ticket then
  return 0
end

redis.call('DEL', ELIGIBLE)
redis.call('HSET', ELIGIBLE, 'written', ARGV[1], 'digest', ARGV[3])
for i = 4, #ARGV do
  redis.call('HSET', ELIGIBLE, ARGV[i], '1')
end
-- the requirement lives in the room's state (the nack names it); never create a partial room
if redis.call('EXISTS', STATE) == 1 then
  redis.call('HSET', STATE, 'deposit', deposit)
end
return 1
