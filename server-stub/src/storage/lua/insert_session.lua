-- Adds a session unless its id or room is taken or the cap is reached (consult-stub).
-- KEYS: 1 the session's hash, 2 its room's key, 3 the set of session ids.
-- ARGV: 1 id, 2 json, 3 etag, 4 participants (space-separated), 5 room, 6 version, 7 cap.
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[7]) then return 'full' end
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'room' end
redis.call('HSET', KEYS[1], 'json', ARGV[2], 'etag', ARGV[3], 'parts', ARGV[4], 'room', ARGV[5],
  'version', ARGV[6])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 'ok'
