-- finalize: rule C9 of auction/domain/commands.py. A closed lot's result becomes final: it can
-- no longer be reopened (C5), and only then is it settled (auction/settlement/drainer.py). A live
-- sold or passed lot becomes final once the reopen window has passed since its close; the
-- opening of another lot of the session finalizes the session's closed lots with a window of 0.
-- No event; not idempotency-keyed (finalizing a final lot answers 'ok' again).
-- ARGV: 1 the reopen window in ms
-- Returns {'ok', seq, seq, at, 0} or {'err', code, at, due} (not_due: due = closed_at + window).
local window = tonumber(ARGV[1])
local at = now_ms()
local state = load_state()
local status = state['status']
if not status then
  return {'err', 'unknown_lot', at, 0}
end
if status ~= 'sold' and status ~= 'passed' and status ~= 'withdrawn' then
  return {'err', 'wrong_state', at, 0}
end
local seq = num(state, 'seq')
if num(state, 'final') == 1 then
  return {'ok', seq, seq, at, 0}
end
local closed_at = num(state, 'closed_at')
if state['mode'] == 'live' and status ~= 'withdrawn' and at - closed_at < window then
  return {'err', 'not_due', at, closed_at + window}
end
redis.call('HSET', STATE, 'final', '1')
return {'ok', seq, seq, at, 0}
