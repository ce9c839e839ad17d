-- close: end an open lot (rules R6, R7 of auction/domain/room.py).
--   op 'timed'  the closer, when the clock has passed ends_at (safe to run from every process:
--               the first call closes, later ones see a closed lot)
--   op 'hammer' the auctioneer's 落槌 on a live lot; needs a bid
--   op 'pass'   the auctioneer's 流拍 on a live lot
-- Sold when the leader's amount is at least the secret reserve, else passed.
-- ARGV: 1 op, 2 idempotency field ('' for none)
-- Returns {'ok', seq, seq, at, ends_at, outcome} or {'err', code, at, ends_at}.
local op = ARGV[1]
local idem_field = ARGV[2]
local replay = idem_lookup(idem_field, op)
if replay then return replay end

local at = now_ms()
local state = load_state()
local status = state['status']
if not status then
  return {'err', 'unknown_lot', at, 0}
end
local function refuse(code)
  return idem_store(idem_field, op, {'err', code, at, num(state, 'ends_at')})
end

local mode = state['mode']
if op == 'timed' then
  -- a Dutch lot, live or timed, is closed by its clock (D4)
  local clocked = state['format'] == 'dutch' or state['format'] == 'rounds'
  if mode ~= 'timed' and not clocked then return refuse('wrong_mode') end
elseif op == 'hammer' or op == 'pass' then
  if mode ~= 'live' then return refuse('wrong_mode') end
else
  return refuse('wrong_state')
end
if status == 'scheduled' then return refuse('lot_not_open') end
if status ~= 'open' then return refuse('lot_closed') end
-- C3: a paused lot is not closed, by the clock or by the auctioneer
if num(state, 'paused_at') > 0 then
  if op == 'timed' then  -- not a decision, like not_due: nothing stored
    return {'err', 'lot_paused', at, num(state, 'ends_at')}
  end
  return refuse('lot_paused')
end
local bids = num(state, 'bids')
if op == 'timed' and at < num(state, 'ends_at') then
  -- not a decision: nothing is stored under the idempotency key
  return {'err', 'not_due', at, num(state, 'ends_at')}
end
-- R10: the preemption window holds a timed english lot's close while a holder could still
-- equal the high (not a decision: nothing stored)
if op == 'timed' and preemptable(state) and at < num(state, 'ends_at') + num(state, 'preempt_ms') then
  return {'err', 'not_due', at, num(state, 'ends_at') + num(state, 'preempt_ms')}
end
-- S4: a sealed lot's quotes are its bids
if op == 'hammer' and bids == 0 and num(state, 'quotes') == 0 then return refuse('no_bids') end
-- T2: the end of a rounds lot's free phase starts round 1 (not a close)
if op == 'timed' and state['format'] == 'rounds' and num(state, 'round') == 0
  and at < num(state, 'ends_at') + num(state, 'round_ms') then
  local seq = num(state, 'seq') + 1
  local round_end = num(state, 'ends_at') + num(state, 'round_ms')
  emit(seq, 'round_started', at, {n = 1, ends_at = round_end})
  redis.call('HSET', STATE, 'round', '1', 'ends_at', s(round_end), 'seq', s(seq))
  return idem_store(idem_field, op, {'ok', seq, seq, at, round_end, 'round'})
end

local seq = num(state, 'seq') + 1
local revealed = {}
if state['format'] == 'sealed' then  -- S4: every quote revealed before the result
  seq = sealed_reveal(state, at, seq - 1) + 1
  bids = num(state, 'bids')
  revealed = {'high', state['high'], 'leader', state['leader'], 'paddle', state['paddle'],
    'bids', state['bids'], 'high_seq', state['high_seq']}
end
local high = num(state, 'high')
local outcome
if op ~= 'pass' and bids > 0 and high >= num(state, 'reserve') then
  outcome = 'sold'
  emit(seq, 'sold', at, {bidder = num(state, 'leader'), paddle = num(state, 'paddle'),
    amount = high, winning_seq = num(state, 'high_seq')})
else
  outcome = 'passed'
  local reason = 'auctioneer'
  if op ~= 'pass' then
    if bids == 0 then reason = 'no_bids' else reason = 'reserve_not_met' end
  end
  emit(seq, 'passed', at, {reason = reason})
end
redis.call('HSET', STATE, 'status', outcome, 'closed_at', s(at), 'seq', s(seq), unpack(revealed))
return idem_store(idem_field, op, {'ok', seq, seq, at, num(state, 'ends_at'), outcome})
