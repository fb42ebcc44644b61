-- Saves a rollout's state (its job's data) only while the caller holds the job's lock. An
-- activation that lost its lock (the job stalled, or Redis came back at an earlier moment and
-- the job was taken again) must not overwrite what the current activation saved: BullMQ's
-- own updateData does not look at the lock.
-- KEYS[1]: the job's hash; KEYS[2]: its lock. ARGV[1]: the caller's lock token; ARGV[2]: the
-- data (JSON).
-- Returns 1 when saved, 0 when the lock is not the caller's, -1 when the job is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[2])
return 1
