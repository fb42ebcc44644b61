/**
 * Once-only records with journals: when two records of one rollout reach the disk (the
 * rollout run twice at once, or a writer killed between its append and its count), Redis
 * counts the first to be counted, the other is voided or loses as the older, and the disk
 * reads as the record Redis counted.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/benchmarks.ts';
import type { Item, ItemRecord } from '../../src/core/items.ts';
import { compactResult, type RolloutJobData } from '../../src/core/jobs.ts';
import { DEFAULT_CATALOG } from '../../src/core/paths.ts';
import { keys } from '../../src/core/queues.ts';
import type { SweepMeta } from '../../src/core/sweep.ts';
import { DataStore } from '../../src/data/store.ts';
import type { Policy } from '../../src/policies/index.ts';
import { countRecord } from '../../src/core/guards.ts';
import { type RecordDeps, recordedResult, writeRecord } from '../../src/workers/record.ts';
import { REDIS_URL } from '../helpers/cluster.ts';
import { itemRecord } from '../helpers/records.ts';

const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
  await conn.quit();
});

const rollout = (sweepId: string): RolloutJobData =>
  ({
    sweepId,
    rolloutId: 'r1',
    benchmark: 'tallyqa',
    policy: 'direct:A',
    itemId: 'i1',
    seed: 0,
  }) as RolloutJobData;

function record(sweepId: string, correct: boolean, score: number): ItemRecord {
  const answer = correct ? '3' : '4';
  return itemRecord({ sweepId, benchmark: 'tallyqa', rawOutput: answer, extracted: answer, correct, score });
}

/** A sweep of its own (prefix and data folder) and the record each write makes, in turn. */
function setup(made: ItemRecord[]) {
  const root = mkdtempSync(join(tmpdir(), 'maestro-once-'));
  roots.push(root);
  const prefix = `once-${process.pid}-${roots.length}`;
  const queue = [...made];
  const deps: RecordDeps = {
    connection: conn,
    prefix,
    store: new DataStore(root),
    catalog: loadCatalog(DEFAULT_CATALOG),
    makeRecord: async () => {
      const next = queue.shift();
      if (!next) throw new Error('no more records to make');
      return next;
    },
    log: () => {},
  };
  const meta = { id: made[0]?.sweepId ?? 's' } as SweepMeta;
  const write = (store = deps.store) =>
    writeRecord({ ...deps, store }, rollout(meta.id), {} as Item, meta, {} as Policy, 'test');
  return { deps, meta, write };
}

const journalLines = (store: DataStore, sweepId: string) =>
  readdirSync(store.recordsDir(sweepId))
    .filter((n) => n.endsWith('.journal'))
    .flatMap((n) =>
      readFileSync(join(store.recordsDir(sweepId), n), 'utf8')
        .split('\n')
        .filter(Boolean),
    )
    .map((l) => l.split('\t')[0]);

describe('a rollout recorded twice', () => {
  it('counts one record; the other writer voids its own and returns the counted result', async () => {
    const sweepId = `twice-${process.pid}`;
    const { deps, write } = setup([record(sweepId, true, 1), record(sweepId, false, 0)]);
    // A second host's process, on the same data folder.
    const elsewhere = new DataStore(deps.store.root);
    const results = await Promise.all([write(), write(elsewhere)]);
    expect(results[0]).toEqual(results[1]);
    expect(await conn.hget(keys.scored(deps.prefix, sweepId), 'r1')).toBe('1');
    const done = await conn.hget(keys.done(deps.prefix, sweepId), 'r1');
    const onDisk = await deps.store.readRecords(sweepId);
    expect(onDisk).toHaveLength(1);
    expect(compactResult(onDisk[0] as ItemRecord)).toBe(done);
    expect(results[0]).toMatchObject({ correct: onDisk[0]?.correct, score: onDisk[0]?.score });
    expect(journalLines(deps.store, sweepId).sort()).toEqual(['R', 'R', 'V']);
  });

  it('after a writer was killed between its append and its count, reads the record counted later', async () => {
    const sweepId = `killed-${process.pid}`;
    const { deps, write } = setup([record(sweepId, true, 0.5)]);
    expect(await recordedResult(deps, sweepId, 'r1')).toBeNull();
    // The killed writer's record reached the disk, its count never happened.
    await deps.store.appendRecord(record(sweepId, false, 0));
    await new Promise((r) => setTimeout(r, 5));
    const result = await write();
    expect(result).toEqual({ status: 'answered', correct: true, score: 0.5 });
    expect((await deps.store.readRecord(sweepId, 'r1'))?.correct).toBe(true);
    // A retry of the scoring job finds it counted, with the score of its record.
    expect(await recordedResult(deps, sweepId, 'r1')).toEqual(result);
  });

  it('keeps the record when its own count ran twice (resent after a dropped connection)', async () => {
    // ioredis resends a command whose reply a dropped connection lost, after Redis ran it:
    // the record's count then meets its own first run. Refused as another writer's, the
    // writer would void the only record of an item Redis counts as done.
    const sweepId = `resent-${process.pid}`;
    const made = record(sweepId, true, 1);
    const { deps, write } = setup([made]);
    await countRecord(
      conn,
      deps.prefix,
      sweepId,
      { rolloutId: 'r1', compact: compactResult(made), status: made.status },
      undefined,
    );
    const result = await write();
    expect(result).toEqual({ status: 'answered', correct: true, score: 1 });
    expect(await conn.hget(keys.scored(deps.prefix, sweepId), 'r1')).toBe('1');
    const onDisk = await deps.store.readRecords(sweepId);
    expect(onDisk.map((r) => r.rolloutId)).toEqual(['r1']);
    expect(journalLines(deps.store, sweepId)).toEqual(['R']);
  });
});
