-- proxy: a bidder sets or changes its secret maximum on an english lot (rule P1 of
-- auction/domain/formats.py, in the same order), then the proxies bid (P2-P4, _proxy.lua).
-- KEYS: 1-4 as in _common.lua, 5 the lot's eligibility hash, 6 its private book stream (the
-- maximum is journalled there, _book.lua book_journal).
-- ARGV: 1 bidder id, 2 paddle, 3 maximum fen (decimal digits), 4 idempotency field ('' for none)
-- Returns {'ok', seq, last_seq, at, ends_at} or {'err', code, at, minimum}.
local ELIGIBLE = KEYS[5]
local bidder = tonumber(ARGV[1])
local paddle = tonumber(ARGV[2])
local max_text = ARGV[3]
local idem_field = ARGV[4]
local fingerprint = 'proxy:' .. max_text
local replay = idem_lookup(idem_field, fingerprint)
if replay then return replay end

local at = now_ms()
local function refuse(code, minimum)
  return idem_store(idem_field, fingerprint, {'err', code, at, minimum or 0})
end
local maximum = fen_amount(max_text)
if not maximum then return refuse('bad_amount') end

local state = load_state()
local status = state['status']
if not status then return {'err', 'unknown_lot', at, 0} end
if redis.call('HEXISTS', ELIGIBLE, ARGV[1]) == 0 then  -- R0, not stored (as in bid.lua)
  return {'err', 'deposit_required', at, num(state, 'deposit')}
end
if (state['format'] or 'english') ~= 'english' then return refuse('wrong_format') end
-- P1: a scheduled lot takes an absentee proxy (it bids at the opening)
if status ~= 'open' and status ~= 'scheduled' then return refuse('lot_closed') end
if num(state, 'paused_at') > 0 then return refuse('lot_paused') end
local opened = status == 'open'
if opened and state['mode'] == 'timed' and at >= num(state, 'ends_at') then
  return refuse('lot_closed')
end
local bids, high = num(state, 'bids'), num(state, 'high')
if bidder == num(state, 'leader') then
  if maximum < high then return refuse('too_low', high) end
else
  local minimum = num(state, 'start')
  if bids > 0 then minimum = high + num(state, 'inc') end
  if maximum < minimum then
    if bids == 0 then return refuse('below_start', minimum) end
    return refuse('too_low', minimum)
  end
end

local order = num(state, 'book_n') + 1
local entry = {bidder = bidder, paddle = paddle, amount = maximum, order = order, n = 0, at = at}
book_journal(entry, num(state, 'seq'))
local entries = book_put(book_parse(state['book']), entry)
local count = #entries
state['book'] = book_text(entries)
state['book_n'] = s(order)
redis.call('HSET', STATE, 'book', state['book'], 'book_n', s(order), 'proxies', s(count))
local first = num(state, 'seq')
if opened then resolve_proxies(state, at, ELIGIBLE) end
local seq = num(state, 'seq')
local own = first
if seq > first then own = first + 1 end
return idem_store(idem_field, fingerprint, {'ok', own, seq, at, num(state, 'ends_at')})
