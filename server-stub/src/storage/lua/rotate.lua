-- One refresh of a sign-in, decided and recorded atomically (consult-stub, storage/redis.rs).
-- KEYS[1] the sign-in's hash. Token ids arrive as keyed digests; no token is stored: a repeat
-- answers the successor's times, and the instance signs the same successor again from them.
-- ARGV: 1 presented jti, 2 its exp, 3 sign-in end (Unix s), 4 (unused: now is Redis's TIME, so
--       every instance judges the reuse window and the rate limit on one clock), 5 reuse window (ms),
--       6 burst, 7 refill interval (ms), 8 successor jti, 9 successor iat, 10 successor exp.
-- Answers {'minted'}, {'repeat', iat, exp}, {'revoked'}, {'reused'} (now revoked), {'limited'},
-- {'unknown'} (no record: every sign-in is recorded at birth, so its record was lost with
-- Redis's data; refused rather than started afresh from whatever token comes first).
local h = KEYS[1]
local jti = ARGV[1]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[5])
local burst = tonumber(ARGV[6])
local interval = math.max(tonumber(ARGV[7]), 1)
local function int(n) return string.format('%d', n) end

local f = redis.call('HMGET', h, 'cur', 'rev', 'lj', 'lat', 'liat', 'lexp', 'bt', 'bu')
local cur, rev, lj, lat, liat, lexp, bt, bu = f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]
if not cur then return {'unknown'} end
if rev then return {'revoked'} end
if lj == jti and lat and liat and lexp and now - tonumber(lat) <= window then
  return {'repeat', liat, lexp}
end
if cur ~= jti then
  redis.call('HSET', h, 'rev', '1')
  return {'reused'}
end
-- The sign-in's token bucket, as crate::limits::Bucket.
bt, bu = tonumber(bt) or burst, tonumber(bu) or now
local earned = math.floor(math.max(now - bu, 0) / interval)
if earned > 0 then
  bt = math.min(bt + earned, burst)
  bu = bu + earned * interval
  if bt == burst then bu = now end
end
if bt <= 0 then
  redis.call('HSET', h, 'bt', int(bt), 'bu', int(bu))
  return {'limited'}
end
redis.call('HSET', h, 'cur', ARGV[8], 'cexp', ARGV[10], 'lj', jti, 'lat', int(now),
  'liat', ARGV[9], 'lexp', ARGV[10], 'bt', int(bt - 1), 'bu', int(bu))
return {'minted'}
