import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HF_IMAGE, parquetBytes } from '../../benchmarks/fixtures/write-files.ts';
import { type ColumnMapping, loadCatalog } from '../../src/core/benchmarks.ts';
import { DataStore } from '../../src/data/store.ts';
import { getImporter, type ImportOptions, importFiles } from '../../src/importers/index.ts';
import { stringifyTsv } from '../../src/importers/tsv.ts';

const catalog = loadCatalog(fileURLToPath(new URL('../../benchmarks/catalog.yaml', import.meta.url)));

/** A mapping for small hand-written hf files (JSON/JSONL): id, question, image path, answer. */
const SIMPLE: ColumnMapping = {
  id: 'id',
  idTemplate: '{value}',
  question: 'question',
  images: ['image'],
  imageEncoding: 'path',
  answer: 'answer',
  answerFormat: 'value',
  extra: {},
};

let root: string;
let dir: string;
let store: DataStore;
let png: Buffer;
let png2: Buffer;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'import-errors-'));
  png = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  png2 = await sharp({ create: { width: 5, height: 5, channels: 3, background: '#0000ff' } })
    .png()
    .toBuffer();
});

afterAll(() => rm(root, { recursive: true, force: true }));

beforeEach(async () => {
  n++;
  dir = join(root, `case-${n}`, 'src');
  await mkdir(join(dir, 'images'), { recursive: true });
  await writeFile(join(dir, 'images', 'ok.png'), png);
  store = new DataStore(join(root, `case-${n}`, 'data'));
});

function run(format: string, files: string[], extra: Partial<ImportOptions> = {}) {
  return importFiles({ importer: getImporter(format), files, store, catalog, ...extra });
}

/** Nothing was written: no dataset directory at all. */
function expectNoDataset(benchmark: string) {
  expect(store.hasDataset(benchmark)).toBe(false);
  expect(existsSync(join(store.root, 'datasets'))).toBe(false);
}

const TSV_COLUMNS = ['index', 'question', 'answer', 'category', 'A', 'B', 'C', 'D', 'image'];

function tsvRow(index: string, image: string, over: Record<string, string> = {}): Record<string, string> {
  return {
    index,
    question: `Question ${index}?`,
    answer: 'B',
    category: 'FSP',
    A: 'red',
    B: 'blue',
    C: 'green',
    D: 'pink',
    image,
    ...over,
  };
}

async function tsvFile(name: string, rows: Array<Record<string, string>>, columns = TSV_COLUMNS) {
  const file = join(dir, name);
  await writeFile(file, stringifyTsv(columns, rows));
  return file;
}

