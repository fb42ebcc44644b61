/**
 * `maestro-eval bench`: runs the scenarios on their own simulated servers, worker
 * processes and (by default) a private redis-server, prints a table and writes
 * bench/results/<name>.json and .md.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError } from '../core/errors.ts';
import { ROOT } from '../core/paths.ts';
import { trackPid } from '../process/pids.ts';
import { BenchContext } from './harness.ts';
import { type ProfileWindow, profilesIn, summarizeProfile } from './profile.ts';
import {
  type BenchReport,
  type ScenarioResult,
  summaryTable,
  textTable,
  writeBenchReport,
} from './report.ts';
import { adaptiveScenario } from './scenarios/adaptive.ts';
import { bodiesScenario } from './scenarios/bodies.ts';
import { ceilingAwaitScenario, ceilingInlineScenario, ceilingScenario } from './scenarios/ceiling.ts';
import type { Scenario } from './scenarios/common.ts';
import { directPeerScenario } from './scenarios/direct-peer.ts';
import { feedScenario } from './scenarios/feed.ts';
import { memoryScenario } from './scenarios/memory.ts';
import { overheadAwaitScenario, overheadInlineScenario, overheadScenario } from './scenarios/overhead.ts';
import { reportScaleScenario } from './scenarios/report-scale.ts';
import { saturationScenario } from './scenarios/saturation.ts';
import { scaleoutScenario } from './scenarios/scaleout.ts';
import { machineInfo, round } from './stats.ts';

/** Every scenario, in the order a full run takes them. */
export const SCENARIOS: Scenario[] = [
  overheadScenario,
  overheadAwaitScenario,
  overheadInlineScenario,
  ceilingScenario,
  ceilingAwaitScenario,
  ceilingInlineScenario,
  saturationScenario,
  scaleoutScenario,
  memoryScenario,
  adaptiveScenario,
  directPeerScenario,
  feedScenario,
  reportScaleScenario,
  bodiesScenario,
];

export interface BenchOptions {
  quick?: boolean;
  /** Scenario ids; default all. */
  scenarios?: string[];
  /** Use this Redis instead of a private redis-server. */
  redisUrl?: string;
  /** Output directory. Default bench/results in the project. */
  outDir?: string;
  /** Free text recorded in the report (what else ran on the machine). */
  note?: string;
  verbose?: boolean;
  /** Profile every worker process (node --cpu-prof) into this directory and add the summaries. */
  cpuProfileDir?: string;
  /** Built checkouts to measure beside this one, in the scenarios that support it (before/after). */
  baselines?: string[];
  /** Where the stages keep their data (records). Default: the OS temp folder. */
  workDir?: string;
  command?: string;
  log?: (line: string) => void;
}

/** Where each profiled worker's CPU went in the scenario's measured phase, by origin and function. */
async function profileTables(
  dir: string,
  labels: Map<number, string>,
  windows: ProfileWindow[],
): Promise<ScenarioResult['tables']> {
  let files: Array<{ file: string; pid: number }> = [];
  try {
    files = await profilesIn(dir);
  } catch {
    return [];
  }
  const tables: ScenarioResult['tables'] = [];
  for (const { file, pid } of files) {
    const s = await summarizeProfile(file, 10, windows.length ? windows : undefined);
    const label = labels.get(pid) ?? `pid ${pid}`;
    tables.push({
      title: `CPU profile of ${label}, measured phase: ${round(s.totalMs / 1000, 2)} s on CPU (${basename(file)})`,
      columns: ['origin', 'self ms', 'share'],
      rows: s.byOrigin.slice(0, 10).map((o) => [o.origin, round(o.ms, 0), round(o.share, 3)]),
    });
    tables.push({
      title: `Hottest functions of ${label}, measured phase`,
      columns: ['function', 'origin', 'self ms'],
      rows: s.topFunctions.map((f) => [f.fn, f.origin, round(f.ms, 0)]),
    });
  }
  return tables;
}

/**
 * Runs one scenario as `maestro-eval bench --scenario ID` in a process of its own and reads
 * back its result. A run of several scenarios isolates them so: a scenario that measures
 * code in the bench process (the in-process references of overhead and ceiling, planning
 * and feeding) would otherwise find it compiled by the scenarios before it, while the
 * workers each scenario starts are new, and its figures would depend on the order.
 */
