import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../src/core/benchmarks.ts';
import {
  DEFAULT_SCORING_MODE,
  getOfficialScorer,
  modeOf,
  officialPrediction,
  officialScorers,
  scoreItem,
  scorerFor,
} from '../../../src/scoring/index.ts';
import { makeItem } from '../helpers.ts';

const CATALOG = fileURLToPath(new URL('../../../benchmarks/catalog.yaml', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modes-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('scorers of record in the catalog', () => {
  it('names one for every shipped benchmark, with its upstream file and rule', () => {
    const catalog = loadCatalog(CATALOG);
    expect(catalog.benchmarks.length).toBe(14);
    for (const b of catalog.benchmarks) {
      expect(b.scorer, b.id).toBeDefined();
      expect(b.scorer?.source, b.id).toMatch(/^[\w.-]+\/[\w.-]+ \S+/);
    }
  });

  it('every implemented scorer is named by a catalog entry, under the same upstream source', () => {
    const catalog = loadCatalog(CATALOG);
    for (const s of Object.values(officialScorers)) {
      const entry = catalog.benchmarks.find((b) => b.scorer?.name === s.name);
      expect(entry, s.name).toBeDefined();
      expect(entry?.scorer?.source.startsWith(s.source.split(' ')[0] as string), s.name).toBe(true);
    }
  });

  it('registers every scorer implemented in src/scoring/official', () => {
    const files = readdirSync(fileURLToPath(new URL('../../../src/scoring/official/', import.meta.url)));
    const named = Object.values(officialScorers).map((s) => s.name);
    for (const f of files.filter((x) => x.endsWith('.ts'))) {
      const text = readFileSync(
        fileURLToPath(new URL(`../../../src/scoring/official/${f}`, import.meta.url)),
        'utf8',
      );
      for (const m of text.matchAll(/^export const (\w+): OfficialScorer/gm)) {
        const name = /name: '([^']+)'/.exec(text.slice(m.index))?.[1];
        expect(named, `${f} ${m[1]}`).toContain(name);
      }
    }
    expect(named.length).toBeGreaterThanOrEqual(7);
  });

  it('rejects a scorer entry without an "owner/repository file" source, naming the path', async () => {
    const file = join(dir, 'bad-scorer.yaml');
    await writeFile(
      file,
      [
        'benchmarks:',
        '  - { id: x, name: X, group: in-domain, domain: d, source: s, split: t, answerType: text, metric: exact,',
        '      scorer: { name: x, source: somewhere, rule: "the rule of x, in words" } }',
        '',
      ].join('\n'),
    );
    expect(() => loadCatalog(file)).toThrow(/benchmarks\[0\]\.scorer\.source/);
  });
});

describe('scoring modes', () => {
  const catalog = loadCatalog(CATALOG);
  const ocr = catalog.get('ocrbench');
  const item = makeItem({ benchmark: 'ocrbench', answers: ['WOOD LUMBER CO.'], answerType: 'list' });

  it('defaults to official', () => {
    expect(DEFAULT_SCORING_MODE).toBe('official');
    expect(scorerFor(ocr, DEFAULT_SCORING_MODE)?.name).toBe('ocrbench');
    expect(scorerFor(ocr, 'lenient')).toBeUndefined();
  });

  it('official mode applies the scorer of record and says so; lenient keeps the metric', async () => {
    const reply = '<think>a sign</think><answer>Wood Lumber Co.</answer>';
    const official = await scoreItem(item, ocr, reply);
    expect(official).toMatchObject({ correct: true, mode: 'official' });
    const lenient = await scoreItem(item, ocr, reply, 'lenient');
    expect(lenient.correct).toBe(false);
    expect(lenient.mode).toBeUndefined();
    expect(modeOf(lenient)).toBe('lenient');
    expect(modeOf(official)).toBe('official');
  });

  it('official mode sees the reply, not a cleaned answer: an untagged long reply still scores', async () => {
    const reply = `Reading the sign carefully from left to right, it says ${'"WOOD LUMBER CO."'} in capitals.`;
    expect((await scoreItem(item, ocr, reply)).correct).toBe(true);
    expect((await scoreItem(item, ocr, reply, 'lenient')).correct).toBe(false);
  });

  it('official mode on a benchmark whose scorer of record is missing or not implemented scores leniently', async () => {
    const { scorer: _drop, ...noScorer } = ocr;
    const unimplemented = {
      ...ocr,
      scorer: { name: 'not-yet', source: 'a/b file.py', rule: 'some rule here' },
    };
    for (const b of [noScorer, unimplemented]) {
      const r = await scoreItem(item, b, '<answer>Wood Lumber Co.</answer>');
      expect(r.mode).toBeUndefined();
      expect(r.correct).toBe(false);
    }
  });

  it('getOfficialScorer names the implemented scorers when asked for an unknown one', () => {
    expect(() => getOfficialScorer('nope')).toThrow(/no official scorer "nope" \(implemented: .*ocrbench/);
  });
});

describe('officialPrediction: the reply a benchmark harness records', () => {
  it('is the last answer tag when there is one', () => {
    expect(officialPrediction('<answer>A</answer> then <answer> B. </answer>')).toBe(' B. ');
  });
  it('drops think blocks from an untagged reply and keeps the rest as it is', () => {
    expect(officialPrediction('<think>maybe 3</think>The answer is 4.')).toBe('The answer is 4.');
    expect(officialPrediction('x <THINK>a</THINK> y <think>b</think> z')).toBe('x  y  z');
  });
  it('drops everything before a lone closing think tag, and an unclosed think block', () => {
    expect(officialPrediction('reasoning 3 … </think> Final: 4')).toBe(' Final: 4');
    expect(officialPrediction('Answer 4 <think>never closed 5')).toBe('Answer 4 ');
  });
});