async function jsonl(name: string, rows: unknown[]) {
  const file = join(dir, name);
  await writeFile(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return file;
}

describe('malformed files', () => {
  it('TSV: a row with the wrong number of fields names the file, row and line', async () => {
    const file = await tsvFile('bad.tsv', [tsvRow('1', png.toString('base64'))]);
    await writeFile(
      file,
      `${await import('node:fs/promises').then((f) => f.readFile(file, 'utf8'))}2\tshort row\tA\n`,
    );
    await expect(run('vlmeval-tsv', [file], { benchmark: 'hrbench4k' })).rejects.toThrow(
      `${file} at row 2: has 3 fields, the header has 9 (line 3)`,
    );
    expectNoDataset('hrbench4k');
  });

  it('TSV: an unterminated quoted field is an error at its line', async () => {
    const file = join(dir, 'quote.tsv');
    await writeFile(file, `${TSV_COLUMNS.join('\t')}\n1\t"never closed\tB\tx\ta\tb\tc\td\timg\n`);
    await expect(run('vlmeval-tsv', [file], { benchmark: 'hrbench4k' })).rejects.toThrow(
      `${file} at line 2: unterminated quoted field`,
    );
    expectNoDataset('hrbench4k');
  });

  it('TSV: a missing column is reported with the columns the file has', async () => {
    const file = await tsvFile(
      'nocol.tsv',
      [{ index: '1', image: 'x', answer: 'A' }],
      ['index', 'image', 'answer'],
    );
    await expect(run('vlmeval-tsv', [file], { benchmark: 'hrbench4k' })).rejects.toThrow(
      `${file} at line 1: missing column "question" (columns: index, image, answer)`,
    );
    expectNoDataset('hrbench4k');
  });

  it('parquet: a file that is not parquet is refused by name (hf and verl)', async () => {
    const file = join(dir, 'broken.parquet');
    await writeFile(file, 'this is not a parquet file at all');
    await expect(run('hf', [file], { benchmark: 'chartqa' })).rejects.toThrow(
      `${file}: not a readable parquet file (`,
    );
    await expect(run('verl-parquet', [file])).rejects.toThrow(`${file}: not a readable parquet file (`);
    expectNoDataset('chartqa');
  });

  it('verl parquet: a bad message in a prompt names the row and the field', async () => {
    const file = join(dir, 'verl.parquet');
    const row = (index: number, role: string) => ({
      data_source: 'chartqa',
      prompt: [
        { role: 'system', content: 'You are a router.' },
        { role, content: '<image>How many?' },
      ],
      ability: 'fact-reasoning',
      images: [{ bytes: png, path: 'data/images/a.png' }],
      reward_model: { ground_truth: ['3'], style: 'rule' },
      extra_info: { index, question: '<image>How many?', split: 'test' },
    });
    const rows = [row(1, 'user'), row(2, 'robot')];
    const col = (name: string) => rows.map((r) => (r as Record<string, unknown>)[name]);
    await writeFile(
      file,
      parquetBytes([
        { name: 'data_source', type: 'string', data: col('data_source') },
        {
          name: 'prompt',
          type: { list: { struct: { content: 'string', role: 'string' } } },
          data: col('prompt'),
        },
        { name: 'ability', type: 'string', data: col('ability') },
        { name: 'images', type: { list: HF_IMAGE }, data: col('images') },
        {
          name: 'reward_model',
          type: { struct: { ground_truth: { list: 'string' }, style: 'string' } },
          data: col('reward_model'),
        },
        {
          name: 'extra_info',
          type: { struct: { index: 'int64', question: 'string', split: 'string' } },
          data: col('extra_info'),
        },
      ]),
    );
    await expect(run('verl-parquet', [file])).rejects.toThrow(
      `${file} at row 2, field "prompt[1].role": not a chat message`,
    );
    expectNoDataset('chartqa');
    // With --on-error skip the good row is imported and the bad one reported.
    const r = await run('verl-parquet', [file], { onError: 'skip' });
    expect(r.items).toBe(1);
    expect(r.skipped.map((p) => [p.row, p.field])).toEqual([[2, 'prompt[1].role']]);
    expect((await store.loadDataset('chartqa')).items[0]).toMatchObject({
      id: '1',
      question: 'How many?',
      answers: ['3'],
      prompt: [{ role: 'system' }, { role: 'user', content: '<image>How many?' }],
    });
  });

  it('verl parquet: a data_source that is no benchmark needs --benchmark', async () => {
    const file = join(dir, 'verl-ds.parquet');
    await writeFile(
      file,
      parquetBytes([
        { name: 'data_source', type: 'string', data: ['mmmu_pro'] },
        {
          name: 'prompt',
          type: { list: { struct: { content: 'string', role: 'string' } } },
          data: [[{ role: 'user', content: 'Q?' }]],
        },
        {
          name: 'reward_model',
          type: { struct: { ground_truth: { list: 'string' }, style: 'string' } },
          data: [{ ground_truth: ['A'], style: 'rule' }],
        },
        {
          name: 'extra_info',
          type: { struct: { index: 'int64', question: 'string' } },
          data: [{ index: 7, question: 'Q?' }],
        },
      ]),
    );
    await expect(run('verl-parquet', [file])).rejects.toThrow(
      `${file} at row 1, field "data_source": "mmmu_pro" is not a benchmark id of the catalog: pass --benchmark <id>`,
    );
    expectNoDataset('chartqa');
    const r = await run('verl-parquet', [file], { benchmark: 'charxiv' });
    expect(r.datasets.map((d) => [d.benchmark, d.count])).toEqual([['charxiv', 1]]);
  });

  it('JSONL: a line that is not JSON names the file and the line', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(
      file,
      `${JSON.stringify({ id: 'a', question: 'Q?', image: 'images/ok.png', answer: '1' })}\n{"id": "b", "question": \n`,
    );
    await expect(run('hf', [file], { benchmark: 'chartqa', mapping: SIMPLE })).rejects.toThrow(
      `${file} at row 2: not valid JSON (`,
    );
    expectNoDataset('chartqa');
  });

  it('JSON: a file that is not one JSON array is refused', async () => {
    const file = join(dir, 'obj.json');
    await writeFile(file, '{"id": 1}');
    await expect(run('hf', [file], { benchmark: 'chartqa', mapping: SIMPLE })).rejects.toThrow(
      `${file}: expected a JSON array of objects`,
    );
    expectNoDataset('chartqa');
  });
});

