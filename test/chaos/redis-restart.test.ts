import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/queues.ts';
import { startRedisServer } from '../../src/process/redis-server.ts';
import { REDIS_URL } from '../helpers/cluster.ts';
import {
  audit,
  ChaosCluster,
  lostItems,
  outcomes,
  recordChaos,
  resultsTable,
  runInProcess,
  sleep,
  stuckRollouts,
  until,
} from './harness.ts';

const POLICIES = ['maestro', 'direct:Chart-R1'];
const BENCHMARKS = ['chartqa', 'tallyqa', 'ocrbench'];

/**
 * A private redis-server with AOF (appendfsync everysec) dies twice mid-sweep: once with
 * SIGKILL (the last second of writes may be lost) and once with SIGTERM (a clean shutdown),
 * and comes back on the same port from its AOF. Workers reconnect on their own.
 *
 * What the AOF can lose is a suffix of the command stream, so Redis comes back in a state it
 * really was in a moment before. Work done in that moment is done again: an expert call or a
 * policy step (same deterministic ids and results), or a scoring job, which then finds the
 * record it already wrote (records are files, written before the Redis entries) and reuses
 * it. The increment of `scored` can be lost with the rest; the reuse path sets it to 1 when it
 * is absent (HSETNX), never adds, so `scored` = 1 for every item still proves "written once".
 */
/**
 * Cuts the last `share` of the newest incremental AOF file (Redis 7 multi-part AOF), as an
 * OS crash would lose writes not yet fsync'd. Redis loads the rest (aof-load-truncated).
 */
function cutAofTail(dir: string, share: number): number {
  const aofDir = join(dir, 'appendonlydir');
  const incr = readdirSync(aofDir)
    .filter((f) => f.endsWith('.incr.aof'))
    .sort((a, b) => Number(a.split('.').at(-3)) - Number(b.split('.').at(-3)))
    .at(-1);
  if (!incr) return 0;
  const file = join(aofDir, incr);
  const size = statSync(file).size;
  const cut = Math.floor(size * share);
  truncateSync(file, size - cut);
  return cut;
}

describe('Redis restarted mid-sweep (AOF, appendfsync everysec)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-chaos-aof-'));
  let redis: Awaited<ReturnType<typeof startRedisServer>> | undefined;
  const clusters: ChaosCluster[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.cleanup();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes with every item scored once and the same table as an uninterrupted run', async () => {
    redis = await startRedisServer({ appendonly: true, dir });
    const port = redis.port;
    const cluster = new ChaosCluster({
      items: 4,
      benchmarks: BENCHMARKS,
      capacity: 2,
      latencyScale: 0.4,
      redisUrl: redis.url,
    });
    clusters.push(cluster);
    await cluster.start();

    const reference = cluster.sibling({ redisUrl: REDIS_URL });
    clusters.push(reference);
    await reference.start();
    const refPlan = await reference.plan(reference.sweepFile('aof', POLICIES));
    await runInProcess(reference, refPlan);
    const expected = await resultsTable(reference, refPlan.meta.id);

    const plan = await cluster.plan(cluster.sweepFile('aof', POLICIES));
    const workers = await Promise.all([
      // Scoring jobs (not the orchestrator's inline scoring): the restore cases of a scorer
      // mid-job are what this run is about (docs/reliability.md).
      cluster.worker(['--role', 'orchestrator'], { MAESTRO_INLINE_SCORING: '1' }),
      cluster.worker(['--role', 'expert']),
      cluster.worker(['--role', 'scorer']),
    ]);
    await cluster.submit(plan);
    const doneKey = keys.done(cluster.prefix, plan.meta.id);
    const total = plan.rollouts.length;
    let restarts = 0;
    let rolledBack = 0;
    let aofBytesCut = 0;
    const progressAtRestart: number[] = [];

    for (const [share, signal] of [
      [0.4, 'SIGKILL'],
      [0.7, 'SIGTERM'],
    ] as const) {
      await until(`${share * 100} % scored`, async () => (await cluster.conn.hlen(doneKey)) >= share * total);
      progressAtRestart.push(await cluster.conn.hlen(doneKey));
      if (signal === 'SIGKILL') {
        process.kill(redis.pid, 'SIGKILL');
        await until('redis-server to die', () => {
          try {
            process.kill(redis!.pid, 0);
            return false;
          } catch {
            return true;
          }
        });
        // A killed process loses nothing it had written (the page cache keeps it); an OS
        // crash or power cut loses what was not fsync'd yet. Simulate that: cut the tail.
        aofBytesCut += cutAofTail(dir, 0.3);
      } else {
        await redis.stop(); // SIGTERM: Redis fsyncs its AOF and exits
      }
      await sleep(1_000); // workers see the connection drop and retry
      redis = await startRedisServer({ appendonly: true, dir, port });
      restarts++;
      // Items Redis no longer knows as done (to be re-done; measured before workers are back).
      const fresh = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      rolledBack += Math.max(0, progressAtRestart.at(-1)! - (await fresh.hlen(doneKey)));
      fresh.disconnect();
    }
    await cluster.wait(plan, 400_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await stuckRollouts(cluster, plan)}`);
    });

    // The same three processes finished the sweep: they reconnected by themselves.
    for (const w of workers) expect(w.child.exitCode, w.output.join('\n')).toBeNull();
    const got = await resultsTable(cluster, plan.meta.id);
    const a = await audit(cluster, plan);
    await recordChaos('redis-restart', {
      redisRestarts: restarts,
      doneEntriesRolledBack: rolledBack,
      aofBytesCut,
      items: a.items,
      itemsLost: a.lost,
      itemsDoubleCounted: a.doubleCounted,
    });
    expect(restarts).toBe(2);
    expect(aofBytesCut).toBeGreaterThan(0);
    // The cut really took finished items back: they were done again, and counted once.
    expect(rolledBack).toBeGreaterThan(0);
    for (const p of progressAtRestart) expect(p).toBeLessThan(total);
    // A failure says which items lack a record, and where their jobs and entries stand.
    expect(a, await lostItems(cluster, plan)).toMatchObject({
      lost: 0,
      doubleCounted: 0,
      mismatched: 0,
      scoredMissing: 0,
      strays: 0,
    });
    expect(outcomes(got.records)).toEqual(outcomes(expected.records));
    expect(got.md).toBe(expected.md);
    const counts = await cluster.scoredCounts(plan.meta.id);
    expect(Object.values(counts).every((c) => c === 1)).toBe(true);
    expect(await cluster.conn.hlen(doneKey)).toBe(total);
  }, 900_000);
});
