import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FailedItem } from '../../src/core/failed.ts';
import type { ItemRecord, Step } from '../../src/core/items.ts';
import type { SweepMeta } from '../../src/core/sweep.ts';
import { cellAccuracyText, cellPage, comparePage, itemPage } from '../../src/dashboard/item-views.ts';
import {
  comparePolicies,
  failedOutright,
  filterChoices,
  filterRecords,
  parseItemFilter,
  progressFromRecords,
  RecordCache,
  turnsOf,
} from '../../src/dashboard/records.ts';
import { failedSection, resultsHtml, svgSize } from '../../src/dashboard/sweep-views.ts';
import { DataStore } from '../../src/data/store.ts';
import { failedRecord } from '../../src/scoring/failed.ts';
import { rec } from '../scoring/helpers.ts';

const EVIL = '<img src=x onerror="window.__pwned=1">';

const step = (over: Partial<Step> & Pick<Step, 'turn'>): Step => ({
  policyText: 'thinking',
  policyLatencyMs: 10,
  policyPromptTokens: 1,
  policyCompletionTokens: 1,
  action: { type: 'answer', answer: 'x' },
  calls: [],
  ...over,
});

const search = (turn: number, expert: string, skill: string, extra: Partial<Step> = {}): Step =>
  step({
    turn,
    policyText: `<search>${expert}@@${skill}: q</search>`,
    action: { type: 'search', model: expert, skill, input: 'q' },
    expert,
    skill,
    observation: `${expert} says hello`,
    ...extra,
  });

function records(): ItemRecord[] {
  return [
    rec({
      policy: 'm',
      benchmark: 'alpha',
      itemId: 'a0',
      correct: true,
      steps: [search(0, 'X', 'count'), step({ turn: 1 })],
    }),
    rec({
      policy: 'm',
      benchmark: 'alpha',
      itemId: 'a1',
      correct: false,
      steps: [
        step({ turn: 0, resampled: true, action: { type: 'invalid', reason: 'no search' } }),
        search(0, 'Y', 'chart'),
        step({ turn: 1 }),
      ],
    }),
    rec({ policy: 'm', benchmark: 'alpha', itemId: 'a2', status: 'error', error: 'expert down' }),
    rec({ policy: 'd', benchmark: 'alpha', itemId: 'a0', correct: false }),
    rec({ policy: 'd', benchmark: 'alpha', itemId: 'a1', correct: false }),
    rec({ policy: 'd', benchmark: 'alpha', itemId: 'a2', correct: true }),
  ];
}

describe('the item browser’s filters', () => {
  const m = records().filter((r) => r.policy === 'm');
  const ids = (f: Record<string, string>) => filterRecords(m, parseItemFilter(f)).map((r) => r.itemId);

  it('keeps wrong items, errors, an expert’s, a skill’s, a turn count’s and a text’s', () => {
    expect(ids({})).toEqual(['a0', 'a1', 'a2']);
    expect(ids({ wrong: '1' })).toEqual(['a1']);
    expect(ids({ errors: '1' })).toEqual(['a2']);
    expect(ids({ expert: 'Y' })).toEqual(['a1']);
    expect(ids({ skill: 'count' })).toEqual(['a0']);
    expect(ids({ turns: '2' })).toEqual(['a0', 'a1']);
    expect(ids({ turns: '0' })).toEqual(['a2']);
    expect(ids({ q: 'Y SAYS' })).toEqual(['a1']);
    expect(ids({ q: 'expert down' })).toEqual(['a2']);
    expect(ids({ wrong: '1', expert: 'X' })).toEqual([]);
  });

  it('does not count resampled turns, and ignores malformed fields one by one', () => {
    expect(m.map(turnsOf)).toEqual([2, 2, 0]);
    expect(parseItemFilter({ turns: 'many', wrong: 'yes', expert: 'X', q: '' })).toEqual({ expert: 'X' });
    expect(filterChoices(m)).toEqual({ experts: ['X', 'Y'], skills: ['chart', 'count'], turns: [0, 2] });
  });
});

describe('comparing two policies item by item', () => {
  it('puts the discordant items first', () => {
    const rows = comparePolicies(records(), 'm', 'd', 'alpha');
    expect(rows.map((r) => [r.itemId, r.discordant])).toEqual([
      ['a0', true],
      ['a2', true],
      ['a1', false],
    ]);
    expect(rows[0]?.a?.policy).toBe('m');
    expect(rows[0]?.b?.policy).toBe('d');
  });
});

