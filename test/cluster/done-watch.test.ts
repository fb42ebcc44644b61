/** DoneWatch: `sweep --wait` follows the size of the done hash and checks ids only now and then. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { waitForSweep } from '../../src/cli/sweep.ts';
import { keys } from '../../src/core/queues.ts';
import { DoneWatch } from '../../src/producer/done-watch.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { REDIS_URL } from '../helpers/cluster.ts';

describe('DoneWatch', () => {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = `{t-${randomBytes(5).toString('hex')}}`;
  const doneKey = keys.done(prefix, 's');
  afterAll(async () => {
    await conn.del(doneKey);
    conn.disconnect();
  });

  it('counts progress from HLEN, ignores ids outside the plan at the end, and counts errors exactly', async () => {
    const ids = Array.from({ length: 2_500 }, (_, i) => `r${i}`);
    await conn.hset(doneKey, 'other-sweep-rollout', 'answered|1|b|p');
    const watch = new DoneWatch(conn, prefix, 's', ids);
    expect(await watch.poll()).toBe(0);
    // 1,000 done, 10 of them errors.
    const pipe = conn.pipeline();
    for (const [i, id] of ids.slice(0, 1_000).entries())
      pipe.hset(doneKey, id, i < 10 ? 'error|0|b|p' : 'answered|1|b|p');
    await pipe.exec();
    expect(await watch.poll()).toBe(1_000);
    expect(watch.moved).toBe(true);
    expect(watch.remaining.size).toBe(2_500); // no id looked up yet: the count moved, not all done
    expect(await watch.poll()).toBe(1_000);
    expect(watch.moved).toBe(false);
    // Entries outside the plan make the count say "all done"; the exact check says otherwise.
    const other = conn.pipeline();
    for (let i = 0; i < 1_500; i++) other.hset(doneKey, `x${i}`, 'answered|1|b|p');
    await other.exec();
    await watch.poll();
    expect(watch.remaining.size).toBe(1_500);
    expect(watch.errors).toBe(10);
    const rest = conn.pipeline();
    for (const id of ids.slice(1_000)) rest.hset(doneKey, id, 'answered|0|b|p');
    await rest.exec();
    expect(await watch.poll()).toBe(2_500);
    expect(watch.remaining.size).toBe(0);
    expect(watch.errors).toBe(10);
  });

  it('sweep --wait closes in on the end, then backs off while one straggler runs', async () => {
    const sweepId = 'straggler';
    const key = keys.done(prefix, sweepId);
    const ids = Array.from({ length: 200 }, (_, i) => `q${i}`);
    const plan = {
      meta: { id: sweepId },
      rollouts: ids.map((rolloutId) => ({ rolloutId })),
    } as unknown as SweepPlan;
    // The client's connection, counting its looks at the done count.
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    let looks = 0;
    const hlen = client.hlen.bind(client);
    client.hlen = ((k: string) => {
      looks++;
      return hlen(k);
    }) as typeof client.hlen;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      const waiting = waitForSweep(client, prefix, plan, { log: () => {} });
      // 199 rollouts finish over ~200 ms, then the last one takes 1.5 s more.
      for (let i = 0; i < 199; i += 20) {
        const pipe = conn.pipeline();
        for (const id of ids.slice(i, Math.min(i + 20, 199))) pipe.hset(key, id, 'answered|1|b|p');
        await pipe.exec();
        await sleep(20);
      }
      const looksBefore = looks;
      await sleep(1_500);
      const looksDuringStraggler = looks - looksBefore;
      await conn.hset(key, 'q199', 'answered|1|b|p');
      await expect(waiting).resolves.toEqual({ done: 200, failed: 0 });
      // Backing off: 5, 10, 20, … then every 300 ms (about a dozen looks). Polling at the
      // floor the whole time would be ~300 looks, at the former 20 ms floor ~75.
      expect(looksDuringStraggler).toBeGreaterThan(2);
      expect(looksDuringStraggler).toBeLessThan(25);
    } finally {
      client.disconnect();
      await conn.del(key);
    }
  });
});
