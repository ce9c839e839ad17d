-- _sealed.lua: sealed quotes, rules S1-S4 of auction/domain/formats.py (sealed_quote) and
-- auction/domain/room.py (reveal). Prepended to every script after _proxy.lua.

-- S1-S3 after the bid checks: returns the script's reply ({'ok', …} or {'err', …}).
local function sealed_quote(state, bidder, paddle, amount, at)
  local start = num(state, 'start')
  if amount < start then return {'err', 'below_start', at, start} end
  local entries = book_parse(state['book'])
  local mine = book_find(entries, bidder)
  if mine and mine.n >= num(state, 'revisions') then
    return {'err', 'no_revisions_left', at, 0}
  end
  local n = 0
  if mine then n = mine.n + 1 end
  local order = num(state, 'book_n') + 1
  local entry = {bidder = bidder, paddle = paddle, amount = amount, order = order, n = n, at = at}
  book_journal(entry, num(state, 'seq'))
  entries = book_put(entries, entry)
  local count = #entries
  local seq = num(state, 'seq') + 1
  emit(seq, 'quote_received', at, {count = count})
  redis.call('HSET', STATE, 'book', book_text(entries), 'book_n', s(order),
    'quotes', s(count), 'seq', s(seq))
  return {'ok', seq, seq, at, num(state, 'ends_at')}
end

-- S4: every quote revealed as a 'bid' event, lowest first (equal: the later first), so the last
-- is the winner. Updates the state table in memory; returns the last seq (from 'seq').
local function sealed_reveal(state, at, seq)
  local entries = book_parse(state['book'])
  table.sort(entries, function(x, y)
    if x.amount ~= y.amount then return x.amount < y.amount end
    return x.order > y.order
  end)
  for _, e in ipairs(entries) do
    seq = seq + 1
    emit(seq, 'bid', at, {bidder = e.bidder, paddle = e.paddle, amount = e.amount,
      source = 'online', sealed = true, quoted_at = e.at})
    state['high'], state['leader'], state['paddle'] = s(e.amount), s(e.bidder), s(e.paddle)
    state['bids'], state['high_seq'] = s(num(state, 'bids') + 1), s(seq)
  end
  return seq
end
