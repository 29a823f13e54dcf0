-- Keep as many live RQ dispatch jobs as there are live workers. With no worker alive no
-- job is queued: frames wait in the ready set and a starting worker asks for its job.
-- A job leaving (its budget spent, or its worker stopping) passes its own id so that
-- removing it and reserving its successor happen in one step: there is never a moment
-- with frames waiting and no job to serve them (the lost wake-up).
-- KEYS: 1 jobs  2 workers
-- ARGV: 1 leaving job id or ''  2 candidate job id  3 queued lease ms
-- Returns 1 when the caller must enqueue an RQ job with the candidate id.
local wrong = expect('is21_ensure_jobs', {KEYS[1], 'zset', KEYS[2], 'zset'})
if wrong then return wrong end
local now = now_ms()
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local target = redis.call('ZCOUNT', KEYS[2], now, '+inf')
if redis.call('ZCARD', KEYS[1]) < target then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  return 1
end
return 0
