import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { ExpertJobData } from '../../src/core/jobs.ts';
import { expertQueueName, ROLLOUT_QUEUE } from '../../src/core/queues.ts';
import { TestCluster } from '../helpers/cluster.ts';

describe('job payloads in Redis', () => {
  const cluster = new TestCluster({ items: 2, benchmarks: ['chartqa', 'erqa', 'hrbench4k'] });
  afterAll(() => cluster.cleanup());

  it('hold image references, never image bytes', async () => {
    await cluster.start();
    // Only an orchestrator: expert jobs stay queued so their stored payloads can be read.
    await cluster.worker(['--role', 'orchestrator']);
    const plan = await cluster.plan(cluster.sweepFile('payloads', ['direct:GLM-4.6V-Flash']));
    await cluster.submit(plan);
    const queue = new Queue(expertQueueName('GLM-4.6V-Flash'), {
      connection: cluster.conn,
      prefix: cluster.prefix,
    });
    let jobs = await queue.getWaiting(0, -1);
    for (let i = 0; i < 200 && jobs.length < plan.rollouts.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
      jobs = await queue.getWaiting(0, -1);
    }
    expect(jobs).toHaveLength(plan.rollouts.length);
    let images = 0;
    for (const job of jobs) {
      const raw = (await cluster.conn.hget(`${cluster.prefix}:${queue.name}:${job.id}`, 'data')) ?? '';
      expect(raw.length).toBeGreaterThan(0);
      expect(raw.length).toBeLessThan(4_096);
      expect(raw).not.toMatch(/base64|data:image|iVBORw0KGgo|\/9j\//);
      const data = ExpertJobData.parse(JSON.parse(raw));
      const item = await cluster.store.item(data.benchmark, data.itemId);
      expect(data.images.map((i) => i.sha256)).toEqual(item.images.map((i) => i.sha256));
      images += data.images.length;
    }
    expect(images).toBeGreaterThan(plan.rollouts.length); // erqa items carry several images
    const rollouts = new Queue(ROLLOUT_QUEUE, { connection: cluster.conn, prefix: cluster.prefix });
    for (const job of await rollouts.getWaitingChildren(0, -1)) {
      const raw = (await cluster.conn.hget(`${cluster.prefix}:${ROLLOUT_QUEUE}:${job.id}`, 'data')) ?? '';
      expect(raw).not.toMatch(/base64|data:image/);
      expect(raw.length).toBeLessThan(16_384);
    }
    await queue.close();
    await rollouts.close();
  }, 300_000);
});
