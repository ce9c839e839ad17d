-- _common.lua: prepended to every script of this folder when the scripts are registered
-- (auction/rooms/scripts.py). Holds the helpers every atomic decision shares.
--
-- KEYS (every script): 1 state hash, 2 event stream, 3 idempotency hash, 4 pub/sub channel.
-- All four carry the lot's hash tag, so one script touches one Redis Cluster slot.
local STATE, EVENTS, IDEM, CHANNEL = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

-- Server time in integer milliseconds (invariant 3: the bid's time is when Redis accepted it).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Lua numbers are doubles; '%d' keeps integers (every fen amount is < 2^53) out of '1e+15' form.
local function s(n)
  return string.format('%d', n)
end

-- Money is integer fen in 1 .. 10^15 (auction/domain/money.py MAX_FEN).
local MAX_FEN = 1000000000000000

-- A fen amount sent as decimal digits (no sign, no leading zero, at most MAX_FEN), as a Lua
-- number; nil for anything else.
local function fen_amount(text)
  if not string.match(text, '^[1-9]%d*$') or string.len(text) > 16 then return nil end
  local amount = tonumber(text)
  if amount > MAX_FEN then return nil end
  return amount
end

-- Integer fields of the state hash, as Lua numbers.
local function num(state, name)
  return tonumber(state[name] or '0') or 0
end

local function load_state()
  local flat = redis.call('HGETALL', STATE)
  local state = {}
  for i = 1, #flat, 2 do
    state[flat[i]] = flat[i + 1]
  end
  return state
end

-- Idempotency (invariant 8): the same key with the same fingerprint returns the stored reply,
-- marked as a replay; the same key with another fingerprint is refused and changes nothing.
local function idem_lookup(field, fingerprint)
  if field == '' then
    return nil
  end
  local stored = redis.call('HGET', IDEM, field)
  if not stored then
    return nil
  end
  local sep = string.find(stored, '|', 1, true)
  if string.sub(stored, 1, sep - 1) ~= fingerprint then
    return {'err', 'idempotency_conflict', 0}
  end
  local reply = cmsgpack.unpack(string.sub(stored, sep + 1))
  reply[#reply + 1] = 'replay'
  return reply
end

local function idem_store(field, fingerprint, reply)
  if field ~= '' then
    redis.call('HSET', IDEM, field, fingerprint .. '|' .. cmsgpack.pack(reply))
  end
  return reply
end

-- Append one event: the next gapless seq is the stream entry id, the same msgpack blob goes to
-- the stream and to the lot's channel. The caller has already updated the state's seq.
local function emit(seq, kind, at, fields)
  fields['seq'] = seq
  fields['kind'] = kind
  fields['at'] = at
  local blob = cmsgpack.pack(fields)
  redis.call('XADD', EVENTS, s(seq) .. '-0', 'e', blob)
  redis.call('PUBLISH', CHANNEL, blob)
end

-- R8 of auction/domain/room.py (increment_for): the increment at the room's price (the standing
-- high, else the start). The auctioneer's override (C8) when set; else the lot's own increment
-- (inc0; rooms made before it was kept: inc) while the price is in the band of the start price;
-- above it the session table's increment for the price's band. 'bands' is 'from:inc,…' fen.
local function increment_for(state, high, bids)
  local override = num(state, 'inc_override')
  if override > 0 then return override end
  local base = num(state, 'inc0')
  if base == 0 then base = num(state, 'inc') end
  local bands = state['bands'] or ''
  if bands == '' then return base end
  local start = num(state, 'start')
  local price = start
  if bids > 0 then price = high end
  local i, band, band_inc, start_band = 0, 0, base, 0
  for lo, inc in string.gmatch(bands, '(%d+):(%d+)') do
    i = i + 1
    lo = tonumber(lo)
    if lo <= price then band, band_inc = i, tonumber(inc) end
    if lo <= start then start_band = i end
  end
  if band <= start_band then return base end
  return band_inc
end

-- R5 with its caps (auction/domain/room.py extension_end): the close a bid at `at` moves an open
-- timed lot to, or 0 for none. Only a bid in the last window extends; not once the lot has had
-- max_ext extensions (-1 or absent: no cap); never past hard_end (0: none); never earlier.
local function extension_end(state, at)
  local ends_at = num(state, 'ends_at')
  if ends_at - at > num(state, 'window_ms') then return 0 end
  local cap = tonumber(state['max_ext'] or '-1') or -1
  if cap >= 0 and num(state, 'extensions') >= cap then return 0 end
  local new_end = at + num(state, 'ext_ms')
  local hard = num(state, 'hard_end')
  if hard > 0 and new_end > hard then new_end = hard end
  if new_end <= ends_at then return 0 end
  return new_end
end
