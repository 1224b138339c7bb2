-- Records a sign-in at its birth (consult-stub, storage/redis.rs): its first token is current.
-- A sign-in without a record is refused, so a Redis that lost its data refuses the tokens
-- issued before instead of trusting them. An existing record is left alone.
-- KEYS[1] the sign-in's hash. ARGV: 1 jti, 2 its exp, 3 sign-in end (Unix s), 4 (unused: now is
-- Redis's TIME, the clock of the rate limit), 5 refresh burst.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('HSET', KEYS[1], 'cur', ARGV[1], 'cexp', ARGV[2], 'bt', ARGV[5], 'bu',
  string.format('%d', now))
redis.call('EXPIREAT', KEYS[1], string.format('%d', tonumber(ARGV[3]) + 1))
return 1
