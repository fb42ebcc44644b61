import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FailedItem } from '../../src/core/failed.ts';
import { DataStore } from '../../src/data/store.ts';
import { failedRecord } from '../../src/scoring/failed.ts';
import { writeReport } from '../../src/scoring/report.ts';
import { catalog, rec, suite } from './helpers.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const failure = (itemId: string): FailedItem => ({
  v: 1,
  sweepId: 'sweep-1',
  rolloutId: `maestro/alpha/${itemId}/0`,
  policy: 'maestro',
  benchmark: 'alpha',
  itemId,
  seed: 0,
  sample: 0,
  cause: 'scoring failed: ENOSPC: no space left on device',
  failedAt: '2026-01-01T00:00:02.000Z',
});

describe('rollouts that failed outright', () => {
  it('appear in every table as errors with their cause, and as status "failed" in items.jsonl', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'failed-report-'));
    dirs.push(dir);
    const records = [
      rec({ policy: 'maestro', benchmark: 'alpha', itemId: 'a0', correct: true }),
      rec({ policy: 'maestro', benchmark: 'alpha', itemId: 'a1', correct: true }),
      failedRecord(failure('a2')),
    ];
    const r = await writeReport(dir, records, { catalog, suite, sweepId: 'sweep-1' });
    const cell = r.summary.cells.find((c) => c.policy === 'maestro' && c.benchmark === 'alpha');
    // The cell no longer reads 100.0 over 2 with 0 errors: the failure counts as wrong (2 of
    // 3), with the accuracy over the items that ran and the failure count beside it.
    expect(cell).toMatchObject({ total: 3, errors: 1, failedOutright: 1, correct: 2, accuracyAnswered: 1 });
    expect(cell?.accuracy).toBeCloseTo(2 / 3, 12);
    expect(await readFile(join(dir, 'results.md'), 'utf8')).toContain(
      '| maestro | 66.7 (100.0 answered; 1 failed, 1 outright) |',
    );
    const csv = (await readFile(join(dir, 'results.csv'), 'utf8')).split('\n');
    const col = (name: string) => csv[1]?.split(',')[csv[0]?.split(',').indexOf(name) ?? -1];
    expect([col('alpha'), col('answered_alpha'), col('errors_alpha'), col('failed_outright_alpha')]).toEqual([
      '66.7',
      '100.0',
      '1',
      '1',
    ]);
    const json = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(json.rows[0]).toMatchObject({ errors: { alpha: 1 }, failedOutright: { alpha: 1 } });
    expect(await readFile(join(dir, 'details.md'), 'utf8')).toContain('| 1 (1) | 100.0 |');
    const lines = (await readFile(join(dir, 'items.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    const failed = lines.find((l) => l.itemId === 'a2');
    expect(failed).toMatchObject({
      status: 'failed',
      cause: 'scoring failed: ENOSPC: no space left on device',
    });
  });

  it('are read from the data directory unless a record was written since', async () => {
    const root = await mkdtemp(join(tmpdir(), 'failed-store-'));
    dirs.push(root);
    const store = new DataStore(root);
    await store.writeFailure(failure('a2'));
    await store.writeFailure(failure('a3'));
    expect((await store.readFailures('sweep-1')).map((f) => f.itemId)).toEqual(['a2', 'a3']);
    // a3 was retried and scored: its record wins.
    await store.appendRecord(rec({ policy: 'maestro', benchmark: 'alpha', itemId: 'a3', correct: true }));
    expect((await store.readFailures('sweep-1')).map((f) => f.itemId)).toEqual(['a2']);
    await store.removeFailure('sweep-1', failure('a2').rolloutId);
    expect(await store.readFailures('sweep-1')).toEqual([]);
  });
});
