import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FIXTURE_BENCHMARKS,
  generateFixtureItems,
  generateFixtures,
  planFixtureItem,
} from '../../benchmarks/fixtures/generate.ts';
import { type BarGeometry, barChartLayout } from '../../benchmarks/fixtures/svg.ts';
import { loadCatalog } from '../../src/core/benchmarks.ts';
import { type ImageRef, Item } from '../../src/core/items.ts';
import { DataStore, type DatasetManifest } from '../../src/data/store.ts';

const PER = 4;
const catalog = loadCatalog(fileURLToPath(new URL('../../benchmarks/catalog.yaml', import.meta.url)));

let dirA: string;
let dirB: string;
let storeA: DataStore;
let manifestsA: Record<string, DatasetManifest>;
const items = new Map<string, Item[]>();

beforeAll(async () => {
  dirA = await mkdtemp(join(tmpdir(), 'fixtures-a-'));
  dirB = await mkdtemp(join(tmpdir(), 'fixtures-b-'));
  storeA = new DataStore(dirA);
  manifestsA = await generateFixtures(storeA, { perBenchmark: PER });
  for (const b of FIXTURE_BENCHMARKS) items.set(b, (await storeA.loadDataset(b)).items);
});

afterAll(async () => {
  await rm(dirA, { recursive: true, force: true });
  await rm(dirB, { recursive: true, force: true });
});

function itemsOf(benchmark: string): Item[] {
  const list = items.get(benchmark);
  if (!list) throw new Error(`no items for ${benchmark}`);
  return list;
}

function allItems(): Item[] {
  return FIXTURE_BENCHMARKS.flatMap((b) => itemsOf(b));
}

function hexToRgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

