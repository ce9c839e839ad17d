-- restore: replace a room whose Redis history was lost with the one rebuilt from the PostgreSQL
-- journal (auction/rooms/recovery.py), under a new epoch, and tell every hub.
-- Not a room rule: the state was computed by auction/domain/replay.py from the journal.
-- ARGV: 1 new epoch, 2 n = number of state fields, 3 .. 2+2n field/value pairs,
--       then (seq, blob) pairs: the journal's events, in seq order, as the stream carried them.
-- Everything is read and checked before the first write.
-- Returns the room's seq after the restore.
local epoch = ARGV[1]
local n = tonumber(ARGV[2])
local first_event = 3 + 2 * n
if (#ARGV - first_event + 1) % 2 ~= 0 then
  return redis.error_reply('restore: odd event arguments')
end
local seq = '0'
for i = 3, 2 + 2 * n, 2 do
  if ARGV[i] == 'seq' then seq = ARGV[i + 1] end
end

redis.call('DEL', STATE, EVENTS)
-- KEYS[5], the private book stream: the rebuilt book is the journal's (lot_book), and the room's
-- next write is numbered after it, so what only this Redis held of the book goes with the room
if KEYS[5] then redis.call('DEL', KEYS[5]) end
local fields = {'epoch', epoch}
for i = 3, 2 + 2 * n do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', STATE, unpack(fields))
for i = first_event, #ARGV, 2 do
  redis.call('XADD', EVENTS, ARGV[i] .. '-0', 'e', ARGV[i + 1])
end
-- a control message, not an event: hubs compare the room's epoch with theirs and reset watchers
redis.call('PUBLISH', CHANNEL, cmsgpack.pack({epoch = epoch, seq = tonumber(seq)}))
return tonumber(seq)
