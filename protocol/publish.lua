-- Publish one frame's result and release its camera, atomically.
-- Only the job that still holds the camera's lease may publish: once a lease has run out,
-- the claim that recovered it already re-accounted the frame (served again or superseded),
-- so a late result from a presumed-dead worker is dropped and counted, never doubled.
-- Claims of a camera are exclusive and in frame order, hence so are its results.
-- KEYS: 1 camera:{cam}  2 results:{cam}  3 events  4 leases  5 ready  6 wake
--       7 inference histogram  8 served (when the fleet last published: its progress)
--       9 latency histogram (frame stored -> result out, every result)
-- ARGV: 1 camera id  2 job id  3 seq  4 status  5 primary_event  6 data  7 is event (0/1)
--       8 events maxlen  9 histogram bucket  10 inference ms  11 results maxlen (about)
--       12 frame id  13 protocol version  14 latency bucket  15 latency ms
-- Returns 1 if published, 0 if dropped as stale.
if redis.call('HGET', KEYS[1], 'holder') ~= ARGV[2] then
  redis.call('HINCRBY', KEYS[1], 'stale_results', 1)
  return 0
end
local rid = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[11], '*', 'frame_id', ARGV[12],
                       'seq', ARGV[3], 'status', ARGV[4], 'primary_event', ARGV[5],
                       'protocol', ARGV[13], 'data', ARGV[6])
if ARGV[7] == '1' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'camera_id', ARGV[1],
             'result_id', rid, 'frame_id', ARGV[12], 'primary_event', ARGV[5],
             'protocol', ARGV[13], 'data', ARGV[6])
end
redis.call('HSET', KEYS[1], 'published_seq', ARGV[3])
redis.call('SET', KEYS[8], string.match(rid, '^(%d+)'))
redis.call('HINCRBY', KEYS[1], ARGV[4] == 'ok' and 'processed' or 'failed', 1)
if ARGV[4] == 'ok' then
  redis.call('HINCRBY', KEYS[7], ARGV[9], 1)
  redis.call('HINCRBY', KEYS[7], 'count', 1)
  redis.call('HINCRBYFLOAT', KEYS[7], 'sum', ARGV[10])
end
redis.call('HINCRBY', KEYS[9], ARGV[14], 1)
redis.call('HINCRBY', KEYS[9], 'count', 1)
redis.call('HINCRBYFLOAT', KEYS[9], 'sum', ARGV[15])
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
return 1
