/**
 * Once-only records with journals: when two records of one rollout reach the disk (the
 * rollout run twice at once, or a writer killed between its append and its count), Redis
 * counts the first to be counted, the other is voided or loses as the older, and the disk
 * reads as the record Redis counted.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket, connect as tcpConnect } from 'node:net';
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

  it('keeps the record when the connection drops between the count and its reply', async () => {
    // The real thing: Redis runs the count, the connection drops before its reply arrives,
    // ioredis reconnects and sends the command again, which finds its own first run.
    const sweepId = `dropped-${process.pid}`;
    const made = record(sweepId, false, 0);
    const { deps, meta } = setup([made]);
    // The count script is in Redis's script cache already (the tests above ran it), so the
    // first EVALSHA runs it instead of failing with NOSCRIPT.
    const proxy = await replyDroppingProxy(new URL(REDIS_URL), `:${sweepId}:scored`);
    const client = new Redis(proxy.url, { maxRetriesPerRequest: null });
    try {
      const result = await writeRecord(
        { ...deps, connection: client },
        rollout(meta.id),
        {} as Item,
        meta,
        {} as Policy,
        'test',
      );
      expect(proxy.dropped()).toBe(1);
      expect(result).toEqual({ status: 'answered', correct: false, score: 0 });
    } finally {
      client.disconnect();
      proxy.close();
    }
    expect(await conn.hget(keys.scored(deps.prefix, sweepId), 'r1')).toBe('1');
    expect((await deps.store.readRecords(sweepId)).map((r) => r.rolloutId)).toEqual(['r1']);
    expect(journalLines(deps.store, sweepId)).toEqual(['R']);
  });
});

/**
 * A TCP proxy to Redis that, once, passes on a request containing `marker`, then drops the
 * connection when the reply comes back instead of passing it on.
 */
async function replyDroppingProxy(target: URL, marker: string) {
  let armed = true;
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server = createServer((down) => {
    const up = tcpConnect(Number(target.port || 6379), target.hostname);
    sockets.add(down);
    sockets.add(up);
    let cutOnReply = false;
    const end = () => {
      down.destroy();
      up.destroy();
    };
    down.on('data', (b: Buffer) => {
      if (armed && b.includes(marker)) {
        armed = false;
        cutOnReply = true;
      }
      up.write(b);
    });
    up.on('data', (b: Buffer) => {
      if (!cutOnReply) {
        down.write(b);
        return;
      }
      dropped++;
      end();
    });
    for (const s of [down, up]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  // The same URL (credentials, database) with the proxy's address.
  const url = new URL(target.href);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.href,
    dropped: () => dropped,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
