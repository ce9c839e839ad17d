-- holders: a scheduled lot's preemptive-right holders set (PUT /api/v1/lots/{id}/preemptors,
-- auction/api/preemptors.py), atomically with the check that bidding has not started. The rule
-- they take part in is R9 of auction/domain/room.py (preempts; _book.lua). No event.
-- ARGV: 1 the holders, 'bidder:order' joined by ',' ('' for none)
-- Returns 1 when written, 0 when the lot has no room, {'err', 'wrong_state', at} once bidding
-- started (nothing written).
local state = load_state()
if not state['status'] then
  return 0
end
if state['status'] ~= 'scheduled' then
  return {'err', 'wrong_state', now_ms()}
end
redis.call('HSET', STATE, 'holders', ARGV[1])
return 1
