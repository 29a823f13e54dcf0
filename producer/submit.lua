-- Store one frame and make its camera ready, atomically.
-- KEYS: 1 frames:{cam}  2 camera:{cam}  3 ready  4 leases  5 wake  6 cameras  7 results:{cam}
-- ARGV: 1 camera_id  2 meta (msgpack)  3 jpeg  4 frame maxlen
-- Returns {frame_id, seq, last results id}: the caller waits for results after that id.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = redis.call('HINCRBY', KEYS[2], 'submitted', 1)
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[4], '*',
                      'seq', seq, 'meta', ARGV[2], 'jpeg', ARGV[3])
redis.call('SADD', KEYS[6], ARGV[1])
if redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  -- A worker holds the camera: it re-queues the camera when it releases it.
  redis.call('HSETNX', KEYS[2], 'pending_since', now)
elseif redis.call('ZADD', KEYS[3], 'NX', now, ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[5], ARGV[1])
  redis.call('LTRIM', KEYS[5], 0, 63)
end
local last = redis.call('XREVRANGE', KEYS[7], '+', '-', 'COUNT', 1)
local after = '0-0'
if #last > 0 then after = last[1][1] end
return {id, seq, after}
