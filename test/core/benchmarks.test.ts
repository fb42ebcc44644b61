import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, loadSuite } from '../../src/core/benchmarks.ts';
import { DataStore } from '../../src/data/store.ts';
import { importFixtureSets } from '../../src/importers/fixtures.ts';
import { aggregate } from '../../src/scoring/aggregate.ts';
import { scoreItem } from '../../src/scoring/index.ts';
import { rec } from '../scoring/helpers.ts';

const DEFAULT_CATALOG = fileURLToPath(new URL('../../benchmarks/catalog.yaml', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'benchmarks-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('suites are data', () => {
  it('a user-written suite file picks benchmarks of the catalog, and the tables average over it', async () => {
    const file = join(dir, 'charts.yaml');
    await writeFile(file, 'name: charts\ninDomain: [chartqa, charxiv]\noutOfDomain: [ocrbench]\n');
    const catalog = loadCatalog(DEFAULT_CATALOG);
    const suite = loadSuite(file, catalog);
    expect(suite).toEqual({ name: 'charts', inDomain: ['chartqa', 'charxiv'], outOfDomain: ['ocrbench'] });
    const records = [
      rec({ policy: 'p', benchmark: 'chartqa', itemId: 'a', correct: true }),
      rec({ policy: 'p', benchmark: 'charxiv', itemId: 'b', correct: false }),
      rec({ policy: 'p', benchmark: 'ocrbench', itemId: 'c', correct: true }),
      rec({ policy: 'p', benchmark: 'mathvista', itemId: 'd', correct: false }),
    ];
    const summary = aggregate(records, catalog, suite);
    expect(summary.benchmarks.slice(0, 3)).toEqual(['chartqa', 'charxiv', 'ocrbench']);
    expect(summary.byPolicy[0]).toMatchObject({ inDomainAvg: 0.5, outOfDomainAvg: 1 });
  });

  it('an unknown benchmark in a suite names the file and the entry', async () => {
    const file = join(dir, 'typo.yaml');
    await writeFile(file, 'name: typo\ninDomain: [chartqa]\noutOfDomain: [ocrbench, ocrbnech]\n');
    expect(() => loadSuite(file, loadCatalog(DEFAULT_CATALOG))).toThrow(
      `${file} at outOfDomain[1]: unknown benchmark "ocrbnech"`,
    );
  });
});

describe('benchmarks are data', () => {
  it('a new catalog entry with an inline mapping imports its files and scores with its metric', async () => {
    const bdir = join(dir, 'toy');
    await mkdir(join(bdir, 'data', 'pics'), { recursive: true });
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    await writeFile(join(bdir, 'data', 'pics', '1.png'), png);
    await writeFile(
      join(bdir, 'data', 'toy.jsonl'),
      `${JSON.stringify({ qid: 7, prompt: 'How many dots?', file: '1.png', count: 3, level: 'easy' })}\n`,
    );
    await writeFile(
      join(bdir, 'catalog.yaml'),
      [
        'benchmarks:',
        '  - id: toycount',
        '    name: Toy count',
        '    group: in-domain',
        '    domain: counting',
        '    source: my lab',
        '    split: test',
        '    answerType: integer',
        '    metric: integer',
        '    import:',
        '      format: hf',
        '      distribution: JSONL with an image folder',
        '      mapping:',
        '        id: qid',
        "        idTemplate: 'toy-{value:3}'",
        '        question: prompt',
        '        images: [file]',
        '        imageDir: pics',
        '        answer: count',
        '        extra: { level: level }',
        '      fixtures: [data/toy.jsonl]',
        '',
      ].join('\n'),
    );
    await writeFile(join(bdir, 'suite.yaml'), 'name: toy\ninDomain: [toycount]\noutOfDomain: []\n');
    const catalog = loadCatalog(join(bdir, 'catalog.yaml'));
    expect(loadSuite(join(bdir, 'suite.yaml'), catalog).inDomain).toEqual(['toycount']);
    const store = new DataStore(join(bdir, 'store'));
    await importFixtureSets(store, catalog, ['toycount']);
    const [item] = (await store.loadDataset('toycount')).items;
    expect(item).toMatchObject({
      id: 'toy-007',
      question: 'How many dots?',
      answers: ['3'],
      answerType: 'integer',
      extra: { level: 'easy' },
      images: [{ mime: 'image/png', width: 4, height: 4 }],
    });
    if (!item) throw new Error('no item');
    const bench = catalog.get('toycount');
    expect((await scoreItem(item, bench, '<answer>three</answer>')).correct).toBe(true);
    expect((await scoreItem(item, bench, '<answer>4</answer>')).correct).toBe(false);
  });

  it('catalog mistakes name the file and the path inside it', async () => {
    const base = [
      'benchmarks:',
      '  - { id: x, name: X, group: in-domain, domain: d, source: s, split: t, answerType: text, metric: exact,',
    ];
    const missing = join(dir, 'missing.yaml');
    await writeFile(
      missing,
      [...base, '      import: { format: hf, distribution: d, mapping: nope.yaml } }', ''].join('\n'),
    );
    expect(() => loadCatalog(missing)).toThrow(
      `${missing} at benchmarks[0].import.mapping: no such file ${join(dir, 'nope.yaml')}`,
    );
    const typo = join(dir, 'typo-mapping.yaml');
    await writeFile(typo, 'question: q\nanswerFormt: label\n');
    const refers = join(dir, 'refers.yaml');
    await writeFile(
      refers,
      [...base, '      import: { format: hf, distribution: d, mapping: typo-mapping.yaml } }', ''].join('\n'),
    );
    expect(() => loadCatalog(refers)).toThrow(`${typo} at (top level): Unrecognized key: "answerFormt"`);
  });

  it('every mapping of the default catalog loads', () => {
    const catalog = loadCatalog(DEFAULT_CATALOG);
    for (const b of catalog.benchmarks) {
      expect(b.import?.mappingFile, b.id).toMatch(/benchmarks\/formats\/[a-z0-9]+\.yaml$/);
      expect(b.import?.distribution.length, b.id).toBeGreaterThan(10);
    }
  });
});
