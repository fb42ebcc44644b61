import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowProducer, Queue, QueueEvents, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PREFIX } from '../../src/core/queues.ts';
import { AdaptiveController, adaptiveStateKey } from '../../src/models/adaptive.ts';
import { freePort } from '../../src/process/redis-server.ts';

const hasCli = spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0;
const hasServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * A three-master Redis Cluster on loopback: BullMQ's Lua scripts touch several keys of a
 * queue (and a parent's keys from a child's queue), which Redis Cluster allows only when
 * all of them hash to one slot — what the `{maestro}` hash tag in the prefix ensures.
 */
describe.skipIf(!hasCli || !hasServer)('the hash-tagged prefix on a Redis Cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-cluster-'));
  const servers: ChildProcess[] = [];
  let ports: number[] = [];
  let cluster: Cluster;

  beforeAll(async () => {
    ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) {
      servers.push(
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--dir',
            dir,
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--save',
            '',
            '--appendonly',
            'no',
            '--maxmemory-policy',
            'noeviction',
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    const ping = (port: number) =>
      spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG';
    for (let i = 0; i < 100 && !ports.every(ping); i++) await new Promise((r) => setTimeout(r, 50));
    const created = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8' },
    );
    expect(created.status, created.stdout + created.stderr).toBe(0);
    const ok = () =>
      ports.every((p) =>
        spawnSync('redis-cli', ['-p', String(p), 'cluster', 'info'], { encoding: 'utf8' }).stdout.includes(
          'cluster_state:ok',
        ),
      );
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    cluster = new Cluster(
      ports.map((port) => ({ host: '127.0.0.1', port })),
      { redisOptions: { maxRetriesPerRequest: null } },
    );
    await cluster.ping();
  }, 60_000);

  afterAll(async () => {
    cluster?.disconnect();
    for (const s of servers) s.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a parent/child flow (waiting-children) and the adaptive script under {maestro}', async () => {
    const prefix = DEFAULT_PREFIX;
    const flows = new FlowProducer({ connection: cluster, prefix });
    const parentQueue = new Queue('rollouts', { connection: cluster, prefix });
    const eventsConn = cluster.duplicate();
    const events = new QueueEvents('rollouts', { connection: eventsConn, prefix });
    await events.waitUntilReady();
    const child = new Worker('expert.x', async (job) => ({ doubled: (job.data.n as number) * 2 }), {
      connection: cluster,
      prefix,
    });
    const parent = new Worker(
      'rollouts',
      async (job) => {
        const values = await job.getChildrenValues();
        return Object.values(values).map((v) => (v as { doubled: number }).doubled);
      },
      { connection: cluster, prefix },
    );
    // Cluster connections report connection trouble (e.g. a closing worker's blocking client) as
    // 'error' events; what this test checks is the flow's result.
    const ignore = () => {};
    child.on('error', ignore);
    parent.on('error', ignore);
    events.on('error', ignore);
    flows.on('error', ignore);
    parentQueue.on('error', ignore);
    try {
      const flow = await flows.add({
        name: 'rollout',
        queueName: 'rollouts',
        data: {},
        children: [{ name: 'call', queueName: 'expert.x', data: { n: 21 } }],
      });
      const result = await flow.job.waitUntilFinished(events, 20_000);
      expect(result).toEqual([42]);

      const expertQueue = new Queue('expert.x', { connection: cluster, prefix });
      const controller = new AdaptiveController(cluster, adaptiveStateKey(prefix, 'x'), expertQueue, {
        min: 3,
        max: 8,
      });
      expect(await controller.init()).toBe(3);
      expect(await expertQueue.getGlobalConcurrency()).toBe(3);
      await expertQueue.close();
    } finally {
      await child.close();
      await parent.close();
      await flows.close();
      await parentQueue.obliterate({ force: true }).catch(() => {});
      await parentQueue.close();
      await events.close();
      eventsConn.disconnect();
    }
  });

  it('fails without a hash tag: the queue’s keys land in different slots', async () => {
    const queue = new Queue('rollouts', { connection: cluster, prefix: 'maestro-untagged' });
    await expect(queue.add('x', {})).rejects.toThrow(/CROSSSLOT/);
    await queue.close();
  });
});
