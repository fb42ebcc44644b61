/**
 * Memory: Redis memory per 10,000 queued rollouts (no workers running), and the RSS of a
 * process running the worker code after 2,000 and after 20,000 items (the in-process path,
 * in a child process with --expose-gc, to keep the time bounded).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CATALOG, DEFAULT_SUITE, ROOT } from '../../core/paths.ts';
import { BENCH_BENCHMARKS, type BenchContext, Stage } from '../harness.ts';
import type { ScenarioResult } from '../report.ts';
import { round } from '../stats.ts';
import { ALL_DOMAINS, elapsedS, type Scenario, seedsFor } from './common.ts';

const TARGET_MB_PER_10K = 20;
/**
 * Bundled (dist/, `npm run build`): the child's own entry beside the bundle; otherwise its
 * TypeScript through tsx. (In the bundle `import.meta.url` names the source file, while
 * `import.meta.filename` names the bundle's file.)
 */
const BUNDLED = /\.c?js$/.test(import.meta.filename);
const CHILD = BUNDLED
  ? join(dirname(import.meta.filename), 'rss-child.js')
  : fileURLToPath(new URL('../rss-child.ts', import.meta.url));
const LOADER = BUNDLED ? [] : ['--import', 'tsx'];

async function usedMemory(ctx: BenchContext): Promise<number> {
  const info = await ctx.conn.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Runs the RSS child; returns its checkpoints. */
function runChild(
  args: Record<string, unknown>,
): Promise<
  Array<{ items: number; rss: number; heapUsed: number; external: number; arrayBuffers: number; gc: boolean }>
> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...LOADER, CHILD, JSON.stringify(args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: string[] = [];
    const err: string[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b.toString()));
    child.stderr.on('data', (b: Buffer) => err.push(b.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`memory child exited ${code}: ${err.join('').slice(-2000)}`));
      const lines = out
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('mem '));
      resolve(lines.map((l) => JSON.parse(l.slice(4))));
    });
  });
}

export const memoryScenario: Scenario = {
  id: 'memory',
  title: 'Memory',
  estimateS: { full: 70, quick: 15 },
  async run(ctx: BenchContext, { quick }): Promise<ScenarioResult> {
    const started = performance.now();
    const queued = 10_000;
    const [small, large] = quick ? [500, 5_000] : [2_000, 20_000];
    const stage = await Stage.start(ctx, {
      name: 'memory',
      latencyScale: 0,
      registry: {
        maxTurns: 3,
        policy: { medianMs: 50, capacity: 512 },
        experts: [{ name: 'Solo', capacity: 64, medianMs: 150, domains: ALL_DOMAINS }],
      },
      workers: [],
    });
    try {
      const items =
        (await ctx.store.loadDataset(BENCH_BENCHMARKS[0] ?? '')).items.length * BENCH_BENCHMARKS.length;
      // Redis: 10,000 rollouts waiting (nothing consumes them).
      const plan = await stage.plan('memory-queue', ['maestro'], seedsFor(queued, items));
      plan.rollouts = plan.rollouts.slice(0, queued);
      const before = await usedMemory(ctx);
      await stage.submit(plan);
      const after = await usedMemory(ctx);
      const perTenK = ((after - before) / plan.rollouts.length) * 10_000;
      const jobBytes = (after - before) / plan.rollouts.length;
      await stage.clearKeys();

      // Worker RSS: the in-process path in a child process, after small and large item counts.
      const sweepFile = stage.sweepFile('memory-rss', ['maestro'], seedsFor(large, items));
      const points = await runChild({
        dataDir: ctx.dataDir,
        sweepFile,
        catalog: DEFAULT_CATALOG,
        suite: DEFAULT_SUITE,
        redisUrl: ctx.redisUrl,
        prefix: stage.prefix,
        // Intermediate checkpoints show whether RSS is still growing or has levelled off.
        checkpoints: quick ? [small, 2_000, large] : [small, 5_000, 10_000, large],
        concurrency: 32,
      });
      const a = points[0];
      const b = points[points.length - 1];
      const growthMiB = a && b ? (b.rss - a.rss) / 2 ** 20 : Number.NaN;
      const heapGrowthMiB = a && b ? (b.heapUsed - a.heapUsed) / 2 ** 20 : Number.NaN;
      const mb = perTenK / 1e6;
      return {
        id: 'memory',
        title: 'Memory',
        target: `Redis ≤ ${TARGET_MB_PER_10K} MB per 10,000 queued rollouts; worker RSS flat from ${small} to ${large} items`,
        pass: mb <= TARGET_MB_PER_10K && Math.abs(heapGrowthMiB) < 16,
        headline: `Redis ${round(mb, 2)} MB / 10k queued; RSS ${round((a?.rss ?? 0) / 2 ** 20, 0)} → ${round((b?.rss ?? 0) / 2 ** 20, 0)} MiB (heap ${round((a?.heapUsed ?? 0) / 2 ** 20, 1)} → ${round((b?.heapUsed ?? 0) / 2 ** 20, 1)} MiB)`,
        figures: {
          redis: {
            queuedRollouts: plan.rollouts.length,
            usedMemoryBefore: before,
            usedMemoryAfter: after,
            bytesPerRollout: round(jobBytes, 0),
            mbPer10k: round(mb, 3),
          },
          workerMemory: {
            path: 'in-process (same policy/skill/scoring/record code), child process with --expose-gc, 32 rollouts at once',
            points: points.map((p) => ({
              items: p.items,
              rssMiB: round(p.rss / 2 ** 20, 1),
              heapUsedMiB: round(p.heapUsed / 2 ** 20, 1),
            })),
            rssGrowthMiB: round(growthMiB, 1),
            heapGrowthMiB: round(heapGrowthMiB, 2),
            gcExposed: Boolean(a?.gc),
          },
        },
        tables: [
          {
            title: 'Process memory after a full GC',
            columns: ['items', 'RSS (MiB)', 'heap used (MiB)', 'external (MiB)'],
            rows: points.map((p) => [
              p.items,
              round(p.rss / 2 ** 20, 1),
              round(p.heapUsed / 2 ** 20, 1),
              round(p.external / 2 ** 20, 1),
            ]),
          },
        ],
        notes: [
          `Redis: used_memory before and after submitting ${plan.rollouts.length} rollouts with no worker running (job hash with the small payload — references, no image bytes — plus the wait list entry and id); ${round(jobBytes, 0)} bytes per queued rollout.`,
          `Worker memory: the worker path was run in-process (policy, skills, scoring, fsync'd records) in a fresh child process for ${large} rollouts, 32 at once; memory is read after gc() at ${small} and ${large} items. "Flat" means heap growth under 16 MiB; RSS also holds freed-but-kept pages, so heap is the sharper signal.`,
          'The cluster workers’ RSS during the 5,000-rollout ceiling run is in that scenario’s table.',
        ],
        durationS: elapsedS(started),
      };
    } finally {
      await stage.stop();
    }
  },
};
