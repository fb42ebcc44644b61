import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { expertQueueName, ROLLOUT_QUEUE } from '../../src/core/queues.ts';
import { TestCluster } from '../helpers/cluster.ts';

describe('rollouts waiting on experts hold no orchestrator slot', () => {
  const cluster = new TestCluster({ items: 4, capacity: 64, latencyScale: 3 });
  afterAll(() => cluster.cleanup());

  it('makes progress with orchestrator concurrency 1 and 50+ rollouts in flight', async () => {
    await cluster.start();
    const plan = await cluster.plan(cluster.sweepFile('slots', ['direct:gpt-5']));
    expect(plan.rollouts.length).toBeGreaterThanOrEqual(50);
    await cluster.worker(['--role', 'orchestrator', '--concurrency', '1']);
    await cluster.worker(['--role', 'expert']);
    await cluster.worker(['--role', 'scorer']);
    const rollouts = new Queue(ROLLOUT_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
    const experts = new Queue(expertQueueName('gpt-5'), { connection: cluster.conn, prefix: cluster.prefix });
    await cluster.submit(plan);
    let maxParked = 0;
    let maxExpertActive = 0;
    const sampler = (async () => {
      for (let i = 0; i < 400; i++) {
        const c = await rollouts.getJobCounts('waiting-children', 'completed');
        const e = await experts.getJobCounts('active');
        maxParked = Math.max(maxParked, c['waiting-children'] ?? 0);
        maxExpertActive = Math.max(maxExpertActive, e.active ?? 0);
        if ((c.completed ?? 0) >= plan.rollouts.length) break;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const res = await cluster.wait(plan);
    await sampler;
    await rollouts.close();
    await experts.close();
    expect(res.done).toBe(plan.rollouts.length);
    // With one orchestrator slot, 50+ rollouts were parked at once and their expert calls ran in parallel.
    expect(maxParked).toBeGreaterThanOrEqual(50);
    expect(maxExpertActive).toBeGreaterThan(1);
  }, 120_000);
});
