import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeProfile } from '../../src/bench/profile.ts';

/**
 * A scenario that measures several versions in turn has one measured phase per run; a
 * worker's profile is summed over all of them (each process lives in one), and nothing
 * outside them (start-up, warm-up, shutdown) counts.
 */
describe('profile summaries over measured phases', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-windows-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Samples every 1 ms from t = 1,000 µs: node 2 (work) then node 3 (other) alternate by 10 ms.
  const file = join(dir, 'p.cpuprofile');
  const samples: number[] = [];
  for (let i = 0; i < 100; i++) samples.push(Math.floor(i / 10) % 2 === 0 ? 2 : 3);
  const frame = (name: string, url: string) => ({ functionName: name, url, lineNumber: 0, scriptId: '1' });
  writeFileSync(
    file,
    JSON.stringify({
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('work', 'file:///x/node_modules/bullmq/dist/a.js') },
        { id: 3, callFrame: frame('other', 'file:///x/node_modules/ioredis/built/b.js') },
      ],
      startTime: 0,
      endTime: 101_000,
      samples,
      timeDeltas: samples.map(() => 1_000),
    }),
  );

  it('counts the samples of every window and none outside', async () => {
    const all = await summarizeProfile(file);
    expect(all.totalMs).toBeCloseTo(100, 5);
    // Samples land at t = 1, 2, …, 100 ms. [1, 10] holds ten `work` samples, [21, 25] five more.
    const two = await summarizeProfile(file, 10, [
      { startUs: 1_000, endUs: 10_000 },
      { startUs: 21_000, endUs: 25_000 },
    ]);
    expect(two.totalMs).toBeCloseTo(15, 5);
    expect(two.byOrigin.map((o) => [o.origin, Math.round(o.ms)])).toEqual([['bullmq', 15]]);
    // One window alone gives what the last run's window gave before: the others are lost.
    const one = await summarizeProfile(file, 10, [{ startUs: 21_000, endUs: 25_000 }]);
    expect(one.totalMs).toBeCloseTo(5, 5);
  });
});
