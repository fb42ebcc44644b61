import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_BENCHMARKS, generateFixtures } from '../../benchmarks/fixtures/generate.ts';
import { FIXTURE_FILES_DIR, writeFixtureFiles } from '../../benchmarks/fixtures/write-files.ts';
import { IMPORT_FORMATS } from '../../src/cli/data.ts';
import { loadCatalog, loadSuite } from '../../src/core/benchmarks.ts';
import { DataStore, type DatasetManifest } from '../../src/data/store.ts';
import { importFixtureSets } from '../../src/importers/fixtures.ts';
import { importers } from '../../src/importers/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const catalog = loadCatalog(join(ROOT, 'benchmarks/catalog.yaml'));
const suite = loadSuite(join(ROOT, 'benchmarks/suites/default.yaml'), catalog);
const suiteIds = [...suite.inDomain, ...suite.outOfDomain];

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('shipped fixture files', () => {
  let out: string;
  let generated: DataStore;
  let imported: DataStore;
  let genManifests: Record<string, DatasetManifest>;
  let impManifests: Record<string, DatasetManifest>;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'fixture-files-'));
    await writeFixtureFiles(join(out, 'files'));
    generated = new DataStore(join(out, 'generated'));
    imported = new DataStore(join(out, 'imported'));
    genManifests = await generateFixtures(generated, { perBenchmark: 4 });
    impManifests = await importFixtureSets(imported, catalog, suiteIds);
  });

  afterAll(() => rm(out, { recursive: true, force: true }));

  it('are exactly what benchmarks/fixtures/write-files.ts writes (byte for byte, no extra files)', () => {
    const committed = tree(FIXTURE_FILES_DIR);
    const written = tree(join(out, 'files'));
    expect(committed).toEqual(written);
    for (const f of written) {
      const same = readFileSync(join(FIXTURE_FILES_DIR, f)).equals(readFileSync(join(out, 'files', f)));
      expect(same, `${f} differs: run npx tsx benchmarks/fixtures/write-files.ts and commit`).toBe(true);
    }
  });

  it('exist for every benchmark of the default suite, in a known format, as the catalog says', () => {
    expect(suiteIds).toHaveLength(14);
    for (const id of suiteIds) {
      const spec = catalog.get(id).import;
      expect(spec, id).toBeDefined();
      if (!spec) continue;
      const importer = importers[spec.format];
      expect(importer, `${id}: format ${spec.format}`).toBeDefined();
      expect(spec.fixtures.length, id).toBeGreaterThan(0);
      for (const f of spec.fixtures) {
        expect(relative(join(FIXTURE_FILES_DIR, id), f).startsWith('..'), f).toBe(false);
        expect(
          importer?.fileKinds.some((k) => f.endsWith(k)),
          f,
        ).toBe(true);
      }
    }
    // Several real formats are exercised, not one.
    const formats = new Set(suiteIds.map((id) => catalog.get(id).import?.format));
    expect(formats).toEqual(new Set(['hf', 'vlmeval-tsv']));
    const kinds = new Set(
      suiteIds.flatMap((id) => catalog.get(id).import?.fixtures.map((f) => f.split('.').pop())),
    );
    expect(kinds).toEqual(new Set(['parquet', 'json', 'jsonl', 'tsv']));
  });

  it('import to exactly the generated items, with the same dataset versions', async () => {
    for (const id of suiteIds) {
      const a = await generated.loadDataset(id);
      const b = await imported.loadDataset(id);
      expect(b.items, id).toEqual(a.items);
      expect(b.items).toHaveLength(4);
      expect(impManifests[id]?.version, id).toBe(genManifests[id]?.version);
      expect(impManifests[id]?.source).toBe(`fixtures:${catalog.get(id).import?.format}`);
    }
  });

  it('carry what each release format needs: options, typed extra fields, several images, lists of answers', async () => {
    const item = async (b: string, i: number) => (await imported.loadDataset(b)).items[i];
    // MathVista: answer given as the choice text → label; precision a number.
    expect(await item('mathvista', 2)).toMatchObject({ answers: ['C'], extra: { precision: 1 } });
    // Geometry3K: the <image> placeholder is removed from the problem.
    expect((await item('geometry3k', 0))?.question).toBe('Find x.');
    // MicroVQA: correct_index 1 → option B.
    expect((await item('microvqa', 0))?.answers).toEqual(['B']);
    // ERQA: a JSON list of images per row; the options read from inside the question.
    expect((await item('erqa', 1))?.images).toHaveLength(3);
    expect((await item('erqa', 1))?.options?.map((o) => o.label)).toEqual(['A', 'B', 'C', 'D']);
    expect((await item('erqa', 1))?.question).toBe(
      'In which of the three images is the robot gripper closest to the blue cube?',
    );
    // CharXiv: question_type from the file name of each of the two TSVs.
    expect((await imported.loadDataset('charxiv')).items.map((i) => i.extra.question_type)).toEqual([
      'descriptive',
      'reasoning',
      'reasoning',
      'reasoning',
    ]);
    // OCRBench: a Python list literal of accepted answers.
    expect((await item('ocrbench', 1))?.answers).toEqual(['x^2+1', 'x^{2}+1']);
    // SLAKE: images read from imgs/ beside test.json.
    expect((await item('slake', 0))?.images[0]?.mime).toBe('image/png');
  });

  it('honour --limit (the first N items)', async () => {
    const store = new DataStore(join(out, 'limited'));
    const m = await importFixtureSets(store, catalog, ['hrbench4k', 'tallyqa'], { limit: 2 });
    expect(m.hrbench4k?.count).toBe(2);
    expect((await store.loadDataset('tallyqa')).items.map((i) => i.id)).toEqual([
      'tallyqa-0001',
      'tallyqa-0002',
    ]);
  });
});

describe('importer registry', () => {
  it('lists exactly the importer definitions exported by src/importers/*.ts', async () => {
    const dir = join(ROOT, 'src/importers');
    const found: string[] = [];
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const mod = (await import(join(dir, name))) as Record<string, unknown>;
      for (const v of Object.values(mod)) {
        const d = v as { id?: unknown; fileKinds?: unknown; open?: unknown; description?: unknown };
        if (
          d &&
          typeof d === 'object' &&
          typeof d.id === 'string' &&
          Array.isArray(d.fileKinds) &&
          typeof d.open === 'function'
        ) {
          expect(typeof d.description).toBe('string');
          found.push(d.id);
        }
      }
    }
    expect(found.sort()).toEqual(Object.keys(importers).sort());
    expect(Object.keys(importers).sort()).toEqual(['hf', 'verl-parquet', 'vlmeval-tsv']);
    // The CLI's --format choices (kept static so commands register without loading importers).
    expect([...IMPORT_FORMATS].sort()).toEqual(Object.keys(importers).sort());
  });
});

it('covers every benchmark with a fixture generator', () => {
  expect([...FIXTURE_BENCHMARKS].sort()).toEqual([...suiteIds].sort());
});
