-- is21_register: register every frame XADDed to a camera's stream since the last call,
-- and make the camera ready, atomically. Called by clients, right after their XADD, in
-- the same round trip: FCALL is21_register 1 is21:frames:{camera_id}.
--
-- The JPEG never enters Lua (a 200 KB string crossing costs Redis ~0.3 ms), so the newest
-- entry's id is learnt from the stream's own bookkeeping: the consumer group 'registered'
-- marks the newest registered frame (XGROUP SETID ... $), and its lag counts the frames
-- added since. A call with nothing new (a retry, or a racing producer whose frame the
-- other's call already registered) changes nothing. Older unserved frames of the camera
-- are superseded: the claim takes the newest and counts the others as skipped.
-- The ready set is ordered by when each camera was last served (never served: when its
-- frame arrived), so the camera served longest ago goes first. pending_since (the arrival
-- of the oldest frame not yet taken) is the camera's lag.
-- KEYS: 1 is21:frames:{camera_id}
-- Returns {seq, last results id}: the newest registered frame's sequence number, and the
-- id after which a client reads is21:results:{camera_id} for its frame's result.
-- Errors: 'ERR is21_register: ...' naming what is wrong; nothing is changed then.
local frames = KEYS[1]
local cam = string.match(frames or '', '^' .. PREFIX .. 'frames:(.*)$')
if not cam or #cam < 1 or #cam > 64 or string.find(cam, '[^%w_.%-]') then
  return redis.error_reply('ERR is21_register: the key must be ' .. PREFIX .. 'frames:{camera_id} ' ..
    'with a camera id of 1-64 characters from [A-Za-z0-9_.-], not ' .. quoted(frames))
end
if redis.call('EXISTS', frames) == 0 then
  return redis.error_reply('ERR is21_register: ' .. frames .. ' holds no frame: XADD it first')
end
local ckey = PREFIX .. 'camera:' .. cam
local results = PREFIX .. 'results:' .. cam
local wrong = expect('is21_register', {frames, 'stream', ckey, 'hash', PREFIX .. 'cameras', 'set',
  PREFIX .. 'leases', 'zset', PREFIX .. 'ready', 'zset', PREFIX .. 'wake', 'list',
  PREFIX .. 'protocol', 'hash', results, 'stream'})
if wrong then return wrong end
local state = redis.call('HMGET', ckey, 'submitted', 'last_seq', 'served_at')
for i, name in ipairs({'submitted', 'last_seq', 'served_at'}) do
  if state[i] and not tonumber(state[i]) then
    return redis.error_reply('ERR is21_register: ' .. ckey .. ' has a ' .. name .. ' that ' ..
      'is not a number (a fleet key written by something else)')
  end
end
local seq = tonumber(state[2] or '0')
local maxlen = tonumber(redis.call('HGET', PREFIX .. 'protocol', 'frame_maxlen') or '') or 30

-- An id ahead of Redis's clock (an XADD with an explicit id, not '*') would make every
-- duration measured from it negative, and every later '*' id of the stream follow it.
-- A second of slack covers ids Redis itself keeps monotonic across a clock step back.
local now = now_ms()
local ahead = redis.call('XRANGE', frames, tostring(now + 1000), '+', 'COUNT', 1)
if #ahead > 0 then
  return redis.error_reply('ERR is21_register: frame ' .. ahead[1][1] .. ' of ' .. frames ..
    ' is ahead of Redis\'s clock (' .. now .. '-0): XADD frames with * as their id; ' ..
    'DEL the stream to reset its ids')
end

-- How many frames arrived since the last registration, and the newest one's id.
local function marker()
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', frames)) do
    local info = {}
    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
    if info['name'] == 'registered' then return info end
  end
  return nil
end
local last = redis.call('XREVRANGE', results, '+', '-', 'COUNT', 1)
local after = '0-0'
if #last > 0 then after = last[1][1] end

-- Checked and read: from here on every call succeeds.
local before = marker()
if not before then
  redis.call('XGROUP', 'CREATE', frames, 'registered', '0-0', 'ENTRIESREAD', 0)
  before = marker()
end
redis.call('XGROUP', 'SETID', frames, 'registered', '$')
local newest = marker()['last-delivered-id']
local added = tonumber(before['lag'])
if not added then
  -- Unknown after a trim by age: one frame if anything newer than the last registered.
  added = (newest ~= before['last-delivered-id']) and 1 or 0
end

if added > 0 then
  seq = redis.call('HINCRBY', ckey, 'submitted', added)
  redis.call('SADD', PREFIX .. 'cameras', cam)
  redis.call('HSET', ckey, 'last_id', newest, 'last_seq', seq)
  redis.call('HSETNX', ckey, 'pending_since', now)
  -- A camera a worker holds is re-queued by that worker when it releases it.
  if not redis.call('ZSCORE', PREFIX .. 'leases', cam) then
    local turn = state[3] or now
    if redis.call('ZADD', PREFIX .. 'ready', 'NX', turn, cam) == 1 then
      redis.call('LPUSH', PREFIX .. 'wake', cam)
      redis.call('LTRIM', PREFIX .. 'wake', 0, 63)
    end
  end
  -- The cap holds whatever the client asked its XADD to keep.
  redis.call('XTRIM', frames, 'MAXLEN', maxlen)
end
return {seq, after}
