import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { BenchmarkCatalog, Suite } from '../core/benchmarks.ts';
import { writeFileAtomic } from '../core/files.ts';
import type { ItemRecord } from '../core/items.ts';
import { aggregate, type Cell, compareRecords, dedupeRecords, findCell, type Summary } from './aggregate.ts';
import { costAnalytics, learningCurve, type Price, type RoutingCell, routingAnalytics } from './analytics.ts';
import { fanoutHeatmapSvg, groupedBarSvg, routingHeatmapSvg, svgToPng } from './charts.ts';
import { itemLine } from './failed.ts';
import { detailsLatex, resultsLatex } from './latex.ts';
import { scoringNote } from './modes.ts';
import { roundTo } from './normalize.ts';
import { pairedDifference } from './paired.ts';
import { svgToPdf } from './pdf.ts';
import { promptSources, samplesMarkdown } from './release-table.ts';

/**
 * Report writers. Files written to `outDir` (each atomically: temp file, fsync, rename):
 *
 * - `results.md`, `results.csv`, `results.json`: the paper's table. Rows are policies,
 *   columns each benchmark's accuracy (percent, one decimal) in suite order, then
 *   "In-domain avg" and "Out-of-domain avg". Only accuracy, n and error counts appear, so
 *   the table is byte-identical whenever per-item outcomes are (latency, tokens and record
 *   order do not matter, and the sweep id is left out so a re-run under a new id compares
 *   equal; it heads details.md). Markdown shows errors inside the cell ("61.2 (2 err)") and n in a
 *   second table; CSV and JSON keep n and errors in their own columns/fields. CSV columns are
 *   benchmark ids; Markdown headers are benchmark names.
 * - `details.csv`, `details.md`: per policy × benchmark: n, correct, accuracy, stderr, Wilson
 *   95 % interval, errors, no-answer, extraction failures, latency mean/p50/p95, expert calls
 *   and tokens per item. CSV keeps fractions (0–1); Markdown shows percent. details.md also
 *   lists, for every pair of policies and benchmark, the paired accuracy difference with a
 *   seeded bootstrap interval (see `paired.ts`).
 * - `summary.json`: the {@link Summary} from `aggregate`.
 * - `items.jsonl`: every record, one per line, sorted by policy, benchmark, itemId, seed.
 * - `results.tex`, `details.tex`: the same tables in LaTeX (booktabs).
 * - Figures, each as SVG, PNG (2×) and a one-page PDF: `accuracy.*` (bars with 95 %
 *   intervals), `routing-<policy>.*` (share of skill calls per pair and benchmark, for
 *   policies that chose between pairs) and `fanout-<policy>.*` (fan-out policies such as
 *   the oracle: accuracy of every pair per benchmark).
 */

export interface ReportOptions {
  catalog: BenchmarkCatalog;
  suite: Suite;
  sweepId: string;
  /** Heading of results.md. Default "Results — suite <suite name>". */
  title?: string;
  /** Prices by served model name, for the cost table (from the registry). */
  prices?: Record<string, Price>;
}

export interface Report {
  /** File name → absolute path. */
  files: Record<string, string>;
  /** The text of results.md. */
  markdown: string;
  /** results.md's tables for a terminal (without the links to the report's other files). */
  text: string;
  summary: Summary;
}

const DASH = '—';

/** Accuracy as a percent with one decimal ("61.2"), or null. */
export function pct(x: number | null): string | null {
  return x === null ? null : roundTo(x * 100, 1).toFixed(1);
}

function fixed(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '' : roundTo(x, digits).toFixed(digits);
}

