-- Give back a camera this job reserved but will not serve (the job is ending), with
-- its place in the queue: its score when it was reserved (reserved_since).
-- KEYS: 1 camera:{cam}  2 leases  3 ready  4 wake
-- ARGV: 1 camera id  2 job id
-- Returns 1 if released, 0 if the reservation was no longer this job's.
local wrong = expect('is21_release', {KEYS[1], 'hash', KEYS[2], 'zset', KEYS[3], 'zset',
  KEYS[4], 'list'})
if wrong then return wrong end
if redis.call('HGET', KEYS[1], 'reserved') ~= ARGV[2] then return 0 end
local since = tonumber(redis.call('HGET', KEYS[1], 'reserved_since')) or now_ms()
redis.call('HDEL', KEYS[1], 'holder', 'reserved', 'reserved_since')
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('ZADD', KEYS[3], 'NX', since, ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[4], ARGV[1])
  redis.call('LTRIM', KEYS[4], 0, 63)
end
return 1
