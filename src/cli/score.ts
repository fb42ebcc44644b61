import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { type BenchmarkCatalog, loadCatalog, loadSuite, type Suite } from '../core/benchmarks.ts';
import { describeError, NotFoundError } from '../core/errors.ts';
import type { ItemRecord } from '../core/items.ts';
import type { JudgeContext, JudgeTrace } from '../core/judge.ts';
import { DEFAULT_CATALOG, DEFAULT_SUITE } from '../core/paths.ts';
import type { Registry } from '../core/registry.ts';
import type { DataStore } from '../data/store.ts';
import type { Comparison } from '../scoring/compare.ts';
import {
  dataStore,
  findSweep,
  type GlobalOptions,
  loadRegistryFrom,
  resolveEnv,
  sweepBenchmarks,
} from './context.ts';
import { positiveInt } from './options.ts';
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
  /** The judge model asked (none: no judge), and the requests it was sent (cache hits excluded). */
  judge: { name: string; model: string; calls: number } | null;
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
    /** A judge of the registry, or `none`; default: the sweep's own judge. */
    judge?: string;
    /** Registry the judge is found in; default: MAESTRO_REGISTRY or the simulated registry. */
    registry?: Registry;
    /** A CharXiv checkout for its instruction texts (default MAESTRO_CHARXIV_DIR). */
    charxivDir?: string;
  } = {},
): Promise<RescoreResult> {
  const { scoreItem, usesJudge } = await import('../scoring/index.ts');
  const { runReport } = await import('./report.ts');
  const meta = findSweep(store, sweep);
  const mode = opts.mode ?? meta.scoring ?? 'official';
  const catalog = opts.catalog ?? sweepBenchmarks(meta).catalog;
  const records = await store.readRecords(meta.id);
  const judging = await rescoreJudge(store, meta.judge, opts);
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
    judge: null,
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
      const benchmark = catalog.get(record.benchmark);
      const judge = judging && usesJudge(benchmark, mode) ? await judging.context() : undefined;
      verdict = await scoreItem(item, benchmark, record.rawOutput, mode, judge);
    } catch (err) {
      result.failures.push({ rolloutId: record.rolloutId, reason: describeError(err) });
      return;
    }
    result.rescored++;
    const same =
      verdict.correct === record.correct &&
      verdict.score === record.score &&
      verdict.extracted === record.extracted &&
      sameJudgeCall(verdict.judge, record.judge) &&
      (record.scoreMode ?? 'lenient') === mode;
    if (same) return;
    const { judge: _old, ...rest } = record;
    await store.writeRecord({
      ...rest,
      scoreMode: mode,
      extracted: verdict.extracted,
      correct: verdict.correct,
      score: verdict.score,
      scoreReason: verdict.reason,
      ...(verdict.judge ? { judge: verdict.judge } : {}),
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
  if (judging) result.judge = { ...judging.ref, calls: judging.calls() };
  await judging?.close();
  const report = await runReport(store, meta.id, opts.out);
  return { ...result, report };
}

/** The same judge call (model, input and verdict; whether it came from the cache does not matter). */
function sameJudgeCall(a: JudgeTrace | undefined, b: JudgeTrace | undefined): boolean {
  if (!a || !b) return a === b;
  return a.model === b.model && a.inputHash === b.inputHash && a.verdict === b.verdict;
}

/** The judge a re-score asks (the sweep's, or the one named), through the data directory's cache. */
async function rescoreJudge(
  store: DataStore,
  own: { name: string; model: string } | undefined,
  opts: { judge?: string; registry?: Registry; charxivDir?: string },
) {
  if (opts.judge === 'none' || (!opts.judge && !own)) return undefined;
  // The judge's client (the OpenAI SDK) loads only when a judge is asked.
  const { JudgeContexts } = await import('./judge.ts');
  const registry = opts.registry ?? loadRegistryFrom(undefined);
  const entry = registry.judge(opts.judge ?? (own as { name: string }).name);
  const ref = { name: entry.name, model: entry.model };
  const contexts = new JudgeContexts({
    registry,
    dataDir: store.root,
    charxivDir: opts.charxivDir ?? process.env.MAESTRO_CHARXIV_DIR,
  });
  let ctx: Promise<JudgeContext> | undefined;
  return {
    ref,
    context: () => {
      ctx ??= contexts.get(ref);
      return ctx;
    },
    calls: () => contexts.calls,
    close: () => contexts.close(),
  };
}

export function rescoreSummary(r: RescoreResult): string[] {
  const lines = [
    `sweep ${r.sweepId}: re-scored ${r.rescored} records from their stored outputs; ${r.rewritten} rewritten, ` +
      `${r.changes.length} verdict(s) changed; ${r.kept} kept as they are (errors, no answer, fan-out); ` +
      `${r.failures.length} could not be scored`,
  ];
  if (r.judge)
    lines.push(
      `judge ${r.judge.name} (${r.judge.model}): ${r.judge.calls} request(s) sent, the rest from its cache`,
    );
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

function benchmarksFrom(o: { catalog?: string; suite?: string }): {
  catalog: BenchmarkCatalog;
  suite: Suite;
} {
  const catalog = loadCatalog(o.catalog ? resolve(o.catalog) : DEFAULT_CATALOG);
  return { catalog, suite: loadSuite(o.suite ? resolve(o.suite) : DEFAULT_SUITE, catalog) };
}

interface RescoreFlags {
  out?: string;
  catalog?: string;
  mode?: string;
  judge?: string;
  registry?: string[];
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
    .option('--judge <name>', "judge model of the registry, or none (default: the sweep's judge)")
    .option('--registry <files...>', 'registry files the judge is found in (default MAESTRO_REGISTRY)')
    .action(async (sweep: string | undefined, o: RescoreFlags) => {
      if (o.mode !== undefined && o.mode !== 'official' && o.mode !== 'lenient') {
        throw new InvalidArgumentError(`--mode must be official or lenient, not "${o.mode}"`);
      }
      const store = dataStore(resolveEnv(globals()));
      const r = await rescoreSweep(store, sweep, {
        ...(o.out ? { out: o.out } : {}),
        ...(o.mode ? { mode: o.mode } : {}),
        ...(o.judge ? { judge: o.judge } : {}),
        ...(o.judge !== 'none' && (o.judge || o.registry) ? { registry: loadRegistryFrom(o.registry) } : {}),
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
