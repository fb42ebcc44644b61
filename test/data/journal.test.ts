import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ItemRecord } from '../../src/core/items.ts';
import { RecordIndex } from '../../src/data/journal.ts';
import { DataStore } from '../../src/data/store.ts';
import { itemRecord } from '../helpers/records.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh(): DataStore {
  const root = mkdtempSync(join(tmpdir(), 'maestro-journal-'));
  dirs.push(root);
  return new DataStore(root);
}

function record(rolloutId: string, over: Partial<ItemRecord> = {}): ItemRecord {
  return itemRecord({
    rolloutId,
    itemId: rolloutId,
    rawOutput: 'tab\there, line\nbreak, "quotes" and ünïcode',
    ...over,
  });
}

const journals = (store: DataStore) =>
  readdirSync(store.recordsDir('s')).filter((n) => n.endsWith('.journal'));

describe('record journal', () => {
  it('writes records appended at once in groups, one journal per process, all read back', async () => {
    const store = fresh();
    const wids = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.appendRecord(record(`r${i}`))),
    );
    expect(new Set(wids).size).toBe(200);
    // No file per record: one journal holds them.
    expect(readdirSync(store.recordsDir('s'))).toEqual(journals(store));
    expect(journals(store)).toHaveLength(1);
    const read = await store.readRecords('s');
    expect(read).toHaveLength(200);
    expect(read.find((r) => r.rolloutId === 'r7')).toEqual(ItemRecord.parse(record('r7')));
    expect(await store.countRecords('s')).toBe(200);
    // Another process's store (a reader elsewhere) sees the same.
    expect(await new DataStore(store.root).countRecords('s')).toBe(200);
  });

  it('gives back the whole record of a slim one it read, from where it read it', async () => {
    const store = fresh();
    await store.appendRecord(record('r1'));
    await store.writeRecord(record('r2'));
    const slim = await store.readRecords('s', { slim: true });
    expect(slim.map((r) => r.rawOutput)).toEqual(['', '']);
    for (const r of slim) expect(store.wholeRecord(r)).toEqual(await store.readRecord('s', r.rolloutId));
    expect(store.wholeRecord(slim[0] as ItemRecord).rawOutput).toBe(record('r1').rawOutput);
    // A record it did not read is returned as it is.
    const other = record('r3');
    expect(store.wholeRecord(other)).toBe(other);
    // Its stored text: the journal's line (the record as JSON), none for a file of its own.
    const [fromJournal, fromFile] = [
      slim.find((r) => r.rolloutId === 'r1'),
      slim.find((r) => r.rolloutId === 'r2'),
    ];
    expect(store.recordText(fromJournal as ItemRecord)).toBe(
      JSON.stringify(store.wholeRecord(fromJournal as ItemRecord)),
    );
    expect(JSON.parse(store.recordText(fromJournal as ItemRecord) ?? '')).toEqual(record('r1'));
    expect(store.recordText(fromFile as ItemRecord)).toBeUndefined();
    expect(store.recordText(other)).toBeUndefined();
    // The same as bytes with the line's newline (what items.jsonl holds), undecoded.
    expect(store.recordLine(fromJournal as ItemRecord)?.toString()).toBe(
      `${store.recordText(fromJournal as ItemRecord)}\n`,
    );
    expect(store.recordLine(fromFile as ItemRecord)).toBeUndefined();
    expect(store.recordLine(other)).toBeUndefined();
  });

  it('reads journals larger than its read buffer, and lines longer than it', async () => {
    const store = fresh();
    const big = 'y'.repeat(1_500_000);
    await Promise.all(
      Array.from({ length: 1_500 }, (_, i) =>
        store.appendRecord(record(`r${i}`, { rawOutput: i === 700 ? big : `${i} ${'z'.repeat(3_000)}` })),
      ),
    );
    const read = await store.readRecords('s');
    expect(read).toHaveLength(1_500);
    expect(read.find((r) => r.rolloutId === 'r700')?.rawOutput).toBe(big);
    expect(read.find((r) => r.rolloutId === 'r1499')?.rawOutput).toBe(`1499 ${'z'.repeat(3_000)}`);
    expect(await new DataStore(store.root).countRecords('s')).toBe(1_500);
  });

  it('reads a rollout as its last record that is not void', async () => {
    const store = fresh();
    const first = await store.appendRecord(record('r1', { extracted: 'first' }));
    await new Promise((r) => setTimeout(r, 5));
    const second = await store.appendRecord(record('r1', { extracted: 'second' }));
    expect((await store.readRecord('s', 'r1'))?.extracted).toBe('second');
    expect(await store.countRecords('s')).toBe(1);
    await store.voidRecords('s', [second]);
    expect((await store.readRecord('s', 'r1'))?.extracted).toBe('first');
    await store.voidRecords('s', [first]);
    expect(await store.readRecord('s', 'r1')).toBeNull();
    expect(store.hasRecord('s', 'r1')).toBe(false);
    expect(await store.readRecords('s')).toEqual([]);
  });

  it('removes every record of a rollout, journal and file alike, and takes new ones after', async () => {
    const store = fresh();
    await store.appendRecord(record('r1', { status: 'error', correct: false }));
    await store.appendRecord(record('r2'));
    await store.writeRecord(record('r1', { status: 'error', correct: false, extracted: 'file' }));
    expect(await store.removeRecords('s', ['r1'])).toBe(2);
    expect((await store.readRecords('s')).map((r) => r.rolloutId)).toEqual(['r2']);
    await store.appendRecord(record('r1', { extracted: 'rerun' }));
    expect((await store.readRecord('s', 'r1'))?.extracted).toBe('rerun');
  });

  it('reads records in files of their own beside the journals; the newer counts', async () => {
    const store = fresh();
    await store.appendRecord(record('r1', { extracted: 'journal' }));
    await store.writeRecord(record('r1', { extracted: 'file' }));
    await store.writeRecord(record('r2', { extracted: 'file only' }));
    // A file's time is its mtime, which the kernel keeps at a tick's resolution (a few ms):
    // written right after the journal's record, it can read as older. Set it a minute later.
    const later = (Date.now() + 60_000) / 1000;
    utimesSync(store.recordPath('s', 'r1'), later, later);
    expect((await store.readRecord('s', 'r1'))?.extracted).toBe('file');
    // A file older than the journal's record loses to it.
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(store.recordPath('s', 'r1'), old, old);
    expect((await store.readRecord('s', 'r1'))?.extracted).toBe('journal');
    expect((await store.readRecords('s')).map((r) => r.extracted).sort()).toEqual(['file only', 'journal']);
  });

  it('sees what journals gained since the last look, and never reads a line cut short', async () => {
    const store = fresh();
    await store.appendRecord(record('r1'));
    expect(await store.countRecords('s')).toBe(1);
    const [name] = journals(store);
    const file = join(store.recordsDir('s'), name ?? '');
    // A writer killed in the middle of a line: no line break at the end.
    appendFileSync(file, 'R\tx.1\t1\t"r9"\t{"v":1,"sweepId":"s","rollou');
    expect(await store.countRecords('s')).toBe(1);
    expect((await store.readRecords('s')).map((r) => r.rolloutId)).toEqual(['r1']);
    // Other writers' journals appear and grow.
    const other = new DataStore(store.root);
    await other.appendRecord(record('r2'));
    await other.appendRecord(record('r3'));
    expect(await store.countRecords('s')).toBe(3);
    expect(store.hasRecord('s', 'r3')).toBe(true);
    // The folder removed (the sweep reset): nothing of it is remembered.
    rmSync(store.recordsDir('s'), { recursive: true });
    expect(await store.countRecords('s')).toBe(0);
    expect(store.hasRecord('s', 'r3')).toBe(false);
    // ... and this process writes to a new journal, not the removed one.
    await store.appendRecord(record('r4'));
    expect((await store.readRecords('s')).map((r) => r.rolloutId)).toEqual(['r4']);
  });

  it('keeps at most 8 MiB of lines read ahead; the lines past it are read again', async () => {
    const store = fresh();
    // 12 records of ~1 MiB: the first ones fill the budget, the last ones are not kept.
    for (let i = 0; i < 12; i++)
      await store.appendRecord(record(`r${String(i).padStart(2, '0')}`, { rawOutput: 'x'.repeat(2 ** 20) }));
    expect(store.readAhead('s')).toBe(12);
    const slim = await store.readRecords('s', { slim: true });
    const byId = (id: string) => slim.find((r) => r.rolloutId === id) as ItemRecord;
    const journal = join(store.recordsDir('s'), journals(store)[0] ?? '');
    const before = readFileSync(journal, 'latin1');
    writeFileSync(journal, before.replaceAll('"rolloutId":"r', '"rolloutId":"q'), 'latin1');
    const kept = slim.filter((r) => store.recordLine(r)?.toString().includes(`"rolloutId":"${r.rolloutId}"`));
    // Lines of a bit over 1 MiB, each in a slab of its own: 7 fit in 8 MiB.
    expect(kept.map((r) => r.rolloutId)).toEqual(['r00', 'r01', 'r02', 'r03', 'r04', 'r05', 'r06']);
    expect(store.recordLine(byId('r11'))?.toString()).toContain('"rolloutId":"q11"');
  });

  it('reads records ahead as they land; the report gets the same records, the newest of each rollout', async () => {
    const store = fresh();
    for (let i = 0; i < 5; i++) await store.appendRecord(record(`r${i}`));
    expect(store.readAhead('s')).toBe(5);
    expect(store.readAhead('s')).toBe(0);
    await store.appendRecord(record('r5'));
    // A rollout written again (a retry): its newer record counts.
    await store.appendRecord(record('r1', { extracted: 'second' }));
    expect(store.readAhead('s')).toBe(2);
    const slim = await store.readRecords('s', { slim: true });
    expect(slim).toEqual(await new DataStore(store.root).readRecords('s', { slim: true }));
    expect(slim.find((r) => r.rolloutId === 'r1')?.extracted).toBe('second');
    // Whole records are still read back from where the slim ones were.
    expect(store.wholeRecord(slim[0] as ItemRecord).rawOutput).toBe(record('r0').rawOutput);
    // A waiting client keeps the lines of the records it read slim for items.jsonl, those
    // read ahead and those that landed after (read by readRecords): not read again (bytes
    // changed in place here, which journals never see, show which copy is given).
    const r0 = slim.find((r) => r.rolloutId === 'r0') as ItemRecord;
    const kept = store.recordLine(r0)?.toString();
    expect(kept).toMatch(/^\{.*"rolloutId":"r0".*\}\n$/);
    await store.appendRecord(record('r6'));
    const r6 = (await store.readRecords('s', { slim: true })).find((r) => r.rolloutId === 'r6') as ItemRecord;
    const kept6 = store.recordLine(r6)?.toString();
    expect(kept6).toMatch(/"rolloutId":"r6"/);
    // `report` alone (no read-ahead) keeps nothing: its lines are read when asked for.
    const reporter = new DataStore(store.root);
    const r0Report = (await reporter.readRecords('s', { slim: true })).find((r) => r.rolloutId === 'r0');
    const journal = join(store.recordsDir('s'), journals(store)[0] ?? '');
    const before = readFileSync(journal, 'latin1');
    writeFileSync(
      journal,
      before.replace('"rolloutId":"r0"', '"rolloutId":"q0"').replace('"rolloutId":"r6"', '"rolloutId":"q6"'),
      'latin1',
    );
    expect(store.recordLine(r0)?.toString()).toBe(kept);
    expect(store.recordLine(r6)?.toString()).toBe(kept6);
    expect(reporter.recordLine(r0Report as ItemRecord)?.toString()).toContain('"rolloutId":"q0"');
    writeFileSync(journal, before, 'latin1');
    // A broken record is not read ahead: the report names it.
    const file = join(store.recordsDir('s'), journals(store)[0] ?? '');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"sweepId":"s"', '"sweepId":5'));
    const other = new DataStore(store.root);
    expect(other.readAhead('s')).toBe(6); // of 7 rollouts
    await expect(other.readRecords('s', { slim: true })).rejects.toThrow(file);
  });

  it('a following index gives the records found since a cursor that count now, and nothing older', async () => {
    const store = fresh();
    await store.appendRecord(record('r0'));
    const index = new RecordIndex(store.recordsDir('s'));
    index.refresh();
    expect(index.follow()).toBe(true);
    expect(index.follow()).toBe(false);
    const start = index.foundCount;
    expect([...index.winnersFoundSince(start)]).toEqual([]);
    const w1 = await store.appendRecord(record('r1'));
    await store.appendRecord(record('r2'));
    index.refresh();
    expect([...index.winnersFoundSince(start)].map(([id]) => id)).toEqual(['r1', 'r2']);
    const cursor = index.foundCount;
    expect([...index.winnersFoundSince(cursor)]).toEqual([]);
    // r2 written again (its newer record counts), r1's record voided, r3 new: only r2's new
    // record and r3 are found since the cursor; r1 no longer counts from the first cursor on.
    await store.appendRecord(record('r2', { extracted: 'again' }));
    await store.voidRecords('s', [w1]);
    await store.appendRecord(record('r3'));
    index.refresh();
    const since = [...index.winnersFoundSince(cursor)];
    expect(since.map(([id]) => id)).toEqual(['r2', 'r3']);
    for (const [id, entry] of since) expect(index.winner(id)).toBe(entry);
    expect([...index.winnersFoundSince(start)].map(([id]) => id)).toEqual(['r2', 'r3']);
  });

  it('names the journal and line of a broken line', async () => {
    const store = fresh();
    await store.appendRecord(record('r1'));
    const file = join(store.recordsDir('s'), journals(store)[0] ?? '');
    appendFileSync(file, 'garbage\n');
    expect(() => store.hasRecord('s', 'r1')).toThrow(`${file} at line 2: not a journal line`);
    const store2 = fresh();
    await store2.appendRecord(record('r1'));
    const file2 = join(store2.recordsDir('s'), journals(store2)[0] ?? '');
    writeFileSync(file2, readFileSync(file2, 'utf8').replace('"sweepId":"s"', '"sweepId":5'));
    await expect(store2.readRecords('s')).rejects.toThrow(file2);
  });

  it('moves to a new journal after a failed write, and the failed write is an error to its caller', async () => {
    const store = fresh();
    await store.appendRecord(record('r1'));
    const dir = store.recordsDir('s');
    const before = journals(store);
    // The records folder replaced by a file: the next group cannot be written.
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a folder');
    await expect(store.appendRecord(record('r2'))).rejects.toThrow(/ENOTDIR|EEXIST/);
    rmSync(dir);
    await store.appendRecord(record('r3'));
    const after = journals(store);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
    expect(after[0]?.replace(/-\d+\.journal$/, '')).toBe(before[0]?.replace(/-\d+\.journal$/, ''));
    expect((await store.readRecords('s')).map((r) => r.rolloutId)).toEqual(['r3']);
  });
});
