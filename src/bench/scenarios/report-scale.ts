/**
 * The report at scale: `maestro-eval report` over a finished sweep of 10,000 records, then of
 * 50,000 (quick: 2,000 and 10,000), each record a routed rollout with two policy turns, two
 * expert calls and about 3 KB of text, like the records of a real Maestro sweep. Measured
 * per version (this checkout and each `--baseline`, alternated): wall time, CPU and peak RSS
 * of the process, and what each adds per record from the small sweep to the large one. A
 * paper-scale sweep (a million records) needs both to stay flat and small.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ItemRecord } from '../../core/items.ts';
import type { RolloutJobData } from '../../core/jobs.ts';
import type { DataStore } from '../../data/store.ts';
import { saveSweepMeta } from '../../producer/submit.ts';
import { type BenchContext, Stage, spawnNode } from '../harness.ts';
import type { ScenarioResult } from '../report.ts';
import { round } from '../stats.ts';
import { writeTextItems } from '../text-items.ts';
import { elapsedS, type Scenario } from './common.ts';
import { watchProcess } from './peer-meter.ts';

const ITEMS = 1_000;
const BENCHMARK = 'tallyqa';
const TEXT = 'The chart shows several groups of objects; I compared them one by one. ';

/** A routed rollout's record, as a worker writes it (two turns, two expert calls). */
function record(r: RolloutJobData, i: number): Record<string, unknown> {
  const call = (model: string, output: string) => ({
    service: 'expert',
    model,
    latencyMs: 80 + (i % 13),
    promptTokens: 900,
    completionTokens: 120,
    ok: true,
    note: 'direct answer',
    output,
  });
  const step = (turn: number, model: string, skill: string) => ({
    turn,
    policyText: `<think>${TEXT.repeat(3)}</think><search> ${model}@@${skill}: how many? </search>`,
    policyLatencyMs: 30,
    policyPromptTokens: 1200 + turn * 400,
    policyCompletionTokens: 60,
    action: { type: 'search', model, skill, input: 'how many?' },
    expert: model,
    skill,
    observation: TEXT.repeat(6),
    expertLatencyMs: 85,
    calls: [call(model, TEXT.repeat(6))],
  });
  return {
    v: 1,
    sweepId: r.sweepId,
    rolloutId: r.rolloutId,
    policy: r.policy,
    benchmark: r.benchmark,
    itemId: r.itemId,
    seed: r.seed,
    sample: r.sample,
    status: 'answered',
    rawOutput: `${TEXT.repeat(2)}<answer>${i % 7}</answer>`,
    extracted: String(i % 7),
    correct: i % 3 !== 0,
    score: i % 3 !== 0 ? 1 : 0,
    scoreReason: 'count',
    steps: [step(0, 'Solo', 'direct'), step(1, 'Solo', 'ocr')],
    latencyMs: 400,
    policyLatencyMs: 60,
    expertLatencyMs: 170,
    expertCalls: 2,
    promptTokens: 4400,
    completionTokens: 360,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
  };
}

/**
 * Plans a direct sweep of `n` rollouts (ITEMS items × n / ITEMS seeds) and writes its
 * records: in a journal, as workers write them now, or one file per record, as versions
 * before the journals did (what a baseline reads).
 */
async function finishedSweep(
  ctx: BenchContext,
  stage: Stage,
  store: DataStore,
  n: number,
  format: 'journal' | 'files',
): Promise<string> {
  const seeds = Array.from({ length: n / ITEMS }, (_, i) => i);
  const plan = await stage.plan(`report-scale-${n}-${format}`, ['direct:Solo'], seeds, {
    benchmarks: [BENCHMARK],
    store,
  });
  await saveSweepMeta(ctx.conn, stage.prefix, store, plan.meta);
  if (format === 'journal') {
    for (let i = 0; i < plan.rollouts.length; i += 2_000) {
      const batch = plan.rollouts.slice(i, i + 2_000);
      // The report checks every record it reads (a malformed one fails the run).
      await Promise.all(batch.map((r, j) => store.appendRecord(record(r, i + j) as unknown as ItemRecord)));
    }
    return plan.meta.id;
  }
  mkdirSync(dirname(store.recordPath(plan.meta.id, 'x')), { recursive: true });
  plan.rollouts.forEach((r, i) => {
    writeFileSync(store.recordPath(plan.meta.id, r.rolloutId), JSON.stringify(record(r, i)));
  });
  return plan.meta.id;
}

/** Whether the checkout of a baseline's CLI entry writes and reads records in journals. */
function readsJournals(bin: string): boolean {
  return existsSync(join(dirname(dirname(bin)), 'src', 'data', 'journal.ts'));
}

interface Run {
  version: string;
  records: number;
  wallS: number;
  cpuS: number;
  peakMiB: number;
}

/** `maestro-eval report SWEEP` of one version, as its own process. */
async function timedReport(ctx: BenchContext, stage: Stage, sweepId: string, version: string, bin?: string) {
  const started = performance.now();
  const p = spawnNode(
    [],
    ['report', sweepId],
    stage.env(),
    { echo: ctx.verbose, label: `report ${version}` },
    bin,
  );
  const sample = await watchProcess(p, 20);
  if (sample.exitCode !== 0)
    throw new Error(`report (${version}) exited ${sample.exitCode}:\n${p.output.slice(-10).join('\n')}`);
  return {
    wallS: (performance.now() - started) / 1000,
    cpuS: sample.cpuMs / 1000,
    peakMiB: sample.peakRss / 2 ** 20,
  };
}

