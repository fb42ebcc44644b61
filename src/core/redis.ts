import { Redis, type RedisOptions } from 'ioredis';
import { MaestroError } from './errors.ts';

export type ConnectionRole = 'worker' | 'client';

/**
 * Opens a Redis connection for a role. Workers block on queues and must never give up
 * on a command (`maxRetriesPerRequest: null`); clients (producer, status, report) fail
 * fast so a command line never hangs on a dead server.
 */
export function connectRedis(url: string, role: ConnectionRole, extra: RedisOptions = {}): Redis {
  const opts: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: (n) => Math.min(200 * n, 2_000) }
      : {
          maxRetriesPerRequest: 1,
          enableOfflineQueue: true,
          connectTimeout: 3_000,
          retryStrategy: (n) => (n > 3 ? null : 200 * n),
        };
  return new Redis(url, { ...opts, ...extra, lazyConnect: false });
}

/** A URL safe to print: the password is masked. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** Pings Redis, or throws an actionable error. */
export async function assertRedisReachable(url: string, timeoutMs = 3_000): Promise<void> {
  const conn = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  conn.on('error', () => {});
  try {
    await conn.connect();
    await conn.ping();
  } catch (cause) {
    throw new MaestroError(`Redis at ${redactUrl(url)} does not answer`, {
      retryable: true,
      hint: 'start redis-server, or set REDIS_URL to a reachable server',
      cause,
    });
  } finally {
    conn.disconnect();
  }
}

/**
 * BullMQ needs `maxmemory-policy noeviction`: an evicted key is a lost job. Returns a
 * warning to print, or null when the policy is right or cannot be read (managed Redis).
 */
export async function checkEvictionPolicy(conn: Redis): Promise<string | null> {
  try {
    const reply = (await conn.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy && policy !== 'noeviction') {
      return `Redis maxmemory-policy is "${policy}"; set it to "noeviction" (CONFIG SET maxmemory-policy noeviction) or jobs may be evicted and lost`;
    }
  } catch {
    return null;
  }
  return null;
}
