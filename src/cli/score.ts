import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { type BenchmarkCatalog, loadCatalog, loadSuite, type Suite } from '../core/benchmarks.ts';
import { describeError, NotFoundError } from '../core/errors.ts';
import type { ItemRecord } from '../core/items.ts';
import { DEFAULT_CATALOG, DEFAULT_SUITE } from '../core/paths.ts';
import type { DataStore } from '../data/store.ts';
import type { Comparison } from '../scoring/compare.ts';
import { dataStore, findSweep, type GlobalOptions, resolveEnv, sweepBenchmarks } from './context.ts';
import type { runReport } from './report.ts';

/**
 * `maestro-eval score [sweep]`: re-scores a finished sweep from its stored raw outputs with
 * the current extraction and metrics — no model is called again — and rewrites the report.
 * `maestro-eval compare A B [sweep]`: paired differences between two policies.
 * Scoring and reporting modules load when a command runs, not when it is registered.
 */

export interface VerdictChange {
  policy: string;
  benchmark: string;
  itemId: string;
  seed: number;
  before: { correct: boolean; extracted: string | null };
  after: { correct: boolean; extracted: string | null };
}

export interface RescoreResult {
  sweepId: string;
  /** Records whose stored raw output was scored again. */
  rescored: number;
  /** Records rewritten because their score (verdict, score, extracted answer or reason) changed. */
  rewritten: number;
  /** Rewritten records whose verdict (correct or not) flipped. */
  changes: VerdictChange[];
  /** Records kept as they are: errors, no-answers, fan-out records (their pairs' outputs are not stored). */
  kept: number;
  /** Records that could not be scored now (item gone, metric failed); left unchanged. */
  failures: Array<{ rolloutId: string; reason: string }>;
  /** Benchmarks whose dataset changed since the sweep ran (the items scored against now differ). */
  datasetChanged: string[];
  report: Awaited<ReturnType<typeof runReport>>;
}

