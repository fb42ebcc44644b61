import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { expertQueueName } from '../core/queues.ts';
import type { Registry } from '../core/registry.ts';
import { AdaptiveController, adaptiveStateKey } from '../models/adaptive.ts';
import {
  type Buckets,
  bucketQuantile,
  LIVE_WINDOW_MS,
  mergeBuckets,
  mergeLatency,
  readLive,
} from './live.ts';

const fmtMs = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(0));

/**
 * Live lines for `maestro-eval status`: per expert, the requests in flight cluster-wide
 * (its queue's active jobs), the limit in force (queue global concurrency, set by the
 * adaptive controller when the expert has one), the capacity, and the last minute's
 * latency percentiles merged over every live worker process; then per policy the step
 * latency, and the processes reporting.
 */
export async function liveStatusLines(conn: Redis, prefix: string, registry: Registry): Promise<string[]> {
  const live = await readLive(conn, prefix);
  const latency = mergeLatency(live);
  const lines: string[] = [
    '',
    `live (last ${LIVE_WINDOW_MS / 1000} s, ${live.length} worker process${live.length === 1 ? '' : 'es'} reporting)`,
    `  ${'expert'.padEnd(28)} ${'in-flight'.padStart(9)} ${'limit'.padStart(6)} ${'capacity'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'done'.padStart(6)}  adaptive`,
  ];
  for (const expert of registry.experts) {
    const q = new Queue(expertQueueName(expert.name), { connection: conn, prefix });
    const [counts, limit] = await Promise.all([q.getJobCounts('active'), q.getGlobalConcurrency()]);
    await q.close();
    const merged: Buckets = {};
    for (const [series, b] of Object.entries(latency)) {
      if (series.startsWith(`expert|${expert.name}|`)) mergeBuckets(merged, b);
    }
    const done = Object.values(merged).reduce((a, n) => a + n, 0);
    const state = expert.adaptive
      ? await AdaptiveController.read(conn, adaptiveStateKey(prefix, expert.name))
      : null;
    const adaptive = !expert.adaptive
      ? '-'
      : state
        ? `${state.limit} in [${state.min}, ${state.max}], last ${state.lastReason}${state.lastMeanMs ? ` at ${state.lastMeanMs.toFixed(0)} ms` : ''}`
        : 'not started';
    lines.push(
      `  ${expert.name.padEnd(28)} ${String(counts.active ?? 0).padStart(9)} ${String(limit ?? '-').padStart(6)} ${String(expert.capacity).padStart(8)} ${fmtMs(bucketQuantile(merged, 0.5)).padStart(7)} ${fmtMs(bucketQuantile(merged, 0.95)).padStart(7)} ${String(done).padStart(6)}  ${adaptive}`,
    );
  }
  const policies = Object.keys(latency).filter((s) => s.startsWith('policy|'));
  if (policies.length) {
    lines.push(
      `  ${'policy step'.padEnd(28)} ${''.padStart(9)} ${''.padStart(6)} ${''.padStart(8)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'done'.padStart(6)}`,
    );
    for (const series of policies.sort()) {
      const b = latency[series] ?? {};
      const n = Object.values(b).reduce((a, x) => a + x, 0);
      lines.push(
        `  ${series.slice('policy|'.length).padEnd(28)} ${''.padStart(9)} ${''.padStart(6)} ${''.padStart(8)} ${fmtMs(bucketQuantile(b, 0.5)).padStart(7)} ${fmtMs(bucketQuantile(b, 0.95)).padStart(7)} ${String(n).padStart(6)}`,
      );
    }
  }
  for (const e of live) {
    const flying = Object.entries(e.inFlight)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(
      `  worker ${e.host}:${e.pid} [${e.roles.join(',')}] rss ${(e.rssBytes / 2 ** 20).toFixed(0)} MB${flying ? `, in flight: ${flying}` : ''}`,
    );
  }
  return lines;
}