describe('progress from records', () => {
  it('counts done, correct and errors per cell against the plan', () => {
    const meta: SweepMeta = {
      v: 1,
      id: 's',
      name: 's',
      fingerprint: 'f',
      createdAt: '2000-01-01T00:00:00.000Z',
      registryFingerprint: 'r',
      policies: [
        { key: 'm', kind: 'maestro' },
        { key: 'd', kind: 'random' },
      ],
      benchmarks: [{ id: 'alpha', version: 'v', count: 4 }],
      seeds: [0],
      maxTurns: 4,
    } as SweepMeta;
    const p = progressFromRecords(meta, records());
    expect(p.total).toBe(8);
    expect(p.done).toBe(6);
    expect(p.errors).toBe(1);
    expect(p.cells.find((c) => c.policy === 'm')).toMatchObject({ done: 3, correct: 1, errors: 1, total: 4 });
    expect(p.cells.find((c) => c.policy === 'd')).toMatchObject({ done: 3, correct: 1, errors: 0, total: 4 });
  });
});

describe('the item pages', () => {
  const evil = rec({
    policy: `m${EVIL}`,
    benchmark: 'alpha',
    itemId: `a${EVIL}`,
    rawOutput: `<answer>${EVIL}</answer>`,
    extracted: EVIL,
    scoreReason: EVIL,
    steps: [search(0, `X${EVIL}`, 'count', { observation: EVIL, policyText: EVIL, resampled: true })],
  });

  it('escape every model text', () => {
    const out = [
      itemPage({ sweepId: 's', record: evil, item: null, itemError: EVIL, siblings: [evil] }).text,
      cellPage({
        sweepId: 's',
        policy: evil.policy,
        benchmark: 'alpha',
        all: [evil],
        shown: [evil],
        filter: { q: EVIL },
        choices: filterChoices([evil]),
        gold: () => [EVIL],
      }).text,
      comparePage({
        sweepId: 's',
        policies: [evil.policy, 'd'],
        benchmarks: ['alpha'],
        a: evil.policy,
        b: 'd',
        benchmark: '',
        rows: comparePolicies([evil], evil.policy, 'd'),
      }).text,
    ];
    for (const html of out) {
      expect(html).not.toContain('<img src=x');
      expect(html).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;');
    }
    expect(out[0]).toContain('resampled: thrown away and sampled again');
  });
});

describe('the charts of the results section', () => {
  it('reads a chart size from its SVG root and refuses an SVG without one', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="338.5" viewBox="0 0 640 338.5"><rect width="9" height="9"/></svg>';
    expect(svgSize(svg)).toEqual({ width: 640, height: 338.5 });
    expect(svgSize('<svg viewBox="0 0 10 10"><rect width="9" height="9"/></svg>')).toBeNull();
    expect(svgSize('GIF89a')).toBeNull();
  });

  it('shows each chart as its SVG at its size, with PDF and PNG (when written) as downloads', () => {
    const names = [
      'accuracy.pdf',
      'accuracy.png',
      'accuracy.svg',
      'results.md',
      'routing-m.pdf',
      'routing-m.svg',
      'routing.md',
    ];
    const out = resultsHtml('s1', '# Results', names, {
      'accuracy.svg': { width: 640, height: 338 },
    }).toString();
    const imgs = [...out.matchAll(/<img src="([^"]+)"[^>]*>/g)].map((m) => m[0]);
    expect(imgs).toHaveLength(2);
    expect(imgs[0]).toContain('src="/sweeps/s1/report/accuracy.svg"');
    expect(imgs[0]).toContain('width="640" height="338"');
    expect(imgs[1]).toContain('src="/sweeps/s1/report/routing-m.svg"');
    expect(out).toContain('href="/sweeps/s1/report/accuracy.png">PNG</a>');
    expect(out).not.toContain('routing-m.png');
    // The report files list has the other files, not the charts' formats.
    const list = out.slice(out.indexOf('Report files'));
    expect(list).toContain('results.md');
    expect(list).not.toMatch(/accuracy\.(svg|pdf|png)/);
  });
});

