/**
 * The direct-peer scenario's floor: a bare BullMQ client and worker (`maestro-eval
 * bench-floor-client`, `bench-floor-worker`) send one call per job to the endpoint and wait for them all.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOf } from '../../src/bench/floor.ts';
import { waitForLine } from '../../src/bench/harness.ts';
import { loadCatalog } from '../../src/core/benchmarks.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { type SpawnedWorker, spawnCli, stopProcess } from '../../src/process/spawn.ts';
import { type SimServer, startSimServer } from '../../src/sim/server.ts';
import { CATALOG, REDIS_URL, SIM_REGISTRY } from '../helpers/cluster.ts';

const EXPERT = 'Intern-S1-mini';

describe('the floor of direct-peer (bench-floor-worker, bench-floor-client)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'maestro-floor-'));
  const conn = new Redis(REDIS_URL);
  const workers: SpawnedWorker[] = [];
  let sim: SimServer;

  beforeAll(async () => {
    sim = await startSimServer({
      registry: loadRegistry([SIM_REGISTRY], {}),
      catalog: loadCatalog(CATALOG),
      dataDir,
      port: 0,
      latencyScale: 0.02,
    });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => stopProcess(w, 5_000)));
    await sim.close();
    conn.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = (prefix: string) => ({ ...process.env, REDIS_URL, MAESTRO_PREFIX: prefix });
  async function worker(prefix: string, model: string): Promise<SpawnedWorker> {
    const w = spawnCli(
      [
        'bench-floor-worker',
        '--base-url',
        `${sim.url}/${EXPERT}/v1/`,
        '--model',
        model,
        '--concurrency',
        '8',
      ],
      env(prefix),
    );
    workers.push(w);
    await waitForLine(w, 'ready:');
    return w;
  }
  async function client(prefix: string, calls: number, tag: string) {
    const c = spawnCli(['bench-floor-client', '--calls', String(calls), '--tag', tag], env(prefix));
    return { code: await c.exited, output: c.output.join('\n') };
  }

  it('sends each job to the endpoint once and waits until all are completed', async () => {
    const prefix = `{floor-${randomBytes(4).toString('hex')}}`;
    await worker(prefix, EXPERT);
    const before = sim.stats()[EXPERT]?.requests ?? 0;
    const first = await client(prefix, 40, 'a');
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain('floor a: 40 calls added');
    expect(first.output).toContain('floor a: 40/40 completed');
    // A second client counts its own calls, not those completed before it.
    const second = await client(prefix, 25, 'b');
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('floor b: 25/25 completed');
    expect((sim.stats()[EXPERT]?.requests ?? 0) - before).toBe(65);
    expect(await conn.zcard(`${prefix}:floor:completed`)).toBe(65);
    const answer = await conn.hget(`${prefix}:floor:b-24`, 'returnvalue');
    expect(typeof JSON.parse(answer ?? 'null')).toBe('string');
  }, 60_000);

  it('ends the wait with the reason of a call that failed', async () => {
    const prefix = `{floor-${randomBytes(4).toString('hex')}}`;
    await worker(prefix, 'no-such-model');
    const run = await client(prefix, 5, 'c');
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/floor c: job c-\d failed: .*404.*does not exist/);
  }, 60_000);

  it('refuses a worker without an endpoint', async () => {
    const noUrl = spawnCli(['bench-floor-worker'], env('{floor-x}'));
    expect(await noUrl.exited).not.toBe(0);
    expect(noUrl.output.join('\n')).toContain("required option '--base-url <url>' not specified");
  }, 60_000);

  it('reads the answer of a chat completion, and says when there is none', () => {
    expect(answerOf({ choices: [{ message: { content: '3' } }] })).toBe('3');
    expect(() => answerOf({ choices: [] })).toThrow(/choices\[0\]\.message\.content/);
    expect(() => answerOf(null)).toThrow(/choices\[0\]\.message\.content/);
  });
});
