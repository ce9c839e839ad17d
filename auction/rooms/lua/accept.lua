-- accept: take a Dutch lot at the current price (rule D3 of auction/domain/formats.py, in the
-- same order): the first acceptance wins, a later one finds the lot closed.
-- KEYS: 1-4 as in _common.lua, 5 the lot's eligibility hash.
-- ARGV: 1 bidder id, 2 paddle, 3 idempotency field ('' for none)
-- Returns {'ok', bid_seq, last_seq, at, ends_at, 'sold'} or {'err', code, at, 0}.
local ELIGIBLE = KEYS[5]
local bidder = tonumber(ARGV[1])
local paddle = tonumber(ARGV[2])
local idem_field = ARGV[3]
local replay = idem_lookup(idem_field, 'accept')
if replay then return replay end

local at = now_ms()
local state = load_state()
local status = state['status']
if not status then return {'err', 'unknown_lot', at, 0} end
local function refuse(code)
  return idem_store(idem_field, 'accept', {'err', code, at, 0})
end
if redis.call('HEXISTS', ELIGIBLE, ARGV[1]) == 0 then  -- R0, not stored (as in bid.lua)
  return {'err', 'deposit_required', at, num(state, 'deposit')}
end
if state['format'] ~= 'dutch' then return refuse('wrong_format') end
if status == 'scheduled' then return refuse('lot_not_open') end
if status ~= 'open' then return refuse('lot_closed') end
local ends_at = num(state, 'ends_at')
if at >= ends_at then return refuse('lot_closed') end

local price = dutch_price(state, at - num(state, 'opened_at'))
local seq = num(state, 'seq') + 1
emit(seq, 'bid', at, {bidder = bidder, paddle = paddle, amount = price, source = 'online',
  accepted = true})
emit(seq + 1, 'sold', at, {bidder = bidder, paddle = paddle, amount = price, winning_seq = seq})
redis.call('HSET', STATE, 'high', s(price), 'leader', s(bidder), 'paddle', s(paddle),
  'bids', s(num(state, 'bids') + 1), 'high_seq', s(seq), 'status', 'sold', 'closed_at', s(at),
  'seq', s(seq + 1))
return idem_store(idem_field, 'accept', {'ok', seq, seq + 1, at, ends_at, 'sold'})
