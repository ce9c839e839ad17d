-- lease.lua: renew or release a lease only if it is still ours (auction/settlement/lease.py).
-- One key, so it runs on a Redis Cluster too; compare and act in one step, so a holder whose
-- lease expired never extends or deletes its successor's.
--
-- KEYS[1]  the lease key (a string holding the holder's token)
-- ARGV[1]  our token
-- ARGV[2]  milliseconds to renew it for; 0: release it
-- returns  1 when the lease was ours (renewed or released), else 0

local token = ARGV[1]
local ttl_ms = tonumber(ARGV[2])

if redis.call('GET', KEYS[1]) ~= token then
  return 0
end
if ttl_ms > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl_ms)
else
  redis.call('DEL', KEYS[1])
end
return 1
