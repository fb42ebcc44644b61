import { stringify } from 'csv-stringify/sync';
import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import type { ItemRecord } from '../core/items.ts';
import type { Cell, Summary } from './aggregate.ts';
import { pairedDifference } from './paired.ts';
import { DASH, fixed, md, mdTable, nameOf, pct } from './report-format.ts';

/**
 * details.csv and details.md: per policy × benchmark over items (n, correct, accuracy with
 * failures counted as wrong and over the items that ran, SE, Wilson interval, failures,
 * no-answer, extraction failures, latency, expert calls, tokens), and in details.md the
 * paired differences of every two policies.
 */

type DetailsOptions = { catalog: BenchmarkCatalog; sweepId: string };

const DETAIL_COLUMNS = [
  'policy',
  'benchmark',
  'n',
  'correct',
  'accuracy',
  'stderr',
  'ci95_lo',
  'ci95_hi',
  'errors',
  'accuracy_answered',
  'failed_outright',
  'no_answer',
  'extraction_failures',
  'latency_mean_ms',
  'latency_p50_ms',
  'latency_p95_ms',
  'expert_calls_mean',
  'tokens_mean',
];

export function detailsCsv(summary: Summary): string {
  const body = summary.cells.map((c) => [
    c.policy,
    c.benchmark,
    String(c.n),
    String(c.correct),
    fixed(c.accuracy, 4),
    fixed(c.stderr, 4),
    fixed(c.ci95?.[0], 4),
    fixed(c.ci95?.[1], 4),
    String(c.errors),
    fixed(c.accuracyAnswered, 4),
    String(c.failedOutright),
    String(c.noAnswer),
    String(c.extractionFailures),
    fixed(c.latencyMs?.mean, 1),
    fixed(c.latencyMs?.p50, 1),
    fixed(c.latencyMs?.p95, 1),
    fixed(c.expertCalls, 2),
    fixed(c.tokens, 1),
  ]);
  return stringify([DETAIL_COLUMNS, ...body]);
}

/** Bootstrap resamples for the paired differences in details.md. */
const PAIRED_RESAMPLES = 1000;

function pairedSection(summary: Summary, records: readonly ItemRecord[], opts: DetailsOptions): string[] {
  const rows: string[][] = [];
  for (let i = 0; i < summary.policies.length; i++) {
    for (let j = i + 1; j < summary.policies.length; j++) {
      const a = summary.policies[i] as string;
      const b = summary.policies[j] as string;
      for (const bench of summary.benchmarks) {
        const d = pairedDifference(records, a, b, bench, { resamples: PAIRED_RESAMPLES, seed: opts.sweepId });
        if (!d) continue;
        rows.push([
          `${md(a)} − ${md(b)}`,
          md(nameOf(opts.catalog, bench)),
          String(d.n),
          fixed(d.difference * 100, 1),
          `${fixed(d.ci95[0] * 100, 1)} to ${fixed(d.ci95[1] * 100, 1)}`,
          String(d.onlyA),
          String(d.onlyB),
        ]);
      }
    }
  }
  if (rows.length === 0) return [];
  return [
    '',
    '## Paired differences',
    '',
    `Accuracy difference in percentage points on the items both policies ran, with a 95 % percentile ` +
      `bootstrap interval over items (${PAIRED_RESAMPLES} resamples, seeded by the sweep id).`,
    '',
    mdTable(
      [
        'Policies',
        'Benchmark',
        'Paired n',
        'Difference (pp)',
        '95% CI (pp)',
        'Only first right',
        'Only second right',
      ],
      ['l', 'l', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
  ];
}

export function detailsMarkdown(
  summary: Summary,
  records: readonly ItemRecord[],
  opts: DetailsOptions,
): string {
  const header = [
    'Policy',
    'Benchmark',
    'n',
    'Correct',
    'Accuracy %',
    '± SE',
    '95% CI (Wilson)',
    'Failed (outright)',
    'Answered accuracy %',
    'No answer',
    'Extraction failed',
    'Latency mean / p50 / p95 (ms)',
    'Expert calls',
    'Tokens',
  ];
  const align: Array<'l' | 'r'> = ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
  const rows = summary.cells.map((c: Cell) => [
    md(c.policy),
    md(nameOf(opts.catalog, c.benchmark)),
    String(c.n),
    String(c.correct),
    pct(c.accuracy) ?? DASH,
    c.stderr === null ? DASH : fixed(c.stderr * 100, 1),
    c.ci95 ? `${fixed(c.ci95[0] * 100, 1)}–${fixed(c.ci95[1] * 100, 1)}` : DASH,
    `${c.errors} (${c.failedOutright})`,
    pct(c.accuracyAnswered) ?? DASH,
    String(c.noAnswer),
    String(c.extractionFailures),
    c.latencyMs
      ? `${fixed(c.latencyMs.mean, 0)} / ${fixed(c.latencyMs.p50, 0)} / ${fixed(c.latencyMs.p95, 0)}`
      : DASH,
    c.expertCalls === null ? DASH : fixed(c.expertCalls, 2),
    c.tokens === null ? DASH : fixed(c.tokens, 0),
  ]);
  const parts = [
    `# Details — sweep ${md(opts.sweepId)}`,
    '',
    'n counts items that ran (answered or no answer); failed items (errors, and in parentheses the ' +
      'rollouts that failed outright) count as wrong in the accuracy, its SE and its interval, as papers ' +
      'count them; the answered accuracy leaves them out. SE is the binomial standard error in percentage ' +
      'points; the interval is the Wilson score interval. This table is over items: for benchmarks with ' +
      'sub-scores, results.md has the published headline. Latency, expert calls and tokens are per item that ran.',
    '',
    mdTable(header, align, rows),
    ...pairedSection(summary, records, opts),
  ];
  if (summary.duplicatesDropped > 0) {
    parts.push(
      '',
      `${summary.duplicatesDropped} duplicate record(s) of the same item and seed were not counted.`,
    );
  }
  return `${parts.join('\n')}\n`;
}
