-- listing: the end of a listing period (挂牌, rule L2 of auction/domain/formats.py end_listing).
-- The scheduler calls it once the period is over, with the buyers qualified at its end
-- (PostgreSQL: auction/store/listing_sale.py). The room becomes an english lot and opens:
-- 0 buyers: passed at once (no_buyers); 1: a bid at the listing price and sold at once
-- (协议成交); 2 or more: a timed auction from the listing price, scheduled like open.lua.
-- KEYS: 1-4 as in _common.lua.
-- ARGV: 1 idempotency field ('' for none), 2 the number of buyers, 3 the one buyer's bidder id,
--       4 its paddle (both 0 unless there is exactly one), 5 the auction's scheduled close (ms;
--       0 or not later than now: now + duration), 6 the cap on extensions (-1: none), 7 the
--       hard end (ms; 0: none)
-- Returns {'ok', seq, last_seq, at, ends_at, outcome} (outcome 'passed', 'sold' or 'open') or
-- {'err', code, at}.
local idem_field = ARGV[1]
local replay = idem_lookup(idem_field, 'listing')
if replay then return replay end

local at = now_ms()
local state = load_state()
local status = state['status']
if not status then
  return {'err', 'unknown_lot', at}
end
local function refuse(code)
  return idem_store(idem_field, 'listing', {'err', code, at})
end
-- as LotStatus.require(SCHEDULED): an open lot is in the wrong state, a closed one closed
if status == 'open' then return refuse('wrong_state') end
if status ~= 'scheduled' then return refuse('lot_closed') end
if (state['format'] or 'english') ~= 'listing' then return refuse('wrong_format') end

local buyers = tonumber(ARGV[2] or '') or 0
local start, inc = num(state, 'start'), num(state, 'inc')
local seq = num(state, 'seq') + 1
if buyers >= 2 then
  -- an auction among the buyers: opened as open.lua opens a timed english lot
  local ends_at = 0
  local extra = {}
  local fields = {}
  if state['mode'] == 'timed' then
    local planned = tonumber(ARGV[5] or '') or 0
    local cap = tonumber(ARGV[6] or '') or -1
    local hard = tonumber(ARGV[7] or '') or 0
    ends_at = at + num(state, 'duration_ms')
    if planned > at then ends_at = planned end
    if hard > 0 and ends_at > hard then ends_at = hard end
    fields = {'max_ext', s(cap), 'hard_end', s(hard)}
    if cap >= 0 then extra['max_ext'] = cap end
    if hard > 0 then extra['hard_end'] = hard end
  end
  redis.call('HSET', STATE, 'format', 'english', 'status', 'open', 'opened_at', s(at),
    'ends_at', s(ends_at), 'seq', s(seq), unpack(fields))
  extra['start'] = start
  extra['inc'] = inc
  extra['ends_at'] = ends_at
  extra['buyers'] = buyers
  emit(seq, 'opened', at, extra)
  return idem_store(idem_field, 'listing', {'ok', seq, seq, at, ends_at, 'open'})
end

emit(seq, 'opened', at, {start = start, inc = inc, ends_at = at, buyers = buyers})
if buyers == 0 then  -- the listing expired
  emit(seq + 1, 'passed', at, {reason = 'no_buyers'})
  redis.call('HSET', STATE, 'format', 'english', 'status', 'passed', 'opened_at', s(at),
    'ends_at', s(at), 'closed_at', s(at), 'seq', s(seq + 1))
  return idem_store(idem_field, 'listing', {'ok', seq, seq + 1, at, at, 'passed'})
end
-- 协议成交: the one buyer takes the lot at the listing price
local buyer = tonumber(ARGV[3] or '') or 0
local paddle = tonumber(ARGV[4] or '') or 0
emit(seq + 1, 'bid', at, {bidder = buyer, paddle = paddle, amount = start, source = 'listing'})
emit(seq + 2, 'sold', at, {bidder = buyer, paddle = paddle, amount = start,
  winning_seq = seq + 1})
redis.call('HSET', STATE, 'format', 'english', 'status', 'sold', 'opened_at', s(at),
  'ends_at', s(at), 'closed_at', s(at), 'high', s(start), 'leader', s(buyer),
  'paddle', s(paddle), 'bids', '1', 'high_seq', s(seq + 1), 'seq', s(seq + 2))
return idem_store(idem_field, 'listing', {'ok', seq + 1, seq + 2, at, at, 'sold'})
