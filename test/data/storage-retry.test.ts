import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageDeadlineError, withStorageRetry } from '../../src/data/storage-retry.ts';
import { DataStore } from '../../src/data/store.ts';

const errno = (code: string) =>
  Object.assign(new Error(`${code}: simulated, open '/x/records/a.json'`), { code });

/** A fake clock: `sleep` advances it. */
function clock() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}

describe('withStorageRetry', () => {
  it('retries storage errors with backoff until the write succeeds, logging path and errno', async () => {
    const c = clock();
    const logs: string[] = [];
    let calls = 0;
    const out = await withStorageRetry(
      async () => {
        calls++;
        if (calls < 6) throw errno(calls % 2 ? 'ENOSPC' : 'ENOTDIR');
        return 'ok';
      },
      { deadlineMs: 600_000, path: '/x/records/a.json', log: (l) => logs.push(l), ...c },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(6);
    expect(logs[0]).toMatch(/storage error writing \/x\/records\/a\.json: ENOSPC/);
    expect(logs.at(-1)).toMatch(/storage ok again: .* after 5 failures/);
    // Backoff: 250, 500, 1000, 2000, 4000 ms.
    expect(c.now()).toBe(7_750);
  });

  it('gives up at the deadline with the cause, and throws other errors at once', async () => {
    const c = clock();
    await expect(
      withStorageRetry(
        async () => {
          throw errno('EACCES');
        },
        { deadlineMs: 60_000, path: '/p', log: () => {}, ...c },
      ),
    ).rejects.toThrow(StorageDeadlineError);
    expect(c.now()).toBeGreaterThanOrEqual(60_000);
    let calls = 0;
    await expect(
      withStorageRetry(
        async () => {
          calls++;
          throw new TypeError('bug');
        },
        { deadlineMs: 60_000, path: '/p', log: () => {}, ...c },
      ),
    ).rejects.toThrow('bug');
    expect(calls).toBe(1);
  });
});

describe('stale temp files of record writes', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('are removed when old, kept while fresh, and never read as records', async () => {
    const root = mkdtempSync(join(tmpdir(), 'maestro-tmp-'));
    dirs.push(root);
    const store = new DataStore(root);
    const records = join(store.sweepDir('s-1'), 'records');
    mkdirSync(records, { recursive: true });
    const old = join(records, 'r1.json.123.abcd.tmp');
    const fresh = join(records, 'r2.json.124.abcd.tmp');
    writeFileSync(old, '{"half":');
    writeFileSync(fresh, '{"half":');
    const tenMinutesAgo = (Date.now() - 10 * 60_000) / 1000;
    utimesSync(old, tenMinutesAgo, tenMinutesAgo);
    // A killed scorer's half-written temp file does not break the report.
    expect(await store.readRecords('s-1')).toEqual([]);
    const removed = await store.removeStaleTemps();
    expect(removed).toEqual([old]);
    expect(readdirSync(records)).toEqual(['r2.json.124.abcd.tmp']);
  });
});