async function runIsolated(
  s: Scenario,
  opts: BenchOptions,
  log: (line: string) => void,
): Promise<{ result: ScenarioResult; redis: BenchReport['redis'] }> {
  const out = await mkdtemp(join(tmpdir(), `maestro-bench-${s.id}-`));
  const args = [join(ROOT, 'bin', 'maestro-eval.js'), 'bench', '--scenario', s.id, '--out', out];
  if (opts.quick) args.push('--quick');
  if (opts.verbose) args.push('--verbose');
  if (opts.redisUrl) args.push('--redis-url', opts.redisUrl);
  if (opts.cpuProfileDir) args.push('--cpu-prof', resolve(opts.cpuProfileDir));
  if (opts.workDir) args.push('--work-dir', resolve(opts.workDir));
  for (const b of opts.baselines ?? []) args.push('--baseline', resolve(b));
  try {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    trackPid(child);
    // The scenario's own lines (indented), not the child's header and summary.
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.startsWith('  ')) log(line);
    });
    const code = await new Promise<number | null>((done, fail) => {
      child.on('error', fail);
      child.on('close', done);
    });
    if (code !== 0) throw new Error(`bench: scenario ${s.id} failed (its process exited ${code})`);
    const report = JSON.parse(
      await readFile(join(out, `custom-${s.id}${opts.quick ? '-quick' : ''}.json`), 'utf8'),
    ) as BenchReport;
    const result = report.scenarios[0];
    if (!result) throw new Error(`bench: scenario ${s.id} wrote no result`);
    return { result, redis: report.redis };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

export async function runBench(opts: BenchOptions = {}): Promise<{ report: BenchReport; files: string[] }> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const quick = opts.quick ?? false;
  const wanted = opts.scenarios?.length ? opts.scenarios : SCENARIOS.map((s) => s.id);
  const unknown = wanted.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length) {
    throw new ConfigError('(bench)', '--scenario', `unknown scenario ${unknown.join(', ')}`, {
      hint: `scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}`,
    });
  }
  const chosen = SCENARIOS.filter((s) => wanted.includes(s.id));
  const kind: BenchReport['kind'] =
    chosen.length === SCENARIOS.length ? (quick ? 'quick' : 'full') : 'custom';
  const estimate = chosen.reduce((a, s) => a + (quick ? s.estimateS.quick : s.estimateS.full), 0);
  const machine = machineInfo();
  const startedAt = new Date();
  log(
    `maestro-eval bench (${quick ? 'quick' : 'full'}): ${chosen.map((s) => s.id).join(', ')} — about ${Math.round(estimate / 60)} min`,
  );
  log(`machine: ${machine.cpuModel}, ${machine.cpus} cores, load ${machine.loadAtStart.join(' / ')}`);

  const results: ScenarioResult[] = [];
  let redis: BenchReport['redis'] | undefined;
  if (chosen.length > 1) {
    // Several scenarios: each in a process of its own (see runIsolated).
    for (const s of chosen) {
      log(`\n▶ ${s.title}`);
      const child = await runIsolated(s, opts, log);
      results.push(child.result);
      redis ??= child.redis;
    }
  } else {
    const ctx = await BenchContext.create({
      ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}),
      itemsPerBenchmark: quick ? 4 : 8,
      log,
      verbose: opts.verbose ?? false,
      ...(opts.baselines?.length ? { baselines: opts.baselines } : {}),
      ...(opts.workDir ? { workDir: opts.workDir } : {}),
    });
    try {
      redis = await ctx.redisInfo();
      for (const s of chosen) {
        log(`\n▶ ${s.title}`);
        if (opts.cpuProfileDir) ctx.cpuProfileDir = join(resolve(opts.cpuProfileDir), s.id);
        ctx.profileWindows = [];
        const r = await s.run(ctx, { quick });
        if (ctx.cpuProfileDir)
          r.tables.push(...(await profileTables(ctx.cpuProfileDir, ctx.processLabels, ctx.profileWindows)));
        results.push(r);
        log(
          `  ${r.headline} — target ${r.target}: ${r.pass === null ? 'reported' : r.pass ? 'met' : 'MISSED'} (${round(r.durationS, 0)} s)`,
        );
      }
    } finally {
      await ctx.close();
    }
  }
  machine.loadAtEnd = loadavg().map((v) => round(v, 2));
  const report: BenchReport = {
    kind,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: opts.command ?? 'maestro-eval bench',
    machine,
    redis: redis ?? { version: '?', ownServer: false, maxmemoryPolicy: '?' },
    environmentNote:
      opts.note ??
      'Shared 2-core machine: other processes (e.g. other engineers’ test runs) may have used CPU during the run; the load averages above show how busy it was.',
    scenarios: results,
  };
  const name =
    kind === 'custom' ? `custom-${chosen.map((s) => s.id).join('-')}${quick ? '-quick' : ''}` : kind;
  const files = await writeBenchReport(opts.outDir ?? join(ROOT, 'bench', 'results'), name, report);
  log(`\n${textTable(summaryTable(results))}`);
  log(`\nwrote ${files.join(', ')}`);
  return { report, files };
}
