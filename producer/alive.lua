-- How many workers have a fresh heartbeat, by the server's clock.
-- KEYS: 1 workers
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], now, '+inf')
