-- Records a bandit decision for a rollout unless one exists; returns the stored one.
-- KEYS: decisions hash, order counter. ARGV: rollout id, arm, context.
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return existing end
local order = redis.call('INCR', KEYS[2])
local value = order .. '|' .. ARGV[2] .. '|' .. ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], value)
return value
