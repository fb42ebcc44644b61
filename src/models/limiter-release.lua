-- Releases a lease. KEYS[1]: the service's lease set; ARGV[1]: the lease id.
return redis.call('ZREM', KEYS[1], ARGV[1])
