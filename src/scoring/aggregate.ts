import type { BenchmarkCatalog, Suite } from '../core/benchmarks.ts';
import { FAILED_OUTRIGHT } from '../core/failed.ts';
import type { ItemRecord } from '../core/items.ts';
import { type ItemFields, type SubscoreCell, subscoresOf } from './subscores.ts';

/**
 * Aggregation of per-item records into the numbers the tables show.
 *
 * Per (policy, benchmark) cell:
 * - `total`: every record; `n`: records that ran (status `answered` or `no_answer`);
 *   `correct` among them. Records with status `error` failed (a run that ended in an error,
 *   or a rollout that failed outright, counted apart in `failedOutright`): `errors`.
 * - `accuracy = correct / total`: failures count as wrong, the convention papers publish
 *   (an item a model could not answer is not left out). `accuracyAnswered = correct / n`,
 *   over the items that ran, is shown beside it with the failure count.
 * - `stderr = sqrt(p(1 − p) / total)` (binomial standard error of `accuracy`).
 * - `ci95`: the Wilson score interval of `accuracy` (correct of total) at z = 1.96. Chosen
 *   over the normal (Wald) interval because it stays inside [0, 1] and keeps sensible
 *   coverage at small n and at accuracies near 0 or 1 — common with small fixture sets and
 *   easy/hard benchmarks.
 * - `headline`: the figure the benchmark publishes: `accuracy`, or, when the catalog gives
 *   the benchmark `subscores`, their headline (task mean, mean over cycles, points out of
 *   N as a fraction), with the sub-scores in `subscores` (see `subscores.ts`).
 * - `latencyMs` (mean, p50, p95 with linear interpolation between order statistics),
 *   `expertCalls` and `tokens` (prompt + completion) are means over the records that ran.
 * - `extractionFailures`: answered records whose extracted answer is null.
 *
 * The same item (policy, benchmark, itemId, seed) recorded twice — a retried job — counts
 * once: a finished record wins over an error, then the later `finishedAt`, then the larger
 * `rolloutId`. Results therefore never depend on the order records arrive in.
 *
 * Per policy: `inDomainAvg` / `outOfDomainAvg` are unweighted means of the per-benchmark
 * headlines over the suite's groups (as papers report), null when any benchmark of the
 * group has no cell for the policy (listed in `missing…`).
 */

export const Z95 = 1.959963984540054;

export interface LatencyStats {
  mean: number;
  p50: number;
  p95: number;
}

export interface Cell {
  policy: string;
  benchmark: string;
  /** Records in the cell after de-duplication (n + errors). */
  total: number;
  /** Records that ran (answered or no answer). */
  n: number;
  correct: number;
  /** correct / total: failures count as wrong (the published convention); null when total = 0. */
  accuracy: number | null;
  /** correct / n, over the items that ran; null when n = 0. */
  accuracyAnswered: number | null;
  /** Standard error of `accuracy`. */
  stderr: number | null;
  /** Wilson 95 % interval [lo, hi] of `accuracy`. */
  ci95: [number, number] | null;
  /** Failed records: errors, failed-outright rollouts included. */
  errors: number;
  /** Of `errors`, rollouts that failed outright (attempts exhausted). */
  failedOutright: number;
  /** The benchmark's published figure (fraction): `accuracy`, or the sub-scores' headline. */
  headline: number | null;
  /** The headline over the items that ran. */
  headlineAnswered: number | null;
  /** The benchmark's sub-scores, when the catalog defines them. */
  subscores?: SubscoreCell;
  noAnswer: number;
  extractionFailures: number;
  latencyMs: LatencyStats | null;
  /** Mean expert calls per item that ran. */
  expertCalls: number | null;
  /** Mean prompt + completion tokens per item that ran. */
  tokens: number | null;
}

export interface PolicySummary {
  policy: string;
  inDomainAvg: number | null;
  outOfDomainAvg: number | null;
  /** The same means over the items that ran (null when a benchmark of the group has none). */
  inDomainAvgAnswered: number | null;
  outOfDomainAvgAnswered: number | null;
  /** Failed items over the group's benchmarks. */
  failedInDomain: number;
  failedOutOfDomain: number;
  /** In-domain benchmarks without an accuracy for this policy (why `inDomainAvg` is null). */
  missingInDomain: string[];
  missingOutOfDomain: string[];
}

