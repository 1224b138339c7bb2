-- Replaces a session's version if nobody changed it meanwhile (consult-stub).
-- KEYS[1] the session's hash. ARGV: 1 expected version, 2 json, 3 etag, 4 new version.
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[2], 'etag', ARGV[3], 'version', ARGV[4])
return 1