describe('images', () => {
  it('a missing image file names the row, the field and where it looked', async () => {
    const file = await jsonl('q.jsonl', [
      { id: 'a', question: 'Q?', image: 'images/ok.png', answer: '1' },
      { id: 'b', question: 'Q?', image: 'images/nope.png', answer: '1' },
    ]);
    await expect(run('hf', [file], { benchmark: 'chartqa', mapping: SIMPLE })).rejects.toThrow(
      `${file} at row 2, field "image": image file "images/nope.png" does not exist (looked for ${join(dir, 'images', 'nope.png')})`,
    );
    expectNoDataset('chartqa');
  });

  it('an empty image cell is a row without an image', async () => {
    const file = await tsvFile('noimg.tsv', [tsvRow('1', png.toString('base64')), tsvRow('2', '')]);
    await expect(run('vlmeval-tsv', [file], { benchmark: 'hrbench4k' })).rejects.toThrow(
      `${file} at row 2, field "image": the row has no image`,
    );
    expectNoDataset('hrbench4k');
  });

  it('refuses a path escaping the folder with ../', async () => {
    await writeFile(join(dir, '..', 'secret.png'), png);
    const file = await jsonl('esc.jsonl', [{ id: 'a', question: 'Q?', image: '../secret.png', answer: '1' }]);
    await expect(run('hf', [file], { benchmark: 'chartqa', mapping: SIMPLE })).rejects.toThrow(
      `${file} at row 1, field "image": image path "../secret.png" escapes ${dir}`,
    );
    expectNoDataset('chartqa');
  });

  it('refuses an absolute path even to an existing image', async () => {
    const abs = join(dir, 'images', 'ok.png');
    const file = await jsonl('abs.jsonl', [{ id: 'a', question: 'Q?', image: abs, answer: '1' }]);
    await expect(run('hf', [file], { benchmark: 'chartqa', mapping: SIMPLE })).rejects.toThrow(
      `${file} at row 1, field "image": absolute image path "${abs}" is not allowed; paths must be relative to ${dir}`,
    );
    expectNoDataset('chartqa');
  });

  it('refuses a symlink (file or folder) pointing outside the folder', async () => {
    const outside = join(root, `outside-${n}`);
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'x.png'), png);
    await symlink(join(outside, 'x.png'), join(dir, 'images', 'link.png'));
    await symlink(outside, join(dir, 'linkdir'));
    const file = await jsonl('sym.jsonl', [
      { id: 'a', question: 'Q?', image: 'images/link.png', answer: '1' },
    ]);
    await expect(run('hf', [file], { benchmark: 'chartqa', mapping: SIMPLE })).rejects.toThrow(
      `${file} at row 1, field "image": image path "images/link.png" goes through a symlink to ${join(outside, 'x.png')}, outside ${dir}`,
    );
    const viaDir = await jsonl('symdir.jsonl', [
      { id: 'a', question: 'Q?', image: 'linkdir/x.png', answer: '1' },
    ]);
    await expect(run('hf', [viaDir], { benchmark: 'chartqa', mapping: SIMPLE })).rejects.toThrow(
      `${viaDir} at row 1, field "image": image path "linkdir/x.png" goes through a symlink to ${join(outside, 'x.png')}, outside ${dir}`,
    );
    expectNoDataset('chartqa');
    // A symlink that stays inside the folder is fine.
    await symlink(join(dir, 'images', 'ok.png'), join(dir, 'images', 'inside.png'));
    const ok = await jsonl('in.jsonl', [
      { id: 'a', question: 'Q?', image: 'images/inside.png', answer: '1' },
    ]);
    expect((await run('hf', [ok], { benchmark: 'chartqa', mapping: SIMPLE })).items).toBe(1);
  });

  it('rejects an image file over the default 50 MB limit before reading it', async () => {
    const big = join(dir, 'images', 'big.png');
    await writeFile(big, '');
    await truncate(big, 51 * 1024 * 1024); // sparse: costs no disk
    const file = await jsonl('big.jsonl', [
      { id: 'a', question: 'Q?', image: 'images/big.png', answer: '1' },
    ]);
    await expect(run('hf', [file], { benchmark: 'chartqa', mapping: SIMPLE })).rejects.toThrow(
      `${file} at row 1, field "image": image is 51 MB (53477376 bytes), over the 50 MB limit`,
    );
    expectNoDataset('chartqa');
  });

  it('rejects an image over the default 100 megapixels from its header', async () => {
    // A real PNG whose header says 20000×20000: sharp reads the size without decoding.
    const huge = Buffer.from(png);
    huge.writeUInt32BE(20000, 16);
    huge.writeUInt32BE(20000, 20);
    huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29);
    const file = await tsvFile('huge.tsv', [
      tsvRow('1', png.toString('base64')),
      tsvRow('2', huge.toString('base64')),
    ]);
    await expect(run('vlmeval-tsv', [file], { benchmark: 'hrbench4k' })).rejects.toThrow(
      `${file} at row 2, field "image": image is 20000×20000 (400.0 megapixels), over the 100 megapixel limit`,
    );
    expectNoDataset('hrbench4k');
  });

  it('applies a lower byte limit to embedded images', async () => {
    const file = await tsvFile('small.tsv', [tsvRow('1', png.toString('base64'))]);
    await expect(
      run('vlmeval-tsv', [file], { benchmark: 'hrbench4k', limits: { maxBytes: 10 } }),
    ).rejects.toThrow(
      `${file} at row 1, field "image": image is ${(png.length / 1024).toFixed(1).replace(/\.0$/, '')} KB (${png.length} bytes), over the 0 KB limit`,
    );
    expectNoDataset('hrbench4k');
  });

  it('resolves VLMEvalKit image cells that name another row by index, and refuses dangling ones', async () => {
    const good = await tsvFile('refs.tsv', [
      tsvRow('10', png.toString('base64')),
      tsvRow('11', '10'),
      tsvRow('12', png2.toString('base64')),
    ]);
    await run('vlmeval-tsv', [good], { benchmark: 'hrbench4k', mapping: { idTemplate: 'q{value}' } });
    const items = (await store.loadDataset('hrbench4k')).items;
    expect(items.map((i) => i.id)).toEqual(['q10', 'q11', 'q12']);
    expect(items[1]?.images).toEqual(items[0]?.images);
    expect(items[2]?.images[0]?.sha256).not.toBe(items[0]?.images[0]?.sha256);
    expect(items[0]?.images[0]).toMatchObject({ mime: 'image/png', width: 8, height: 6 });

    const bad = await tsvFile('dangling.tsv', [tsvRow('1', png.toString('base64')), tsvRow('2', '9')]);
    await expect(run('vlmeval-tsv', [bad], { benchmark: 'msearth' })).rejects.toThrow(
      `${bad} at row 2, field "image": refers to the image of index "9", which is not in the file`,
    );
    expect(store.hasDataset('msearth')).toBe(false);
  });
});

