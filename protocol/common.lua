-- Shared by every function of the library (functions.library_source puts it first).
--
-- An error reply means nothing changed: each function checks the keys it touches, and
-- the values it will count on, before its first write. A key of the wrong type (a
-- foreign client's or an operator's mistake) is named in the reply; what the reply
-- quotes of a client's input is capped, so a 100 KB key does not come back whole.

-- Every key of the fleet starts with this (schemas/keys.py PREFIX; one convention,
-- checked by tests/unit/test_lua_keys.py): a function that derives a key from a camera id
-- builds it as PREFIX .. name, and no other file names the prefix.
local PREFIX = 'is21:'

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function quoted(value)
  local text = tostring(value)
  if #text > 80 then return string.sub(text, 1, 80) .. '... (' .. #text .. ' bytes)' end
  return text
end

-- nil if every key is absent or of the type paired with it, else the error reply that
-- names the first that is not: expect('is21_x', {key1, 'hash', key2, 'zset', ...}).
local function expect(fname, pairs)
  for i = 1, #pairs, 2 do
    local kind = redis.call('TYPE', pairs[i])['ok']
    if kind ~= 'none' and kind ~= pairs[i + 1] then
      return redis.error_reply('ERR ' .. fname .. ': ' .. quoted(pairs[i]) .. ' is a ' ..
        kind .. ', not a ' .. pairs[i + 1] .. ' (a fleet key written by something else)')
    end
  end
  return nil
end

-- A camera the fleet cannot serve because one of its keys is broken is set aside, not
-- an error: the reason goes to is21:camera_problems (camera -> 'ms reason'), which
-- /healthz and is21 status show, until the camera's next result is stored.
local function set_aside(cam, reason)
  redis.call('HSET', PREFIX .. 'camera_problems', cam, now_ms() .. ' ' .. reason)
end

-- A camera's own key (PREFIX .. name .. cam) if it holds the type given (or nothing),
-- else nil with the camera set aside: a broken key stops that camera, not the fleet.
local function camera_key(cam, name, kind)
  local key = PREFIX .. name .. cam
  local found = redis.call('TYPE', key)['ok']
  if found == 'none' or found == kind then return key end
  set_aside(cam, key .. ' is a ' .. found .. ', not a ' .. kind)
  return nil
end

local function camera_hash(cam) return camera_key(cam, 'camera:', 'hash') end

-- XADD to a stream that may be refused (wrong type, last possible id): the new id, or
-- nil and why. Nothing is written when it is refused.
local function try_xadd(key, ...)
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'none' and kind ~= 'stream' then
    return nil, key .. ' is a ' .. kind .. ', not a stream'
  end
  local id = redis.pcall('XADD', key, ...)
  if type(id) == 'table' and id.err then return nil, key .. ': ' .. id.err end
  return id, nil
end

-- A camera's incident messages (workers/incidents), written by is21_publish with the
-- frame's result and by is21_sweep for a camera gone silent: XADD each to the incidents
-- stream, keep the open ones' records, count them on the camera's hash. From args[at]:
-- n, then n times type, id, kind, data (msgpack), record (msgpack; '' for an end).
-- Returns the index after them.
local function send_incidents(cam, ckey, stream, open, args, at, maxlen, protocol)
  local n = tonumber(args[at]) or 0
  for i = 0, n - 1 do
    local b = at + 1 + i * 5
    local what, id, kind = args[b], args[b + 1], args[b + 2]
    local _, refused = try_xadd(stream, 'MAXLEN', '~', maxlen, '*', 'type', what, 'id', id,
      'camera_id', cam, 'kind', kind, 'protocol', protocol, 'data', args[b + 3])
    if refused then set_aside(cam, refused) end
    if what == 'end' then
      redis.call('HDEL', open, id)
      redis.call('HINCRBY', ckey, 'incidents_ended:' .. kind, 1)
    else
      redis.call('HSET', open, id, args[b + 4])
      if what == 'new' then redis.call('HINCRBY', ckey, 'incidents_started:' .. kind, 1) end
    end
  end
  return at + 1 + n * 5
end

-- When the sweep is to end the camera's open incidents if no frame comes ('' when none
-- is open): a sorted set, so that the sweep finds the cameras due without SCAN.
local function set_due(due, cam, ms)
  if ms == '' then redis.call('ZREM', due, cam) else redis.call('ZADD', due, ms, cam) end
end

-- The camera's tracking state: a broken key stops its incidents, not its results.
local function tracks_key(cam) return camera_key(cam, 'tracks:', 'string') end
-- The camera's change-gate reference: a broken key makes the detectors run every frame.
local function gate_key(cam) return camera_key(cam, 'gate:', 'string') end
