import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { BenchmarkCatalog, Suite } from '../core/benchmarks.ts';
import { writeFileAtomic, writeLinesAtomic } from '../core/files.ts';
import type { ItemRecord } from '../core/items.ts';
import {
  aggregate,
  type Cell,
  compareRecords,
  dedupeRecords,
  findCell,
  headlineInterval,
  type Summary,
} from './aggregate.ts';
import { type Price, routingAnalytics } from './analytics.ts';
import { fanoutHeatmapSvg, groupedBarSvg, routingHeatmapSvg, svgToPng } from './charts.ts';
import { isFailedOutright, itemLine } from './failed.ts';
import { detailsLatex, resultsLatex, subscoresLatex } from './latex.ts';
import { scoringNote } from './modes.ts';
import { roundTo } from './normalize.ts';
import { svgToPdf } from './pdf.ts';
import { promptSources, samplesMarkdown } from './release-table.ts';
import { detailsCsv, detailsMarkdown } from './report-details.ts';
import { DASH, fixed, md, mdTable, nameOf, pct } from './report-format.ts';
import { routedPolicies, routingMarkdown } from './report-routing.ts';
import { subscoresCsv, subscoresJson, subscoresMarkdown } from './report-subscores.ts';
import type { ItemFields } from './subscores.ts';

export { pct };

/**
 * Report writers. Files written to `outDir` (each atomically: temp file, fsync, rename):
 *
 * - `results.md`, `results.csv`, `results.json`: the paper's table. Rows are policies,
 *   columns each benchmark's published figure (percent, one decimal; failed items count as
 *   wrong; the sub-scores' headline for benchmarks with `subscores`) in suite order, then
 *   "In-domain avg" and "Out-of-domain avg". Only accuracies, n and failure counts appear,
 *   so the table is byte-identical whenever per-item outcomes are (latency, tokens and
 *   record order do not matter, and the sweep id is left out so a re-run under a new id
 *   compares equal; it heads details.md). Where items failed, Markdown adds the accuracy
 *   over the items that ran and the failure count inside the cell ("50.0 (66.7 answered;
 *   1 failed)"), and n in a second table; CSV and JSON keep them in their own
 *   columns/fields. CSV columns are benchmark ids; Markdown headers are benchmark names.
 *   results.md then has the sub-score tables (see `report-subscores.ts`).
 * - `subscores.csv`: the sub-scores, one line per policy, benchmark and group.
 * - `details.csv`, `details.md`: per policy × benchmark: n, correct, accuracy (failures as
 *   wrong) and over the items that ran, stderr, Wilson 95 % interval, errors (failed
 *   outright among them), no-answer, extraction failures, latency mean/p50/p95, expert calls
 *   and tokens per item. CSV keeps fractions (0–1); Markdown shows percent. details.md also
 *   lists, for every pair of policies and benchmark, the paired accuracy difference with a
 *   seeded bootstrap interval (see `paired.ts`).
 * - `summary.json`: the {@link Summary} from `aggregate`.
 * - `items.jsonl`: every record, one per line, sorted by policy, benchmark, itemId, seed.
 * - `results.tex`, `details.tex`, `subscores.tex`: the same tables in LaTeX (booktabs).
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
  /** Each item's `extra` fields, for the sub-scores (without it, their groups are "unknown"). */
  itemFields?: ItemFields;
  /**
   * The full record behind one of `records`, for items.jsonl, when `records` are slim
   * (DataStore.readRecords with `slim`): the record, its JSON text as stored (one line,
   * written as it is, not parsed and written again), or that line's bytes with its newline
   * (DataStore.recordLine: copied, not even decoded); without it, items.jsonl is written
   * from `records`.
   */
  fullRecord?: (r: ItemRecord) => Promise<ItemRecord | string | Uint8Array>;
  /**
   * Also raster the figures to PNG (2×, with sharp). Off by default: the SVG and PDF figures
   * are the report's, and the raster costs ~0.3 s of CPU and ~20 MB of resident memory.
   */
  png?: boolean;
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

interface MainRow {
  policy: string;
  /** The published figure in percent, failures counted as wrong. */
  accuracy: Record<string, number | null>;
  /** The same over the items that ran. */
  accuracyAnswered: Record<string, number | null>;
  n: Record<string, number | null>;
  /** Failed items (errors, failed-outright rollouts included). */
  errors: Record<string, number | null>;
  failedOutright: Record<string, number | null>;
  inDomainAvg: number | null;
  outOfDomainAvg: number | null;
  inDomainAvgAnswered: number | null;
  outOfDomainAvgAnswered: number | null;
  missingInDomain: string[];
  missingOutOfDomain: string[];
}

