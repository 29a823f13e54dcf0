-- Refresh a worker's heartbeat: its status key and its entry in the live-worker set.
-- The set is scored with the server's clock so that every host agrees on who is alive.
-- KEYS: 1 heartbeat:{worker}  2 workers
-- ARGV: 1 worker name  2 status JSON  3 ttl ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return now
