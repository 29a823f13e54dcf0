-- Publish one frame's result and release its camera, atomically.
-- Only the job that still holds the camera's lease may publish: once a lease has run out,
-- the claim that recovered it already re-accounted the frame (served again or superseded),
-- so a late result from a presumed-dead worker is dropped and counted, never doubled.
-- Claims of a camera are exclusive and in frame order, hence so are its results.
-- A result Redis refuses to store (the camera's results stream is of the wrong type, or
-- at its last possible id; the events stream likewise) fails that frame alone: counted
-- as failed, the camera released as after a publish, and the reason kept in
-- is21:camera_problems until the camera's next result is stored. The job goes on.
-- With a stored result goes the camera's tracking state after the frame and its incident
-- messages (workers/incidents), and its change-gate reference when the detectors ran on
-- it (workers/gate), under the same holder check: a dead worker's state and messages are
-- dropped with its result, and the frame is served again from the old state.
-- KEYS: 1 camera:{cam}  2 results:{cam}  3 events  4 leases  5 ready  6 wake
--       7 inference histogram  8 served (when the fleet last published: its progress)
--       9 latency histogram (frame stored -> result out, every result)  10 camera_problems
--       11 incidents  12 incidents:open  13 incidents:due  14 snapshots  15 gate histogram
-- ARGV: 1 camera id  2 job id  3 seq  4 status  5 primary_event  6 data  7 is event (0/1)
--       8 events maxlen  9 histogram bucket  10 inference ms  11 results maxlen (about)
--       12 frame id  13 protocol version  14 latency bucket  15 latency ms
--       16 the gate's new reference ('' = unchanged)  17 gated: the detectors skipped
--       the frame (0/1)  18 the gate's histogram bucket ('' = it did not look)  19 its ms
--       20 tracking state ('' = unchanged: an error result)  21 ms the incidents are due
--       ('' = none open)  22 incidents maxlen  23 snapshot TTL ms  24 this frame's JPEG
--       if it is an incident's best ('')  25 n, then n incident ids it is the best of;
--       then the messages (common.lua send_incidents)
-- Returns 1 if published, 0 if dropped as stale, or why Redis refused to store it (a string).
local wrong = expect('is21_publish', {KEYS[1], 'hash', KEYS[4], 'zset', KEYS[5], 'zset',
  KEYS[6], 'list', KEYS[7], 'hash', KEYS[8], 'string', KEYS[9], 'hash', KEYS[10], 'hash',
  KEYS[11], 'stream', KEYS[12], 'hash', KEYS[13], 'zset', KEYS[14], 'zset', KEYS[15], 'hash'})
if wrong then return wrong end
-- The job must hold this very frame: a job cut off from Redis may come back and claim
-- the camera again before its retried publish of the older frame lands, which the claim
-- that recovered the camera has already counted (skipped or served again).
local held = redis.call('HMGET', KEYS[1], 'holder', 'claimed_id', 'reserved')
if held[1] ~= ARGV[2] or held[2] ~= ARGV[12] or held[3] then
  redis.call('HINCRBY', KEYS[1], 'stale_results', 1)
  return 0
end

-- Where the result goes is the one write that may be refused: tried first.
local rid, refused = try_xadd(KEYS[2], 'MAXLEN', '~', ARGV[11], '*', 'frame_id', ARGV[12],
                           'seq', ARGV[3], 'status', ARGV[4], 'primary_event', ARGV[5],
                           'protocol', ARGV[13], 'data', ARGV[6])
if rid and ARGV[7] == '1' then
  local _, event_refused = try_xadd(KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'camera_id', ARGV[1],
                                 'result_id', rid, 'frame_id', ARGV[12],
                                 'primary_event', ARGV[5], 'protocol', ARGV[13],
                                 'data', ARGV[6])
  refused = event_refused  -- the result is out; its copy as an event is not
end
local now = now_ms()
redis.call('HSET', KEYS[1], 'published_seq', ARGV[3])
redis.call('SET', KEYS[8], now)
if refused then
  redis.call('HSET', KEYS[10], ARGV[1], now .. ' ' .. refused)
else
  redis.call('HDEL', KEYS[10], ARGV[1])
end
if not rid then
  redis.call('HINCRBY', KEYS[1], 'failed', 1)
else
  redis.call('HINCRBY', KEYS[1], ARGV[4] == 'ok' and 'processed' or 'failed', 1)
  if ARGV[4] == 'ok' and ARGV[17] ~= '1' then  -- a gated frame ran no detector
    redis.call('HINCRBY', KEYS[7], ARGV[9], 1)
    redis.call('HINCRBY', KEYS[7], 'count', 1)
    redis.call('HINCRBYFLOAT', KEYS[7], 'sum', ARGV[10])
  end
  redis.call('HINCRBY', KEYS[9], ARGV[14], 1)
  redis.call('HINCRBY', KEYS[9], 'count', 1)
  redis.call('HINCRBYFLOAT', KEYS[9], 'sum', ARGV[15])
end
if rid and ARGV[18] ~= '' then
  redis.call('HINCRBY', KEYS[15], ARGV[18], 1)
  redis.call('HINCRBY', KEYS[15], 'count', 1)
  redis.call('HINCRBYFLOAT', KEYS[15], 'sum', ARGV[19])
end
if rid and ARGV[17] == '1' then redis.call('HINCRBY', KEYS[1], 'gated', 1) end
local gkey = rid and ARGV[16] ~= '' and gate_key(ARGV[1])
if gkey then redis.call('SET', gkey, ARGV[16]) end
local tkey = rid and ARGV[20] ~= '' and tracks_key(ARGV[1])
if tkey then
  redis.call('SET', tkey, ARGV[20])
  set_due(KEYS[13], ARGV[1], ARGV[21])
  local n = tonumber(ARGV[25]) or 0
  if ARGV[24] ~= '' then
    for i = 26, 25 + n do
      local snap = PREFIX .. 'snapshot:' .. ARGV[i]
      redis.call('SET', snap, ARGV[24], 'PX', ARGV[23])
      redis.call('ZADD', KEYS[14], now, snap)
    end
  end
  send_incidents(ARGV[1], KEYS[1], KEYS[11], KEYS[12], ARGV, 26 + n, ARGV[22], ARGV[13])
end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[1], 'holder')
if redis.call('HEXISTS', KEYS[1], 'pending_since') == 1 then
  -- A frame arrived while the camera was held: back in the ready set, in its turn.
  local turn = redis.call('HGET', KEYS[1], 'served_at') or
               redis.call('HGET', KEYS[1], 'pending_since')
  if redis.call('ZADD', KEYS[5], 'NX', turn, ARGV[1]) == 1 then
    redis.call('LPUSH', KEYS[6], ARGV[1])
    redis.call('LTRIM', KEYS[6], 0, 63)
  end
end
if not rid then return refused end
return 1
