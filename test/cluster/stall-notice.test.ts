/** `sweep --wait` that sees no rollout scored for a while says which workers report under its prefix. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { waitForSweep } from '../../src/cli/sweep.ts';
import { keys } from '../../src/core/queues.ts';
import { liveKey, RecentLatencies, startLivePublisher } from '../../src/metrics/live.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { REDIS_URL } from '../helpers/cluster.ts';

describe('the stall notice of sweep --wait', () => {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const p of prefixes) await conn.del(liveKey(p), keys.done(p, 'stalled'));
    conn.disconnect();
  });

  /** A plan of two rollouts nobody runs, and the lines a wait of `ms` logs before it times out. */
  const waitLines = async (prefix: string, ms: number, during?: (lines: string[]) => Promise<void>) => {
    const plan = {
      meta: { id: 'stalled' },
      rollouts: [{ rolloutId: 'r1' }, { rolloutId: 'r2' }],
    } as unknown as SweepPlan;
    const lines: string[] = [];
    const waiting = waitForSweep(conn, prefix, plan, {
      log: (l) => lines.push(l),
      stallNoticeMs: 150,
      pollMs: 20,
      timeoutMs: ms,
    });
    await during?.(lines);
    await expect(waiting).rejects.toThrow(/not finished after/);
    return lines.filter((l) => l.startsWith('no rollout scored'));
  };
  const newPrefix = () => {
    const p = `{t-${randomBytes(5).toString('hex')}}`;
    prefixes.push(p);
    return p;
  };
  const publisher = (prefix: string, roles: string[]) =>
    startLivePublisher({ conn, prefix, roles, recent: new RecentLatencies(), inFlight: () => ({}) });

  it('says once that no worker process reports', async () => {
    const prefix = newPrefix();
    const notices = await waitLines(prefix, 900);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(`no worker process reports under prefix ${prefix}`);
  });

  it('says that none of the processes that report orchestrates', async () => {
    const prefix = newPrefix();
    const pool = publisher(prefix, ['expert', 'scorer']);
    await pool.publish();
    try {
      const notices = await waitLines(prefix, 900);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toContain('1 worker process reports under prefix');
      expect(notices[0]).toContain('none with the orchestrator role');
    } finally {
      await pool.stop();
    }
  });

  it('points at status when an orchestrator reports, and tells each new stall once', async () => {
    const prefix = newPrefix();
    const worker = publisher(prefix, ['orchestrator', 'expert', 'scorer']);
    await worker.publish();
    try {
      const notices = await waitLines(prefix, 1_500, async (lines) => {
        // One rollout scored after the first notice: the count moved, a new stall begins.
        while (!lines.some((l) => l.startsWith('no rollout scored')))
          await new Promise((r) => setTimeout(r, 10));
        await conn.hset(keys.done(prefix, 'stalled'), 'r1', 'answered|1|b|p');
      });
      expect(notices).toHaveLength(2);
      for (const n of notices) expect(n).toContain('1 worker process reports (1 orchestrating)');
      expect(notices[0]).toContain('`maestro-eval status`');
    } finally {
      await worker.stop();
    }
  });
});
