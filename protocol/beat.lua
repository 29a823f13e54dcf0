-- Refresh a worker's heartbeat: its status key, its entry in the live-worker set, and
-- its entry in the set of workers that can answer (a live worker stuck in a detection,
-- a hung runtime or NPU driver, is alive but cannot: is21_alive does not count it, so
-- clients fall back to no_event as when no worker lives). Both sets are scored with the
-- server's clock so that every host agrees on who is alive.
-- It also keeps is21:protocol, what clients read to know the protocol version and the
-- fleet's limits, present for as long as any worker lives, and records the worker in
-- is21:workers:seen (the workers the fleet expects; a missing one is named in /healthz).
-- KEYS: 1 heartbeat:{worker}  2 workers  3 protocol  4 answering
-- ARGV: 1 worker name  2 status JSON  3 ttl ms  4 stuck ('1'/'0')
--       5.. field, value pairs of is21:protocol
local seen = PREFIX .. 'workers:seen'
local wrong = expect('is21_beat', {KEYS[1], 'string', KEYS[2], 'zset', KEYS[3], 'hash',
  KEYS[4], 'zset', seen, 'zset'})
if wrong then return wrong end
local now = now_ms()
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if ARGV[4] == '1' then
  redis.call('ZREM', KEYS[4], ARGV[1])
else
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
redis.call('ZADD', seen, now, ARGV[1])
if #ARGV > 4 then redis.call('HSET', KEYS[3], unpack(ARGV, 5)) end
return now
