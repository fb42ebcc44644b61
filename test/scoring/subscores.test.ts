import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BenchmarkCatalog, loadCatalog, SubscoreSpec } from '../../src/core/benchmarks.ts';
import { FAILED_OUTRIGHT } from '../../src/core/failed.ts';
import type { ItemRecord } from '../../src/core/items.ts';
import { aggregate, findCell, headlineInterval } from '../../src/scoring/aggregate.ts';
import { hrbenchAverage } from '../../src/scoring/official/vlmeval-mcq.ts';
import { vlmsareblindTaskMean } from '../../src/scoring/official/vlmsareblind.ts';
import { type ItemFields, subscoresOf, UNKNOWN_GROUP } from '../../src/scoring/subscores.ts';
import { bench, rec } from './helpers.ts';

/** Item fields from a table itemId → extra. */
const fieldsOf =
  (table: Record<string, Record<string, unknown>>): ItemFields =>
  (_benchmark, itemId) =>
    table[itemId];

const spec = (s: unknown) => SubscoreSpec.parse(s);

describe('sub-scores: HR-Bench (per cycle_category, then averaged)', () => {
  // 3 cycles × 2 categories; per (cycle, category) a few items with a fixed pattern of right answers.
  const cycles = ['c0', 'c1', 'c2'];
  const fields: Record<string, Record<string, unknown>> = {};
  const records: ItemRecord[] = [];
  let k = 0;
  for (const [ci, cycle] of cycles.entries()) {
    for (const category of ['single', 'cross']) {
      const size = category === 'single' ? 3 + ci : 2;
      for (let i = 0; i < size; i++) {
        const itemId = `h${k++}`;
        fields[itemId] = { category, cycle_category: cycle };
        const failed = cycle === 'c1' && category === 'single' && i === 0;
        records.push(
          rec({
            policy: 'p',
            benchmark: 'hrbench4k',
            itemId,
            correct: !failed && (i + ci) % 2 === 0,
            ...(failed ? { status: 'error' as const, error: 'expert down' } : {}),
          }),
        );
      }
    }
  }
  const hr = spec({
    field: 'category',
    groups: ['single', 'cross'],
    meanOver: 'cycle_category',
    headline: 'overall',
  });
  const official = (rs: ItemRecord[]) =>
    hrbenchAverage(
      rs.map((r) => ({
        cycle: String(fields[r.itemId]?.cycle_category),
        category: String(fields[r.itemId]?.category),
        correct: r.status !== 'error' && r.correct,
      })),
    ).average;

  it('equals the official report_acc_hrbench with failures counted as wrong', () => {
    const s = subscoresOf(records, hr, fieldsOf(fields));
    const want = official(records);
    expect(s.groups.map((g) => g.name)).toEqual(['single', 'cross']);
    expect(s.score).toBeCloseTo(want.all as number, 12);
    expect(s.groups[0]?.accuracy).toBeCloseTo(want.single as number, 12);
    expect(s.groups[1]?.accuracy).toBeCloseTo(want.cross as number, 12);
    // The cycle mean is not the micro average over items (so the test is not vacuous).
    const micro = records.filter((r) => r.correct).length / records.length;
    expect(Math.abs((s.score ?? 0) - micro)).toBeGreaterThan(1e-3);
  });

  it('gives the same computation over the items that ran beside it', () => {
    const s = subscoresOf(records, hr, fieldsOf(fields));
    const ran = records.filter((r) => r.status !== 'error');
    const want = official(ran);
    expect(s.scoreAnswered).toBeCloseTo(want.all as number, 12);
    expect(s.groups[0]?.accuracyAnswered).toBeCloseTo(want.single as number, 12);
    expect(s.groups[0]).toMatchObject({ failed: 1, total: 12, ran: 11 });
    expect(s.groups[0]?.accuracy).not.toBeCloseTo(s.groups[0]?.accuracyAnswered ?? 0, 6);
  });
});

