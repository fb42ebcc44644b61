/**
 * Windowed submission at paper scale, dry run: a sweep of 1,000,000 rollouts (10,000
 * text items × 100 seeds, direct baseline) planned and fed through a window of 10,000
 * with no workers: whenever the window is full, a stand-in for the cluster marks the
 * waiting rollouts scored (their `done` entries) and removes them from the queue. Redis
 * memory is read at 10k, 100k and 1M rollouts fed: the queue's share stays flat (bounded
 * by the window); the `done` index grows by one entry per scored rollout.
 */

import { join } from 'node:path';
import { Queue } from 'bullmq';
import { keys, ROLLOUT_QUEUE } from '../../core/queues.ts';
import type { DataStore } from '../../data/store.ts';
import { feedSweep } from '../../producer/feed.ts';
import type { SweepPlan } from '../../producer/plan.ts';
import { type BenchContext, Stage } from '../harness.ts';
import type { ScenarioResult } from '../report.ts';
import { round } from '../stats.ts';
import { writeTextItems } from '../text-items.ts';
import { elapsedS, type Scenario } from './common.ts';

const ITEMS = 10_000;
const WINDOW = 10_000;
const BENCHMARK = 'tallyqa';

async function usedMemory(ctx: BenchContext): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await ctx.conn.info('memory'))?.[1] ?? 0);
}

/** MEMORY USAGE summed over the keys matching a pattern. */
async function keysMemory(ctx: BenchContext, pattern: string): Promise<number> {
  let cursor = '0';
  let total = 0;
  do {
    const [next, found] = await ctx.conn.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    const pipe = ctx.conn.pipeline();
    for (const k of found) pipe.call('MEMORY', 'USAGE', k);
    for (const [, v] of (await pipe.exec()) ?? []) total += Number(v ?? 0);
  } while (cursor !== '0');
  return total;
}

interface Checkpoint {
  fed: number;
  usedMemory: number;
  /** MEMORY USAGE summed over the rollout queue's keys (jobs, lists, sets, events). */
  queueBytes: number;
  doneIndexBytes: number;
  queued: number;
  elapsedS: number;
}

/** Plans the sweep (direct baseline over the text items, `total / ITEMS` seeds). */
async function planFeed(stage: Stage, store: DataStore, total: number) {
  const seeds = Array.from({ length: total / ITEMS }, (_, i) => i);
  const started = performance.now();
  const plan = await stage.plan('feed', ['direct:Solo'], seeds, { benchmarks: [BENCHMARK], store });
  return { plan, planMs: performance.now() - started };
}

/** Feeds the plan through the window, finishing each full window, with memory checkpoints. */
async function feedMeasured(
  ctx: BenchContext,
  stage: Stage,
  store: DataStore,
  plan: SweepPlan,
  total: number,
) {
  const queue = new Queue(ROLLOUT_QUEUE, { connection: ctx.conn, prefix: stage.prefix });
  const doneKey = keys.done(stage.prefix, plan.meta.id);
  const waitKey = `${stage.prefix}:${ROLLOUT_QUEUE}:wait`;
  const baseline = await usedMemory(ctx);
  const marks = [10_000, 100_000, 1_000_000].filter((m) => m <= total);
  const points: Checkpoint[] = [];
  let fed = 0;
  const started = performance.now();
  const checkpoint = async () => {
    while (marks.length && fed >= (marks[0] ?? Number.MAX_SAFE_INTEGER)) {
      marks.shift();
      points.push({
        fed,
        usedMemory: (await usedMemory(ctx)) - baseline,
        queueBytes: await keysMemory(ctx, `${stage.prefix}:${ROLLOUT_QUEUE}:*`),
        doneIndexBytes: Number((await ctx.conn.call('MEMORY', 'USAGE', doneKey)) ?? 0),
        queued: await ctx.conn.llen(waitKey),
        elapsedS: (performance.now() - started) / 1000,
      });
    }
  };
  // The cluster's stand-in: every waiting rollout is scored and leaves the queue.
  const finishWindow = async () => {
    await checkpoint();
    const ids = await ctx.conn.lrange(waitKey, 0, -1);
    for (let i = 0; i < ids.length; i += 1_000) {
      const pipe = ctx.conn.pipeline();
      for (const id of ids.slice(i, i + 1_000)) pipe.hset(doneKey, id, `answered|1|${BENCHMARK}|direct:Solo`);
      await pipe.exec();
    }
    await queue.drain();
  };
  try {
    const result = await feedSweep(ctx.conn, stage.prefix, store, plan.meta, plan.rollouts, {
      window: WINDOW,
      whenFull: finishWindow,
      onProgress: (r) => {
        fed = r.added + r.done + r.inFlight;
      },
    });
    await checkpoint();
    return { result, points, feedMs: performance.now() - started };
  } finally {
    await queue.close();
  }
}

