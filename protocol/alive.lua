-- is21_alive: how many workers can answer now: a fresh heartbeat (by the server's clock)
-- and not stuck in a detection. The liveness check clients run before submitting: 0
-- means treat the frame as no_event. Read-only: FCALL_RO is21_alive 0 (also on a replica).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', 'is21:answering', now, '+inf')
