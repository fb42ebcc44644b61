-- Counts a bandit reward once and updates the linear model's sufficient statistics.
-- KEYS: stats hash, rewarded hash. ARGV: rollout id, context, arm, reward, expert feature, skill feature.
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[4]) == 0 then return 0 end
local ctx, e, s, r = ARGV[2], ARGV[5], ARGV[6], tonumber(ARGV[4])
redis.call('HINCRBY', KEYS[1], ctx .. '|' .. ARGV[3] .. '|n', 1)
redis.call('HINCRBY', KEYS[1], ctx .. '|' .. ARGV[3] .. '|s', r)
for _, f in ipairs({e, s}) do
  for _, g in ipairs({e, s}) do redis.call('HINCRBYFLOAT', KEYS[1], ctx .. '|A|' .. f .. '|' .. g, 1) end
  redis.call('HINCRBYFLOAT', KEYS[1], ctx .. '|b|' .. f, r)
end
return 1
