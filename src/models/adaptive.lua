-- One report to an endpoint's adaptive concurrency controller (src/models/adaptive.ts).
-- KEYS[1]: the controller's hash. ARGV[1]: 'init' or 'sample'; ARGV[2..5]: min, max, ttl (ms),
-- now (ms); init: ARGV[6] the first limit; sample: ARGV[6] the request's epoch, ARGV[7..9]
-- latency, failed (1/0), congested (1/0), ARGV[10..16] the tuning, ARGV[17] the queue's
-- active job count. Returns {limit, epoch, reason, apply (1 when the caller must set the
-- queue's global concurrency), mean?}.
local state = KEYS[1]
local op = ARGV[1]
local min = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local now = ARGV[5]
local function clamp(x)
  if x < min then return min end
  if x > max then return max end
  return x
end
local function fresh(limit)
  redis.call('HSET', state, 'limit', limit, 'epoch', 1, 'ssthresh', max, 'n', 0, 'ok', 0, 'errs', 0,
    'sum', 0, 'cong', 0, 'peak', 0, 'min', min, 'max', max, 'at', now)
  redis.call('PEXPIRE', state, ttl)
  return {math.floor(limit), 1, 0, 1}
end

local s = redis.call('HMGET', state, 'limit', 'epoch', 'n', 'ok', 'errs', 'sum', 'cong', 'peak', 'baseline', 'ssthresh')
local limit = tonumber(s[1])
if op == 'init' then
  if not limit then return fresh(clamp(tonumber(ARGV[6]))) end
  -- Another process runs it already: keep its state, apply the current bounds.
  limit = clamp(limit)
  redis.call('HSET', state, 'limit', limit, 'min', min, 'max', max)
  redis.call('PEXPIRE', state, ttl)
  return {math.floor(limit), tonumber(s[2]), 0, 1}
end
if not limit then return fresh(min) end

local epoch = tonumber(s[2])
if tonumber(ARGV[6]) < epoch then return {math.floor(limit), epoch, 6, 0} end
local latency, isErr, congested = tonumber(ARGV[7]), ARGV[8] == '1', ARGV[9] == '1'
local target, tol, beta, alpha = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local windowMin, errRate, drift = tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16])
local n, ok, errs, sum = tonumber(s[3]) + 1, tonumber(s[4]), tonumber(s[5]), tonumber(s[6])
local cong, peak = tonumber(s[7]), tonumber(s[8])
if isErr then errs = errs + 1 else ok = ok + 1; sum = sum + latency end
if congested then cong = cong + 1 end
local act = tonumber(ARGV[17])
if act > peak then peak = act end
local ssthresh = tonumber(s[10]) or max
-- Slow start judges smaller windows (it only looks for the region); afterwards windowMin.
local need = math.max(windowMin, math.ceil(limit / 2))
if limit < ssthresh then need = math.max(math.min(4, windowMin), math.ceil(limit / 2)) end
if n < need then
  redis.call('HSET', state, 'n', n, 'ok', ok, 'errs', errs, 'sum', sum, 'cong', cong, 'peak', peak)
  redis.call('PEXPIRE', state, ttl)
  return {math.floor(limit), epoch, 5, 0}
end

-- The window is complete: decide.
local baseline = tonumber(s[9])
local mean = nil
if ok > 0 then mean = sum / ok end
local reason = 0
if errs / n > errRate then reason = 3
elseif cong * 2 > n then reason = 4
elseif mean and target > 0 and mean > target then reason = 2
elseif mean and target <= 0 and baseline and mean > baseline * tol then reason = 2
end
if mean then
  if (not baseline) or mean < baseline then baseline = mean else baseline = baseline * (1 + drift) end
end
local old = math.floor(limit)
if reason > 0 then
  -- Leaving slow start: the limit before the last doubling was healthy, so go back to it
  -- (halve) rather than creep down from an overshoot; afterwards decrease by beta.
  if ssthresh >= max and limit > min then limit = clamp(limit * 0.5) else limit = clamp(limit * beta) end
  ssthresh = limit
elseif peak >= math.ceil(0.9 * old) then
  -- Grow only a limit that was used: an idle endpoint's limit says nothing about load.
  if limit < ssthresh then limit = clamp(math.min(limit * 2, ssthresh)) else limit = clamp(limit + alpha) end
  if math.floor(limit) > old then reason = 1 end
end
local new = math.floor(limit)
if new ~= old then epoch = epoch + 1 end
redis.call('HSET', state, 'limit', limit, 'epoch', epoch, 'ssthresh', ssthresh, 'n', 0, 'ok', 0, 'errs', 0,
  'sum', 0, 'cong', 0, 'peak', 0, 'at', now, 'reason', reason)
if baseline then redis.call('HSET', state, 'baseline', baseline) end
if mean then redis.call('HSET', state, 'mean', mean) end
redis.call('PEXPIRE', state, ttl)
local changed = 0
if new ~= old then changed = 1 end
if mean then return {new, epoch, reason, changed, tostring(mean)} end
return {new, epoch, reason, changed}
