-- Refresh a worker's heartbeat: its status key and its entry in the live-worker set.
-- The set is scored with the server's clock so that every host agrees on who is alive.
-- It also keeps is21:protocol, what clients read to know the protocol version and the
-- fleet's limits, present for as long as any worker lives.
-- KEYS: 1 heartbeat:{worker}  2 workers  3 protocol
-- ARGV: 1 worker name  2 status JSON  3 ttl ms  4.. field, value pairs of is21:protocol
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if #ARGV > 3 then redis.call('HSET', KEYS[3], unpack(ARGV, 4)) end
return now