/** Per version: the large sweep's figures and what each record adds over the small one. */
function slopes(runs: Run[], small: number, large: number) {
  const versions = [...new Set(runs.map((r) => r.version))];
  return versions.map((version) => {
    const at = (n: number) => runs.find((r) => r.version === version && r.records === n) as Run;
    const a = at(small);
    const b = at(large);
    const per = (x: number, y: number) => (y - x) / (large - small);
    return {
      version,
      small: { wallS: round(a.wallS, 2), cpuS: round(a.cpuS, 2), peakMiB: round(a.peakMiB, 1) },
      large: { wallS: round(b.wallS, 2), cpuS: round(b.cpuS, 2), peakMiB: round(b.peakMiB, 1) },
      cpuMsPerRecord: round(per(a.cpuS, b.cpuS) * 1000, 3),
      kibPerRecord: round(per(a.peakMiB, b.peakMiB) * 1024, 2),
      millionRecords: {
        cpuMin: round((b.cpuS + per(a.cpuS, b.cpuS) * (1e6 - large)) / 60, 1),
        peakGiB: round((b.peakMiB + per(a.peakMiB, b.peakMiB) * (1e6 - large)) / 1024, 1),
      },
    };
  });
}

export const reportScaleScenario: Scenario = {
  id: 'report-scale',
  title: 'The report of a large sweep',
  estimateS: { full: 150, quick: 40 },
  async run(ctx: BenchContext, { quick }): Promise<ScenarioResult> {
    const started = performance.now();
    const [small, large] = quick ? [2_000, 10_000] : [10_000, 50_000];
    const dataDir = join(ctx.root, 'report-scale-data');
    const store = await writeTextItems(dataDir, BENCHMARK, ITEMS, 'generated:report-scale');
    const stage = await Stage.quiet(ctx, 'report-scale', dataDir);
    const runs: Run[] = [];
    try {
      // A baseline reads journals when its checkout has them; older ones read one file per record.
      const versions = [
        ...ctx.baselines.map((b) => ({ ...b, journals: readsJournals(b.bin) })),
        { label: 'this', bin: undefined, journals: true },
      ];
      for (const n of [small, large]) {
        const journal = await finishedSweep(ctx, stage, store, n, 'journal');
        const files = versions.some((v) => !v.journals)
          ? await finishedSweep(ctx, stage, store, n, 'files')
          : '';
        for (const v of versions) {
          const sweepId = v.journals ? journal : files;
          const m = await timedReport(ctx, stage, sweepId, v.label, v.bin);
          runs.push({ version: v.label, records: n, ...m });
          ctx.log(`  report-scale ${v.label} ${n}: ${JSON.stringify(m)}`);
        }
      }
    } finally {
      await stage.stop();
    }
    const figures = slopes(runs, small, large);
    const self = figures.find((f) => f.version === 'this');
    return {
      id: 'report-scale',
      title: 'The report of a large sweep',
      target: 'reported: time and memory per record, flat from the small sweep to the large one',
      pass: null,
      headline: `report of ${large.toLocaleString('en-US')} records: ${self?.large.wallS} s, peak ${self?.large.peakMiB} MiB; each record adds ${self?.cpuMsPerRecord} ms of CPU and ${self?.kibPerRecord} KiB`,
      figures: { small, large, versions: figures },
      tables: [
        {
          title: `\`maestro-eval report\` over ${small.toLocaleString('en-US')} and ${large.toLocaleString('en-US')} records, per version`,
          columns: [
            'version',
            `wall s (${small} / ${large})`,
            `CPU s (${small} / ${large})`,
            `peak RSS MiB (${small} / ${large})`,
            'CPU ms per record',
            'KiB per record',
            'a million records (extrapolated): CPU min, peak GiB',
          ],
          rows: figures.map((f) => [
            f.version,
            `${f.small.wallS} / ${f.large.wallS}`,
            `${f.small.cpuS} / ${f.large.cpuS}`,
            `${f.small.peakMiB} / ${f.large.peakMiB}`,
            f.cpuMsPerRecord,
            f.kibPerRecord,
            `${f.millionRecords.cpuMin}, ${f.millionRecords.peakGiB}`,
          ]),
        },
      ],
      notes: [
        `Each record: a rollout of direct:Solo on ${BENCHMARK} written as a routed one (two policy turns, two expert calls with their outputs; about 3 KB of JSON). The sweeps are planned as usual (sweep.json), their records written straight to the data folder (no worker runs): in a journal, as workers write them, for this checkout and for a baseline whose checkout has journals (src/data/journal.ts); for an older baseline one file per record, as versions before the journals wrote them.`,
        'CPU and peak RSS (VmHWM) of the report process, read from /proc every 20 ms until it exits; it writes every report file (tables, items.jsonl, figures). Per record: the difference between the two sweeps, divided by the difference in records; the million-record column extends that line (it ignores the heap limit of Node, about 4 GiB by default).',
      ],
      durationS: elapsedS(started),
    };
  },
};
