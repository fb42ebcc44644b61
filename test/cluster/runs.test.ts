/**
 * Runs a user can trust (issue 14): records belong to (sweep, run), re-use is explicit,
 * `sweep reset|rm` discard a sweep everywhere, a renamed sweep has jobs of its own, a data
 * directory outage is waited out, and rollouts that fail outright reach every table and
 * the exit code of `sweep --wait`.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../src/core/queues.ts';
import { failedRollouts } from '../../src/producer/progress.ts';
import { cli, sleep, until } from '../chaos/harness.ts';
import { TestCluster } from '../helpers/cluster.ts';

/** How long the records folder stays unwritable (the issue asks for 60 s; 20 s by default). */
const OUTAGE_MS = Number(process.env.MAESTRO_TEST_OUTAGE_MS ?? 20_000);

const clusters: TestCluster[] = [];
afterAll(async () => {
  for (const c of clusters.reverse()) await c.cleanup();
});
async function cluster(opts: ConstructorParameters<typeof TestCluster>[0]) {
  const c = new TestCluster(opts);
  clusters.push(c);
  return c.start();
}

/** Keys of this cluster that name the sweep (its own keys and its jobs). */
async function sweepKeys(c: TestCluster, sweepId: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await c.conn.scan(cursor, 'MATCH', `${c.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch.filter((k) => k.includes(sweepId)));
  } while (cursor !== '0');
  return found;
}

/** Replaces the sweep's records folder by a file (works as root, unlike chmod). */
function breakRecords(c: TestCluster, sweepId: string): string {
  const dir = join(c.store.sweepDir(sweepId), 'records');
  rmSync(dir, { recursive: true, force: true });
  writeFileSync(dir, 'not a folder\n');
  return dir;
}

describe('run identity, reset and rm', () => {
  it('keeps records of another run only with --reuse, and discards a sweep on request', async () => {
    const a = await cluster({ items: 2, benchmarks: ['chartqa'] });
    await a.worker(['--role', 'all']);
    const file = a.sweepFile('ident', ['direct:Chart-R1']);
    const plan = await a.plan(file);
    const id = plan.meta.id;
    const n = plan.rollouts.length;
    const first = await cli(['sweep', file, '--wait'], a.env());
    expect(first.code, first.stderr).toBe(0);
    expect(await a.store.readRecords(id)).toHaveLength(n);
    await a.stopWorkers();

    // Same sweep, same data directory, another prefix: the old records are not kept silently.
    const b = await cluster({ items: 2, benchmarks: ['chartqa'], dataDir: a.dataDir });
    const refused = await cli(['sweep', file, '--no-preflight'], b.env());
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`${n} records`);
    expect(refused.stderr).toContain('come from another run');
    expect(refused.stderr).toContain(`prefix ${a.prefix}`);
    expect(refused.stderr).toMatch(/--reuse.*sweep reset/);
    expect(await b.conn.hlen(keys.done(b.prefix, id))).toBe(0);

    // --reuse counts them, says so, and runs nothing (no worker runs on b).
    const reused = await cli(['sweep', file, '--reuse', '--wait', '--no-preflight'], b.env());
    expect(reused.code, reused.stderr).toBe(0);
    expect(reused.stdout).toContain(`--reuse: re-using ${n} records of another run`);
    expect(reused.stdout).toContain(`${n}/${n} scored`);
    expect(Object.values(b.sim.stats()).reduce((s, e) => s + e.requests, 0)).toBe(0);
    // From now on they are this run's: a second submission keeps them without --reuse.
    const again = await cli(['sweep', file, '--no-preflight'], b.env());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`keeping ${n} records of this run`);

    // reset: refused without a terminal and without --yes; nothing removed.
    const unconfirmed = await cli(['sweep', 'reset', id], b.env());
    expect(unconfirmed.code).not.toBe(0);
    expect(unconfirmed.stderr).toMatch(/without confirmation: no terminal.*--yes/);
    expect(await b.store.readRecords(id)).toHaveLength(n);
    const reset = await cli(['sweep', 'reset', id, '--yes'], b.env());
    expect(reset.code, reset.stderr).toBe(0);
    expect(await b.store.readRecords(id)).toHaveLength(0);
    expect(await sweepKeys(b, id)).toEqual([keys.sweep(b.prefix, id)]);

    // A reset sweep runs again, fresh: model calls are made and new records written.
    await b.worker(['--role', 'all']);
    const rerun = await cli(['sweep', file, '--wait'], b.env());
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).not.toContain('re-using');
    expect(await b.store.readRecords(id)).toHaveLength(n);
    expect(b.sim.stats()['Chart-R1']?.requests).toBeGreaterThanOrEqual(n);
    const run = JSON.parse(readFileSync(join(b.store.sweepDir(id), 'run.json'), 'utf8'));
    expect(run.prefix).toBe(b.prefix);

    // Renamed, same content: its own jobs, so it does not sit at 0/N behind the other's.
    const renamedFile = b.sweepFile('ident-renamed', ['direct:Chart-R1']);
    const renamed = await b.plan(renamedFile);
    expect(renamed.meta.fingerprint).toBe(plan.meta.fingerprint);
    expect(
      renamed.rollouts.map((r) => r.rolloutId).filter((r) => plan.rollouts.some((p) => p.rolloutId === r)),
    ).toEqual([]);
    const second = await cli(['sweep', renamedFile, '--wait'], b.env());
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`${n}/${n} scored`);

    // rm: everything of the sweep goes, in Redis and in the data directory.
    const rm = await cli(['sweep', 'rm', renamed.meta.id, '--yes'], b.env());
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toMatch(/removed: [1-9]\d* jobs/);
    expect(await sweepKeys(b, renamed.meta.id)).toEqual([]);
    expect(await b.conn.sismember(keys.sweeps(b.prefix), renamed.meta.id)).toBe(0);
    expect(existsSync(b.store.sweepDir(renamed.meta.id))).toBe(false);
    // The other sweep is untouched.
    expect(await b.store.readRecords(id)).toHaveLength(n);
  }, 400_000);
});

describe('storage outages and failed rollouts', () => {
  it(`waits out a records folder unwritable for ${OUTAGE_MS / 1000} s: 0 items failed`, async () => {
    const c = await cluster({ items: 3, benchmarks: ['chartqa', 'tallyqa'] });
    const file = c.sweepFile('outage', ['direct:Chart-R1', 'random']);
    const plan = await c.plan(file);
    await c.submit(plan);
    const dir = breakRecords(c, plan.meta.id);
    const logs: string[] = [];
    const w = await c.worker(['--role', 'all'], { MAESTRO_STORAGE_DEADLINE_MS: String(10 * 60_000) });
    w.child.stdout?.on('data', (b: Buffer) => logs.push(b.toString()));
    w.child.stderr?.on('data', (b: Buffer) => logs.push(b.toString()));
    const started = Date.now();
    await until(
      'a storage error in the worker log',
      () => logs.join('').includes('storage error writing'),
      300_000,
    );
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - started)));
    rmSync(dir, { force: true });
    const outageMs = Date.now() - started;
    const res = await c.wait(plan, 400_000);
    const text = logs.join('');
    expect(res.failed).toBe(0);
    expect((await failedRollouts(c.conn, c.prefix, plan.meta.id)).size).toBe(0);
    expect(await c.store.readRecords(plan.meta.id)).toHaveLength(plan.rollouts.length);
    // Logged on the worker with the path and the errno, and the recovery.
    expect(text).toMatch(
      new RegExp(
        `storage error writing ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\S+: (ENOTDIR|EEXIST)`,
      ),
    );
    expect(text).toContain('storage ok again');
    console.log(
      `records folder unwritable for ${outageMs} ms: ${plan.rollouts.length} items, ${res.failed} failed`,
    );
  }, 600_000);

  it('counts rollouts that fail outright in the report, exits non-zero and retries them', async () => {
    const c = await cluster({ items: 2, benchmarks: ['chartqa'] });
    const file = c.sweepFile('fails', ['direct:Chart-R1']);
    const plan = await c.plan(file);
    const n = plan.rollouts.length;
    await c.submit(plan);
    const dir = breakRecords(c, plan.meta.id);
    // A short deadline: storage that stays broken fails the scoring, then the rollout.
    await c.worker(['--role', 'all'], { MAESTRO_STORAGE_DEADLINE_MS: '500' });
    const waited = await cli(['sweep', file, '--wait', '--no-preflight'], c.env(), 300_000);
    expect(waited.code).not.toBe(0);
    expect(waited.stderr).toContain(`${n} of ${n} rollouts failed outright`);
    expect(waited.stderr).toMatch(/ENOTDIR|EEXIST/);
    expect(waited.stderr).toContain('--retry-errors');
    rmSync(dir, { force: true });

    const report = await cli(['report', plan.meta.id], c.env());
    expect(report.code, report.stderr).toBe(0);
    const out = join(c.store.sweepDir(plan.meta.id), 'report');
    // All failed: 0.0 with failures counted as wrong, no accuracy over answered items.
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toContain(
      `| 0.0 (— answered; ${n} failed, ${n} outright) |`,
    );
    const lines = readFileSync(join(out, 'items.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(n);
    for (const l of lines) {
      expect(l.status).toBe('failed');
      expect(l.cause).toMatch(/storage error writing/);
    }

    const retried = await cli(
      ['sweep', file, '--retry-errors', '--wait', '--no-preflight'],
      c.env(),
      300_000,
    );
    expect(retried.code, retried.stderr).toBe(0);
    expect(await c.store.readRecords(plan.meta.id)).toHaveLength(n);
    expect(await c.store.readFailures(plan.meta.id)).toEqual([]);
  }, 600_000);
});

describe('a healthy run is quiet', () => {
  it('logs no "Missing lock" for fan-outs (oracle) and delayed admissions (bandit)', async () => {
    const c = await cluster({ items: 4, benchmarks: ['chartqa', 'tallyqa'] });
    const logs: string[] = [];
    // The product's lock settings (the test cluster's 3 s lock lets crash tests recover
    // fast, but a loaded machine can starve a renewal that long: that noise is the load's,
    // not the run's).
    const w = await c.worker(['--role', 'all'], { MAESTRO_LOCK_MS: '30000', MAESTRO_STALLED_MS: '15000' });
    w.child.stdout?.on('data', (b: Buffer) => logs.push(b.toString()));
    w.child.stderr?.on('data', (b: Buffer) => logs.push(b.toString()));
    const r = await cli(['sweep', c.sweepFile('quiet', ['oracle', 'bandit']), '--wait'], c.env(), 300_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/(\d+)\/\1 scored, 0 errors, 0 failed outright/);
    await c.stopWorkers();
    const noisy = logs
      .join('')
      .split('\n')
      .filter((l) => /Missing lock/.test(l));
    expect(noisy).toEqual([]);
  }, 400_000);
});