describe('sub-scores: VLMs Are Blind (task mean)', () => {
  const tasks = [
    ['Touching Circles', [true, true, false, false]],
    ['Circled Letter', [true, false, false]],
    ['Counting Grid - Blank Grids', [true, true]],
    ['counting grid - word grids', [false, false, false]],
    ['Subway Connections', [false, false]],
  ] as const;
  const fields: Record<string, Record<string, unknown>> = {};
  const records: ItemRecord[] = [];
  for (const [task, hits] of tasks) {
    hits.forEach((correct, i) => {
      const itemId = `${task}-${i}`;
      fields[itemId] = { task };
      records.push(rec({ policy: 'p', benchmark: 'vlmsareblind', itemId, correct }));
    });
  }
  const blind = spec({
    field: 'task',
    merge: { 'Counting Grid': ['Counting Grid - Blank Grids', 'Counting Grid - Word Grids'] },
    headline: 'mean',
  });

  it('merges the counting-grid tasks and averages the tasks, as vlmsareblindTaskMean does', () => {
    const s = subscoresOf(records, blind, fieldsOf(fields));
    const official = vlmsareblindTaskMean(
      records.map((r) => ({ task: String(fields[r.itemId]?.task), correct: r.correct })),
    );
    expect(s.groups.map((g) => g.name)).toEqual([
      'Circled Letter',
      'Counting Grid',
      'Subway Connections',
      'Touching Circles',
    ]);
    for (const g of s.groups)
      expect(g.accuracy).toBeCloseTo(official.perTask[g.name.toLowerCase()] as number, 12);
    expect(s.score).toBeCloseTo(official.taskMeanAllTasks, 12);
    // (0.5 + 2/5 + 0 + 1/3) / 4, not the micro 5/14.
    expect(s.score).toBeCloseTo((0.5 + 0.4 + 0 + 1 / 3) / 4, 12);
  });

  it('puts items without a task in "unknown", which the mean leaves out', () => {
    const extra = [
      ...records,
      rec({ policy: 'p', benchmark: 'vlmsareblind', itemId: 'no-task', correct: true }),
      rec({ policy: 'p', benchmark: 'vlmsareblind', itemId: 'not-in-dataset', correct: true }),
    ];
    const table = { ...fields, 'no-task': { other: 1 } };
    const s = subscoresOf(extra, blind, fieldsOf(table));
    expect(s.unknown).toBe(2);
    expect(s.groups.at(-1)).toMatchObject({ name: UNKNOWN_GROUP, total: 2, correct: 2, accuracy: 1 });
    expect(s.score).toBeCloseTo((0.5 + 0.4 + 0 + 1 / 3) / 4, 12);
    // Without any item fields, everything is unknown: the accuracy over items stands in for the mean.
    const none = subscoresOf(records, blind, undefined);
    expect(none.groups.map((g) => g.name)).toEqual([UNKNOWN_GROUP]);
    expect(none.score).toBeCloseTo(5 / 14, 12);
  });
});

describe('sub-scores: OCRBench (points out of 1,000) and TallyQA (boolean field)', () => {
  const ocr = spec({
    field: 'category',
    merge: { 'Text Recognition': ['Regular Text Recognition', 'Digit String Recognition'] },
    groups: ['Text Recognition', 'Scene Text-centric VQA', 'Key Information Extraction'],
    headline: 'sum',
    outOf: 1000,
  });

  it('counts right answers per category and scales the score to 1,000', () => {
    const fields = {
      o1: { category: 'Regular Text Recognition' },
      o2: { category: 'Digit String Recognition' },
      o3: { category: 'Scene Text-centric VQA' },
      o4: { category: 'Scene Text-centric VQA' },
      o5: { category: 'Key Information Extraction' },
    };
    const records = [
      rec({ policy: 'p', benchmark: 'ocrbench', itemId: 'o1', correct: true }),
      rec({ policy: 'p', benchmark: 'ocrbench', itemId: 'o2', correct: true }),
      rec({ policy: 'p', benchmark: 'ocrbench', itemId: 'o3', correct: true }),
      // A failed record is wrong even if its verdict fields say otherwise.
      rec({ policy: 'p', benchmark: 'ocrbench', itemId: 'o4', status: 'error', correct: true }),
      rec({ policy: 'p', benchmark: 'ocrbench', itemId: 'o5', correct: false }),
    ];
    const s = subscoresOf(records, ocr, fieldsOf(fields));
    expect(s.groups.map((g) => [g.name, g.correct, g.total])).toEqual([
      ['Text Recognition', 2, 2],
      ['Scene Text-centric VQA', 1, 2],
      ['Key Information Extraction', 0, 1],
    ]);
    expect(s.points).toBeCloseTo(600, 9); // 3 of 5, the failure wrong
    expect(s.pointsAnswered).toBeCloseTo(750, 9); // 3 of the 4 that ran
  });

  it('names TallyQA groups from the boolean issimple', () => {
    const tally = spec({
      field: 'issimple',
      merge: { simple: [true], complex: [false] },
      groups: ['simple', 'complex'],
      headline: 'overall',
    });
    const fields = { t1: { issimple: true }, t2: { issimple: false }, t3: { issimple: false }, t4: {} };
    const records = ['t1', 't2', 't3', 't4'].map((itemId, i) =>
      rec({ policy: 'p', benchmark: 'tallyqa', itemId, correct: i !== 2 }),
    );
    const s = subscoresOf(records, tally, fieldsOf(fields));
    expect(s.groups.map((g) => [g.name, g.accuracy])).toEqual([
      ['simple', 1],
      ['complex', 0.5],
      [UNKNOWN_GROUP, 1],
    ]);
    expect(s.score).toBe(0.75); // overall: every item, the unknown one included
  });

  it('rejects a sum without the points of the full benchmark', () => {
    expect(SubscoreSpec.safeParse({ field: 'category', headline: 'sum' }).success).toBe(false);
    expect(SubscoreSpec.safeParse({ field: 'category', headline: 'median' }).success).toBe(false);
  });
});

