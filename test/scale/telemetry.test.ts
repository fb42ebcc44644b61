import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusText } from '../../src/cli/report.ts';
import { readEnv } from '../../src/core/env.ts';
import { expertQueueName } from '../../src/core/queues.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { bucketQuantile, bucketValue, RecentLatencies } from '../../src/metrics/live.ts';
import { metricsAddress } from '../../src/metrics/server.ts';
import { AdaptiveController, adaptiveStateKey } from '../../src/models/adaptive.ts';
import { freePort } from '../../src/process/redis-server.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { TestCluster } from '../helpers/cluster.ts';

/** Value of one sample in a Prometheus text exposition (exact series match). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('worker metrics, live status and adaptive concurrency in a running cluster', () => {
  const extra = join(process.env.TMPDIR ?? '/tmp', `elastic-${process.pid}-${Date.now()}.yaml`);
  writeFileSync(
    extra,
    JSON.stringify({
      version: 1,
      experts: [
        {
          name: 'Elastic',
          model: 'elastic-sim',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the registry loader interpolates it per process
          baseUrl: '${MAESTRO_SIM_URL:-http://127.0.0.1:8990}/Elastic/v1',
          capacity: 4,
          offered: false,
          adaptive: { min: 1, max: 64 },
          sim: { latencyMs: { median: 100, sigma: 0.2 } },
        },
      ],
    }),
  );
  const cluster = new TestCluster({ items: 3, benchmarks: ['chartqa', 'tallyqa'], extraRegistry: [extra] });
  let plan: SweepPlan;
  let orchPort: number;
  let poolPort: number;

  beforeAll(async () => {
    await cluster.start();
    orchPort = await freePort();
    poolPort = await freePort();
    await Promise.all([
      cluster.worker(['--role', 'orchestrator'], { MAESTRO_METRICS_PORT: String(orchPort) }),
      // The flag, rather than the environment variable.
      cluster.worker(['--role', 'expert', '--metrics-port', String(poolPort)]),
      cluster.worker(['--role', 'scorer']),
    ]);
    plan = await cluster.plan(cluster.sweepFile('telemetry', ['direct:Elastic']));
    await cluster.submit(plan);
    await cluster.wait(plan);
  }, 120_000);

  afterAll(() => cluster.cleanup());

  it('serves Prometheus metrics on the configured port (env or flag)', async () => {
    const orch = cluster.workers[0];
    const pool = cluster.workers[1];
    expect(orch?.output).toContain(`metrics: http://127.0.0.1:${orchPort}/metrics`);
    expect(pool?.output).toContain(`metrics: http://127.0.0.1:${poolPort}/metrics`);
    expect(cluster.workers[2]?.output.some((l) => l.startsWith('metrics:'))).toBe(false);

    const poolText = await (await fetch(`http://127.0.0.1:${poolPort}/metrics`)).text();
    const n = plan.rollouts.length;
    expect(
      sample(poolText, 'maestro_skill_duration_seconds_count{expert="Elastic",skill="direct",outcome="ok"}'),
    ).toBe(n);
    expect(
      sample(poolText, 'maestro_expert_request_duration_seconds_count{expert="Elastic",skill="direct"}'),
    ).toBe(n);
    expect(sample(poolText, 'maestro_expert_in_flight{expert="Elastic"}')).toBe(0);
    expect(sample(poolText, `maestro_jobs_completed_total{queue="${expertQueueName('Elastic')}"}`)).toBe(n);
    expect(sample(poolText, 'maestro_queue_jobs{queue="rollouts",state="waiting"}')).toBe(0);
    expect(sample(poolText, 'maestro_queue_jobs{queue="rollouts",state="failed"}')).toBe(0);
    expect(poolText).toMatch(/^process_resident_memory_bytes \d+/m);
    const limit = sample(poolText, 'maestro_adaptive_limit{expert="Elastic"}');
    expect(limit).toBeGreaterThanOrEqual(1);
    expect(limit).toBeLessThanOrEqual(4);

    const orchText = await (await fetch(`http://127.0.0.1:${orchPort}/metrics`)).text();
    expect(
      sample(orchText, 'maestro_policy_step_duration_seconds_count{policy="direct:Elastic"}'),
    ).toBeGreaterThanOrEqual(n);
  });

  it('keeps the adaptive limit of an expert within [min, capacity], cluster-wide', async () => {
    const state = await AdaptiveController.read(cluster.conn, adaptiveStateKey(cluster.prefix, 'Elastic'));
    expect(state).not.toBeNull();
    expect(state?.max).toBe(4); // max 64 in the registry, clamped to the capacity
    expect(state?.min).toBe(1);
    const q = new Queue(expertQueueName('Elastic'), { connection: cluster.conn, prefix: cluster.prefix });
    expect(await q.getGlobalConcurrency()).toBe(state?.limit);
    await q.close();
    expect(cluster.sim.stats().Elastic?.peakInFlight).toBeLessThanOrEqual(4);
  });

  it('shows live in-flight, limits and recent latency in `status`', async () => {
    const env = { ...readEnv({}), REDIS_URL: cluster.redisUrl, MAESTRO_PREFIX: cluster.prefix };
    const registry = loadRegistry(cluster.registryFiles, {});
    let text = '';
    let cols: string[] = [];
    // Each worker process publishes every 2 s on its own clock: wait until the expert pool's
    // entry has counted the whole sweep and the orchestrator's has reported its policy steps.
    for (let i = 0; i < 50; i++) {
      text = await statusText(env, registry, plan.meta.id);
      cols =
        text
          .split('\n')
          .find((l) => l.trim().startsWith('Elastic'))
          ?.trim()
          .split(/\s+/) ?? [];
      if (Number(cols[6]) === plan.rollouts.length && /policy step/.test(text)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(text).toContain('worker processes reporting');
    const row = text.split('\n').find((l) => l.trim().startsWith('Elastic'));
    expect(cols[1]).toBe('0'); // in flight now
    expect(Number(cols[2])).toBeLessThanOrEqual(4); // limit in force
    expect(cols[3]).toBe('4'); // capacity
    expect(Number(cols[4])).toBeGreaterThan(0); // p50 ms
    expect(Number(cols[6])).toBe(plan.rollouts.length); // done in the last minute
    expect(row).toMatch(/in \[1, 4\]/);
    expect(text).toMatch(/policy step/);
  });
});

describe('metrics settings and live latency buckets', () => {
  it('defaults the metrics port to 9464, 0 under a test runner, and rejects a bad one', () => {
    expect(metricsAddress({})).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(metricsAddress({ VITEST: 'true' }).port).toBe(0);
    expect(metricsAddress({ MAESTRO_METRICS_PORT: '0' }).port).toBe(0);
    expect(metricsAddress({ MAESTRO_METRICS_PORT: '9100', MAESTRO_METRICS_HOST: '0.0.0.0' })).toEqual({
      port: 9100,
      host: '0.0.0.0',
    });
    expect(() => metricsAddress({ MAESTRO_METRICS_PORT: 'ninety' })).toThrow(/MAESTRO_METRICS_PORT/);
  });

  it('keeps only the last window and reads percentiles within a bucket’s width', () => {
    const r = new RecentLatencies(60_000);
    const t = 1_000_000;
    for (let i = 1; i <= 100; i++) r.record('x', i * 10, t);
    r.record('old', 5, t - 120_000);
    const snap = r.snapshot(t + 1);
    expect(Object.keys(snap)).toEqual(['x']);
    const p50 = bucketQuantile(snap.x ?? {}, 0.5) ?? 0;
    const p95 = bucketQuantile(snap.x ?? {}, 0.95) ?? 0;
    expect(p50 / 500).toBeGreaterThan(0.84);
    expect(p50 / 500).toBeLessThan(1.19);
    expect(p95 / 950).toBeGreaterThan(0.84);
    expect(p95 / 950).toBeLessThan(1.19);
    expect(bucketQuantile({}, 0.5)).toBeNull();
    expect(bucketValue(0)).toBeLessThan(1);
  });

  it('counts every sample of the window, at a constant cost per sample', () => {
    const r = new RecentLatencies(60_000);
    const t = 5_000_000;
    // 200,000 samples over 100 s: the first 40 s fall out of the window.
    for (let i = 0; i < 200_000; i++) r.record('busy', i % 2 ? 20 : 200, t + i / 2);
    const snap = r.snapshot(t + 100_000);
    const total = Object.values(snap.busy ?? {}).reduce((a, n) => a + n, 0);
    // Whole seconds count while any part is in the window: 60 or 61 of them, 2,000 samples each.
    expect(total).toBeGreaterThanOrEqual(120_000);
    expect(total).toBeLessThanOrEqual(122_000);
    expect(bucketQuantile(snap.busy ?? {}, 0.25)).toBeCloseTo(20, -1);
    expect(bucketQuantile(snap.busy ?? {}, 0.75)).toBeGreaterThan(150);
    // A sample stamped in an earlier second (the clock stepped back) still counts once.
    r.record('busy', 1000, t + 99_000);
    const again = r.snapshot(t + 100_000);
    expect(Object.values(again.busy ?? {}).reduce((a, n) => a + n, 0)).toBe(total + 1);
    expect(r.snapshot(t + 300_000)).toEqual({});
  });
});
