-- Claim the camera that has waited longest and name its newest frame, atomically.
-- Older unserved frames of that camera are counted as skipped; a newest frame older
-- than the age limit is counted as expired. Cameras whose holder's lease ran out (a
-- killed worker) are made ready again first.
-- KEYS: 1 ready  2 leases  3 jobs  4 workers  5 schema
-- ARGV: 1 key prefix  2 job id  3 camera lease ms  4 job lease ms  5 max frame age ms
-- Returns false (nothing ready), 'retire' (this job's lease was lost and enough other
-- jobs are live), or {camera, frame id, seq, skipped, queue ms, schema version}; the
-- worker then reads the frame itself with XRANGE, so the JPEG never passes through Lua.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix, job = ARGV[1], ARGV[2]

if not redis.call('ZSCORE', KEYS[3], job) then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  local target = redis.call('ZCOUNT', KEYS[4], now, '+inf')
  if redis.call('ZCARD', KEYS[3]) >= target then return 'retire' end
end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), job)

for _, cam in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  -- The holder died with the frame at claimed_seq in hand. Serve that frame again once
  -- (it is still the newest unless newer ones arrived, which then supersede it); a frame
  -- that was in hand for two lost leases gets an error result instead of a third try.
  local ckey = prefix .. 'camera:' .. cam
  redis.call('ZREM', KEYS[2], cam)
  redis.call('HDEL', ckey, 'holder')
  redis.call('HINCRBY', ckey, 'leases_expired', 1)
  local lost = tonumber(redis.call('HGET', ckey, 'claimed_seq'))
  local lost_id = redis.call('HGET', ckey, 'claimed_id')
  if redis.call('HGET', ckey, 'lost_id') == lost_id then
    redis.call('HINCRBY', ckey, 'failed', 1)
    redis.call('HSET', ckey, 'published_seq', lost)
    local err = 'frame lost twice: the workers holding it stopped before publishing'
    redis.call('XADD', prefix .. 'results:' .. cam, '*', 'seq', lost, 'status', 'error',
               'primary_event', 'no_event', 'data', cmsgpack.pack({camera_id = cam,
               frame_id = lost_id, seq = lost, status = 'error', error = err}))
  else
    redis.call('HSET', ckey, 'lost_id', lost_id, 'claimed_seq', lost - 1)
  end
  local since = redis.call('HGET', ckey, 'pending_since') or now
  redis.call('HDEL', ckey, 'pending_since')
  redis.call('ZADD', KEYS[1], 'NX', since, cam)
end

while true do
  local popped = redis.call('ZPOPMIN', KEYS[1])
  if #popped == 0 then return false end
  local cam = popped[1]
  local ckey = prefix .. 'camera:' .. cam
  local state = redis.call('HMGET', ckey, 'last_id', 'last_seq', 'claimed_seq')
  local id, seq, last = state[1], tonumber(state[2]), tonumber(state[3] or '0')
  if id and seq and seq > last then
    local skipped = seq - last - 1
    redis.call('HSET', ckey, 'claimed_seq', seq, 'claimed_id', id)
    if skipped > 0 then redis.call('HINCRBY', ckey, 'skipped', skipped) end
    local age = now - tonumber(string.match(id, '^(%d+)'))
    if age > tonumber(ARGV[5]) then
      redis.call('HINCRBY', ckey, 'expired', 1)
    else
      redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), cam)
      redis.call('HSET', ckey, 'holder', job)
      local version = redis.call('HGET', KEYS[5], 'version') or ''
      return {cam, id, seq, skipped, age, version}
    end
  end
end