export interface Summary {
  suite: string;
  inDomain: string[];
  outOfDomain: string[];
  /** Policy keys, sorted. */
  policies: string[];
  /** Suite order (in-domain then out-of-domain), then other benchmarks in catalog order, then unknown ones sorted. */
  benchmarks: string[];
  /** Existing cells, in policy order then benchmark order. */
  cells: Cell[];
  byPolicy: PolicySummary[];
  /** Duplicate records (same policy, benchmark, item, seed) that were not counted. */
  duplicatesDropped: number;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sort key of a record: policy, benchmark, itemId, seed. */
export function compareRecords(a: ItemRecord, b: ItemRecord): number {
  return (
    cmp(a.policy, b.policy) ||
    cmp(a.benchmark, b.benchmark) ||
    cmp(a.itemId, b.itemId) ||
    a.seed - b.seed ||
    cmp(a.rolloutId, b.rolloutId) ||
    cmp(a.finishedAt, b.finishedAt)
  );
}

/** True when `a` should be kept over `b` for the same item. */
function preferred(a: ItemRecord, b: ItemRecord): boolean {
  const ae = a.status === 'error' ? 1 : 0;
  const be = b.status === 'error' ? 1 : 0;
  if (ae !== be) return ae < be;
  if (a.finishedAt !== b.finishedAt) return a.finishedAt > b.finishedAt;
  if (a.rolloutId !== b.rolloutId) return a.rolloutId > b.rolloutId;
  return JSON.stringify(a) > JSON.stringify(b);
}

/** One record per (policy, benchmark, itemId, seed, sample), chosen independently of input order. */
export function dedupeRecords(records: readonly ItemRecord[]): { records: ItemRecord[]; dropped: number } {
  const byKey = new Map<string, ItemRecord>();
  for (const r of records) {
    const key = JSON.stringify([r.policy, r.benchmark, r.itemId, r.seed, r.sample ?? 0]);
    const seen = byKey.get(key);
    if (!seen || preferred(r, seen)) byKey.set(key, r);
  }
  return { records: [...byKey.values()].sort(compareRecords), dropped: records.length - byKey.size };
}

/** Percentile with linear interpolation between closest ranks (numpy's default). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** Wilson score interval for `correct` successes out of `n` at normal quantile `z`. */
export function wilson(correct: number, n: number, z = Z95): [number, number] | null {
  if (n <= 0) return null;
  const p = correct / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0/n and n/n the bounds are exactly 0 and 1; say so rather than 0.9999999999999999.
  const lo = correct === 0 ? 0 : Math.max(0, center - half);
  const hi = correct === n ? 1 : Math.min(1, center + half);
  return [lo, hi];
}

function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function cellOf(
  policy: string,
  benchmark: string,
  records: readonly ItemRecord[],
  catalog: BenchmarkCatalog,
  fields: ItemFields | undefined,
): Cell {
  const ran = records.filter((r) => r.status !== 'error');
  const n = ran.length;
  const total = records.length;
  const correct = ran.filter((r) => r.correct).length;
  const accuracy = total > 0 ? correct / total : null;
  const accuracyAnswered = n > 0 ? correct / n : null;
  const latencies = ran.map((r) => r.latencyMs).sort((a, b) => a - b);
  const latMean = mean(latencies);
  const spec = catalog.find(benchmark)?.subscores;
  const subscores = spec ? subscoresOf(records, spec, fields) : undefined;
  return {
    policy,
    benchmark,
    total,
    n,
    correct,
    accuracy,
    accuracyAnswered,
    stderr: accuracy === null ? null : Math.sqrt((accuracy * (1 - accuracy)) / total),
    ci95: wilson(correct, total),
    errors: total - n,
    failedOutright: records.filter((r) => r.status === 'error' && r.scoreReason === FAILED_OUTRIGHT).length,
    headline: subscores ? subscores.score : accuracy,
    headlineAnswered: subscores ? subscores.scoreAnswered : accuracyAnswered,
    ...(subscores ? { subscores } : {}),
    noAnswer: ran.filter((r) => r.status === 'no_answer').length,
    extractionFailures: ran.filter((r) => r.status === 'answered' && r.extracted === null).length,
    latencyMs:
      latMean === null
        ? null
        : { mean: latMean, p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) },
    expertCalls: mean(ran.map((r) => r.expertCalls)),
    tokens: mean(ran.map((r) => r.promptTokens + r.completionTokens)),
  };
}

