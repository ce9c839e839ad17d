-- _proxy.lua: proxy bids on english lots, rules P2-P4 of auction/domain/formats.py
-- (resolve_proxies). Prepended to every script after _book.lua.
local MAX_AUTO = 100

-- record_bid of auction/domain/room.py for an automatic bid: the 'bid' event with auto, then
-- R8 and R5, on the state table in memory (resolve_proxies writes it).
local function auto_bid(state, who, amount, at)
  local seq = num(state, 'seq') + 1
  emit(seq, 'bid', at, {bidder = who.bidder, paddle = who.paddle, amount = amount,
    source = 'online', auto = true})
  local bids = num(state, 'bids') + 1
  state['high'], state['leader'], state['paddle'] = s(amount), s(who.bidder), s(who.paddle)
  state['high_seq'], state['bids'], state['warned'] = s(seq), s(bids), '0'
  local inc = num(state, 'inc')
  local new_inc = increment_for(state, amount, bids)
  if new_inc ~= inc then
    seq = seq + 1
    emit(seq, 'increment_changed', at, {inc = new_inc, by = 'table'})
    if num(state, 'inc0') == 0 then state['inc0'] = s(inc) end
    state['inc'] = s(new_inc)
  end
  -- R5 exactly as a manual bid (bid.lua): capped, never past the hard end (_common.lua)
  local new_end = 0
  if state['mode'] == 'timed' and at < num(state, 'ends_at') then
    new_end = extension_end(state, at)
  end
  if new_end > 0 then
    seq = seq + 1
    emit(seq, 'extended', at, {ends_at = new_end})
    state['ends_at'] = s(new_end)
    state['extensions'] = s(num(state, 'extensions') + 1)
  end
  state['seq'] = s(seq)
end

-- P2-P4: the automatic bids the proxies make against the standing high. 'state' is the room as
-- written so far; 'eligible_key' the lot's eligibility hash. Writes what changed.
local function resolve_proxies(state, at, eligible_key)
  local entries = book_parse(state['book'])
  local placed = false
  local function eligible(bidder)
    return redis.call('HEXISTS', eligible_key, s(bidder)) == 1
  end
  for _ = 1, MAX_AUTO do
    local leader = num(state, 'leader')
    local inc = num(state, 'inc')
    local minimum = num(state, 'start')
    if num(state, 'bids') > 0 then minimum = num(state, 'high') + inc end
    local best = nil
    for _, e in ipairs(entries) do
      if e.bidder ~= leader and e.amount >= minimum and eligible(e.bidder) then
        if not best or e.amount > best.amount
          or (e.amount == best.amount and e.order < best.order) then
          best = e
        end
      end
    end
    if not best then break end
    local holder = nil
    if leader ~= 0 then holder = book_find(entries, leader) end
    if holder and not eligible(holder.bidder) then holder = nil end
    local who, amount
    if holder and (holder.amount > best.amount
      or (holder.amount == best.amount and holder.order < best.order)) then
      who, amount = holder, math.min(holder.amount, best.amount + inc)
    elseif holder and holder.amount >= minimum then
      who, amount = best, math.min(best.amount, holder.amount + inc)
    else
      who, amount = best, minimum
    end
    auto_bid(state, who, amount, at)
    placed = true
  end
  if placed then
    redis.call('HSET', STATE, 'high', state['high'], 'leader', state['leader'],
      'paddle', state['paddle'], 'high_seq', state['high_seq'], 'bids', state['bids'],
      'warned', state['warned'], 'inc', state['inc'], 'inc0', s(num(state, 'inc0')),
      'ends_at', s(num(state, 'ends_at')), 'extensions', s(num(state, 'extensions')),
      'seq', state['seq'])
  end
end