describe('sub-scores in the aggregate', () => {
  const catalog = new BenchmarkCatalog([
    {
      ...bench('blind', 'exact', 'out-of-domain'),
      name: 'Blind',
      subscores: spec({ field: 'task', headline: 'mean' }),
    },
    { ...bench('plain', 'exact'), name: 'Plain' },
  ]);
  const suite = { name: 's', inDomain: ['plain'], outOfDomain: ['blind'] };
  const fields: ItemFields = (_b, itemId) => ({ task: itemId.startsWith('a') ? 'A' : 'B' });

  it('counts every sample of every item, with failures wrong, and makes the headline the task mean', () => {
    const records: ItemRecord[] = [];
    // Task A: one item, 4 samples, 3 right. Task B: two items, 2 samples each, 1 right and 1 failed outright.
    for (let s = 0; s < 4; s++)
      records.push(rec({ policy: 'p', benchmark: 'blind', itemId: 'a0', sample: s, correct: s < 3 }));
    for (const itemId of ['b0', 'b1']) {
      records.push(rec({ policy: 'p', benchmark: 'blind', itemId, sample: 0, correct: itemId === 'b0' }));
      records.push(
        rec({
          policy: 'p',
          benchmark: 'blind',
          itemId,
          sample: 1,
          ...(itemId === 'b1'
            ? { status: 'error' as const, scoreReason: FAILED_OUTRIGHT }
            : { correct: false }),
        }),
      );
    }
    records.push(rec({ policy: 'p', benchmark: 'plain', itemId: 'x', correct: true }));
    const summary = aggregate(records, catalog, suite, fields);
    const c = findCell(summary, 'p', 'blind');
    expect(c).toMatchObject({ total: 8, n: 7, correct: 4, errors: 1, failedOutright: 1 });
    expect(c?.accuracy).toBeCloseTo(4 / 8, 12);
    expect(c?.accuracyAnswered).toBeCloseTo(4 / 7, 12);
    // Task A 3/4, task B 1/4 (1/3 over the samples that ran).
    expect(c?.headline).toBeCloseTo((0.75 + 0.25) / 2, 12);
    expect(c?.headlineAnswered).toBeCloseTo((0.75 + 1 / 3) / 2, 12);
    expect(headlineInterval(c as NonNullable<typeof c>)).toBeNull();
    expect(summary.byPolicy[0]?.outOfDomainAvg).toBeCloseTo(0.5, 12);
    const plain = findCell(summary, 'p', 'plain');
    expect(plain?.subscores).toBeUndefined();
    expect(headlineInterval(plain as NonNullable<typeof plain>)).toEqual(plain?.ci95);
  });
});

describe('the catalog', () => {
  it('gives the five benchmarks their published sub-scores', () => {
    const catalog = loadCatalog(fileURLToPath(new URL('../../benchmarks/catalog.yaml', import.meta.url)));
    const of = (id: string) => catalog.get(id).subscores;
    expect(of('charxiv')).toMatchObject({ field: 'question_type', groups: ['reasoning', 'descriptive'] });
    expect(of('hrbench4k')).toMatchObject({
      field: 'category',
      meanOver: 'cycle_category',
      headline: 'overall',
    });
    expect(of('tallyqa')).toMatchObject({
      field: 'issimple',
      merge: { simple: [true, 1], complex: [false, 0] },
    });
    expect(of('vlmsareblind')).toMatchObject({ field: 'task', headline: 'mean' });
    expect(of('ocrbench')).toMatchObject({ field: 'category', headline: 'sum', outOf: 1000 });
    expect(of('ocrbench')?.merge?.['Text Recognition']).toHaveLength(6);
    expect(of('chartqa')).toBeUndefined();
  });
});
