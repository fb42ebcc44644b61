import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepItemFields } from '../../src/cli/report.ts';
import { loadCatalog } from '../../src/core/benchmarks.ts';
import type { SweepMeta } from '../../src/core/sweep.ts';
import { DataStore } from '../../src/data/store.ts';
import { makeItem } from '../scoring/helpers.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('the item fields a report groups sub-scores by', () => {
  it("are read from the data directory's datasets of the sweep's benchmarks with sub-scores", async () => {
    const root = await mkdtemp(join(tmpdir(), 'report-fields-'));
    dirs.push(root);
    const store = new DataStore(root);
    const item = (benchmark: string, id: string, extra: Record<string, unknown>) =>
      makeItem({ benchmark, id, extra, answers: ['1'], answerType: 'integer' });
    await store.writeDataset(
      'tallyqa',
      [item('tallyqa', 't1', { issimple: true }), item('tallyqa', 't2', { issimple: false })],
      'test',
    );
    await store.writeDataset('chartqa', [item('chartqa', 'c1', { chart: 'bar' })], 'test');
    const catalog = loadCatalog(fileURLToPath(new URL('../../benchmarks/catalog.yaml', import.meta.url)));
    const meta = {
      benchmarks: [
        { id: 'tallyqa', version: 'v', count: 2 },
        { id: 'chartqa', version: 'v', count: 1 },
        { id: 'ocrbench', version: 'v', count: 0 }, // not imported: its records go to "unknown"
      ],
    } as unknown as SweepMeta;
    const fields = await sweepItemFields(store, meta, catalog);
    expect(fields('tallyqa', 't2')).toEqual({ issimple: false });
    expect(fields('tallyqa', 'gone')).toBeUndefined();
    // chartqa has no sub-scores: its dataset is not read.
    expect(fields('chartqa', 'c1')).toBeUndefined();
    expect(fields('ocrbench', 'o1')).toBeUndefined();
  });
});
