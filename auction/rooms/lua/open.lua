-- open: scheduled → open (开拍). A timed lot's close is set to now + duration, or to the close
-- its session's schedule gives it (docs/formats.md "Scheduling"), never past the hard end; a
-- Dutch or rounds lot (live or timed) closes by its own clock (D4, T1) and takes no schedule.
-- KEYS: 1-4 as in _common.lua, 5 the lot's eligibility hash (the proxies' bids, P2).
-- ARGV: 1 idempotency field ('' for none); timed english and sealed lots only, all optional:
--       2 the scheduled close (ms; '' or 0: now + duration; not later than now: the same),
--       3 the cap on extensions (-1 or '': none), 4 the hard end (ms; '' or 0: none)
-- Returns {'ok', seq, last_seq, at, ends_at} (last_seq: after the proxies' bids) or
-- {'err', code, at}.
local idem_field = ARGV[1]
local replay = idem_lookup(idem_field, 'open')
if replay then return replay end

local at = now_ms()
local state = load_state()
if not state['status'] then
  return {'err', 'unknown_lot', at}
end
if state['status'] ~= 'scheduled' then
  return idem_store(idem_field, 'open', {'err', 'wrong_state', at})
end
-- L1: a listing opens only at the end of its period (listing.lua)
if state['format'] == 'listing' then
  return idem_store(idem_field, 'open', {'err', 'listing_period', at})
end

local ends_at = 0
local extra = {}
local fields = {}
local format = state['format'] or 'english'
if state['mode'] == 'timed' then
  local planned = tonumber(ARGV[2] or '') or 0
  local cap = tonumber(ARGV[3] or '') or -1
  local hard = tonumber(ARGV[4] or '') or 0
  if format == 'dutch' or format == 'rounds' then planned, cap, hard = 0, -1, 0 end
  ends_at = at + num(state, 'duration_ms')
  if planned > at then ends_at = planned end
  if hard > 0 and ends_at > hard then ends_at = hard end
  fields = {'max_ext', s(cap), 'hard_end', s(hard)}
  if cap >= 0 then extra['max_ext'] = cap end
  if hard > 0 then extra['hard_end'] = hard end
end
if format == 'dutch' then  -- D4: the clock ends a Dutch lot, live or timed
  ends_at = at + dutch_span(state)
end
if format == 'rounds' then  -- T1: the free phase, live or timed
  ends_at = at + num(state, 'free_ms')
end
local seq = num(state, 'seq') + 1
redis.call('HSET', STATE, 'status', 'open', 'opened_at', s(at), 'ends_at', s(ends_at),
  'seq', s(seq), unpack(fields))
extra['start'] = num(state, 'start')
extra['inc'] = num(state, 'inc')
extra['ends_at'] = ends_at
emit(seq, 'opened', at, extra)
local last = seq
-- P2: proxies set before the opening (absentee bids) bid at once (_proxy.lua)
if format == 'english' and (state['book'] or '') ~= '' then
  local after = load_state()
  resolve_proxies(after, at, KEYS[5])
  last = num(after, 'seq')
end
return idem_store(idem_field, 'open', {'ok', seq, last, at, ends_at})
