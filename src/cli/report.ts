import { join } from 'node:path';
import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import type { Registry } from '../core/registry.ts';
import type { SweepMeta } from '../core/sweep.ts';
import type { DataStore } from '../data/store.ts';
import type { Price } from '../scoring/analytics.ts';
import { failedRecord, writeReport } from '../scoring/index.ts';
import type { ItemFields } from '../scoring/subscores.ts';
import { findSweep, loadRegistryFrom, sweepBenchmarks } from './context.ts';

/** Prices by served model name from the registry (for the cost table). */
export function registryPrices(registry: Registry): Record<string, Price> {
  const prices: Record<string, Price> = {};
  for (const e of [...registry.experts, ...registry.services, ...registry.policies]) {
    if (e.pricePerMillionTokens) prices[e.model] = e.pricePerMillionTokens;
  }
  return prices;
}

/**
 * The `extra` fields of the sweep's items, for the benchmarks with sub-scores, read from the
 * data directory's datasets (an item no longer there, or a dataset not imported, leaves its
 * records in the group "unknown").
 */
export async function sweepItemFields(
  store: DataStore,
  meta: SweepMeta,
  catalog: BenchmarkCatalog,
): Promise<ItemFields> {
  const byBenchmark = new Map<string, Map<string, Readonly<Record<string, unknown>>>>();
  for (const { id } of meta.benchmarks) {
    if (!catalog.find(id)?.subscores || !store.hasDataset(id)) continue;
    const ds = await store.loadDataset(id);
    byBenchmark.set(id, new Map(ds.items.map((it) => [it.id, it.extra])));
  }
  return (benchmark, itemId) => byBenchmark.get(benchmark)?.get(itemId);
}

/**
 * Writes the report of a sweep from its durable records (no Redis needed). The records it
 * returns are slim (slimRecord: without their long texts); DataStore.readRecords gives them whole.
 */
export async function runReport(
  store: DataStore,
  sweep: string | undefined,
  outDir?: string,
  opts: { png?: boolean } = {},
) {
  const meta = findSweep(store, sweep);
  // Rollouts that failed for good count too: as errors with their cause, never left out.
  const failures = await store.readFailures(meta.id);
  // Held without their long texts (a sweep may have a million); items.jsonl reads each back.
  const stored = new Set(await store.readRecords(meta.id, { slim: true }));
  const records = [...stored, ...failures.map(failedRecord)];
  const { catalog, suite } = sweepBenchmarks(meta);
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
    itemFields: await sweepItemFields(store, meta, catalog),
    png: opts.png ?? false,
    fullRecord: async (r) => (stored.has(r) ? (store.recordLine(r) ?? store.wholeRecord(r)) : r),
  });
  return { meta, records, failed: failures.length, out, ...report };
}

export { statusText } from './status.ts';

/**
 * `report --json`: the sweep, its record count, the failed ones (errors, and rollouts that
 * failed outright among them: all counted as wrong), the files written and the results
 * summary (per cell: accuracy with failures wrong, accuracyAnswered, headline, subscores).
 */
export function reportJson(r: Awaited<ReturnType<typeof runReport>>) {
  return {
    sweepId: r.meta.id,
    records: r.records.length,
    failed: { errors: r.records.filter((x) => x.status === 'error').length, outright: r.failed },
    out: r.out,
    files: r.files,
    summary: r.summary,
  };
}
