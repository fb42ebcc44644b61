/**
 * `sweep reset|rm` on a sweep whose jobs were submitted by an older version, when job ids
 * began with the first 12 characters of the sweep's fingerprint instead of the sweep id:
 * those jobs (rollouts, expert calls, scoring), done or waiting, are found and removed, and
 * nothing of the sweep is left in Redis or in the data directory.
 */
import { existsSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { slug } from '../../src/core/hash.ts';
import { keys } from '../../src/core/queues.ts';
import { legacyJobHead } from '../../src/producer/discard.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { cli } from '../chaos/harness.ts';
import { TestCluster } from '../helpers/cluster.ts';

/** The plan with the job ids an older version gave it (`<fp12>.<benchmark>.…`). */
function legacyPlan(plan: SweepPlan, fp12: string): SweepPlan {
  const head = slug(plan.meta.id, 64);
  return {
    ...plan,
    rollouts: plan.rollouts.map((r) => {
      expect(r.rolloutId.startsWith(`${head}.`)).toBe(true);
      return { ...r, rolloutId: `${fp12}${r.rolloutId.slice(head.length)}` };
    }),
  };
}

/** Every key of the prefix, and every member of its lists, sets, sorted sets and hashes, naming `needle`. */
async function leftovers(conn: Redis, prefix: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await conn.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      if (key.includes(needle)) found.push(key);
      const type = await conn.type(key);
      const members =
        type === 'list'
          ? await conn.lrange(key, 0, -1)
          : type === 'set'
            ? await conn.smembers(key)
            : type === 'zset'
              ? await conn.zrange(key, 0, -1)
              : type === 'hash'
                ? await conn.hkeys(key)
                : [];
      for (const m of members) if (m.includes(needle)) found.push(`${key} ∋ ${m}`);
    }
  } while (cursor !== '0');
  return found;
}

describe('sweep reset|rm with jobs of an older version (fingerprint job ids)', () => {
  const c = new TestCluster({ items: 2, benchmarks: ['chartqa', 'tallyqa'] });
  afterAll(() => c.cleanup());

  it('removes every job, key and record of the sweep', async () => {
    await c.start();
    const file = c.sweepFile('legacy', ['direct:Chart-R1']);
    const plan = await c.plan(file);
    const id = plan.meta.id;
    const fp12 = legacyJobHead(id);
    expect(fp12).toBe(plan.meta.fingerprint.slice(0, 12));
    const legacy = legacyPlan(plan, fp12!);
    const done = { ...legacy, rollouts: legacy.rollouts.filter((r) => r.benchmark === 'chartqa') };
    const waiting = { ...legacy, rollouts: legacy.rollouts.filter((r) => r.benchmark === 'tallyqa') };

    // Half of the sweep runs to the end (completed rollouts, records), half stays queued.
    await c.worker(['--role', 'all']);
    await c.submit(done);
    expect((await c.wait(done, 300_000)).done).toBe(done.rollouts.length);
    await c.stopWorkers();
    await c.submit(waiting);
    expect(await c.store.readRecords(id)).toHaveLength(done.rollouts.length);
    const rolloutJobs = (await c.conn.keys(`${c.prefix}:rollouts:${fp12}.*`)).filter(
      (k) => k.split(':').length === 3,
    );
    expect(rolloutJobs).toHaveLength(legacy.rollouts.length);

    // reset: only the sweep's registration is left.
    const reset = await cli(['sweep', 'reset', id, '--yes'], c.env());
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain(`reset: ${legacy.rollouts.length} jobs`);
    expect((await leftovers(c.conn, c.prefix, fp12!)).sort()).toEqual([
      keys.sweep(c.prefix, id),
      `${keys.sweeps(c.prefix)} ∋ ${id}`,
    ]);
    expect(await c.store.readRecords(id)).toHaveLength(0);

    // rm with queued jobs of the old kind: nothing of the sweep is left anywhere.
    await c.submit(waiting);
    const rm = await cli(['sweep', 'rm', id, '--yes'], c.env());
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toContain(`removed: ${waiting.rollouts.length} jobs`);
    expect(await leftovers(c.conn, c.prefix, fp12!)).toEqual([]);
    expect(existsSync(c.store.sweepDir(id))).toBe(false);
  }, 600_000);
});
