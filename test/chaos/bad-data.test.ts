/**
 * Bad data: every problem gives a precise error (file, line or row, field) and nothing is
 * half-written. The importers' own error cases (TSV, parquet, JSON/JSONL, missing images,
 * paths escaping the folder, symlinks, oversize images, duplicate ids across rows and files,
 * --on-error skip) are tested in test/importers/errors.test.ts; this file covers the other
 * loaders (sweep files, the data directory) and the paths end to end (the CLI, a worker
 * meeting a missing image).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Item } from '../../src/core/items.ts';
import { DataStore } from '../../src/data/store.ts';
import { loadSweepFile } from '../../src/producer/config.ts';
import { itemRecord } from '../helpers/records.ts';
import { audit, ChaosCluster, cli, recordChaos } from './harness.ts';

const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const root = mkdtempSync(join(tmpdir(), 'maestro-bad-data-'));
let n = 0;
const fresh = () => join(root, `case-${++n}`);

const item = (id: string, extra: Partial<Item> = {}): Item => ({
  id,
  benchmark: 'chartqa',
  question: `What is ${id}?`,
  images: [],
  answers: ['1'],
  answerType: 'number',
  extra: {},
  ...extra,
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sweep files', () => {
  const write = (text: string) => {
    const file = join(root, `sweep-${++n}.yaml`);
    writeFileSync(file, text);
    return file;
  };

  it('names the file and line of invalid YAML', () => {
    const file = write('name: x\npolicies: [maestro\nseeds: [0]\n');
    expect(() => loadSweepFile(file)).toThrow(new RegExp(`^${file} at line \\d+: invalid YAML`));
  });

  it('names the path of a bad field: seeds, time budget, error threshold', () => {
    const cases: Array<[string, RegExp]> = [
      ['name: x\npolicies: [maestro]\nseeds: [0, one]\n', /at seeds\[1\]: /],
      ['name: x\npolicies: [maestro]\nitemBudgetMs: -5\n', /at itemBudgetMs: Too small/],
      [
        'name: x\npolicies: [maestro]\npauseOnErrors: { rate: 2, window: 10 }\n',
        /at pauseOnErrors\.rate: Too big/,
      ],
      ['name: x\npolicies: [maestro]\npauseOnErrors: { rate: 0.5 }\n', /at pauseOnErrors\.window: /],
      ['name: "a b"\npolicies: [maestro]\n', /at name: letters, digits/],
      [
        'name: x\npolicies: [maestro, random, maestro]\n',
        /at policies\[2\]: policy "maestro" is listed twice/,
      ],
    ];
    for (const [text, expected] of cases) {
      const file = write(text);
      expect(() => loadSweepFile(file), text).toThrow(expected);
    }
  });
});

describe('the data directory', () => {
  it('names the file and line of a corrupt items.jsonl line', async () => {
    const dir = fresh();
    await new DataStore(dir).writeDataset('chartqa', [item('a'), item('b')], 'test');
    const file = join(new DataStore(dir).datasetDir('chartqa'), 'items.jsonl');
    await appendFile(file, '{"id": "c", "question": \n');
    await expect(new DataStore(dir).loadDataset('chartqa')).rejects.toThrow(
      `${file} at line 3: not valid JSON (`,
    );
  });

  it('refuses an image reference that is a path instead of a content hash, naming the field', async () => {
    const dir = fresh();
    const store = new DataStore(dir);
    await store.writeDataset('chartqa', [item('a')], 'test');
    const file = join(store.datasetDir('chartqa'), 'items.jsonl');
    const evil = { ...item('b'), images: [{ sha256: '../../../../etc/passwd', mime: 'image/png' }] };
    await appendFile(file, `${JSON.stringify(evil)}\n`);
    await expect(new DataStore(dir).loadDataset('chartqa')).rejects.toThrow(
      `${file} at line 2, images[0].sha256: a 64-character lowercase hex sha256`,
    );
    expect(() => store.imagePath({ sha256: '../../etc/passwd', mime: 'image/png' })).toThrow(
      /not a sha256 hex digest/,
    );
    expect(() => DataStore.safeJoin(dir, '../outside.png')).toThrow(/path escapes/);
    expect(() => DataStore.safeJoin(dir, '/etc/passwd')).toThrow(/path escapes/);
  });

  it('refuses duplicate item ids naming the item, and keeps the previous dataset whole', async () => {
    const dir = fresh();
    const store = new DataStore(dir);
    const before = await store.writeDataset('chartqa', [item('a'), item('b')], 'v1');
    await expect(store.writeDataset('chartqa', [item('a'), item('c'), item('a')], 'v2')).rejects.toThrow(
      'v2 at items[2].id: duplicate item id "a"',
    );
    const after = await new DataStore(dir).loadDataset('chartqa');
    expect(after.manifest.version).toBe(before.version);
    expect(after.items.map((i) => i.id)).toEqual(['a', 'b']);
    // No staging or half-written directory is left beside it.
    expect(readdirSync(join(dir, 'datasets'))).toEqual(['chartqa']);
  });

  it('ignores the temp file of a record write that crashed, and names a corrupt record', async () => {
    const dir = fresh();
    const store = new DataStore(dir);
    const record = itemRecord({ policy: 'p', benchmark: 'chartqa', itemId: 'a' });
    await store.writeRecord(record);
    const records = join(store.sweepDir('s'), 'records');
    // A writer killed between "write temp file" and "rename": never read as a record.
    await writeFile(join(records, 'r2.json.4242.abcd1234.tmp'), '{"v":1,"sweepId":"s","rollo');
    expect((await store.readRecords('s')).map((r) => r.rolloutId)).toEqual(['r1']);
    await writeFile(join(records, 'r3.json'), '{"v":1,"sweepId":');
    await expect(store.readRecords('s')).rejects.toThrow(`${join(records, 'r3.json')}: not valid JSON`);
  });
});

describe('end to end', () => {
  it('`data import` of a malformed file exits 2 with one line naming the file and row, and writes nothing', async () => {
    const dir = fresh();
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'bad.tsv');
    const header = ['index', 'question', 'answer', 'category', 'A', 'B', 'C', 'D', 'image'];
    const good = ['1', 'Q?', 'B', 'FSP', 'a', 'b', 'c', 'd', PNG_1PX];
    // Row 2 has 3 fields instead of 9.
    await writeFile(file, `${header.join('\t')}\n${good.join('\t')}\n2\tQ?\tB\n`);
    const data = join(dir, 'data');
    const r = await cli(['data', 'import', file, '--format', 'vlmeval-tsv', '--benchmark', 'hrbench4k'], {
      ...process.env,
      MAESTRO_DATA_DIR: data,
    });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^error: ${file} at (row 2|line 3)\\b`));
    expect(existsSync(join(data, 'datasets'))).toBe(false);
  });

  it('records an item whose image is missing on this host as an error with the cause, not a crash', async () => {
    const cluster = new ChaosCluster({ items: 1, benchmarks: ['chartqa', 'tallyqa'] });
    try {
      await cluster.start();
      // The shared data directory lost its images (an unmounted NFS, a partial copy).
      await rm(join(cluster.dataDir, 'images'), { recursive: true, force: true });
      const w = await cluster.worker(['--role', 'all']);
      const plan = await cluster.plan(cluster.sweepFile('noimg', ['maestro', 'direct:Chart-R1']));
      await cluster.submit(plan);
      await cluster.wait(plan);
      const records = await cluster.store.readRecords(plan.meta.id);
      expect(records).toHaveLength(plan.rollouts.length);
      for (const r of records) {
        expect(r.status).toBe('error');
        expect(r.error).toMatch(/image [0-9a-f]{12}… is not in the data directory/);
      }
      expect(w.child.exitCode).toBeNull();
      const a = await audit(cluster, plan);
      await recordChaos('bad-data', {
        items: a.items,
        itemsLost: a.lost,
        itemsDoubleCounted: a.doubleCounted,
      });
      expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0, scoredMissing: 0 });
    } finally {
      await cluster.cleanup();
    }
  }, 300_000);
});
