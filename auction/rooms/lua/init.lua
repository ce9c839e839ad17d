-- init: create the room of a lot if it does not exist yet. Never overwrites a live room.
-- ARGV: 1 mode (live|timed), 2 start fen, 3 increment fen, 4 reserve fen, 5 window ms,
--       6 extension ms, 7 duration ms, 8 epoch, 9 session id, 10 deposit requirement fen,
--       11 the session's increment table ('from:inc,…' fen, '' for none: auction/domain/increments.py)
--       12 format (english|sealed|dutch, '' = english), 13 revisions (sealed), 14 step fen,
--       15 interval ms, 16 floor fen (dutch), 17 free phase ms, 18 round ms (rounds),
--       19 the preemption window ms (R10):
--       auction/domain/formats.py
-- Returns 1 when created, 0 when the room already existed.
if redis.call('EXISTS', STATE) == 1 then
  return 0
end
redis.call('HSET', STATE,
  'mode', ARGV[1], 'start', ARGV[2], 'inc', ARGV[3], 'reserve', ARGV[4],
  'window_ms', ARGV[5], 'ext_ms', ARGV[6], 'duration_ms', ARGV[7],
  'epoch', ARGV[8], 'session', ARGV[9], 'deposit', ARGV[10],
  'bands', ARGV[11] or '', 'inc0', ARGV[3], 'inc_override', '0', 'final', '0',
  'status', 'scheduled', 'seq', '0', 'high', '0', 'leader', '0', 'paddle', '0',
  'high_seq', '0', 'bids', '0', 'ends_at', '0', 'extensions', '0',
  'opened_at', '0', 'closed_at', '0', 'warned', '0', 'paused_at', '0')
local format = ARGV[12] or ''
if format == '' then format = 'english' end
redis.call('HSET', STATE, 'format', format, 'revisions', ARGV[13] or '0', 'quotes', '0',
  'step', ARGV[14] or '0', 'interval_ms', ARGV[15] or '0', 'floor', ARGV[16] or '0',
  'book', '', 'book_n', '0', 'proxies', '0', 'free_ms', ARGV[17] or '0',
  'round_ms', ARGV[18] or '0', 'round', '0', 'holders', '', 'preempt_ms', ARGV[19] or '0')
return 1
