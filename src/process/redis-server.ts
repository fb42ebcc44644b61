import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MaestroError } from '../core/errors.ts';
import { assertRedisReachable, redactUrl } from '../core/redis.ts';
import { trackPid } from './pids.ts';

export interface RedisHandle {
  url: string;
  /** True when this process started the server (and will stop it). */
  started: boolean;
  stop(): Promise<void>;
}

export const REDIS_INSTALL_HINT =
  'install Redis (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`) or set REDIS_URL to a reachable server';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts a private redis-server on a free port in a temp dir (noeviction; AOF when asked).
 * Used by the demo when no Redis answers, and by tests that restart Redis.
 */
export async function startRedisServer(
  opts: { port?: number; dir?: string; appendonly?: boolean } = {},
): Promise<RedisHandle & { port: number; dir: string; pid: number }> {
  if (!hasRedisServer())
    throw new MaestroError('redis-server is not installed', { hint: REDIS_INSTALL_HINT });
  const port = opts.port ?? (await freePort());
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'maestro-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--appendonly',
    opts.appendonly ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: false });
  trackPid(child);
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await assertRedisReachable(url, 500);
      break;
    } catch (err) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new MaestroError(`redis-server did not start on port ${port}`, {
          cause: err,
          hint: REDIS_INSTALL_HINT,
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    port,
    dir,
    pid: child.pid ?? 0,
    started: true,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Redis to use: REDIS_URL if set (it must answer), else 127.0.0.1:6379 if it answers,
 * else a private redis-server from PATH, else an error saying what to install.
 */
export async function ensureRedis(
  env: NodeJS.ProcessEnv = process.env,
  log: (m: string) => void = () => {},
): Promise<RedisHandle> {
  const given = env.REDIS_URL;
  if (given) {
    await assertRedisReachable(given);
    return { url: given, started: false, stop: async () => {} };
  }
  const local = 'redis://127.0.0.1:6379';
  try {
    await assertRedisReachable(local, 1_000);
    return { url: local, started: false, stop: async () => {} };
  } catch {
    // fall through: start one
  }
  const handle = await startRedisServer();
  log(
    `No Redis answered at ${redactUrl(local)}; started redis-server on ${handle.url} (temp dir, removed at exit)`,
  );
  return handle;
}