/** The unweighted mean of a group's headlines (and of its headlines over answered items). */
function groupAverage(ids: string[], cells: ReadonlyMap<string, Cell>) {
  const missing = ids.filter((id) => (cells.get(id)?.headline ?? null) === null);
  const of = (pick: (c: Cell) => number | null) => {
    const values = ids.map((id) => {
      const c = cells.get(id);
      return c ? pick(c) : null;
    });
    return ids.length === 0 || values.some((v) => v === null) ? null : mean(values as number[]);
  };
  const avg = missing.length > 0 ? null : of((c) => c.headline);
  const answered = missing.length > 0 ? null : of((c) => c.headlineAnswered);
  const failed = ids.reduce((a, id) => a + (cells.get(id)?.errors ?? 0), 0);
  return { avg, answered, failed, missing };
}

/** The benchmark order of the tables: suite order, then catalog order, then unknown ids sorted. */
export function benchmarkOrder(present: Iterable<string>, catalog: BenchmarkCatalog, suite: Suite): string[] {
  const seen = new Set(present);
  const order: string[] = [];
  const add = (id: string) => {
    if (!order.includes(id)) order.push(id);
  };
  for (const id of [...suite.inDomain, ...suite.outOfDomain]) add(id);
  for (const b of catalog.benchmarks) if (seen.has(b.id)) add(b.id);
  for (const id of [...seen].sort(cmp)) add(id);
  return order;
}

/**
 * The tables' numbers. `fields` gives each item's `extra` fields, for the sub-scores of the
 * benchmarks whose catalog entry has `subscores` (without it, every record is "unknown").
 */
export function aggregate(
  records: ItemRecord[],
  catalog: BenchmarkCatalog,
  suite: Suite,
  fields?: ItemFields,
): Summary {
  const { records: unique, dropped } = dedupeRecords(records);
  const groups = new Map<string, Map<string, ItemRecord[]>>();
  for (const r of unique) {
    let byBench = groups.get(r.policy);
    if (!byBench) {
      byBench = new Map();
      groups.set(r.policy, byBench);
    }
    const list = byBench.get(r.benchmark);
    if (list) list.push(r);
    else byBench.set(r.benchmark, [r]);
  }
  const policies = [...groups.keys()].sort(cmp);
  const benchmarks = benchmarkOrder(
    unique.map((r) => r.benchmark),
    catalog,
    suite,
  );

  const cells: Cell[] = [];
  const byPolicy: PolicySummary[] = [];
  for (const policy of policies) {
    const byBench = groups.get(policy) as Map<string, ItemRecord[]>;
    const mine = new Map<string, Cell>();
    for (const benchmark of benchmarks) {
      const list = byBench.get(benchmark);
      if (!list) continue;
      const cell = cellOf(policy, benchmark, list, catalog, fields);
      cells.push(cell);
      mine.set(benchmark, cell);
    }
    const inD = groupAverage(suite.inDomain, mine);
    const outD = groupAverage(suite.outOfDomain, mine);
    byPolicy.push({
      policy,
      inDomainAvg: inD.avg,
      outOfDomainAvg: outD.avg,
      inDomainAvgAnswered: inD.answered,
      outOfDomainAvgAnswered: outD.answered,
      failedInDomain: inD.failed,
      failedOutOfDomain: outD.failed,
      missingInDomain: inD.missing,
      missingOutOfDomain: outD.missing,
    });
  }
  return {
    suite: suite.name,
    inDomain: [...suite.inDomain],
    outOfDomain: [...suite.outOfDomain],
    policies,
    benchmarks,
    cells,
    byPolicy,
    duplicatesDropped: dropped,
  };
}

/**
 * The 95 % interval to draw around a cell's headline: the Wilson interval when the headline
 * is the accuracy over items, none when it is a mean of groups or of cycles.
 */
export function headlineInterval(c: Cell): [number, number] | null {
  const s = c.subscores;
  return s && (s.headline === 'mean' || s.meanOver) ? null : c.ci95;
}

/** The cell of a policy and benchmark, if any record exists for it. */
export function findCell(summary: Summary, policy: string, benchmark: string): Cell | undefined {
  return summary.cells.find((c) => c.policy === policy && c.benchmark === benchmark);
}
