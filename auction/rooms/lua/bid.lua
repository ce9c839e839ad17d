-- bid: a batch of bids on one open lot, in the order the server received them (one lane of
-- auction/rooms/lanes.py: one script call per round trip, not one per bid). Each bid is checked
-- against rules R0-R5 and R8 of auction/domain/room.py, in the same order, then written; the
-- proxies answer it (P2-P4); on a sealed lot it is a quote (S1-S3, auction/domain/formats.py).
-- Read and validate everything before the first write: Lua never rolls back.
-- KEYS: 1-4 as in _common.lua, 5 the lot's eligibility hash (bidder id -> '1'), 6 the book.
-- ARGV: 1 a msgpack array of bids, each an array of five strings: bidder id, paddle, amount
--       fen (decimal digits), idempotency field ('' for none), source ('online', or 'floor' /
--       'phone' for a bid the auctioneer enters: C7; '' is 'online').
-- Returns one reply per bid, in order: {'ok', bid_seq, last_seq, at, ends_at} or
-- {'err', code, at, minimum} ('minimum' is the deposit requirement for deposit_required).
local ELIGIBLE = KEYS[5]

local function place_bid(bidder_text, paddle_text, amount_text, idem_field, source)
  local bidder = tonumber(bidder_text)
  local paddle = tonumber(paddle_text)
  if source == nil or source == '' then source = 'online' end
  local fingerprint = 'bid:' .. amount_text
  if source ~= 'online' then
    -- the auctioneer's key covers the paddle and the source too
    fingerprint = fingerprint .. ':' .. paddle_text .. ':' .. source
  end

  local replay = idem_lookup(idem_field, fingerprint)
  if replay then return replay end

  local at = now_ms()
  local function refuse(code, minimum)
    return idem_store(idem_field, fingerprint, {'err', code, at, minimum or 0})
  end

  local amount = fen_amount(amount_text)
  if not amount then return refuse('bad_amount') end

  local state = load_state()
  local status = state['status']
  if not status then
    return {'err', 'unknown_lot', at, 0}
  end
  -- R0: only a bidder eligible for this lot (pushed from PostgreSQL when deposits or registrations
  -- change). Like unknown_lot it is not stored under the idempotency key: once the deposit is
  -- confirmed, the same key may be sent again.
  if redis.call('HEXISTS', ELIGIBLE, bidder_text) == 0 then
    return {'err', 'deposit_required', at, num(state, 'deposit')}
  end
  -- L1: a listing takes no bid during its period (auction/domain/formats.py)
  if status == 'scheduled' and state['format'] == 'listing' then
    return refuse('listing_period')
  end
  -- R1
  if status == 'scheduled' then return refuse('lot_not_open') end
  if status ~= 'open' then return refuse('lot_closed') end
  -- C3: a paused lot's clock is stopped, so this comes before it
  if num(state, 'paused_at') > 0 then return refuse('lot_paused') end
  local timed = state['mode'] == 'timed'
  local ends_at = num(state, 'ends_at')
  local format = state['format'] or 'english'
  -- a rounds lot's clock is its own (T2 below)
  if timed and format ~= 'rounds' and at >= ends_at then
    -- R10: a holder's equal bid within the preemption window after the clock
    local window = format == 'english' and at < ends_at + num(state, 'preempt_ms')
      and num(state, 'bids') > 0 and amount == num(state, 'high') and preempts(state, bidder)
    if not window then return refuse('lot_closed') end
  end
  -- formats (auction/domain/formats.py bid): a sealed lot takes a quote (S1-S3, _sealed.lua);
  -- a Dutch lot takes no bid (D5)
  if format == 'sealed' then
    return idem_store(idem_field, fingerprint, sealed_quote(state, bidder, paddle, amount, at))
  end
  if format ~= 'english' and format ~= 'rounds' then return refuse('wrong_format') end
  -- T2: a rounds lot whose free phase is over is in round 1 (from the free phase's end)
  local round_n, round_end = num(state, 'round'), ends_at
  if format == 'rounds' then
    if round_n == 0 and at >= round_end then
      round_n, round_end = 1, round_end + num(state, 'round_ms')
    end
    if round_n > 0 and at >= round_end then return refuse('lot_closed') end
  end
  -- R4
  if bidder == num(state, 'leader') then return refuse('already_leading') end
  local start, inc = num(state, 'start'), num(state, 'inc')
  local high, bids = num(state, 'high'), num(state, 'bids')
  local minimum = start
  if bids > 0 then minimum = high + inc end
  -- R2, R3
  if bids == 0 and amount < start then return refuse('below_start', minimum) end
  -- R9: a preemptive right's holder may equal the high (then neither R3 nor the grid applies)
  local preempt = bids > 0 and amount == high and preempts(state, bidder)
  if not preempt and bids > 0 and amount < high + inc then return refuse('too_low', minimum) end
  -- R2/R8: on the grid of the current price (the start before the first bid)
  local price = start
  if bids > 0 then price = high end
  if not preempt and (amount - price) % inc ~= 0 then return refuse('off_increment', minimum) end

  -- accepted: from here on only writes
  local seq = num(state, 'seq') + 1
  local fields = {}
  if format == 'rounds' and round_n ~= num(state, 'round') then  -- T2: round 1, started late
    emit(seq, 'round_started', at, {n = round_n, ends_at = round_end})
    fields = {'round', s(round_n), 'ends_at', s(round_end)}
    ends_at = round_end
    seq = seq + 1
  end
  local bid_seq = seq
  local bid_data = {bidder = bidder, paddle = paddle, amount = amount, source = source}
  if preempt then bid_data['preempt'] = true end
  emit(seq, 'bid', at, bid_data)
  local written = {'high', s(amount), 'leader', s(bidder), 'paddle', s(paddle),
    'high_seq', s(bid_seq), 'bids', s(bids + 1), 'warned', '0'}
  for _, v in ipairs(written) do fields[#fields + 1] = v end
  -- R8: the price may have entered another band of the increment table
  local new_inc = increment_for(state, amount, bids + 1)
  if new_inc ~= inc then
    seq = seq + 1
    emit(seq, 'increment_changed', at, {inc = new_inc, by = 'table'})
    fields[#fields + 1] = 'inc'
    fields[#fields + 1] = s(new_inc)
    -- every change records the lot's own increment first (rooms made before it was kept)
    fields[#fields + 1] = 'inc0'
    fields[#fields + 1] = s(num(state, 'inc0') > 0 and num(state, 'inc0') or inc)
  end
  -- R5: a bid in the last window moves the close to now + extension, capped (_common.lua);
  -- english lots only, never in the preemption window (R10: the clock has ended)
  local new_end = 0
  if timed and format == 'english' and at < ends_at then new_end = extension_end(state, at) end
  if new_end > 0 then
    ends_at = new_end
    seq = seq + 1
    emit(seq, 'extended', at, {ends_at = new_end})
    fields[#fields + 1] = 'ends_at'
    fields[#fields + 1] = s(new_end)
    fields[#fields + 1] = 'extensions'
    fields[#fields + 1] = s(num(state, 'extensions') + 1)
  end
  -- T3: a bid in a round starts the next one
  if format == 'rounds' and round_n > 0 then
    seq = seq + 1
    ends_at = at + num(state, 'round_ms')
    emit(seq, 'round_started', at, {n = round_n + 1, ends_at = ends_at})
    fields[#fields + 1] = 'round'
    fields[#fields + 1] = s(round_n + 1)
    fields[#fields + 1] = 'ends_at'
    fields[#fields + 1] = s(ends_at)
  end
  fields[#fields + 1] = 'seq'
  fields[#fields + 1] = s(seq)
  redis.call('HSET', STATE, unpack(fields))
  -- P2-P4: the proxies answer, in this same call (_proxy.lua)
  if (state['book'] or '') ~= '' and not (timed and at >= num(state, 'ends_at')) then  -- R10
    local after = load_state()
    resolve_proxies(after, at, ELIGIBLE)
    seq, ends_at = num(after, 'seq'), num(after, 'ends_at')
  end
  return idem_store(idem_field, fingerprint, {'ok', bid_seq, seq, at, ends_at})
end

-- The batch, in order: each bid is decided against the state the ones before it left, exactly
-- as if each were its own call. A bid whose decision raised (a bug; Redis out of memory) gets
-- that error as its reply and the rest go on; Lua does not roll back, so a bid that raised after
-- a write may have taken effect, as a failed pipelined call could before.
local replies = {}
for i, b in ipairs(cmsgpack.unpack(ARGV[1])) do
  local ok, reply = pcall(place_bid, b[1], b[2], b[3], b[4], b[5])
  if ok then
    replies[i] = reply
  else
    if type(reply) == 'table' then reply = reply['err'] or 'error' end
    replies[i] = redis.error_reply(tostring(reply))
  end
end
return replies
