-- terms: a scheduled lot's terms edited (PATCH /api/v1/lots/{id}, auction/api/lot_edits.py),
-- atomically with the check that bidding has not started. The rule is change_terms of
-- auction/domain/room.py. No event: nobody has bid, and 'opened' carries the start and the
-- increment every watcher then sees.
-- ARGV: 1 start fen, 2 the lot's increment fen, 3 reserve fen, 4 duration ms (timed lots),
--       5 deposit requirement fen.
-- Returns 1 when changed, 0 when the lot has no room, {'err', 'wrong_state', at} when the room
-- is no longer scheduled (nothing written).
local start, inc, reserve = ARGV[1], ARGV[2], ARGV[3]
local duration_ms, deposit = ARGV[4], ARGV[5]

local state = load_state()
if not state['status'] then
  return 0
end
if state['status'] ~= 'scheduled' then
  return {'err', 'wrong_state', now_ms()}
end

-- R8: the room's increment at the new start (the auctioneer's override, if any, stays)
state['start'], state['inc0'] = start, inc
local room_inc = increment_for(state, num(state, 'high'), num(state, 'bids'))
redis.call('HSET', STATE, 'start', start, 'inc0', inc, 'inc', s(room_inc), 'reserve', reserve,
  'duration_ms', duration_ms, 'deposit', deposit)
return 1