const queueShare = (p: Checkpoint) => p.queueBytes;
const mb = (b: number) => round(b / 1e6, 1);

function feedResult(
  total: number,
  planMs: number,
  fed: Awaited<ReturnType<typeof feedMeasured>>,
  started: number,
): ScenarioResult {
  const { points, feedMs, result } = fed;
  const first = points[0];
  const last = points[points.length - 1];
  const flat = first && last ? queueShare(last) <= queueShare(first) * 1.25 + 2 ** 20 : false;
  const perQueued = first ? queueShare(first) / WINDOW : 0;
  const perDone = last ? last.doneIndexBytes / last.fed : 0;
  return {
    id: 'feed',
    title: 'Windowed submission at paper scale (dry run)',
    target: `Redis memory of the queue bounded by the window (${WINDOW}) from 10k to ${total / 1000}k rollouts fed`,
    pass: flat,
    headline: `queue ${points.map((p) => `${mb(queueShare(p))} MB at ${p.fed / 1000}k`).join(', ')}; done index ${round(perDone, 0)} B/rollout; plan ${round((planMs * 1000) / total, 1)} µs, feed ${round((feedMs * 1000) / total, 1)} µs per rollout`,
    figures: {
      rollouts: total,
      window: WINDOW,
      added: result.added,
      planMs: round(planMs, 0),
      feedMs: round(feedMs, 0),
      planUsPerRollout: round((planMs * 1000) / total, 2),
      feedUsPerRollout: round((feedMs * 1000) / total, 2),
      bytesPerQueuedRollout: round(perQueued, 0),
      doneIndexBytesPerRollout: round(perDone, 0),
      allAtOnceEstimateMB: mb(perQueued * total),
      points,
    },
    tables: [
      {
        title: 'Redis memory while feeding (window full, before it is finished)',
        columns: ['rollouts fed', 'used memory (MB)', 'rollout queue (MB)', 'done index (MB)', 'time (s)'],
        rows: points.map((p) => [
          p.fed,
          mb(p.usedMemory),
          mb(p.queueBytes),
          mb(p.doneIndexBytes),
          round(p.elapsedS, 1),
        ]),
      },
    ],
    notes: [
      `${total} rollouts (${ITEMS} text items × ${total / ITEMS} seeds, direct baseline), planned in the bench process and fed by feedSweep with a window of ${WINDOW}. No workers: when the window is full, the waiting rollouts are marked scored (HSET of their done entry) and removed from the queue (drain), standing in for a cluster that finishes them.`,
      `Memory: INFO used_memory minus the value before feeding (everything, allocator overhead included); the rollout queue is MEMORY USAGE summed over its keys (jobs, wait list, events stream, completed set); the done index is MEMORY USAGE of the sweep's done hash (sampled). Submitting the whole sweep at once would hold about ${mb(perQueued * total)} MB of queued jobs (${round(perQueued, 0)} bytes per queued rollout, measured at the first checkpoint).`,
      'The done index (one entry per scored rollout) is what still grows with the sweep; it holds compact results, not jobs.',
    ],
    durationS: elapsedS(started),
  };
}

export const feedScenario: Scenario = {
  id: 'feed',
  title: 'Windowed submission at paper scale (dry run)',
  estimateS: { full: 300, quick: 40 },
  async run(ctx: BenchContext, { quick }): Promise<ScenarioResult> {
    const started = performance.now();
    const total = quick ? 100_000 : 1_000_000;
    const dataDir = join(ctx.root, 'feed-data');
    // 500 distinct planned items, repeated: planning cost stays out of the measure.
    const store = await writeTextItems(dataDir, BENCHMARK, ITEMS, 'generated:feed', (i) => i % 500);
    const stage = await Stage.quiet(ctx, 'feed', dataDir);
    try {
      const { plan, planMs } = await planFeed(stage, store, total);
      const fed = await feedMeasured(ctx, stage, store, plan, total);
      return feedResult(total, planMs, fed, started);
    } finally {
      await stage.stop();
    }
  },
};
