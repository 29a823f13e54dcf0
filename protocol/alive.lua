-- is21_alive: how many workers can answer now: a fresh heartbeat (by the server's clock)
-- and not stuck in a detection. The liveness check clients run before submitting: 0
-- means treat the frame as no_event. Read-only: FCALL_RO is21_alive 0 (also on a replica).
local answering = PREFIX .. 'answering'
local wrong = expect('is21_alive', {answering, 'zset'})
if wrong then return wrong end
return redis.call('ZCOUNT', answering, now_ms(), '+inf')
