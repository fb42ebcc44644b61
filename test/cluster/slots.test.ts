import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { expertQueueName, ROLLOUT_QUEUE } from '../../src/core/queues.ts';
import { until } from '../chaos/harness.ts';
import { TestCluster } from '../helpers/cluster.ts';

describe('rollouts waiting on experts hold no orchestrator slot', () => {
  const cluster = new TestCluster({ items: 4, capacity: 64, latencyScale: 3 });
  afterAll(() => cluster.cleanup());

  it('makes progress with orchestrator concurrency 1 and 50+ rollouts in flight', async () => {
    await cluster.start();
    const plan = await cluster.plan(cluster.sweepFile('slots', ['direct:gpt-5']));
    expect(plan.rollouts.length).toBeGreaterThanOrEqual(50);
    await cluster.worker(['--role', 'orchestrator', '--concurrency', '1']);
    await cluster.worker(['--role', 'scorer']);
    const rollouts = new Queue(ROLLOUT_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
    const experts = new Queue(expertQueueName('gpt-5'), { connection: cluster.conn, prefix: cluster.prefix });
    await cluster.submit(plan);
    // No expert worker yet: a rollout whose expert call is pending must give its only
    // orchestrator slot back (park in waiting-children), or the next one could never start.
    // Every rollout parks at once, however slowly this machine runs them.
    await until(
      'every rollout parked on its expert call',
      async () =>
        ((await rollouts.getJobCounts('waiting-children'))['waiting-children'] ?? 0) === plan.rollouts.length,
      180_000,
    );
    expect((await experts.getJobCounts('waiting')).waiting).toBe(plan.rollouts.length);
    // Then the parked rollouts' expert calls run in parallel, and every rollout finishes.
    await cluster.worker(['--role', 'expert']);
    let maxExpertActive = 0;
    let stop = false;
    const sampler = (async () => {
      while (!stop && maxExpertActive <= 1) {
        maxExpertActive = Math.max(maxExpertActive, (await experts.getJobCounts('active')).active ?? 0);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const res = await cluster.wait(plan, 240_000);
    stop = true;
    await sampler;
    await rollouts.close();
    await experts.close();
    expect(res.done).toBe(plan.rollouts.length);
    expect(maxExpertActive).toBeGreaterThan(1);
  }, 480_000);
});
