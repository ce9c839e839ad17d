-- command: the auctioneer's console commands that change a room without closing it by sale
-- (rules C1-C4 of auction/domain/room.py, in the same order):
--   op 'warn'      arg n (1..3): fair warning on a live open lot, n > the last since the last bid
--   op 'announce'  arg text: a message on a scheduled or open lot
--   op 'pause'     an open lot stops (a timed lot's clock with it)
--   op 'resume'    a paused lot restarts; a timed lot's ends_at moves by the paused time
--   op 'withdraw'  arg reason: 撤拍, a scheduled or open lot ends as withdrawn
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
  local problem = require_open()
  if problem then return refuse(problem) end
  if paused then return refuse('wrong_state') end
  if state['mode'] == 'timed' and at >= ends_at then return refuse('lot_closed') end
  kind, fields = 'paused', {'paused_at', s(at)}
elseif op == 'resume' then  -- C3
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
else
  return redis.error_reply('command: unknown op')
end

-- accepted: from here on only writes
emit(seq, kind, at, data)
fields[#fields + 1] = 'seq'
fields[#fields + 1] = s(seq)
redis.call('HSET', STATE, unpack(fields))
return idem_store(idem_field, fingerprint, {'ok', seq, seq, at, ends_at})
