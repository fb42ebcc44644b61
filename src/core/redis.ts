import type { Socket } from 'node:net';
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
  return coalesceWrites(new Redis(url, { ...opts, ...extra, lazyConnect: false }));
}

const COALESCING = Symbol('coalescing writes');

/**
 * Sends the commands a process issues in one turn of its event loop (the replies and other
 * I/O handled in one poll of the loop, each continuation sending its next command) in one
 * socket write instead of one write each: the socket is corked at the first write and
 * uncorked once the loop's poll phase is over (`setImmediate`; an uncork at the end of
 * each callback, `nextTick`, gave one write per HTTP reply handled). Commands, their order
 * and their replies are unchanged (this is not ioredis's auto-pipelining); only the system
 * calls are fewer, and a write to a local socket that wakes an idle Redis costs up to a
 * tenth of a millisecond of CPU in a virtual machine.
 */
export function coalesceWrites(conn: Redis): Redis {
  const patch = () => {
    const stream = (conn as unknown as { stream?: Socket & { [COALESCING]?: true } }).stream;
    if (!stream || stream[COALESCING]) return;
    stream[COALESCING] = true;
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    let corked = false;
    const uncork = () => {
      corked = false;
      stream.uncork();
    };
    stream.write = ((...args: unknown[]) => {
      if (!corked) {
        corked = true;
        stream.cork();
        setImmediate(uncork);
      }
      return write(...args);
    }) as typeof stream.write;
  };
  conn.on('connect', patch);
  patch();
  return conn;
}

/** Reconnection backoff of long-running clients: 250 ms, doubling, at most 5 s; never gives up. */
export function reconnectDelay(attempt: number): number {
  return Math.min(250 * 2 ** Math.max(0, attempt - 1), 5_000);
}

/**
 * A connection for long-running clients (`sweep --wait`, `status --watch`, the dashboard):
 * it reconnects forever with backoff and says so (`Redis unreachable, retrying in …`, then
 * `Redis reachable again`). Commands wait for the connection to come back, unless `failFast`
 * (the dashboard answers each request at once, with an error while Redis is down).
 */
export function connectWatching(
  url: string,
  opts: { log: (line: string) => void; failFast?: boolean },
): Redis {
  let lastError = '';
  let down = false;
  const conn = new Redis(url, {
    maxRetriesPerRequest: opts.failFast ? 1 : null,
    enableOfflineQueue: true,
    enableReadyCheck: true,
    connectTimeout: 3_000,
    retryStrategy: (attempt) => {
      const delay = reconnectDelay(attempt);
      down = true;
      const why = lastError ? ` (${lastError})` : '';
      opts.log(`Redis unreachable at ${redactUrl(url)}${why}, retrying in ${(delay / 1000).toFixed(1)} s`);
      return delay;
    },
  });
  conn.on('error', (err: Error) => {
    lastError = err.message.split('\n')[0] ?? '';
  });
  conn.on('ready', () => {
    if (!down) return;
    down = false;
    lastError = '';
    opts.log(`Redis reachable again at ${redactUrl(url)}`);
  });
  return conn;
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
