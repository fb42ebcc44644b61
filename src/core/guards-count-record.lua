-- Counts one written record, atomically: its scored count and compact result and, under an
-- error threshold, its outcome among the sweep's last ones (errors counted among them).
-- KEYS[1]: the sweep's scored hash; KEYS[2]: its done hash; KEYS[3]: its recent outcomes list.
-- ARGV[1]: rollout id; ARGV[2]: compact result; ARGV[3]: 'ok' or 'error';
-- ARGV[4]: the threshold's window (0: no threshold, nothing pushed).
-- Returns { errors, outcomes } among the recent ones ({ 0, 0 } without a threshold), or
-- { -1, 0, compact } when the rollout was counted already (another record of it came
-- first): nothing is changed then, and the caller voids its record.
-- Counted already with this very result: { 0, 0 }, nothing changed, the record kept. That is
-- this write's own count run twice (the client resends a command whose reply a dropped
-- connection lost, after Redis ran it; refusing it would void the only record), or another
-- run of the rollout that came to the same result (two records, one outcome: the reader
-- takes the later).
local prior = redis.call('HGET', KEYS[2], ARGV[1])
if prior and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  if prior == ARGV[2] then return { 0, 0 } end
  return { -1, 0, prior }
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local window = tonumber(ARGV[4])
if window == 0 then return { 0, 0 } end
redis.call('LPUSH', KEYS[3], ARGV[3])
redis.call('LTRIM', KEYS[3], 0, window - 1)
local items = redis.call('LRANGE', KEYS[3], 0, -1)
local errors = 0
for _, v in ipairs(items) do
  if v == 'error' then errors = errors + 1 end
end
return { errors, #items }