describe('rollouts that failed outright', () => {
  const failure = (itemId: string, cause: string): FailedItem => ({
    v: 1,
    sweepId: 's',
    rolloutId: `s.alpha.m.${itemId}.s0`,
    policy: 'm',
    benchmark: 'alpha',
    itemId,
    seed: 0,
    sample: 0,
    cause,
    failedAt: '2000-01-01T00:00:00.000Z',
  });

  it('are listed with their cause in the cell’s items and on the sweep’s page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-dash-failed-'));
    try {
      const store = new DataStore(dir);
      await store.writeRecord(
        rec({ sweepId: 's', rolloutId: 's.alpha.m.a0.s0', policy: 'm', benchmark: 'alpha', itemId: 'a0' }),
      );
      await store.writeFailure(failure('a1', `storage error writing /data/x.json: ENOSPC ${EVIL}`));
      const cache = new RecordCache(store);
      const all = await cache.records('s');
      expect(all.map((r) => r.itemId).sort()).toEqual(['a0', 'a1']);
      const failed = all.filter(failedOutright);
      expect(failed.map((r) => r.itemId)).toEqual(['a1']);

      const cell = cellPage({
        sweepId: 's',
        policy: 'm',
        benchmark: 'alpha',
        all,
        shown: all,
        filter: {},
        choices: filterChoices(all),
        gold: () => undefined,
      }).text;
      expect(cell).toContain('1 errors (1 failed outright)');
      expect(cell).toMatch(
        /data-item="a1">.*class="cause">failed outright: storage error writing \/data\/x\.json: ENOSPC/,
      );
      expect(cell).not.toContain('<img src=x');

      const page = failedSection('s', failed).text;
      expect(page).toContain('Failed outright (1)');
      expect(page).toMatch(
        /data-failed="s\.alpha\.m\.a1\.s0">.*<td class="bad cause">storage error writing \/data\/x\.json: ENOSPC/,
      );
      expect(page).toContain('href="/sweeps/s/items/s.alpha.m.a1.s0"');
      expect(page).not.toContain('<img src=x');
      expect(failedSection('s', []).text).toBe('');

      // A record written later (a retry) replaces the failure note everywhere.
      await store.writeRecord(
        rec({ sweepId: 's', rolloutId: 's.alpha.m.a1.s0', policy: 'm', benchmark: 'alpha', itemId: 'a1' }),
      );
      expect((await cache.records('s')).filter(failedOutright)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('count apart from scored items in progress from records', () => {
    const meta = {
      v: 1,
      id: 's',
      name: 's',
      fingerprint: 'f',
      createdAt: '2000-01-01T00:00:00.000Z',
      registryFingerprint: 'r',
      policies: [{ key: 'm', kind: 'maestro' }],
      benchmarks: [{ id: 'alpha', version: 'v', count: 2 }],
      seeds: [0],
      maxTurns: 4,
    } as SweepMeta;
    const records = [rec({ policy: 'm', benchmark: 'alpha', itemId: 'a0', correct: true })];
    const p = progressFromRecords(meta, [...records, failedRecord(failure('a1', 'disk full'))]);
    expect(p).toMatchObject({ total: 2, done: 1, failed: 1, errors: 0 });
  });
});

describe("a cell's items page", () => {
  it('gives the accuracy with failed items counted as wrong, and over the items that ran', () => {
    const all = [
      rec({ policy: 'p', benchmark: 'alpha', itemId: 'a', correct: true }),
      rec({ policy: 'p', benchmark: 'alpha', itemId: 'b', correct: false }),
      rec({ policy: 'p', benchmark: 'alpha', itemId: 'c', status: 'error', correct: true }),
    ];
    const page = cellPage({
      sweepId: 's',
      policy: 'p',
      benchmark: 'alpha',
      all,
      shown: all,
      filter: {},
      choices: filterChoices(all),
      gold: () => ['x'],
    }).text;
    expect(page).toContain(
      '3 items · 1 correct · 1 errors · accuracy 33.3 % (failed items wrong; 50.0 % over the items that ran)',
    );
    expect(cellAccuracyText(2, 2, 0)).toBe('accuracy 100.0 %');
    expect(cellAccuracyText(0, 0, 0)).toBe('accuracy —');
    expect(cellAccuracyText(0, 2, 2)).toBe('accuracy 0.0 % (failed items wrong; — over the items that ran)');
  });
});
