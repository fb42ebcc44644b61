import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/queues.ts';
import { startRedisServer } from '../../src/process/redis-server.ts';
import { CLI_BIN } from '../../src/process/spawn.ts';
import { TestCluster } from '../helpers/cluster.ts';
import { sleep, until } from './harness.ts';

interface Running {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

function start(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env });
  const run: Running = { child, stdout: '', stderr: '', exit: Promise.resolve(null) };
  child.stdout?.on('data', (b) => {
    run.stdout += b;
  });
  child.stderr?.on('data', (b) => {
    run.stderr += b;
  });
  run.exit = new Promise((done) => child.on('close', (code) => done(code)));
  return run;
}

/**
 * The command-line clients outlive a Redis restart: `sweep --wait` and `status --watch` keep
 * reconnecting with backoff, say so, and carry on; `sweep --wait` ends with exit 0 and the full
 * table. (Before, both died with "Connection is closed".)
 */
describe('CLI clients through a Redis restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-reconnect-'));
  let redis: Awaited<ReturnType<typeof startRedisServer>> | undefined;
  let cluster: TestCluster | undefined;
  const running: Running[] = [];

  afterAll(async () => {
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await cluster?.cleanup();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sweep --wait exits 0 with every rollout in the table; status --watch keeps running', async () => {
    redis = await startRedisServer({ appendonly: true, dir });
    const port = redis.port;
    cluster = new TestCluster({
      items: 4,
      benchmarks: ['chartqa', 'tallyqa', 'ocrbench'],
      capacity: 1,
      latencyScale: 0.4,
      redisUrl: redis.url,
    });
    cluster.conn.on('error', () => {}); // this test's own connection waits the outage out too
    await cluster.start();
    await cluster.worker(['--role', 'all']);
    const file = cluster.sweepFile('reconnect', ['maestro', 'direct:Chart-R1']);
    const plan = await cluster.plan(file);
    const total = plan.rollouts.length;
    const env = cluster.env();
    const sweep = start(['sweep', file, '--wait'], env);
    const watch = start(['status', plan.meta.id, '--watch'], env);
    running.push(sweep, watch);

    const doneKey = keys.done(cluster.prefix, plan.meta.id);
    await until('a quarter scored', async () => (await cluster!.conn.hlen(doneKey)) >= total / 4, 300_000);
    const atKill = await cluster.conn.hlen(doneKey);
    process.kill(redis.pid, 'SIGKILL');
    await sleep(3_000); // the clients see the connection gone and retry several times
    redis = await startRedisServer({ appendonly: true, dir, port });

    const code = await sweep.exit;
    expect(atKill).toBeLessThan(total);
    expect(code, `${sweep.stdout}\n${sweep.stderr}`).toBe(0);
    expect(sweep.stderr).toMatch(
      /Redis unreachable at redis:\/\/127\.0\.0\.1:\d+\/? .*retrying in \d+\.\d s/,
    );
    expect(sweep.stderr).toMatch(/Redis reachable again/);
    expect(sweep.stdout).toContain(`sweep ${plan.meta.id}: ${total}/${total} scored`);
    // The full table: both policies, all three benchmarks.
    const table = sweep.stdout.slice(sweep.stdout.indexOf('| Policy'));
    for (const p of ['maestro', 'direct:Chart-R1']) expect(table).toMatch(new RegExp(`\\| ${p} \\|`));
    for (const b of ['ChartQA', 'TallyQA', 'OCRBench']) expect(table).toContain(b);

    // status --watch waited the outage out and shows the finished sweep.
    await until('status --watch to show the finished sweep', () =>
      watch.stdout.includes(`sweep ${plan.meta.id}: ${total}/${total} scored`),
    );
    expect(watch.child.exitCode).toBeNull();
    expect(watch.stderr).toMatch(/Redis unreachable at .*retrying in/);
    watch.child.kill('SIGTERM');
    await watch.exit;
  }, 600_000);
});
