-- reepoch: give a room a new epoch because its Redis may have lost a tail of history that
-- clients saw (a restart: auction/rooms/recovery.py), and tell every hub.
-- ARGV: 1 the epoch the recovery saw, 2 the new epoch.
-- Returns 1 when changed, 0 when the room is gone or its epoch changed meanwhile.
local seen, epoch = ARGV[1], ARGV[2]
local current = redis.call('HGET', STATE, 'epoch')
if not current or current ~= seen then
  return 0
end
redis.call('HSET', STATE, 'epoch', epoch)
local seq = tonumber(redis.call('HGET', STATE, 'seq') or '0')
redis.call('PUBLISH', CHANNEL, cmsgpack.pack({epoch = epoch, seq = seq}))
return 1
