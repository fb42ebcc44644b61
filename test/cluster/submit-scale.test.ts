/**
 * A sweep of paper scale (hundreds of thousands of rollouts) submitted without a window:
 * the rollouts to add are gathered one by one (a spread of them into one call overflowed
 * the call stack past ~100,000).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { DataStore } from '../../src/data/store.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { submitSweep } from '../../src/producer/submit.ts';
import { REDIS_URL } from '../helpers/cluster.ts';

describe('submitting a paper-scale sweep', () => {
  const conn = new Redis(REDIS_URL);
  afterAll(async () => {
    await conn.quit();
  });

  it('gathers 300,000 new rollouts (a dry run: nothing is written)', async () => {
    const prefix = `{t-${randomBytes(5).toString('hex')}}`;
    const rollouts = Array.from({ length: 300_000 }, (_, i) => ({ rolloutId: `scale-0.b.p.item-${i}.s0` }));
    const plan = { meta: { id: 'scale-0' }, rollouts } as unknown as SweepPlan;
    const result = await submitSweep(conn, prefix, {} as DataStore, plan, { dryRun: true });
    expect(result).toMatchObject({ planned: 300_000, added: 300_000, done: 0, inFlight: 0 });
    expect(await conn.keys(`${prefix}:*`)).toEqual([]);
  });
});
