-- Publish one frame's result and release its camera, atomically.
-- A result older than one already published for the camera (its claim had expired and
-- another worker served a newer frame) is counted as skipped, so each camera's results
-- stay in frame order and every frame still ends in exactly one count.
-- KEYS: 1 camera:{cam}  2 results:{cam}  3 events  4 leases  5 ready  6 wake
-- ARGV: 1 camera id  2 job id  3 seq  4 status  5 primary_event  6 data  7 is event (0/1)
--       8 events maxlen
-- Returns 1 if published, 0 if superseded.
local seq = tonumber(ARGV[3])
local published = 0
if seq > tonumber(redis.call('HGET', KEYS[1], 'published_seq') or '0') then
  local rid = redis.call('XADD', KEYS[2], '*', 'seq', seq, 'status', ARGV[4],
                         'primary_event', ARGV[5], 'data', ARGV[6])
  if ARGV[7] == '1' then
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'camera_id', ARGV[1],
               'result_id', rid, 'primary_event', ARGV[5], 'data', ARGV[6])
  end
  redis.call('HSET', KEYS[1], 'published_seq', seq)
  if ARGV[4] == 'ok' then
    redis.call('HINCRBY', KEYS[1], 'processed', 1)
  else
    redis.call('HINCRBY', KEYS[1], 'failed', 1)
  end
  published = 1
else
  redis.call('HINCRBY', KEYS[1], 'skipped', 1)
end
if redis.call('HGET', KEYS[1], 'holder') == ARGV[2] then
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[1], 'holder')
  local pending = redis.call('HGET', KEYS[1], 'pending_since')
  if pending then
    redis.call('HDEL', KEYS[1], 'pending_since')
    if redis.call('ZADD', KEYS[5], 'NX', pending, ARGV[1]) == 1 then
      redis.call('LPUSH', KEYS[6], ARGV[1])
      redis.call('LTRIM', KEYS[6], 0, 63)
    end
  end
end
return published
