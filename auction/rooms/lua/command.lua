-- command: the auctioneer's console commands that change a room without closing it by sale
-- (rules C1-C6 and C8 of auction/domain/commands.py, in the same order):
--   op 'warn'      arg n (1..3): fair warning on a live open lot, n > the last since the last bid
--   op 'announce'  arg text: a message on a scheduled or open lot
--   op 'pause'     an open lot stops (a timed lot's clock with it)
--   op 'resume'    a paused lot restarts; a timed lot's ends_at moves by the paused time
--   op 'withdraw'  arg reason: 撤拍, a scheduled or open lot ends as withdrawn
--   op 'reopen'    arg the reopen window in ms: a live sold/passed lot, not final, is open again
--   op 'undo'      a live open lot's highest standing bid is retracted (read from the stream)
--   op 'increment' arg 'set:<fen>' | 'halve' | 'double' | 'reset': the auctioneer's increment
-- The arguments were validated at the edge (auction/wire/codec.py); a malformed one here is a
-- programming error, answered with a Redis error. Read and validate everything before the first
-- write.
-- ARGV: 1 op, 2 argument ('' for none), 3 idempotency field ('' for none)
-- Returns {'ok', seq, seq, at, ends_at} or {'err', code, at, 0}.
local op = ARGV[1]
local arg = ARGV[2]
local idem_field = ARGV[3]
-- the fingerprint names the op and its argument; hashed, so it never holds the '|' separator
local fingerprint = op .. ':' .. redis.sha1hex(arg)
local replay = idem_lookup(idem_field, fingerprint)
if replay then return replay end

local at = now_ms()
local state = load_state()
local status = state['status']
if not status then
  return {'err', 'unknown_lot', at, 0}
end
local function refuse(code)
  return idem_store(idem_field, fingerprint, {'err', code, at, 0})
end
-- LotStatus.require(OPEN) of auction/domain/lot.py
local function require_open()
  if status == 'scheduled' then return 'lot_not_open' end
  if status ~= 'open' then return 'lot_closed' end
  return nil
end
local paused = num(state, 'paused_at') > 0
local ends_at = num(state, 'ends_at')
local seq = num(state, 'seq') + 1
local fields = {}
local data = {}
local kind
local after  -- a second event {kind, data} that follows the command's own (undo: R8)

if op == 'warn' then  -- C1
  local n = tonumber(arg)
  if n ~= 1 and n ~= 2 and n ~= 3 then return redis.error_reply('command: bad warning') end
  if state['mode'] ~= 'live' then return refuse('wrong_mode') end
  local problem = require_open()
  if problem then return refuse(problem) end
  if paused then return refuse('lot_paused') end
  if n <= num(state, 'warned') then return refuse('wrong_state') end
  kind, data, fields = 'warned', {n = n}, {'warned', s(n)}
elseif op == 'announce' then  -- C2
  if arg == '' then return redis.error_reply('command: empty announcement') end
  if status ~= 'scheduled' and status ~= 'open' then return refuse('lot_closed') end
  kind, data = 'announced', {text = arg}
elseif op == 'pause' then  -- C3
  if state['format'] == 'dutch' or state['format'] == 'rounds' then  -- D5, T5
    return refuse('wrong_format')
  end
  local problem = require_open()
  if problem then return refuse(problem) end
  if paused then return refuse('wrong_state') end
  if state['mode'] == 'timed' and at >= ends_at then return refuse('lot_closed') end
  kind, fields = 'paused', {'paused_at', s(at)}
elseif op == 'resume' then  -- C3
  if state['format'] == 'dutch' or state['format'] == 'rounds' then  -- D5, T5
    return refuse('wrong_format')
  end
  local problem = require_open()
  if problem then return refuse(problem) end
  if not paused then return refuse('wrong_state') end
  if state['mode'] == 'timed' then
    ends_at = ends_at + math.max(0, at - num(state, 'paused_at'))
  end
  kind, data = 'resumed', {ends_at = ends_at}
  fields = {'paused_at', '0', 'ends_at', s(ends_at)}
elseif op == 'withdraw' then  -- C4
  if arg == '' then return redis.error_reply('command: empty reason') end
  if status ~= 'scheduled' and status ~= 'open' then return refuse('wrong_state') end
  kind, data = 'withdrawn', {reason = arg}
  fields = {'status', 'withdrawn', 'closed_at', s(at), 'paused_at', '0'}
elseif op == 'reopen' then  -- C5
  if (state['format'] or 'english') ~= 'english' then return refuse('wrong_format') end  -- S5, D5
  if state['mode'] ~= 'live' then return refuse('wrong_mode') end
  if status ~= 'sold' and status ~= 'passed' then return refuse('wrong_state') end
  if num(state, 'final') == 1 or at - num(state, 'closed_at') >= tonumber(arg) then
    return refuse('wrong_state')
  end
  kind = 'reopened'
  data = {high = num(state, 'high'), paddle = num(state, 'paddle'), bids = num(state, 'bids')}
  fields = {'status', 'open', 'closed_at', '0', 'warned', '0'}
elseif op == 'undo' then  -- C6
  if (state['format'] or 'english') ~= 'english' then return refuse('wrong_format') end  -- S5, D5
  if state['mode'] ~= 'live' then return refuse('wrong_mode') end
  local problem = require_open()
  if problem then return refuse(problem) end
  local bids = num(state, 'bids')
  if bids == 0 then return refuse('no_bids') end
  -- the two newest standing bids, walking the lot's log back (retractions come after the bid
  -- they retract, so they are seen first)
  local found, retracted = {}, {}
  local upto = num(state, 'seq')
  while #found < 2 and upto > 0 do
    local entries = redis.call('XREVRANGE', EVENTS, s(upto) .. '-0', '-', 'COUNT', 200)
    if #entries == 0 then break end
    for _, entry in ipairs(entries) do
      local ev = cmsgpack.unpack(entry[2][2])
      if ev['kind'] == 'bid_retracted' then
        retracted[ev['bid_seq']] = true
      elseif ev['kind'] == 'bid' and not retracted[ev['seq']] then
        found[#found + 1] = ev
        if #found == 2 then break end
      end
      upto = ev['seq'] - 1
    end
  end
  local top, prev = found[1], found[2]
  local high, leader, paddle, high_seq = 0, 0, 0, 0
  if prev then
    high, leader, paddle, high_seq = prev['amount'], prev['bidder'], prev['paddle'], prev['seq']
  end
  kind = 'bid_retracted'
  data = {bid_seq = top['seq'], paddle = top['paddle'], amount = top['amount'], high = high,
    high_paddle = paddle, bids = bids - 1}
  fields = {'high', s(high), 'leader', s(leader), 'paddle', s(paddle), 'high_seq', s(high_seq),
    'bids', s(bids - 1), 'warned', '0'}
  -- R8 after the price moved back
  local new_inc = increment_for(state, high, bids - 1)
  if new_inc ~= num(state, 'inc') then
    after = {'increment_changed', {inc = new_inc, by = 'table'}}
    fields[#fields + 1] = 'inc'
    fields[#fields + 1] = s(new_inc)
    fields[#fields + 1] = 'inc0'
    local inc0 = num(state, 'inc0')
    if inc0 == 0 then inc0 = num(state, 'inc') end
    fields[#fields + 1] = s(inc0)
  end
elseif op == 'increment' then  -- C8
  if status ~= 'scheduled' and status ~= 'open' then return refuse('lot_closed') end
  local inc = num(state, 'inc')
  local inc0 = num(state, 'inc0')
  if inc0 == 0 then inc0 = inc end
  local override
  if string.sub(arg, 1, 4) == 'set:' then override = tonumber(string.sub(arg, 5))
  elseif arg == 'halve' then override = math.floor(inc / 2)
  elseif arg == 'double' then override = inc * 2
  elseif arg == 'reset' then override = 0
  else return redis.error_reply('command: bad increment') end
  if arg ~= 'reset' and (override < 1 or override > MAX_FEN) then
    return refuse('wrong_state')
  end
  state['inc_override'] = s(override)
  state['inc0'] = s(inc0)
  local new_inc = increment_for(state, num(state, 'high'), num(state, 'bids'))
  local by = 'table'
  if override > 0 then by = 'auctioneer' end
  kind, data = 'increment_changed', {inc = new_inc, by = by}
  fields = {'inc_override', s(override), 'inc0', s(inc0), 'inc', s(new_inc)}
else
  return redis.error_reply('command: unknown op')
end

-- accepted: from here on only writes
emit(seq, kind, at, data)
local own_seq = seq
if after then
  seq = seq + 1
  emit(seq, after[1], at, after[2])
end
fields[#fields + 1] = 'seq'
fields[#fields + 1] = s(seq)
redis.call('HSET', STATE, unpack(fields))
return idem_store(idem_field, fingerprint, {'ok', own_seq, seq, at, ends_at})
