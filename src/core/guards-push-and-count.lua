-- Pushes one outcome, keeps the last ARGV[2], and counts errors among them.
-- KEYS[1]: the sweep's recent outcomes list; ARGV[1]: 'ok' or 'error'.
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local errors = 0
for _, v in ipairs(items) do
  if v == 'error' then errors = errors + 1 end
end
return { errors, #items }