function md(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(header: string[], align: Array<'l' | 'r'>, rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const sep = align.map((a) => (a === 'l' ? ':---' : '---:'));
  return [line(header), line(sep), ...rows.map(line)].join('\n');
}

function nameOf(catalog: BenchmarkCatalog, id: string): string {
  return catalog.find(id)?.name ?? id;
}

interface MainRow {
  policy: string;
  accuracy: Record<string, number | null>;
  n: Record<string, number | null>;
  errors: Record<string, number | null>;
  inDomainAvg: number | null;
  outOfDomainAvg: number | null;
  missingInDomain: string[];
  missingOutOfDomain: string[];
}

function mainRows(summary: Summary): MainRow[] {
  return summary.byPolicy.map((p) => {
    const accuracy: Record<string, number | null> = {};
    const n: Record<string, number | null> = {};
    const errors: Record<string, number | null> = {};
    for (const b of summary.benchmarks) {
      const c = findCell(summary, p.policy, b);
      accuracy[b] = c ? numPct(c.accuracy) : null;
      n[b] = c ? c.n : null;
      errors[b] = c ? c.errors : null;
    }
    return {
      policy: p.policy,
      accuracy,
      n,
      errors,
      inDomainAvg: numPct(p.inDomainAvg),
      outOfDomainAvg: numPct(p.outOfDomainAvg),
      missingInDomain: p.missingInDomain,
      missingOutOfDomain: p.missingOutOfDomain,
    };
  });
}

function numPct(x: number | null): number | null {
  return x === null ? null : roundTo(x * 100, 1);
}

function resultsMarkdown(summary: Summary, opts: ReportOptions): string {
  const { catalog } = opts;
  const title = opts.title ?? `Results — suite ${summary.suite}`;
  const header = [
    'Policy',
    ...summary.benchmarks.map((b) => md(nameOf(catalog, b))),
    'In-domain avg',
    'Out-of-domain avg',
  ];
  const align: Array<'l' | 'r'> = ['l', ...summary.benchmarks.map(() => 'r' as const), 'r', 'r'];
  const rows = summary.byPolicy.map((p) => {
    const cells = summary.benchmarks.map((b) => {
      const c = findCell(summary, p.policy, b);
      if (!c) return DASH;
      const acc = pct(c.accuracy) ?? DASH;
      return c.errors > 0 ? `${acc} (${c.errors} err)` : acc;
    });
    return [md(p.policy), ...cells, pct(p.inDomainAvg) ?? DASH, pct(p.outOfDomainAvg) ?? DASH];
  });
  const nRows = summary.byPolicy.map((p) => [
    md(p.policy),
    ...summary.benchmarks.map((b) => {
      const c = findCell(summary, p.policy, b);
      return c ? String(c.n) : DASH;
    }),
  ]);
  const notes: string[] = [];
  for (const p of summary.byPolicy) {
    if (p.missingInDomain.length > 0 && summary.inDomain.length > 0) {
      notes.push(`- ${md(p.policy)}: no in-domain average; missing ${p.missingInDomain.join(', ')}.`);
    }
    if (p.missingOutOfDomain.length > 0 && summary.outOfDomain.length > 0) {
      notes.push(`- ${md(p.policy)}: no out-of-domain average; missing ${p.missingOutOfDomain.join(', ')}.`);
    }
  }
  const parts = [
    `# ${md(title)}`,
    '',
    `Suite \`${md(summary.suite)}\`. Accuracy in percent over the items that ran; ` +
      'items that failed to run are not counted and are shown as "(k err)". Averages are unweighted means ' +
      'over the benchmarks of each group.',
    '',
    mdTable(header, align, rows),
    '',
    'Items per cell (n):',
    '',
    mdTable(['Policy', ...summary.benchmarks.map((b) => md(nameOf(catalog, b)))], align.slice(0, -2), nRows),
  ];
  if (summary.policies.length === 0) parts.push('', 'No records.');
  if (notes.length > 0) parts.push('', ...notes);
  return `${parts.join('\n')}\n`;
}

function resultsCsv(summary: Summary): string {
  const rows = mainRows(summary);
  const b = summary.benchmarks;
  const header = [
    'policy',
    ...b,
    'in_domain_avg',
    'out_of_domain_avg',
    ...b.map((id) => `n_${id}`),
    ...b.map((id) => `errors_${id}`),
  ];
  const body = rows.map((r) => [
    r.policy,
    ...b.map((id) => fixed(r.accuracy[id], 1)),
    fixed(r.inDomainAvg, 1),
    fixed(r.outOfDomainAvg, 1),
    ...b.map((id) => (r.n[id] === null ? '' : String(r.n[id]))),
    ...b.map((id) => (r.errors[id] === null ? '' : String(r.errors[id]))),
  ]);
  return stringify([header, ...body]);
}

function resultsJson(summary: Summary, opts: ReportOptions): string {
  const doc = {
    suite: summary.suite,
    title: opts.title ?? null,
    unit: 'percent',
    benchmarks: summary.benchmarks.map((id) => ({
      id,
      name: nameOf(opts.catalog, id),
      group: summary.inDomain.includes(id)
        ? 'in-domain'
        : summary.outOfDomain.includes(id)
          ? 'out-of-domain'
          : (opts.catalog.find(id)?.group ?? null),
    })),
    rows: mainRows(summary),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

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
  'no_answer',
  'extraction_failures',
  'latency_mean_ms',
  'latency_p50_ms',
  'latency_p95_ms',
  'expert_calls_mean',
  'tokens_mean',
];

function detailsCsv(summary: Summary): string {
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

function pairedSection(summary: Summary, records: readonly ItemRecord[], opts: ReportOptions): string[] {
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

function detailsMarkdown(summary: Summary, records: readonly ItemRecord[], opts: ReportOptions): string {
  const header = [
    'Policy',
    'Benchmark',
    'n',
    'Correct',
    'Accuracy %',
    '± SE',
    '95% CI (Wilson)',
    'Errors',
    'No answer',
    'Extraction failed',
    'Latency mean / p50 / p95 (ms)',
    'Expert calls',
    'Tokens',
  ];
  const align: Array<'l' | 'r'> = ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'];
  const rows = summary.cells.map((c: Cell) => [
    md(c.policy),
    md(nameOf(opts.catalog, c.benchmark)),
    String(c.n),
    String(c.correct),
    pct(c.accuracy) ?? DASH,
    c.stderr === null ? DASH : fixed(c.stderr * 100, 1),
    c.ci95 ? `${fixed(c.ci95[0] * 100, 1)}–${fixed(c.ci95[1] * 100, 1)}` : DASH,
    String(c.errors),
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
    'n counts items that ran (answered or no answer); errors are items that failed to run and are ' +
      'not counted. SE is the binomial standard error in percentage points; the interval is the Wilson ' +
      'score interval. Latency, expert calls and tokens are per item that ran.',
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

export { writeFileAtomic };

export async function writeReport(
  outDir: string,
  records: ItemRecord[],
  opts: ReportOptions,
): Promise<Report> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const summary = aggregate(records, opts.catalog, opts.suite);
  const unique = dedupeRecords(records).records;
  const routing = routingAnalytics(summary.policies.length ? unique : []);
  const fanout = new Set(unique.filter((r) => r.candidates).map((r) => r.policy));
  const heatmaps = routedPolicies(routing, fanout);
  const table = resultsMarkdown(summary, opts);
  const notes = [scoringNote(records), promptSources(records)].filter(Boolean).join('\n');
  const markdown = `${table}${notes ? `\n${notes}\n` : ''}\nCharts: [accuracy per benchmark and policy](accuracy.png) · [routing analytics, heatmaps and cost](routing.md) · [mean@k ± s.e. and the release reward](samples.md)\n`;
  const sorted = [...records].sort(compareRecords);
  const caption = opts.title ?? `Results, suite ${summary.suite}`;
  const contents: Record<string, string> = {
    'results.md': markdown,
    'results.csv': resultsCsv(summary),
    'results.json': resultsJson(summary, opts),
    'results.tex': resultsLatex(summary, opts.catalog, `${caption}: accuracy in percent`),
    'details.csv': detailsCsv(summary),
    'details.md': detailsMarkdown(summary, records, opts),
    'details.tex': detailsLatex(summary, opts.catalog, `${caption}: details per policy and benchmark`),
    'summary.json': `${JSON.stringify(summary, null, 2)}\n`,
    'items.jsonl': sorted.map(itemLine).join(''),
  };
  contents['routing.md'] = routingMarkdown(summary, routing, heatmaps, unique, opts);
  const names = (id: string) => nameOf(opts.catalog, id);
  contents['samples.md'] = samplesMarkdown(unique, summary.benchmarks, names);
  const figures: Record<string, string> = {
    accuracy: groupedBarSvg(
      'Accuracy per benchmark (%)',
      summary.benchmarks.map(names),
      summary.byPolicy.map((p) => ({
        label: p.policy,
        values: summary.benchmarks.map((b) => findCell(summary, p.policy, b)?.accuracy ?? null),
        intervals: summary.benchmarks.map((b) => findCell(summary, p.policy, b)?.ci95 ?? null),
      })),
    ),
  };
  for (const [policy, file] of heatmaps) {
    const draw = fanout.has(policy) ? fanoutHeatmapSvg : routingHeatmapSvg;
    figures[file.slice(0, -4)] = draw(policy, routing, names, summary.benchmarks);
  }
  const binary: Record<string, Uint8Array> = {};
  for (const [stem, svg] of Object.entries(figures)) {
    contents[`${stem}.svg`] = svg;
    binary[`${stem}.png`] = await svgToPng(svg, 2);
    binary[`${stem}.pdf`] = await svgToPdf(svg);
  }
  const files: Record<string, string> = {};
  for (const [name, text] of [...Object.entries(contents), ...Object.entries(binary)]) {
    const path = join(dir, name);
    await writeFileAtomic(path, text);
    files[name] = path;
  }
  await removeStaleFigures(dir, files);
  return { files, markdown, text: notes ? `${table}\n${notes}\n` : table, summary };
}

/** Heatmaps an earlier report of the same directory wrote for policies that no longer get one. */
async function removeStaleFigures(dir: string, written: Record<string, string>): Promise<void> {
  for (const name of await readdir(dir)) {
    if (/^(routing|fanout)-.+\.(png|svg|pdf)$/.test(name) && !(name in written)) await rm(join(dir, name));
  }
}

/**
 * Policies that chose between several (expert, skill) pairs, with their heatmap file names
 * (`fanout-…` for fan-out policies, which send every item to every pair).
 */
function routedPolicies(routing: RoutingCell[], fanout: ReadonlySet<string>): Map<string, string> {
  const pairs = new Map<string, Set<string>>();
  for (const c of routing) {
    const set = pairs.get(c.policy) ?? new Set<string>();
    for (const k of Object.keys(c.choices)) set.add(k);
    pairs.set(c.policy, set);
  }
  const out = new Map<string, string>();
  for (const [policy, set] of pairs) {
    const stem = fanout.has(policy) ? 'fanout' : 'routing';
    if (set.size > 1) out.set(policy, `${stem}-${policy.replace(/[^A-Za-z0-9_.-]+/g, '_')}.png`);
  }
  return out;
}

function num(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : DASH;
}

function routingMarkdown(
  summary: Summary,
  routing: RoutingCell[],
  heatmaps: Map<string, string>,
  records: readonly ItemRecord[],
  opts: ReportOptions,
): string {
  const parts: string[] = [
    '# Routing analytics',
    '',
    'Per policy and benchmark: the (expert, skill) pairs chosen (share of skill calls), the accuracy of the items where each pair was chosen, calls and turns per item, and the format-error rate (malformed calls or unknown names, per turn).',
    '',
  ];
  for (const policy of summary.policies) {
    const cells = routing.filter((c) => c.policy === policy);
    if (cells.length === 0) continue;
    parts.push(`## ${md(policy)}`, '');
    const heatmap = heatmaps.get(policy);
    if (heatmap) {
      const kind = heatmap.startsWith('fanout-') ? 'fan-out accuracy per pair' : 'routing heatmap';
      parts.push(`![${kind} of ${md(policy)}](${heatmap})`, '');
    }
    const rows = cells.map((c) => {
      const total = Object.values(c.choices).reduce((a, b) => a + b, 0);
      const top = Object.entries(c.choices)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 3)
        .map(([k, n]) => {
          const acc = c.pairAccuracy[k];
          const accText = acc ? ` acc ${pct(acc.correct / acc.n)}` : '';
          return `${md(k.replace('@@', ' @ '))} ${Math.round((100 * n) / Math.max(1, total))}%${accText}`;
        })
        .join('; ');
      return [
        md(nameOf(opts.catalog, c.benchmark)),
        String(c.items),
        num(c.skillCalls / c.items, 2),
        num(c.modelCalls / c.items, 2),
        num(c.turns / c.items, 2),
        `${num((100 * c.formatErrors) / Math.max(1, c.turns))}%`,
        top || DASH,
      ];
    });
    parts.push(
      mdTable(
        [
          'Benchmark',
          'Items',
          'Skill calls/item',
          'Model calls/item',
          'Turns/item',
          'Format errors',
          'Top pairs (share, accuracy)',
        ],
        ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
        rows,
      ),
      '',
    );
    const curve = learningCurve(records, policy);
    if (curve.length > 0) {
      parts.push(
        'Learning curve (accuracy over consecutive blocks of decisions, in decision order):',
        '',
        mdTable(
          ['Decisions', 'n', 'Accuracy'],
          ['l', 'r', 'r'],
          curve.map((p) => [`${p.from}–${p.to}`, String(p.n), pct(p.accuracy) ?? DASH]),
        ),
        '',
      );
    }
  }
  const cost = costAnalytics(records, opts.prices);
  parts.push(
    '## Cost per item',
    '',
    "Means per item that ran. Policy time is the policy endpoint's; expert time is the skill calls' (queueing excluded). Cost counts calls to models with a price in the registry.",
    '',
    mdTable(
      [
        'Policy',
        'Items',
        'Policy ms',
        'Expert ms',
        'Policy tokens',
        'Expert tokens',
        'Expert calls',
        'Cost (USD)',
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      cost.map((c) => [
        md(c.policy),
        String(c.items),
        num(c.meanPolicyLatencyMs, 0),
        num(c.meanExpertLatencyMs, 0),
        num(c.meanPolicyTokens, 0),
        num(c.meanExpertTokens, 0),
        num(c.meanExpertCalls, 2),
        c.costUsd === null ? DASH : c.costUsd.toFixed(4),
      ]),
    ),
  );
  return `${parts.join('\n')}\n`;
}
