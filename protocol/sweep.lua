-- End the incidents of a camera gone silent (workers/incidents/sweep.py), atomically:
-- a compare-and-set on the camera's tracking state, refused while a worker holds the
-- camera (its publish will write the state) or when the state changed since the sweep
-- read it (another worker's sweep, or a frame's publish), so an end is sent once.
-- KEYS: 1 tracks:{cam}  2 camera:{cam}  3 incidents  4 incidents:open  5 incidents:due
-- ARGV: 1 camera id  2 the state read  3 the state after  4 ms due ('' = none open)
--       5 incidents maxlen  6 protocol version; then the messages (send_incidents)
-- Returns 1 if applied, 0 if the camera is held or its state changed.
local wrong = expect('is21_sweep', {KEYS[1], 'string', KEYS[2], 'hash', KEYS[3], 'stream',
  KEYS[4], 'hash', KEYS[5], 'zset'})
if wrong then return wrong end
if redis.call('HEXISTS', KEYS[2], 'holder') == 1 then return 0 end
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[3])
set_due(KEYS[5], ARGV[1], ARGV[4])
send_incidents(ARGV[1], KEYS[2], KEYS[3], KEYS[4], ARGV, 7, ARGV[5], ARGV[6])
return 1
