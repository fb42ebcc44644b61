/** DoneWatch: `sweep --wait` follows the size of the done hash and checks ids only now and then. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/queues.ts';
import { DoneWatch } from '../../src/producer/done-watch.ts';
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
});
