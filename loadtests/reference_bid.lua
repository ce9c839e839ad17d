-- The bench's same-run Redis reference (loadtests/reference.py): a bid-shaped script with none
-- of the engine's rules beyond the ladder. One call per bid: the idempotency key, the lot's
-- high and increment, the event appended to the lot's stream, the new high.
-- KEYS[1] the lot (hash: high, inc, leader, seq), KEYS[2] its stream, KEYS[3] its keys (hash)
-- ARGV[1] amount (fen), ARGV[2] bidder, ARGV[3] idempotency key
local seen = redis.call('HGET', KEYS[3], ARGV[3])
if seen then
  return {'replay', seen}
end
local high = tonumber(redis.call('HGET', KEYS[1], 'high') or '0')
local inc = tonumber(redis.call('HGET', KEYS[1], 'inc') or '100')
local amount = tonumber(ARGV[1])
if amount < high + inc then
  return {'too_low', tostring(high + inc)}
end
local id = redis.call('XADD', KEYS[2], '*', 'kind', 'bid', 'amount', ARGV[1], 'bidder', ARGV[2])
redis.call('HSET', KEYS[1], 'high', ARGV[1], 'leader', ARGV[2], 'seq', id)
redis.call('HSET', KEYS[3], ARGV[3], id)
return {'ok', id}
