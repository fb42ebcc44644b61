import { mulberry32, sha256 } from '../core/hash.ts';
import type { ItemRecord } from '../core/items.ts';
import { dedupeRecords, percentile } from './aggregate.ts';

/**
 * Paired comparison of two policies: the items (and seeds, and samples) both ran, the
 * difference of their accuracies (A − B), its standard error and a 95 % percentile-bootstrap
 * interval over items. The bootstrap is seeded from the policies, benchmark(s) and `seed`,
 * so the same records always give the same interval.
 *
 * Per benchmark, with d_i = correct_A(i) − correct_B(i) ∈ {−1, 0, 1} over the n paired items:
 *   difference = mean(d)
 *   stderr     = sqrt(mean((d − mean(d))²) / n)      (the plug-in standard error, i.e. the
 *                                                     standard deviation of the bootstrap mean)
 * Over a group of K benchmarks (the in-domain or out-of-domain average):
 *   difference = (1/K) Σ_b difference_b               (unweighted, as the averages are)
 *   stderr     = sqrt(Σ_b stderr_b²) / K              (benchmarks are independent samples)
 *   bootstrap  = each resample draws n_b items with replacement within every benchmark and
 *                averages the K per-benchmark means (a stratified bootstrap).
 */

export interface PairedDifference {
  policyA: string;
  policyB: string;
  benchmark: string;
  /** Items (itemId, seed, sample) that ran under both policies. */
  n: number;
  accuracyA: number;
  accuracyB: number;
  /** accuracyA − accuracyB. */
  difference: number;
  /** Plug-in standard error of the difference. */
  stderr: number;
  ci95: [number, number];
  /** Items A got right and B wrong, and the reverse. */
  onlyA: number;
  onlyB: number;
  resamples: number;
}

export interface PairedGroupDifference {
  policyA: string;
  policyB: string;
  /** The group's benchmarks, in order. */
  benchmarks: string[];
  /** Benchmarks of the group without any paired item; when any, the numbers are null. */
  missing: string[];
  /** Paired items over the group. */
  n: number;
  /** Unweighted means over the group's benchmarks. */
  accuracyA: number | null;
  accuracyB: number | null;
  difference: number | null;
  stderr: number | null;
  ci95: [number, number] | null;
  resamples: number;
}

export interface PairedOptions {
  /** Bootstrap resamples. Default 2000. */
  resamples?: number;
  /** Extra seed text for the bootstrap. Default ''. */
  seed?: string;
}

function seeded(parts: unknown[]): () => number {
  return mulberry32(Number.parseInt(sha256(JSON.stringify(parts)).slice(0, 8), 16));
}

interface Pairs {
  diffs: number[];
  sumA: number;
  sumB: number;
  onlyA: number;
  onlyB: number;
}

/** The paired outcomes of A and B on one benchmark (errors excluded, duplicates counted once). */
function pairs(records: readonly ItemRecord[], policyA: string, policyB: string, benchmark: string): Pairs {
  const { records: unique } = dedupeRecords(
    records.filter((r) => r.benchmark === benchmark && r.status !== 'error'),
  );
  const key = (r: ItemRecord) => JSON.stringify([r.itemId, r.seed, (r as { sample?: number }).sample ?? 0]);
  const byB = new Map(unique.filter((r) => r.policy === policyB).map((r) => [key(r), r]));
  const out: Pairs = { diffs: [], sumA: 0, sumB: 0, onlyA: 0, onlyB: 0 };
  for (const a of unique) {
    if (a.policy !== policyA) continue;
    const b = byB.get(key(a));
    if (!b) continue;
    const x = a.correct ? 1 : 0;
    const y = b.correct ? 1 : 0;
    out.sumA += x;
    out.sumB += y;
    if (x > y) out.onlyA++;
    if (y > x) out.onlyB++;
    out.diffs.push(x - y);
  }
  return out;
}

function meanOf(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Plug-in standard error of the mean of `xs`. */
function plugInStderr(xs: readonly number[]): number {
  const m = meanOf(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / xs.length / xs.length);
}

/** One bootstrap mean of `diffs`. */
function resampleMean(diffs: readonly number[], rand: () => number): number {
  const n = diffs.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += diffs[Math.floor(rand() * n)] as number;
  return s / n;
}

function interval(means: number[]): [number, number] {
  means.sort((x, y) => x - y);
  return [percentile(means, 0.025), percentile(means, 0.975)];
}

/** Null when no item ran under both policies. */
export function pairedDifference(
  records: readonly ItemRecord[],
  policyA: string,
  policyB: string,
  benchmark: string,
  opts: PairedOptions = {},
): PairedDifference | null {
  const resamples = opts.resamples ?? 2000;
  const p = pairs(records, policyA, policyB, benchmark);
  const n = p.diffs.length;
  if (n === 0) return null;
  const rand = seeded([policyA, policyB, benchmark, opts.seed ?? '']);
  const means: number[] = new Array(resamples);
  for (let r = 0; r < resamples; r++) means[r] = resampleMean(p.diffs, rand);
  return {
    policyA,
    policyB,
    benchmark,
    n,
    accuracyA: p.sumA / n,
    accuracyB: p.sumB / n,
    difference: (p.sumA - p.sumB) / n,
    stderr: plugInStderr(p.diffs),
    ci95: interval(means),
    onlyA: p.onlyA,
    onlyB: p.onlyB,
    resamples,
  };
}

/**
 * The paired difference of a group's unweighted average (e.g. the in-domain average) with
 * a stratified bootstrap interval. Numbers are null when a benchmark of the group has no
 * paired item (as the averages themselves are then undefined); null for an empty group.
 */
export function pairedGroupDifference(
  records: readonly ItemRecord[],
  policyA: string,
  policyB: string,
  benchmarks: readonly string[],
  opts: PairedOptions = {},
): PairedGroupDifference | null {
  if (benchmarks.length === 0) return null;
  const resamples = opts.resamples ?? 2000;
  const per = benchmarks.map((b) => ({ benchmark: b, ...pairs(records, policyA, policyB, b) }));
  const missing = per.filter((p) => p.diffs.length === 0).map((p) => p.benchmark);
  const n = per.reduce((s, p) => s + p.diffs.length, 0);
  const base = { policyA, policyB, benchmarks: [...benchmarks], missing, n, resamples };
  if (missing.length > 0) {
    return { ...base, accuracyA: null, accuracyB: null, difference: null, stderr: null, ci95: null };
  }
  const k = per.length;
  const accA = meanOf(per.map((p) => p.sumA / p.diffs.length));
  const accB = meanOf(per.map((p) => p.sumB / p.diffs.length));
  const stderr = Math.sqrt(per.reduce((s, p) => s + plugInStderr(p.diffs) ** 2, 0)) / k;
  const rand = seeded([policyA, policyB, 'group', ...benchmarks, opts.seed ?? '']);
  const means: number[] = new Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (const p of per) s += resampleMean(p.diffs, rand);
    means[r] = s / k;
  }
  return {
    ...base,
    accuracyA: accA,
    accuracyB: accB,
    difference: meanOf(per.map((p) => (p.sumA - p.sumB) / p.diffs.length)),
    stderr,
    ci95: interval(means),
  };
}