describe('fixture datasets', () => {
  it('cover exactly the benchmarks of the catalog, in catalog order', () => {
    expect([...FIXTURE_BENCHMARKS]).toEqual(catalog.benchmarks.map((b) => b.id));
  });

  it('writes every dataset with the requested number of items and sequential ids', async () => {
    expect(Object.keys(manifestsA).sort()).toEqual([...FIXTURE_BENCHMARKS].sort());
    for (const b of FIXTURE_BENCHMARKS) {
      const m = manifestsA[b];
      expect(m?.count, b).toBe(PER);
      expect(m?.source).toBe('generated:fixtures');
      expect(m?.version).toMatch(/^[0-9a-f]{64}$/);
      expect(itemsOf(b).map((it) => it.id)).toEqual(['0001', '0002', '0003', '0004'].map((n) => `${b}-${n}`));
    }
  });

  it('stores items that parse with the Item schema and match the catalog answer type', async () => {
    for (const b of FIXTURE_BENCHMARKS) {
      const lines = (await readFile(join(storeA.datasetDir(b), 'items.jsonl'), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(PER);
      for (const line of lines) {
        const parsed = Item.safeParse(JSON.parse(line));
        expect(parsed.success, `${b}: ${line.slice(0, 120)}`).toBe(true);
        if (!parsed.success) continue;
        expect(parsed.data.benchmark).toBe(b);
        expect(parsed.data.answerType).toBe(catalog.get(b).answerType);
        expect(parsed.data.images.length).toBeGreaterThanOrEqual(1);
        expect(parsed.data.answers.every((a) => a.trim().length > 0)).toBe(true);
      }
    }
  });

  it('stores every image as a PNG whose bytes hash to its ref and whose size is as declared', async () => {
    const seen = new Set<string>();
    for (const item of allItems()) {
      for (const ref of item.images) {
        if (seen.has(ref.sha256)) continue;
        seen.add(ref.sha256);
        const file = storeA.imagePath(ref);
        expect(existsSync(file), file).toBe(true);
        const bytes = await readFile(file);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(ref.sha256);
        expect(ref.mime).toBe('image/png');
        const meta = await sharp(bytes).metadata();
        expect(meta.format).toBe('png');
        expect([meta.width, meta.height], item.id).toEqual([ref.width, ref.height]);
        const big = item.benchmark === 'vstar' || item.benchmark === 'hrbench4k';
        expect(
          (ref.width ?? 0) <= (big ? 1600 : 640) && (ref.height ?? 0) <= (big ? 1200 : 480),
          item.id,
        ).toBe(true);
      }
    }
    expect(seen.size).toBeGreaterThan(FIXTURE_BENCHMARKS.length * PER);
  });

  it('gives choice items distinct option labels with the correct label among them', () => {
    const choiceItems = allItems().filter((it) => it.answerType === 'choice');
    expect(new Set(choiceItems.map((it) => it.benchmark))).toEqual(
      new Set(['mathvista', 'vstar', 'hrbench4k', 'microvqa', 'msearth', 'erqa']),
    );
    for (const item of choiceItems) {
      const labels = (item.options ?? []).map((o) => o.label);
      expect(labels.length, item.id).toBeGreaterThanOrEqual(2);
      expect(new Set(labels).size).toBe(labels.length);
      expect(new Set((item.options ?? []).map((o) => o.text)).size, item.id).toBe(labels.length);
      expect(labels, item.id).toContain(item.answers[0]);
    }
    for (const item of itemsOf('mathvista')) expect(item.extra.question_type).toBe('multi_choice');
  });

  it('shapes the non-choice answers per benchmark', () => {
    for (const item of itemsOf('geometry3k')) {
      expect(item.answers[0]).toMatch(/^\d+$/);
      expect(item.extra.choices as string[]).toContain(item.answers[0]);
    }
    for (const item of itemsOf('tallyqa')) expect(Number(item.answers[0])).toBeGreaterThan(0);
    for (const item of itemsOf('chartqa')) expect(Number.isFinite(Number(item.answers[0]))).toBe(true);
    for (const item of itemsOf('slake')) {
      expect(['CLOSED', 'OPEN']).toContain(item.extra.answer_type);
      if (item.extra.answer_type === 'CLOSED') expect(['yes', 'no']).toContain(item.answers[0]);
    }
    for (const item of itemsOf('vlmsareblind')) expect(item.answers[0]).toMatch(/^(yes|no|[0-2])$/);
    const ocr = itemsOf('ocrbench');
    const hme = ocr.filter((it) => it.extra.category === 'Handwritten Mathematical Expression Recognition');
    expect(hme).toHaveLength(1);
    expect(hme[0]?.answers.some((a) => /[\^=+-]/.test(a))).toBe(true);
    expect(ocr.filter((it) => it.extra.category === 'Regular Text Recognition')).toHaveLength(PER - 1);
  });

  it('gives erqa items several distinct frames', () => {
    for (const item of itemsOf('erqa')) {
      expect(item.images.length, item.id).toBeGreaterThanOrEqual(2);
      expect(new Set(item.images.map((im) => im.sha256)).size).toBe(item.images.length);
    }
  });

  it('ships humanevalv reference solutions that pass their own tests (and tests that reject a wrong one)', async () => {
    const work = await mkdtemp(join(tmpdir(), 'fixtures-py-'));
    try {
      for (const item of itemsOf('humanevalv')) {
        // The release's shape: a signature of `solution` and a test script that calls check(solution).
        expect(item.extra.entryPoint).toBe('solution');
        expect(String(item.extra.function_signature)).toMatch(/^def solution\(/);
        expect(item.question).toBe(String(item.extra.function_signature).trim());
        const tests = String(item.extra.test_script);
        expect(tests).toMatch(/^def check\(candidate\):\n {4}assert candidate\(/);
        expect(tests.trimEnd().endsWith('check(solution)')).toBe(true);
        const good = join(work, `${item.id}.py`);
        await writeFile(good, `${item.answers[0]}\n${tests}`);
        const ok = spawnSync('python3', [good], { encoding: 'utf8', timeout: 20_000 });
        expect(ok.status, `${item.id}: ${ok.stderr}`).toBe(0);
        const bad = join(work, `${item.id}-wrong.py`);
        await writeFile(bad, `def solution(x):\n    return x\n\n${tests}`);
        const wrong = spawnSync('python3', [bad], { encoding: 'utf8', timeout: 20_000 });
        expect(wrong.status, item.id).not.toBe(0);
        expect(wrong.stderr).toContain('AssertionError');
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('draws a different chart for every chart item', () => {
    const shas = [...itemsOf('chartqa'), ...itemsOf('charxiv')].map(
      (it) => (it.images[0] as ImageRef).sha256,
    );
    expect(new Set(shas).size).toBe(shas.length);
  });

  it('renders the tallest bar of a chartqa chart at its expected height (pixel check)', async () => {
    const item = itemsOf('chartqa')[0] as Item;
    const plan = planFixtureItem('chartqa', 0, 0);
    expect(plan.question).toBe(item.question);
    const spec = plan.meta?.chart;
    if (!spec || !('values' in spec)) throw new Error('chartqa item 0 should be a bar chart');
    const bars: BarGeometry[] = barChartLayout(spec).bars;
    // The question's answer is the value of the bar it names.
    const asked = bars.find((b) => item.question.includes(`of ${b.label}?`));
    expect(String(asked?.value)).toBe(item.answers[0]);

    const ref = item.images[0] as ImageRef;
    const { data, info } = await sharp(storeA.imagePath(ref)).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number): [number, number, number] => {
      const o = (Math.round(y) * info.width + Math.round(x)) * info.channels;
      return [data[o] ?? -1, data[o + 1] ?? -1, data[o + 2] ?? -1];
    };
    const isColor = (p: [number, number, number], c: [number, number, number]) =>
      p.every((v, i) => Math.abs(v - c[i]!) <= 8);

    const sorted = [...bars].sort((a, b) => b.value - a.value);
    const tallest = sorted[0] as BarGeometry;
    const shortest = sorted[sorted.length - 1] as BarGeometry;
    const color = hexToRgb(tallest.color);
    const cx = tallest.x + tallest.width / 2;
    expect(isColor(pixel(cx, tallest.y + 3), color)).toBe(true);
    expect(isColor(pixel(cx, tallest.y + tallest.height - 3), color)).toBe(true);
    expect(isColor(pixel(cx, tallest.y - 3), color)).toBe(false);
    // At the tallest bar's top, the shortest bar's column is background, but its own top is bar colour.
    const sx = shortest.x + shortest.width / 2;
    expect(isColor(pixel(sx, tallest.y + 3), color)).toBe(false);
    expect(isColor(pixel(sx, shortest.y + 2), color)).toBe(true);
    expect(isColor(pixel(sx, shortest.y - 3), color)).toBe(false);
  });

  it('is deterministic: the same options give the same dataset versions and image bytes', async () => {
    const storeB = new DataStore(dirB);
    const manifestsB = await generateFixtures(storeB, { perBenchmark: PER });
    for (const b of FIXTURE_BENCHMARKS) {
      expect(manifestsB[b]?.version, b).toBe(manifestsA[b]?.version);
    }
    const item = itemsOf('hrbench4k')[0] as Item;
    const ref = item.images[0] as ImageRef;
    expect((await readFile(storeB.imagePath(ref))).equals(await readFile(storeA.imagePath(ref)))).toBe(true);
  });

  it('changes the data with the seed and keeps smaller sets a prefix of larger ones', async () => {
    const store = new DataStore(dirB);
    const seeded = await generateFixtures(store, {
      perBenchmark: 2,
      seed: 7,
      benchmarks: ['chartqa', 'tallyqa'],
    });
    expect(Object.keys(seeded)).toEqual(['chartqa', 'tallyqa']);
    const two = await generateFixtureItems(store, 'chartqa', { perBenchmark: 2, seed: 7 });
    expect(seeded.chartqa?.count).toBe(2);
    const first = two[0] as Item;
    const seedZero = itemsOf('chartqa')[0] as Item;
    expect(first.images[0]?.sha256).not.toBe(seedZero.images[0]?.sha256);
    const prefix = await generateFixtureItems(store, 'tallyqa', { perBenchmark: 2 });
    expect(prefix).toEqual(itemsOf('tallyqa').slice(0, 2));
  });

  it('rejects unknown benchmarks and bad counts before writing anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fixtures-c-'));
    try {
      const store = new DataStore(dir);
      await expect(generateFixtures(store, { benchmarks: ['chartqa', 'nope'] })).rejects.toThrow(/nope/);
      expect(store.hasDataset('chartqa')).toBe(false);
      await expect(generateFixtureItems(store, 'chartqa', { perBenchmark: 0 })).rejects.toThrow(
        /perBenchmark/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
