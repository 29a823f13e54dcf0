-- Register a frame the producer has just XADDed, and make its camera ready, atomically.
-- The JPEG itself never enters Lua (a 200 KB string costs Redis ~0.3 ms per crossing);
-- the camera hash keeps the id and sequence number of the newest registered frame.
-- Two producers racing on one camera may register out of order: a frame whose id is
-- older than the newest registered one is superseded on arrival and counted as skipped.
-- The ready set is ordered by when each camera was last served (never served: when its
-- frame arrived), so the camera served longest ago goes first: a camera that sends a
-- frame a second is served at once among cameras that always have one waiting, and one
-- served by a slower worker does not lose its turn to those served by a faster one.
-- pending_since (the arrival of the oldest frame not yet taken) is the camera's lag.
-- KEYS: 1 camera:{cam}  2 ready  3 leases  4 wake  5 cameras  6 results:{cam}
-- ARGV: 1 camera_id  2 frame id (from XADD)
-- Returns {seq, last results id}: the caller waits for results after that id.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local seq = redis.call('HINCRBY', KEYS[1], 'submitted', 1)
redis.call('SADD', KEYS[5], ARGV[1])
local last_id = redis.call('HGET', KEYS[1], 'last_id')
if last_id and older(ARGV[2], last_id) then
  redis.call('HINCRBY', KEYS[1], 'skipped', 1)
else
  redis.call('HSET', KEYS[1], 'last_id', ARGV[2], 'last_seq', seq)
  redis.call('HSETNX', KEYS[1], 'pending_since', now)
  -- A camera a worker holds is re-queued by that worker when it releases it.
  if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then
    local turn = redis.call('HGET', KEYS[1], 'served_at') or now
    if redis.call('ZADD', KEYS[2], 'NX', turn, ARGV[1]) == 1 then
      redis.call('LPUSH', KEYS[4], ARGV[1])
      redis.call('LTRIM', KEYS[4], 0, 63)
    end
  end
end
local last = redis.call('XREVRANGE', KEYS[6], '+', '-', 'COUNT', 1)
local after = '0-0'
if #last > 0 then after = last[1][1] end
return {seq, after}