function mainRows(summary: Summary): MainRow[] {
  return summary.byPolicy.map((p) => {
    const accuracy: Record<string, number | null> = {};
    const accuracyAnswered: Record<string, number | null> = {};
    const n: Record<string, number | null> = {};
    const errors: Record<string, number | null> = {};
    const failedOutright: Record<string, number | null> = {};
    for (const b of summary.benchmarks) {
      const c = findCell(summary, p.policy, b);
      accuracy[b] = c ? numPct(c.headline) : null;
      accuracyAnswered[b] = c ? numPct(c.headlineAnswered) : null;
      n[b] = c ? c.n : null;
      errors[b] = c ? c.errors : null;
      failedOutright[b] = c ? c.failedOutright : null;
    }
    return {
      policy: p.policy,
      accuracy,
      accuracyAnswered,
      n,
      errors,
      failedOutright,
      inDomainAvg: numPct(p.inDomainAvg),
      outOfDomainAvg: numPct(p.outOfDomainAvg),
      inDomainAvgAnswered: numPct(p.inDomainAvgAnswered),
      outOfDomainAvgAnswered: numPct(p.outOfDomainAvgAnswered),
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
      return c ? mainCell(c) : DASH;
    });
    return [
      md(p.policy),
      ...cells,
      avgCell(p.inDomainAvg, p.inDomainAvgAnswered, p.failedInDomain),
      avgCell(p.outOfDomainAvg, p.outOfDomainAvgAnswered, p.failedOutOfDomain),
    ];
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
    `Suite \`${md(summary.suite)}\`. Accuracy in percent with failed items counted as wrong, as papers ` +
      'publish it; where items failed, the accuracy over the items that ran and the failure count follow ' +
      '("50.0 (66.7 answered; 1 failed)"; "outright": rollouts that failed for good). Benchmarks with ' +
      'sub-scores show their published headline (see Sub-scores). Averages are unweighted means over the ' +
      'benchmarks of each group.',
    '',
    mdTable(header, align, rows),
    '',
    'Items that ran per cell (n; failed items are not in n but count as wrong above):',
    '',
    mdTable(['Policy', ...summary.benchmarks.map((b) => md(nameOf(catalog, b)))], align.slice(0, -2), nRows),
  ];
  if (summary.policies.length === 0) parts.push('', 'No records.');
  if (notes.length > 0) parts.push('', ...notes);
  const sub = subscoresMarkdown(summary, catalog);
  if (sub) parts.push('', sub.trimEnd());
  return `${parts.join('\n')}\n`;
}

/** An average cell: "50.0", or "50.0 (55.0 answered)" when items of the group failed. */
function avgCell(avg: number | null, answered: number | null, failed: number): string {
  const main = pct(avg) ?? DASH;
  return failed > 0 && avg !== null ? `${main} (${pct(answered) ?? DASH} answered)` : main;
}

/** A main-table cell: "61.2", or "50.0 (66.7 answered; 2 failed, 1 outright)" when items failed. */
function mainCell(c: Cell): string {
  const acc = pct(c.headline) ?? DASH;
  if (c.errors === 0) return acc;
  const outright = c.failedOutright > 0 ? `, ${c.failedOutright} outright` : '';
  return `${acc} (${pct(c.headlineAnswered) ?? DASH} answered; ${c.errors} failed${outright})`;
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
    ...b.map((id) => `answered_${id}`),
    ...b.map((id) => `failed_outright_${id}`),
    'in_domain_avg_answered',
    'out_of_domain_avg_answered',
  ];
  const body = rows.map((r) => [
    r.policy,
    ...b.map((id) => fixed(r.accuracy[id], 1)),
    fixed(r.inDomainAvg, 1),
    fixed(r.outOfDomainAvg, 1),
    ...b.map((id) => (r.n[id] === null ? '' : String(r.n[id]))),
    ...b.map((id) => (r.errors[id] === null ? '' : String(r.errors[id]))),
    ...b.map((id) => fixed(r.accuracyAnswered[id], 1)),
    ...b.map((id) => (r.failedOutright[id] === null ? '' : String(r.failedOutright[id]))),
    fixed(r.inDomainAvgAnswered, 1),
    fixed(r.outOfDomainAvgAnswered, 1),
  ]);
  return stringify([header, ...body]);
}

