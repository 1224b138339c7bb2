-- Revokes a sign-in until its end (consult-stub, storage/redis.rs).
-- KEYS[1] the sign-in's hash. ARGV: 1 presented jti, 2 its exp, 3 sign-in end (Unix s).
redis.call('HSETNX', KEYS[1], 'cur', ARGV[1])
redis.call('HSETNX', KEYS[1], 'cexp', ARGV[2])
redis.call('HSET', KEYS[1], 'rev', '1')
redis.call('EXPIREAT', KEYS[1], string.format('%d', tonumber(ARGV[3]) + 1))
return 1
