/**
 * An endpoint that echoes the API key in its 401 ("Incorrect API key provided: Bearer …"):
 * the key must not reach Redis (every key's value), the AOF, worker logs, records or
 * reports. The Redis is our own, with appendonly on, so its AOF can be read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRedisReachable } from '../../src/core/redis.ts';
import { freePort } from '../../src/process/redis-server.ts';
import { ChaosCluster, cli, sleep } from './harness.ts';

const API_KEY = `sk-echo-${randomBytes(12).toString('hex')}`;

const KEYED_REGISTRY = `
experts:
  - name: Keyed
    model: keyed-sim
    baseUrl: \${MAESTRO_KEYED_URL:-http://127.0.0.1:9}/Keyed/v1
    apiKeyEnv: MAESTRO_ECHO_API_KEY
    offered: false
    sim: { defaultAccuracy: 0.8, latencyMs: { median: 5 } }
policies:
  - name: keyed-policy
    model: keyed-policy-sim
    baseUrl: \${MAESTRO_KEYED_URL:-http://127.0.0.1:9}/keyed-policy/v1
    apiKeyEnv: MAESTRO_ECHO_API_KEY
    sim: { routingQuality: 1, latencyMs: { median: 5 } }
`;

/** Every key under the prefix with its value, whatever its type. */
async function dumpRedis(conn: Redis, prefix: string): Promise<{ keys: number; text: string }> {
  let cursor = '0';
  let text = '';
  let count = 0;
  const read: Record<string, (k: string) => Promise<unknown>> = {
    string: (k) => conn.get(k),
    hash: (k) => conn.hgetall(k),
    list: (k) => conn.lrange(k, 0, -1),
    set: (k) => conn.smembers(k),
    zset: (k) => conn.zrange(k, 0, -1, 'WITHSCORES'),
    stream: (k) => conn.xrange(k, '-', '+'),
  };
  do {
    const [next, found] = await conn.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of found) {
      count++;
      const type = await conn.type(key);
      text += `${key}\n${JSON.stringify(await (read[type]?.(key) ?? `(${type})`))}\n`;
    }
  } while (cursor !== '0');
  return { keys: count, text };
}

function readTree(dir: string): { files: number; text: string } {
  let files = 0;
  let text = '';
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        files++;
        text += `${p}\n${readFileSync(p).toString('latin1')}\n`;
      }
    }
  };
  walk(dir);
  return { files, text };
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('an endpoint that echoes its API key', () => {
  let redisDir: string;
  let redis: ChildProcess;
  let cluster: ChaosCluster;
  const logs: string[] = [];

  beforeAll(async () => {
    redisDir = mkdtempSync(join(tmpdir(), 'maestro-aof-'));
    const port = await freePort();
    redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', ''].concat([
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--maxmemory-policy',
        'noeviction',
      ]),
      { stdio: 'ignore' },
    );
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        await assertRedisReachable(url, 500);
        break;
      } catch (err) {
        if (i > 100) throw err;
        await sleep(100);
      }
    }
    cluster = new ChaosCluster({
      items: 3,
      benchmarks: ['chartqa'],
      registryYaml: KEYED_REGISTRY,
      redisUrl: url,
      faults: { Keyed: { error401EchoRate: 0.5 }, 'keyed-policy': { error401EchoRate: 0.3 } },
    });
    await cluster.start();
  }, 300_000);

  afterAll(async () => {
    await cluster?.cleanup();
    redis?.kill('SIGKILL');
    rmSync(redisDir, { recursive: true, force: true });
  });

  it('leaves 0 occurrences of the key in Redis, the AOF, worker logs, records and reports', async () => {
    const env = { MAESTRO_ECHO_API_KEY: API_KEY, MAESTRO_KEYED_URL: cluster.sim.url };
    const w = await cluster.worker(['--role', 'all'], env);
    const capture = (b: Buffer) => logs.push(b.toString());
    w.child.stdout?.on('data', capture);
    w.child.stderr?.on('data', capture);
    const file = cluster.sweepFile('echo', ['maestro:keyed-policy', 'direct:Keyed']);
    const sweep = await cli(['sweep', file, '--wait'], cluster.env(env), 300_000);
    logs.push(sweep.stdout, sweep.stderr);
    const plan = await cluster.plan(file);
    const report = await cli(['report', plan.meta.id], cluster.env(env));
    logs.push(report.stdout, report.stderr);
    expect(report.code, report.stderr).toBe(0);
    await cluster.stopWorkers();
    logs.push(...w.output);

    // The endpoints did echo the key, and the echo was kept (redacted) as the items' cause.
    const stats = cluster.sim.stats();
    expect((stats.Keyed?.errorsInjected ?? 0) + (stats['keyed-policy']?.errorsInjected ?? 0)).toBeGreaterThan(
      0,
    );
    const records = await cluster.store.readRecords(plan.meta.id);
    const failures = await cluster.store.readFailures(plan.meta.id);
    expect(records.length + failures.length).toBe(plan.rollouts.length);
    const causes = JSON.stringify([records.map((r) => [r.error, r.steps]), failures]);
    expect(causes).toContain('Incorrect API key provided: Bearer ***');

    await cluster.conn.call('BGREWRITEAOF').catch(() => {});
    const dump = await dumpRedis(cluster.conn, cluster.prefix);
    const aof = readTree(redisDir);
    const tree = readTree(cluster.dataDir);
    const logText = logs.join('\n');
    const figures = {
      redis: count(dump.text, API_KEY),
      aof: count(aof.text, API_KEY),
      logs: count(logText, API_KEY),
      dataDir: count(tree.text, API_KEY),
    };
    console.log(
      `key occurrences: ${JSON.stringify(figures)} (${dump.keys} Redis keys, ${aof.files} AOF files, ${tree.files} data files)`,
    );
    expect(dump.keys).toBeGreaterThan(10);
    expect(aof.text.length).toBeGreaterThan(1000);
    expect(tree.text).toContain('items.jsonl');
    expect(figures).toEqual({ redis: 0, aof: 0, logs: 0, dataDir: 0 });
  }, 400_000);
});
