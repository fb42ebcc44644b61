import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/benchmarks.ts';
import { DataStore } from '../../src/data/store.ts';
import { getImporter, importFiles } from '../../src/importers/index.ts';
import { kept } from '../../src/importers/run.ts';
import { makeItem } from '../scoring/helpers.ts';

const catalog = loadCatalog(fileURLToPath(new URL('../../benchmarks/catalog.yaml', import.meta.url)));

let root: string;
let file: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'import-keep-'));
  await mkdir(join(root, 'src', 'imgs', 'xmlab1'), { recursive: true });
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  await writeFile(join(root, 'src', 'imgs', 'xmlab1', 'source.jpg'), png);
  // SLAKE's test.json shape: English and Chinese questions about the same images.
  const row = (qid: number, lang: string, question: string, answer: string) => ({
    img_id: 1,
    img_name: 'xmlab1/source.jpg',
    question,
    answer,
    q_lang: lang,
    location: 'Abdomen',
    modality: 'CT',
    answer_type: 'CLOSED',
    base_type: 'vqa',
    content_type: 'Organ',
    triple: ['vhead', '_', '_'],
    qid,
  });
  file = join(root, 'src', 'test.json');
  await writeFile(
    file,
    JSON.stringify([
      row(1, 'en', 'Is the liver visible?', 'Yes'),
      row(2, 'zh', '图中有肝脏吗？', '是'),
      row(3, 'en', 'Which organ is largest?', 'Liver'),
    ]),
  );
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('the mapping keep filter', () => {
  it('imports only English SLAKE questions by default and counts the others as filtered', async () => {
    const store = new DataStore(join(root, 'data-default'));
    const r = await importFiles({
      importer: getImporter('hf'),
      files: [file],
      store,
      catalog,
      benchmark: 'slake',
    });
    expect(r).toMatchObject({ rows: 3, items: 2, filtered: 1 });
    expect(r.skipped).toEqual([]);
    const { items } = await store.loadDataset('slake');
    expect(items.map((i) => [i.id, i.extra.q_lang])).toEqual([
      ['slake-0001', 'en'],
      ['slake-0003', 'en'],
    ]);
  });

  it('imports every language with keep: {} in --mapping', async () => {
    const store = new DataStore(join(root, 'data-all'));
    const r = await importFiles({
      importer: getImporter('hf'),
      files: [file],
      store,
      catalog,
      benchmark: 'slake',
      mapping: { keep: {} },
    });
    expect(r).toMatchObject({ rows: 3, items: 3, filtered: 0 });
  });

  it('compares values as text and needs every listed field', () => {
    const item = makeItem({ extra: { q_lang: 'en', level: 2, hard: true } });
    expect(kept(item, { level: ['2'] })).toBe(true);
    expect(kept(item, { level: [2], hard: [true] })).toBe(true);
    expect(kept(item, { q_lang: ['zh'] })).toBe(false);
    expect(kept(item, { q_lang: ['en'], missing: ['x'] })).toBe(false);
    expect(kept(item, {})).toBe(true);
  });
});