/** Bounded-concurrency map: code items run Python, so a few at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
}

export async function rescoreSweep(
  store: DataStore,
  sweep: string | undefined,
  opts: {
    catalog?: BenchmarkCatalog;
    out?: string;
    concurrency?: number;
    mode?: 'official' | 'lenient';
  } = {},
): Promise<RescoreResult> {
  const { scoreItem } = await import('../scoring/index.ts');
  const { runReport } = await import('./report.ts');
  const meta = findSweep(store, sweep);
  const mode = opts.mode ?? meta.scoring ?? 'official';
  const catalog = opts.catalog ?? sweepBenchmarks(meta).catalog;
  const records = await store.readRecords(meta.id);
  const datasetChanged: string[] = [];
  for (const b of meta.benchmarks) {
    if (!store.hasDataset(b.id)) continue;
    if ((await store.loadDataset(b.id)).manifest.version !== b.version) datasetChanged.push(b.id);
  }
  const result: Omit<RescoreResult, 'report'> = {
    sweepId: meta.id,
    rescored: 0,
    rewritten: 0,
    changes: [],
    kept: 0,
    failures: [],
    datasetChanged,
  };
  await pool(records, opts.concurrency ?? 4, async (record: ItemRecord) => {
    const fanOut = (record as { candidates?: unknown[] }).candidates;
    if (record.status !== 'answered' || (fanOut && fanOut.length > 0)) {
      result.kept++;
      return;
    }
    let verdict: Awaited<ReturnType<typeof scoreItem>>;
    try {
      const item = await store.item(record.benchmark, record.itemId);
      verdict = await scoreItem(item, catalog.get(record.benchmark), record.rawOutput, mode);
    } catch (err) {
      result.failures.push({ rolloutId: record.rolloutId, reason: describeError(err) });
      return;
    }
    result.rescored++;
    const same =
      verdict.correct === record.correct &&
      verdict.score === record.score &&
      verdict.extracted === record.extracted &&
      verdict.reason === record.scoreReason &&
      (record.scoreMode ?? 'lenient') === mode;
    if (same) return;
    await store.writeRecord({
      ...record,
      scoreMode: mode,
      extracted: verdict.extracted,
      correct: verdict.correct,
      score: verdict.score,
      scoreReason: verdict.reason,
    });
    result.rewritten++;
    if (verdict.correct !== record.correct) {
      result.changes.push({
        policy: record.policy,
        benchmark: record.benchmark,
        itemId: record.itemId,
        seed: record.seed,
        before: { correct: record.correct, extracted: record.extracted },
        after: { correct: verdict.correct, extracted: verdict.extracted },
      });
    }
  });
  result.changes.sort((a, b) =>
    `${a.policy}\u0000${a.benchmark}\u0000${a.itemId}`.localeCompare(
      `${b.policy}\u0000${b.benchmark}\u0000${b.itemId}`,
    ),
  );
  const report = await runReport(store, meta.id, opts.out);
  return { ...result, report };
}

export function rescoreSummary(r: RescoreResult): string[] {
  const lines = [
    `sweep ${r.sweepId}: re-scored ${r.rescored} records from their stored outputs; ${r.rewritten} rewritten, ` +
      `${r.changes.length} verdict(s) changed; ${r.kept} kept as they are (errors, no answer, fan-out); ` +
      `${r.failures.length} could not be scored`,
  ];
  for (const c of r.changes.slice(0, 50)) {
    const show = (v: { correct: boolean; extracted: string | null }) =>
      `${v.correct ? 'right' : 'wrong'} (${v.extracted === null ? 'nothing extracted' : JSON.stringify(v.extracted)})`;
    lines.push(
      `  ${c.policy} ${c.benchmark} ${c.itemId} seed ${c.seed}: ${show(c.before)} → ${show(c.after)}`,
    );
  }
  if (r.changes.length > 50) lines.push(`  … and ${r.changes.length - 50} more`);
  for (const f of r.failures.slice(0, 20)) lines.push(`  not scored: ${f.rolloutId}: ${f.reason}`);
  if (r.datasetChanged.length > 0) {
    lines.push(
      `warning: the dataset of ${r.datasetChanged.join(', ')} changed since the sweep ran; items were scored against the current one`,
    );
  }
  return lines;
}

export async function runCompare(
  store: DataStore,
  policyA: string,
  policyB: string,
  sweep: string | undefined,
  opts: { catalog?: BenchmarkCatalog; suite?: Suite; resamples?: number } = {},
): Promise<{ sweepId: string; comparison: Comparison; markdown: string }> {
  const { comparePolicies, comparisonMarkdown } = await import('../scoring/compare.ts');
  const meta = findSweep(store, sweep);
  const own = sweepBenchmarks(meta);
  const catalog = opts.catalog ?? own.catalog;
  const suite = opts.suite ?? (opts.catalog ? loadSuite(DEFAULT_SUITE, catalog) : own.suite);
  const records = await store.readRecords(meta.id);
  const policies = [...new Set(records.map((r) => r.policy))].sort();
  for (const p of [policyA, policyB]) {
    if (!policies.includes(p)) {
      throw new NotFoundError(`policy "${p}" has no records in sweep ${meta.id}`, {
        hint: `policies in this sweep: ${policies.join(', ') || '(none)'}`,
      });
    }
  }
  const comparison = comparePolicies(records, policyA, policyB, {
    catalog,
    suite,
    seed: meta.id,
    ...(opts.resamples ? { resamples: opts.resamples } : {}),
  });
  return { sweepId: meta.id, comparison, markdown: comparisonMarkdown(comparison, catalog) };
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

function benchmarksFrom(o: { catalog?: string; suite?: string }): {
  catalog: BenchmarkCatalog;
  suite: Suite;
} {
  const catalog = loadCatalog(o.catalog ? resolve(o.catalog) : DEFAULT_CATALOG);
  return { catalog, suite: loadSuite(o.suite ? resolve(o.suite) : DEFAULT_SUITE, catalog) };
}

/** Registers `score` and `compare` (see src/cli/commands.ts). */
export function register(program: Command, { globals }: { globals: () => GlobalOptions }): void {
  program
    .command('score')
    .description(
      "re-score a sweep's stored outputs with the current metrics (no model calls) and rewrite its report",
    )
    .argument('[sweep]', 'sweep id or name (default: the latest)')
    .option('--out <dir>', 'report directory (default: <data-dir>/sweeps/<id>/report)')
    .option('--catalog <file>', 'benchmark catalog (default benchmarks/catalog.yaml)')
    .option('--mode <mode>', "official (the scorers of record) or lenient (default: the sweep's)")
    .action(async (sweep: string | undefined, o: { out?: string; catalog?: string; mode?: string }) => {
      if (o.mode !== undefined && o.mode !== 'official' && o.mode !== 'lenient') {
        throw new InvalidArgumentError(`--mode must be official or lenient, not "${o.mode}"`);
      }
      const store = dataStore(resolveEnv(globals()));
      const r = await rescoreSweep(store, sweep, {
        ...(o.out ? { out: o.out } : {}),
        ...(o.mode ? { mode: o.mode } : {}),
        catalog: loadCatalog(o.catalog ? resolve(o.catalog) : DEFAULT_CATALOG),
      });
      for (const line of rescoreSummary(r)) console.log(line);
      console.log('');
      console.log(r.report.text);
      console.log(`files:\n  ${Object.values(r.report.files).join('\n  ')}`);
      if (r.failures.length > 0) process.exitCode = 1;
    });

  program
    .command('compare')
    .description('paired accuracy difference of two policies per benchmark and over the suite averages')
    .argument('<policyA>', 'policy key as in the tables')
    .argument('<policyB>', 'policy key as in the tables')
    .argument('[sweep]', 'sweep id or name (default: the latest)')
    .option('--resamples <n>', 'bootstrap resamples', positiveInt, 2000)
    .option('--catalog <file>', 'benchmark catalog (default benchmarks/catalog.yaml)')
    .option('--suite <file>', 'suite whose groups are averaged (default benchmarks/suites/default.yaml)')
    .option('--json', 'print the comparison as JSON')
    .action(
      async (
        policyA: string,
        policyB: string,
        sweep: string | undefined,
        o: { resamples: number; catalog?: string; suite?: string; json?: boolean },
      ) => {
        const store = dataStore(resolveEnv(globals()));
        const r = await runCompare(store, policyA, policyB, sweep, {
          ...benchmarksFrom(o),
          resamples: o.resamples,
        });
        if (o.json) console.log(JSON.stringify({ sweepId: r.sweepId, ...r.comparison }, null, 2));
        else console.log(`sweep ${r.sweepId}\n\n${r.markdown}`);
      },
    );
}
