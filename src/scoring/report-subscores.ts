import { stringify } from 'csv-stringify/sync';
import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import type { Cell, Summary } from './aggregate.ts';
import { roundTo } from './normalize.ts';
import { DASH, fixed, md, mdTable, nameOf, pct } from './report-format.ts';
import { orderGroups, type SubscoreCell, type SubscoreGroup } from './subscores.ts';

/**
 * The sub-score tables of a report (results.md's "Sub-scores" section, subscores.csv and
 * the `subscores` of results.json): one table per benchmark with `subscores` in the
 * catalog, policies as rows, the headline then the groups as columns.
 */

export interface SubscoreBlock {
  benchmark: string;
  cells: Cell[];
  groups: string[];
  first: SubscoreCell;
}

/** The benchmarks with sub-scores, in table order, with their cells and the union of their groups. */
export function subscoreBlocks(summary: Summary, catalog: BenchmarkCatalog): SubscoreBlock[] {
  const out: SubscoreBlock[] = [];
  for (const benchmark of summary.benchmarks) {
    const cells = summary.cells.filter((c) => c.benchmark === benchmark && c.subscores);
    const first = cells[0]?.subscores;
    if (!first) continue;
    const present = new Set(cells.flatMap((c) => c.subscores?.groups.map((g) => g.name) ?? []));
    const groups = orderGroups(present, catalog.find(benchmark)?.subscores?.groups);
    out.push({ benchmark, cells, groups, first });
  }
  return out;
}

export function headlineTitle(s: SubscoreCell): string {
  if (s.headline === 'sum') return `Score (of ${s.outOf})`;
  if (s.headline === 'mean') return 'Mean of groups';
  return s.meanOver ? `Overall (mean over ${s.meanOver})` : 'Overall';
}

/** "61.2", or "61.2 (66.7 answered)" when items failed. */
function withAnswered(acc: number | null, answered: number | null, failed: number): string {
  const main = pct(acc) ?? DASH;
  return failed > 0 ? `${main} (${pct(answered) ?? DASH} answered)` : main;
}

const points = (x: number | null | undefined) => (x === null || x === undefined ? DASH : fixed(x, 0));

function headlineCell(c: Cell, s: SubscoreCell): string {
  if (s.headline !== 'sum') return withAnswered(s.score, s.scoreAnswered, c.errors);
  const notes = [
    ...(c.total === s.outOf ? [] : [`${c.correct} right of ${c.total}, scaled`]),
    ...(c.errors > 0 ? [`${points(s.pointsAnswered)} answered`] : []),
  ];
  return notes.length ? `${points(s.points)} (${notes.join('; ')})` : points(s.points);
}

function groupCell(g: SubscoreGroup | undefined, s: SubscoreCell): string {
  if (!g) return DASH;
  if (s.headline === 'sum') return `${g.correct} / ${g.total}`;
  return withAnswered(g.accuracy, g.accuracyAnswered, g.failed);
}

function explain(b: SubscoreBlock, catalog: BenchmarkCatalog): string {
  const s = b.first;
  const by = `Grouped by the item field \`${s.field}\``;
  const how =
    s.headline === 'sum'
      ? `; the score is the number of right answers out of ${s.outOf} (scaled to ${s.outOf} when the run has another number of items), groups as right / items`
      : s.headline === 'mean'
        ? '; the headline is the unweighted mean of the groups'
        : '; the headline is the accuracy over all items';
  const cycles = s.meanOver
    ? `; every accuracy is taken per \`${s.meanOver}\`, then averaged over its values`
    : '';
  return `### ${md(nameOf(catalog, b.benchmark))}\n\n${by}${how}${cycles}.`;
}

/** What a `mean` headline did with the group "unknown". */
function unknownNote(c: Cell): string {
  const s = c.subscores;
  if (s?.headline !== 'mean') return '';
  return s.unknown === c.total
    ? ': with no group known, the headline is the accuracy over all of them'
    : ', which the mean leaves out';
}