describe('ids and rows', () => {
  it('a duplicate item id names both rows', async () => {
    const file = await tsvFile('dup.tsv', [
      tsvRow('1', png.toString('base64')),
      tsvRow('2', png.toString('base64')),
      tsvRow('1', png.toString('base64')),
    ]);
    await expect(run('vlmeval-tsv', [file], { benchmark: 'hrbench4k' })).rejects.toThrow(
      `${file} at row 3, field "index": duplicate item id "hrbench4k-0001" (first at ${file} row 1)`,
    );
    expectNoDataset('hrbench4k');
  });

  it('a duplicate across two files names both files', async () => {
    const a = await tsvFile('a.tsv', [tsvRow('1', png.toString('base64'))]);
    const b = await tsvFile('b.tsv', [
      tsvRow('2', png.toString('base64')),
      tsvRow('1', png.toString('base64')),
    ]);
    await expect(run('vlmeval-tsv', [a, b], { benchmark: 'hrbench4k' })).rejects.toThrow(
      `${b} at row 2, field "index": duplicate item id "hrbench4k-0001" (first at ${a} row 1)`,
    );
    expectNoDataset('hrbench4k');
  });

  it('an answer that is not an option label is a bad row', async () => {
    const file = await tsvFile('ans.tsv', [tsvRow('1', png.toString('base64'), { answer: 'E' })]);
    await expect(run('vlmeval-tsv', [file], { benchmark: 'hrbench4k' })).rejects.toThrow(
      `${file} at row 1, field "answer": answer "E" is not an option label (A, B, C, D)`,
    );
    expectNoDataset('hrbench4k');
  });

  it('a failed import leaves the previous dataset untouched', async () => {
    const good = await tsvFile('good.tsv', [
      tsvRow('1', png.toString('base64')),
      tsvRow('2', png2.toString('base64')),
    ]);
    const before = (await run('vlmeval-tsv', [good], { benchmark: 'hrbench4k' })).datasets[0];
    const notBase64 = 'this cell is long enough not to be a row index, but it is no base64!';
    const bad = await tsvFile('worse.tsv', [tsvRow('1', png.toString('base64')), tsvRow('2', notBase64)]);
    await expect(run('vlmeval-tsv', [bad], { benchmark: 'hrbench4k' })).rejects.toThrow(
      `${bad} at row 2, field "image": image is not valid base64`,
    );
    const after = await store.loadDataset('hrbench4k');
    expect(after.manifest.version).toBe(before?.version);
    expect(after.items).toHaveLength(2);
  });

  it('--on-error skip imports the good rows and reports each bad one', async () => {
    const file = await tsvFile('mixed.tsv', [
      tsvRow('1', png.toString('base64')),
      tsvRow('2', png.toString('base64'), { answer: 'Z' }),
      tsvRow('3', ''),
      tsvRow('4', png2.toString('base64')),
    ]);
    const seen: string[] = [];
    const r = await run('vlmeval-tsv', [file], {
      benchmark: 'hrbench4k',
      onError: 'skip',
      onSkip: (p) => seen.push(p.message),
    });
    expect(r.items).toBe(2);
    expect(r.rows).toBe(4);
    expect(seen).toEqual([
      `${file} at row 2, field "answer": answer "Z" is not an option label (A, B, C, D)`,
      `${file} at row 3, field "image": the row has no image`,
    ]);
    expect((await store.loadDataset('hrbench4k')).items.map((i) => i.id)).toEqual([
      'hrbench4k-0001',
      'hrbench4k-0004',
    ]);
  });

  it('every row bad: nothing is written even with skip', async () => {
    const file = await tsvFile('allbad.tsv', [tsvRow('1', '')]);
    await expect(run('vlmeval-tsv', [file], { benchmark: 'hrbench4k', onError: 'skip' })).rejects.toThrow(
      `${file}: no item was imported (1 bad row(s) skipped; the first: ${file} at row 1, field "image": the row has no image)`,
    );
    expectNoDataset('hrbench4k');
  });
});
