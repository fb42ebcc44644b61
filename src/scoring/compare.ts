import type { BenchmarkCatalog, Suite } from '../core/benchmarks.ts';
import type { ItemRecord } from '../core/items.ts';
import { benchmarkOrder } from './aggregate.ts';
import { roundTo } from './normalize.ts';
import {
  type PairedDifference,
  type PairedGroupDifference,
  pairedDifference,
  pairedGroupDifference,
} from './paired.ts';

/**
 * `maestro-eval compare A B`: the paired difference A − B per benchmark and over the suite's
 * in-domain and out-of-domain averages, with standard errors and bootstrap intervals
 * (see paired.ts for the formulas).
 */

export interface Comparison {
  policyA: string;
  policyB: string;
  /** Benchmarks where both policies ran at least one common item, in table order. */
  benchmarks: PairedDifference[];
  /** Benchmarks present for only one of the two policies, or with no common item. */
  unpaired: string[];
  inDomain: PairedGroupDifference | null;
  outOfDomain: PairedGroupDifference | null;
  resamples: number;
}

export interface CompareOptions {
  catalog: BenchmarkCatalog;
  suite: Suite;
  /** Bootstrap resamples. Default 2000. */
  resamples?: number;
  /** Bootstrap seed text (the sweep id, so a report is reproducible). */
  seed?: string;
}

export function comparePolicies(
  records: readonly ItemRecord[],
  policyA: string,
  policyB: string,
  opts: CompareOptions,
): Comparison {
  const resamples = opts.resamples ?? 2000;
  const paired = { resamples, seed: opts.seed ?? '' };
  const present = new Set(
    records.filter((r) => r.policy === policyA || r.policy === policyB).map((r) => r.benchmark),
  );
  const order = benchmarkOrder(present, opts.catalog, opts.suite).filter((b) => present.has(b));
  const benchmarks: PairedDifference[] = [];
  const unpaired: string[] = [];
  for (const b of order) {
    const d = pairedDifference(records, policyA, policyB, b, paired);
    if (d) benchmarks.push(d);
    else unpaired.push(b);
  }
  return {
    policyA,
    policyB,
    benchmarks,
    unpaired,
    inDomain: pairedGroupDifference(records, policyA, policyB, opts.suite.inDomain, paired),
    outOfDomain: pairedGroupDifference(records, policyA, policyB, opts.suite.outOfDomain, paired),
    resamples,
  };
}

function pp(x: number | null): string {
  return x === null ? '—' : roundTo(x * 100, 1).toFixed(1);
}

function signed(x: number | null): string {
  if (x === null) return '—';
  const v = roundTo(x * 100, 1);
  return `${v > 0 ? '+' : ''}${v.toFixed(1)}`;
}

function ci(c: [number, number] | null): string {
  return c ? `${signed(c[0])} to ${signed(c[1])}` : '—';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The comparison as a Markdown table (percent and percentage points, one decimal). */
export function comparisonMarkdown(c: Comparison, catalog: BenchmarkCatalog): string {
  const header = [
    'Benchmark',
    'Paired n',
    `${c.policyA} %`,
    `${c.policyB} %`,
    'Difference (pp)',
    'SE (pp)',
    '95% CI (pp)',
    `Only ${c.policyA} right`,
    `Only ${c.policyB} right`,
  ];
  const rows = c.benchmarks.map((d) => [
    catalog.find(d.benchmark)?.name ?? d.benchmark,
    String(d.n),
    pp(d.accuracyA),
    pp(d.accuracyB),
    signed(d.difference),
    pp(d.stderr),
    ci(d.ci95),
    String(d.onlyA),
    String(d.onlyB),
  ]);
  const groups: Array<[string, PairedGroupDifference | null]> = [
    ['In-domain avg', c.inDomain],
    ['Out-of-domain avg', c.outOfDomain],
  ];
  const notes: string[] = [];
  for (const [label, g] of groups) {
    if (!g) continue;
    rows.push([
      `**${label}** (${g.benchmarks.length})`,
      String(g.n),
      pp(g.accuracyA),
      pp(g.accuracyB),
      signed(g.difference),
      pp(g.stderr),
      ci(g.ci95),
      '',
      '',
    ]);
    if (g.missing.length > 0) notes.push(`- ${label}: no paired items on ${g.missing.join(', ')}.`);
  }
  if (c.unpaired.length > 0) notes.push(`- Not compared (no item ran under both): ${c.unpaired.join(', ')}.`);
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const table = [
    line(header),
    line(['---', ...header.slice(1).map(() => '---:')].map((x, i) => (i === 0 ? ':---' : x))),
    ...rows.map(line),
  ];
  return [
    `# ${c.policyA} − ${c.policyB}`,
    '',
    `Paired accuracy difference on the items both policies ran (errors excluded). SE is the plug-in ` +
      `standard error; the interval is a 95 % percentile bootstrap over items (${c.resamples} resamples, ` +
      'stratified by benchmark for the averages). Averages are unweighted over the benchmarks of each group.',
    '',
    ...table,
    ...(notes.length ? ['', ...notes] : []),
    '',
  ].join('\n');
}