/** The "Sub-scores" section of results.md ('' when no benchmark of the report has sub-scores). */
export function subscoresMarkdown(summary: Summary, catalog: BenchmarkCatalog): string {
  const parts: string[] = [];
  for (const b of subscoreBlocks(summary, catalog)) {
    const header = ['Policy', md(headlineTitle(b.first)), ...b.groups.map(md)];
    const rows = b.cells.map((c) => {
      const s = c.subscores as SubscoreCell;
      return [
        md(c.policy),
        headlineCell(c, s),
        ...b.groups.map((g) =>
          groupCell(
            s.groups.find((x) => x.name === g),
            s,
          ),
        ),
      ];
    });
    const notes = b.cells
      .filter((c) => (c.subscores?.unknown ?? 0) > 0)
      .map(
        (c) =>
          `- ${md(c.policy)}: ${c.subscores?.unknown} record(s) whose item has no \`${b.first.field}\` (or is no longer in the dataset) are in the group "unknown"${unknownNote(c)}.`,
      );
    parts.push(
      explain(b, catalog),
      '',
      mdTable(header, ['l', ...header.slice(1).map(() => 'r' as const)], rows),
      ...(notes.length ? ['', ...notes] : []),
      '',
    );
  }
  if (parts.length === 0) return '';
  return [
    '## Sub-scores',
    '',
    'The groups papers publish, in percent with failed items counted as wrong; where items failed, the accuracy over the items that ran follows.',
    '',
    ...parts,
  ].join('\n');
}

const p1 = (x: number | null | undefined) => (x === null || x === undefined ? null : roundTo(x * 100, 1));
const r1 = (x: number | null | undefined) => (x === null || x === undefined ? null : roundTo(x, 1));

/** results.json's `subscores`: per benchmark, per policy, in percent (points as points). */
export function subscoresJson(summary: Summary, catalog: BenchmarkCatalog) {
  return subscoreBlocks(summary, catalog).map((b) => ({
    benchmark: b.benchmark,
    field: b.first.field,
    headline: b.first.headline,
    ...(b.first.meanOver ? { meanOver: b.first.meanOver } : {}),
    ...(b.first.outOf ? { outOf: b.first.outOf } : {}),
    groups: b.groups,
    rows: b.cells.map((c) => {
      const s = c.subscores as SubscoreCell;
      return {
        policy: c.policy,
        score: p1(s.score),
        scoreAnswered: p1(s.scoreAnswered),
        ...(s.headline === 'sum' ? { points: r1(s.points), pointsAnswered: r1(s.pointsAnswered) } : {}),
        unknown: s.unknown,
        groups: s.groups.map((g) => ({
          ...g,
          accuracy: p1(g.accuracy),
          accuracyAnswered: p1(g.accuracyAnswered),
        })),
      };
    }),
  }));
}

/** subscores.csv: one line per policy, benchmark and group (group "(headline)" first); fractions 0–1. */
export function subscoresCsv(summary: Summary, catalog: BenchmarkCatalog): string {
  const header = [
    'policy',
    'benchmark',
    'group',
    'items',
    'ran',
    'correct',
    'failed',
    'accuracy',
    'accuracy_answered',
  ];
  const body: string[][] = [];
  for (const b of subscoreBlocks(summary, catalog)) {
    for (const c of b.cells) {
      const s = c.subscores as SubscoreCell;
      body.push([
        c.policy,
        b.benchmark,
        '(headline)',
        String(c.total),
        String(c.n),
        String(c.correct),
        String(c.errors),
        fixed(s.score, 4),
        fixed(s.scoreAnswered, 4),
      ]);
      for (const g of s.groups) {
        body.push([
          c.policy,
          b.benchmark,
          g.name,
          String(g.total),
          String(g.ran),
          String(g.correct),
          String(g.failed),
          fixed(g.accuracy, 4),
          fixed(g.accuracyAnswered, 4),
        ]);
      }
    }
  }
  return stringify([header, ...body]);
}
