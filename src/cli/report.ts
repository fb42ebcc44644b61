import { join } from 'node:path';
import type { Env } from '../core/env.ts';
import { readPause } from '../core/guards.ts';
import { connectRedis, redactUrl } from '../core/redis.ts';
import type { Registry } from '../core/registry.ts';
import type { DataStore } from '../data/store.ts';
import { liveStatusLines } from '../metrics/status.ts';
import {
  failedRollouts,
  listSweeps,
  queueCounts,
  readSweepMeta,
  sweepProgress,
} from '../producer/progress.ts';
import type { Price } from '../scoring/analytics.ts';
import { failedRecord, writeReport } from '../scoring/index.ts';
import { findSweep, loadBenchmarks, loadRegistryFrom } from './context.ts';

/** Prices by served model name from the registry (for the cost table). */
export function registryPrices(registry: Registry): Record<string, Price> {
  const prices: Record<string, Price> = {};
  for (const e of [...registry.experts, ...registry.services, ...registry.policies]) {
    if (e.pricePerMillionTokens) prices[e.model] = e.pricePerMillionTokens;
  }
  return prices;
}

/** Writes the report of a sweep from its durable records (no Redis needed). */
export async function runReport(store: DataStore, sweep: string | undefined, outDir?: string) {
  const meta = findSweep(store, sweep);
  // Rollouts that failed for good count too: as errors with their cause, never left out.
  const failures = await store.readFailures(meta.id);
  const records = [...(await store.readRecords(meta.id)), ...failures.map(failedRecord)];
  const { catalog, suite } = loadBenchmarks();
  const out = outDir ?? join(store.sweepDir(meta.id), 'report');
  let prices: Record<string, Price> = {};
  try {
    prices = registryPrices(loadRegistryFrom(undefined));
  } catch {
    // No readable registry here: the report goes without prices.
  }
  const report = await writeReport(out, records, {
    catalog,
    suite,
    sweepId: meta.id,
    title: `Sweep ${meta.id}`,
    prices,
  });
  return { meta, records, failed: failures.length, out, ...report };
}

/** A plain-text status of one sweep (or all) and the queues. */
export async function statusText(env: Env, registry: Registry, sweepId?: string): Promise<string> {
  const conn = connectRedis(env.REDIS_URL, 'client');
  conn.on('error', () => {});
  try {
    const lines: string[] = [`redis ${redactUrl(env.REDIS_URL)}  prefix ${env.MAESTRO_PREFIX}`];
    const metas = sweepId
      ? [await readSweepMeta(conn, env.MAESTRO_PREFIX, sweepId)].filter((m) => m !== null)
      : (await listSweeps(conn, env.MAESTRO_PREFIX)).slice(-3);
    if (metas.length === 0) lines.push('no sweeps yet');
    for (const meta of metas) {
      const failed = await failedRollouts(conn, env.MAESTRO_PREFIX, meta.id);
      const p = await sweepProgress(conn, env.MAESTRO_PREFIX, meta, failed);
      lines.push(
        '',
        `sweep ${meta.id}: ${p.done}/${p.total} scored, ${p.errors} errors, ${p.failed} failed outright`,
      );
      const pause = await readPause(conn, env.MAESTRO_PREFIX, meta.id);
      if (pause) {
        lines.push(
          `  PAUSED since ${pause.at}: ${pause.reason}; resume with \`maestro-eval sweep FILE --resume\``,
        );
      }
      lines.push(
        `  ${'benchmark'.padEnd(14)} ${'done'.padStart(11)} ${'correct'.padStart(8)} ${'errors'.padStart(7)}`,
      );
      for (const b of p.benchmarks) {
        lines.push(
          `  ${b.benchmark.padEnd(14)} ${`${b.done}/${b.total}`.padStart(11)} ${String(b.correct).padStart(8)} ${String(b.errors).padStart(7)}`,
        );
      }
    }
    lines.push('', `  ${'queue'.padEnd(36)} waiting  active  delayed  children  done  failed`);
    for (const q of await queueCounts(conn, env.MAESTRO_PREFIX, registry)) {
      const c = q.counts;
      lines.push(
        `  ${q.queue.padEnd(36)} ${String((c.waiting ?? 0) + (c.prioritized ?? 0)).padStart(7)} ${String(c.active ?? 0).padStart(7)} ${String(c.delayed ?? 0).padStart(8)} ${String(c['waiting-children'] ?? 0).padStart(9)} ${String(c.completed ?? 0).padStart(5)} ${String(c.failed ?? 0).padStart(7)}`,
      );
    }
    lines.push(...(await liveStatusLines(conn, env.MAESTRO_PREFIX, registry)));
    return lines.join('\n');
  } finally {
    conn.disconnect();
  }
}
