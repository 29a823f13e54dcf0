-- Claim the camera served longest ago and name its newest frame, atomically.
-- Older unserved frames of that camera are counted as skipped; a newest frame older
-- than the age limit is counted as expired. Cameras whose holder's lease ran out (a
-- killed worker) are made ready again first.
--
-- Reservation ("the next camera in hand"): with ARGV[7] = '1', after a claim the script
-- also takes the next ready camera off the queue for this job, without choosing its
-- frame. The job passes it back (ARGV[6]) with its next claim, which then picks that
-- camera's newest frame at that moment; knowing the camera one round trip early lets the
-- worker fetch the JPEG in the same round trip as the claim. A reservation is a lease
-- like a claim, but a short one (ARGV[8], two of the holder's recent frame times): a
-- holder that stalls past it loses the camera, with its place in the queue, to whichever
-- worker claims next, instead of keeping it waiting while the other workers go on.
--
-- KEYS: 1 ready  2 leases  3 jobs  4 workers  5 schema
-- ARGV: 1 unused (was the key prefix: common.lua's PREFIX now)  2 job id  3 camera lease ms  4 job lease ms  5 max frame age ms
--       6 camera reserved by this job ('' for none)  7 reserve the next camera ('1'/'0')
--       8 reservation lease ms ('' for the camera lease)  9 protocol version
-- Returns false (nothing ready), 'retire' (this job's lease was lost and enough other
-- jobs are live), or {camera, frame id, seq, skipped, queue ms, schema version,
-- reserved camera or '', the camera's tracking state or '', its gate reference or ''}; the worker then reads the frame itself with XRANGE, so the JPEG
-- never passes through Lua. A camera whose hash is of the wrong type is set aside
-- (is21:camera_problems), not served, and not an error: the other cameras are.
local wrong = expect('is21_claim', {KEYS[1], 'zset', KEYS[2], 'zset', KEYS[3], 'zset',
  KEYS[4], 'zset', KEYS[5], 'hash'})
if wrong then return wrong end
local now = now_ms()
local job = ARGV[2]  -- ARGV[1]: the key prefix once; unused (common.lua PREFIX)
local lease_ms = tonumber(ARGV[3])

if not redis.call('ZSCORE', KEYS[3], job) then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  local target = redis.call('ZCOUNT', KEYS[4], now, '+inf')
  if redis.call('ZCARD', KEYS[3]) >= target then return 'retire' end
end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), job)

for _, cam in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('ZREM', KEYS[2], cam)
  local ckey = camera_hash(cam)
  if ckey then
    redis.call('HDEL', ckey, 'holder')
    local since = redis.call('HGET', ckey, 'served_at') or now
    local reserved_since = redis.call('HGET', ckey, 'reserved_since')
    if reserved_since then
      -- A reservation: no frame was in hand, the camera just gets its place back.
      since = reserved_since
      redis.call('HDEL', ckey, 'reserved', 'reserved_since')
    else
      -- The holder died with the frame at claimed_seq in hand. Serve that frame again
      -- once (it is still the newest unless newer ones arrived, which then supersede it);
      -- a frame that was in hand for two lost leases gets an error result, not a third.
      redis.call('HINCRBY', ckey, 'leases_expired', 1)
      local lost = tonumber(redis.call('HGET', ckey, 'claimed_seq')) or 0
      local lost_id = redis.call('HGET', ckey, 'claimed_id')
      if lost_id and redis.call('HGET', ckey, 'lost_id') == lost_id then
        redis.call('HINCRBY', ckey, 'failed', 1)
        redis.call('HSET', ckey, 'published_seq', lost)
        local err = 'frame lost twice: the workers holding it stopped before publishing'
        local _, refused = try_xadd(PREFIX .. 'results:' .. cam, '*', 'frame_id', lost_id,
          'seq', lost, 'status', 'error', 'primary_event', 'no_event', 'protocol', ARGV[9],
          'data', cmsgpack.pack({camera_id = cam, frame_id = lost_id, seq = lost,
          status = 'error', error = err, protocol = tonumber(ARGV[9])}))
        if refused then set_aside(cam, refused) end
      elseif lost_id then
        redis.call('HSET', ckey, 'lost_id', lost_id, 'claimed_seq', lost - 1)
      end
    end
    redis.call('ZADD', KEYS[1], 'NX', tonumber(since) or now, cam)
  end
end

-- The camera's newest frame, if it has one not yet served: {id, seq, skipped} or nil.
local function newest(ckey)
  local state = redis.call('HMGET', ckey, 'last_id', 'last_seq', 'claimed_seq')
  local id, seq, last = state[1], tonumber(state[2]), tonumber(state[3] or '0')
  if id and seq and seq > last then return {id, seq, seq - last - 1} end
  return nil
end

-- Take the camera's newest frame into this job's hand; nil if it is too old to serve.
local function take(cam)
  local ckey = camera_hash(cam)
  if not ckey then return nil end
  redis.call('HDEL', ckey, 'pending_since')  -- the frames waiting are taken or superseded
  local frame = newest(ckey)
  if not frame then return nil end
  local id, seq, skipped = frame[1], frame[2], frame[3]
  redis.call('HSET', ckey, 'claimed_seq', seq, 'claimed_id', id)
  if skipped > 0 then redis.call('HINCRBY', ckey, 'skipped', skipped) end
  -- Never negative: register refuses ids ahead of the clock, but a clock step back is
  -- within its slack.
  local age = math.max(now - tonumber(string.match(id, '^(%d+)')), 0)
  if age > tonumber(ARGV[5]) then
    redis.call('HINCRBY', ckey, 'expired', 1)
    return nil
  end
  redis.call('ZADD', KEYS[2], now + lease_ms, cam)
  redis.call('HSET', ckey, 'holder', job, 'served_at', now)
  return {cam, id, seq, skipped, age}
end

local claimed = nil
local reserved = ARGV[6]
if reserved ~= '' then
  local ckey = camera_hash(reserved)
  if ckey and redis.call('HGET', ckey, 'reserved') == job then
    -- Frames that arrived meanwhile are covered: this claim takes the newest.
    redis.call('HDEL', ckey, 'reserved', 'reserved_since')
    claimed = take(reserved)
    if not claimed then
      redis.call('ZREM', KEYS[2], reserved)
      redis.call('HDEL', ckey, 'holder')
    end
  end
end

while not claimed do
  local popped = redis.call('ZPOPMIN', KEYS[1])
  if #popped == 0 then return false end
  claimed = take(popped[1])
end

local next_cam = ''
if ARGV[7] == '1' then
  while true do
    local popped = redis.call('ZPOPMIN', KEYS[1], 1)
    if #popped == 0 then break end
    local ckey = camera_hash(popped[1])
    if ckey and newest(ckey) then
      next_cam = popped[1]
      redis.call('ZADD', KEYS[2], now + (tonumber(ARGV[8]) or lease_ms), next_cam)
      redis.call('HSET', ckey, 'holder', job, 'reserved', job, 'reserved_since', popped[2])
      break
    end
  end
end

local version = redis.call('HGET', KEYS[5], 'version') or ''
claimed[6] = version
claimed[7] = next_cam
-- The camera's tracks and open incidents, read under the claim: they move with the camera.
local tkey = tracks_key(claimed[1])
claimed[8] = tkey and redis.call('GET', tkey) or ''
-- Its change-gate reference (workers/gate), for the same reason.
local gkey = gate_key(claimed[1])
claimed[9] = gkey and redis.call('GET', gkey) or ''
return claimed
