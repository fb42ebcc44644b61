/**
 * `dispatch: inline`: orchestrators make the expert calls themselves under a cluster-wide
 * semaphore per expert. The results must be those of the queue (same table, every item
 * scored once, also through kill -9), no expert job may be created, and no endpoint may see
 * more requests at once than its capacity, however many workers call it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/core/registry.ts';
import type { TestCluster } from '../helpers/cluster.ts';
import {
  DISPATCH_CAPACITY,
  dispatchCluster,
  expectQueueResults,
  expertPeaks,
  runDispatch,
} from '../helpers/dispatch.ts';

describe('expert calls made by the orchestrators (dispatch: inline)', () => {
  const clusters: TestCluster[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.cleanup();
  });

  async function run(inline: boolean, workers: number, killAt?: number) {
    const cluster = dispatchCluster(inline ? 'inline' : 'queue');
    clusters.push(cluster);
    const result = await runDispatch(cluster, workers, killAt);
    return { ...result, expertJobs: await cluster.conn.keys(`${cluster.prefix}:expert*:*`) };
  }

  it('gives the queue’s table, creates no expert job and keeps every expert within its capacity', async () => {
    const queued = await run(false, 1);
    const inline = await run(true, 2);
    const killed = await run(true, 2, 0.5);

    expect(queued.expertJobs.length).toBeGreaterThan(0);
    for (const r of [inline, killed]) {
      expect(r.expertJobs).toEqual([]);
      expectQueueResults(r, queued);
    }
    const peaks = expertPeaks(inline.stats);
    for (const peak of peaks) expect(peak).toBeLessThanOrEqual(DISPATCH_CAPACITY);
    // Some expert was busy enough to meet its cap (otherwise the check above proves little).
    expect(Math.max(...peaks)).toBe(DISPATCH_CAPACITY);
  }, 600_000);

  it('refuses adaptive concurrency with dispatch: inline, naming the expert', () => {
    const dir = clusters[0]?.dir ?? '/tmp';
    const file = join(dir, 'inline-adaptive.yaml');
    writeFileSync(
      file,
      [
        'dispatch: inline',
        'experts:',
        '  - name: Adaptive-X',
        '    model: x',
        '    baseUrl: http://127.0.0.1:1/v1',
        '    adaptive: { min: 1 }',
      ].join('\n'),
    );
    expect(() => loadRegistry([file])).toThrow(/experts\[0\]\.adaptive.*dispatch: inline/);
  });
});
