-- Adds one instance's counters to the shared ones (consult-stub, /api/dev/stats?scope=cluster).
-- KEYS[1] the stats hash. ARGV: 1 the instance's in-flight maximum, then name, value pairs.
local max = tonumber(ARGV[1])
local shared = tonumber(redis.call('HGET', KEYS[1], 'session_in_flight_max') or '0')
if max > shared then
  redis.call('HSET', KEYS[1], 'session_in_flight_max', ARGV[1])
end
for i = 2, #ARGV, 2 do
  if ARGV[i + 1] ~= '0' then
    redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
