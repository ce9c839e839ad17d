-- open: scheduled → open (开拍). A timed lot's close is set to now + duration.
-- KEYS: 1-4 as in _common.lua, 5 the lot's eligibility hash (the proxies' bids, P2).
-- ARGV: 1 idempotency field ('' for none)
-- Returns {'ok', seq, seq, at, ends_at} or {'err', code, at}.
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

local ends_at = 0
if state['mode'] == 'timed' then
  ends_at = at + num(state, 'duration_ms')
end
if state['format'] == 'dutch' then  -- D4: the clock ends a Dutch lot, live or timed
  ends_at = at + dutch_span(state)
end
if state['format'] == 'rounds' then  -- T1: the free phase, live or timed
  ends_at = at + num(state, 'free_ms')
end
local seq = num(state, 'seq') + 1
redis.call('HSET', STATE, 'status', 'open', 'opened_at', s(at), 'ends_at', s(ends_at),
  'seq', s(seq))
emit(seq, 'opened', at, {start = num(state, 'start'), inc = num(state, 'inc'), ends_at = ends_at})
local last = seq
-- P2: proxies set before the opening (absentee bids) bid at once (_proxy.lua)
if (state['format'] or 'english') == 'english' and (state['book'] or '') ~= '' then
  local after = load_state()
  resolve_proxies(after, at, KEYS[5])
  last = num(after, 'seq')
end
return idem_store(idem_field, 'open', {'ok', seq, last, at, ends_at})
