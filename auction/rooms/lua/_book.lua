-- _book.lua: the room's secret book and the Dutch clock (auction/domain/book.py, the same text
-- and arithmetic). Prepended to every script after _common.lua.
-- An entry is 'bidder:paddle:amount:order:n:at', entries joined by ',' in ascending bidder id.
local function book_parse(text)
  local out = {}
  for b, p, a, o, n, t in string.gmatch(text or '', '(%d+):(%d+):(%d+):(%d+):(%d+):(%d+)') do
    out[#out + 1] = {bidder = tonumber(b), paddle = tonumber(p), amount = tonumber(a),
      order = tonumber(o), n = tonumber(n), at = tonumber(t)}
  end
  return out
end

local function book_text(entries)
  table.sort(entries, function(x, y) return x.bidder < y.bidder end)
  local parts = {}
  for i, e in ipairs(entries) do
    parts[i] = s(e.bidder) .. ':' .. s(e.paddle) .. ':' .. s(e.amount) .. ':' .. s(e.order)
      .. ':' .. s(e.n) .. ':' .. s(e.at)
  end
  return table.concat(parts, ',')
end

local function book_find(entries, bidder)
  for _, e in ipairs(entries) do
    if e.bidder == bidder then return e end
  end
  return nil
end

-- The secret book's journal (auction/rooms/keys.py 'book', docs/formats.md "The secret book's
-- journal"): every write of the book is appended to the lot's private book stream (KEYS[6] of
-- the scripts that write the book), id '<order>-0', with the room's seq before the call's
-- events; never published. Called before any other write of the script: the only thing that
-- could fail (an id not above the stream's last) then leaves the room untouched.
local function book_journal(entry, seq)
  redis.call('XADD', KEYS[6], s(entry.order) .. '-0', 'e', cmsgpack.pack({
    n = entry.order, seq = seq, bidder = entry.bidder, paddle = entry.paddle,
    amount = entry.amount, rev = entry.n, at = entry.at}))
end

local function book_put(entries, entry)
  local out = {}
  for _, e in ipairs(entries) do
    if e.bidder ~= entry.bidder then out[#out + 1] = e end
  end
  out[#out + 1] = entry
  return out
end

-- R9 of auction/domain/room.py (preempts): the lot's preemptive-right holders, 'bidder:order'
-- joined by ','; may bidder equal the standing high and lead?
local function preempts(state, bidder)
  local holders = {}
  for b, o in string.gmatch(state['holders'] or '', '(%d+):(%d+)') do
    holders[tonumber(b)] = tonumber(o)
  end
  local mine = holders[bidder]
  if not mine then return false end
  local theirs = holders[num(state, 'leader')]
  return theirs == nil or mine < theirs
end

-- R10 (preemptable): could some holder still equal the high (so the window holds the close)?
local function preemptable(state)
  if (state['format'] or 'english') ~= 'english' or num(state, 'bids') == 0
    or num(state, 'preempt_ms') == 0 then
    return false
  end
  for b in string.gmatch(state['holders'] or '', '(%d+):%d+') do
    if preempts(state, tonumber(b)) then return true end
  end
  return false
end

-- floor(a / b) for non-negative integers below 2^53 (a double quotient may round up)
local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end

-- D4: how long a Dutch lot runs from its opening (every drop, then the floor for one interval)
local function dutch_span(state)
  local step = num(state, 'step')
  local drops = idiv(num(state, 'start') - num(state, 'floor') + step - 1, step)
  return (drops + 1) * num(state, 'interval_ms')
end

-- D2: the price elapsed ms after the opening
local function dutch_price(state, elapsed)
  if elapsed < 0 then elapsed = 0 end
  local price = num(state, 'start') - num(state, 'step') * idiv(elapsed, num(state, 'interval_ms'))
  return math.max(num(state, 'floor'), price)
end
