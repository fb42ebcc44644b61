-- Stores the reply of an awaited expert call under its rollout and sends it to the process
-- awaiting it (registry `dispatch: await`), in one command.
-- KEYS[1]: the rollout's hash of replies; KEYS[2]: the awaiting process's reply list.
-- ARGV[1]: the expert job's id; ARGV[2]: the reply (JSON); ARGV[3]: the hash's lifetime (ms);
-- ARGV[4]: the list's lifetime (ms, for a list whose process is gone).
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[1] .. '\n' .. ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