function resultsJson(summary: Summary, opts: ReportOptions): string {
  const doc = {
    suite: summary.suite,
    title: opts.title ?? null,
    unit: 'percent',
    /** How failed items count in `accuracy` (and `accuracyAnswered` beside it). */
    failures: 'wrong',
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
    subscores: subscoresJson(summary, opts.catalog),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export { writeFileAtomic };

export async function writeReport(
  outDir: string,
  records: ItemRecord[],
  opts: ReportOptions,
): Promise<Report> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const summary = aggregate(records, opts.catalog, opts.suite, opts.itemFields);
  const unique = dedupeRecords(records).records;
  const routing = routingAnalytics(summary.policies.length ? unique : []);
  const fanout = new Set(unique.filter((r) => r.candidates).map((r) => r.policy));
  const heatmaps = routedPolicies(routing, fanout);
  const table = resultsMarkdown(summary, opts);
  const notes = [scoringNote(records), promptSources(records)].filter(Boolean).join('\n');
  const markdown = `${table}${notes ? `\n${notes}\n` : ''}\nCharts: [accuracy per benchmark and policy](accuracy.svg) · [routing analytics, heatmaps and cost](routing.md) · [mean@k ± s.e. and the release reward](samples.md)\n`;
  const sorted = [...records].sort(compareRecords);
  const caption = opts.title ?? `Results, suite ${summary.suite}`;
  const contents: Record<string, string> = {
    'results.md': markdown,
    'results.csv': resultsCsv(summary),
    'results.json': resultsJson(summary, opts),
    'subscores.csv': subscoresCsv(summary, opts.catalog),
    'results.tex': resultsLatex(summary, opts.catalog, `${caption}: accuracy in percent`),
    'details.csv': detailsCsv(summary),
    'details.md': detailsMarkdown(summary, records, opts),
    'details.tex': detailsLatex(summary, opts.catalog, `${caption}: details per policy and benchmark`),
    'subscores.tex': subscoresLatex(summary, opts.catalog, `${caption}: sub-scores in percent`),
    'summary.json': `${JSON.stringify(summary, null, 2)}\n`,
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
        values: summary.benchmarks.map((b) => findCell(summary, p.policy, b)?.headline ?? null),
        intervals: summary.benchmarks.map((b) => {
          const c = findCell(summary, p.policy, b);
          return c ? headlineInterval(c) : null;
        }),
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
    if (opts.png) binary[`${stem}.png`] = await svgToPng(svg, 2);
    binary[`${stem}.pdf`] = svgToPdf(svg);
  }
  const files: Record<string, string> = {};
  const writes: Array<Promise<void>> = [];
  for (const [name, text] of [...Object.entries(contents), ...Object.entries(binary)]) {
    const path = join(dir, name);
    files[name] = path;
    writes.push(writeFileAtomic(path, text));
  }
  // One line per record, written as it is made: a large sweep's lines do not fit one string.
  const items = join(dir, 'items.jsonl');
  const full = opts.fullRecord;
  writes.push(
    writeLinesAtomic(
      items,
      (async function* () {
        for (const r of sorted) {
          const whole = full ? await full(r) : r;
          // The stored text is the line, unless the line is not the record as it is.
          if (whole instanceof Uint8Array)
            yield isFailedOutright(r)
              ? itemLine(JSON.parse(Buffer.from(whole).toString()) as ItemRecord)
              : whole;
          else if (typeof whole !== 'string') yield itemLine(whole);
          else yield isFailedOutright(r) ? itemLine(JSON.parse(whole) as ItemRecord) : `${whole}\n`;
        }
      })(),
    ),
  );
  files['items.jsonl'] = items;
  // Written side by side: each file waits for its own fsync, not for the ones before it.
  await settleAll(writes);
  await removeStaleFigures(dir, files);
  return { files, markdown, text: notes ? `${table}\n${notes}\n` : table, summary };
}

/** Waits for every promise; fails with the first failure once all have settled (no write left running). */
async function settleAll(work: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Figures an earlier report of the same directory wrote and this one did not: heatmaps of
 * policies that no longer get one, and rasters of an earlier `png` report (out of date now).
 */
async function removeStaleFigures(dir: string, written: Record<string, string>): Promise<void> {
  for (const name of await readdir(dir)) {
    if (/^(accuracy|routing-.+|fanout-.+)\.(png|svg|pdf)$/.test(name) && !(name in written))
      await rm(join(dir, name));
  }
}
