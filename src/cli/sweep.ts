import cliProgress from 'cli-progress';
import type { Redis } from 'ioredis';
import type { Env } from '../core/env.ts';
import { ConfigError, describeError, MaestroError } from '../core/errors.ts';
import { readPause } from '../core/guards.ts';
import { checkEvictionPolicy, connectRedis, connectWatching } from '../core/redis.ts';
import { loadRegistry, type Registry } from '../core/registry.ts';
import type { DataStore } from '../data/store.ts';
import { readLive } from '../metrics/live.ts';
import { type EndpointConfig, endpointApiKey, listModels } from '../models/endpoint.ts';
import { loadSweepFile } from '../producer/config.ts';
import { DoneWatch } from '../producer/done-watch.ts';
import { feedSweep } from '../producer/feed.ts';
import { type PlanFilters, planSweep, type SweepPlan } from '../producer/plan.ts';
import { failedRollouts, repairDoneIndex } from '../producer/progress.ts';
import { resetErroredRollouts, resumeSweep } from '../producer/retry.ts';
import { type SubmitResult, submitSweep } from '../producer/submit.ts';
import type { Summary } from '../scoring/aggregate.ts';
import { loadBenchmarks } from './context.ts';
import { checkRunIdentity } from './run-identity.ts';
import { checkFailedOutright } from './sweep-failures.ts';

export interface SweepCommandOptions extends PlanFilters {
  file: string;
  registry?: string[];
  dryRun?: boolean;
  wait?: boolean;
  /** Skip the endpoint reachability check. */
  noPreflight?: boolean;
  /** Re-run the rollouts recorded as errors (or failed outright), and only those. */
  retryErrors?: boolean;
  /** Lift a pause (error threshold) and start the rollouts it held back. */
  resume?: boolean;
  /** With `wait`: write the report and print its results table at the end. Default true. */
  table?: boolean;
  /** Count records of another run of this sweep (other prefix or Redis) as results. */
  reuse?: boolean;
  /** Windowed submission: at most this many rollouts unfinished (see feedSweep). */
  window?: number;
  /** With `wait`: the report also rasters its figures to PNG. */
  png?: boolean;
  log?: (line: string) => void;
}

/** How long `preflight` waits for an endpoint that does not answer yet (one just started). */
const PREFLIGHT_WAIT_MS = 20_000;

/**
 * Checks that every endpoint the sweep will call answers, before anything is enqueued. An
 * endpoint that does not answer is asked again for a while (a server started a moment ago).
 */
export async function preflight(
  registry: Registry,
  plan: SweepPlan,
  log: (line: string) => void = () => {},
  waitMs = PREFLIGHT_WAIT_MS,
): Promise<void> {
  // A lean GET {baseUrl}/models each (node:http): this process never loads the OpenAI SDK.
  const endpoints = new Map<string, EndpointConfig>();
  const add = (label: string, e: EndpointConfig) => {
    endpointApiKey(e); // an unset key variable fails now, not after the wait
    endpoints.set(label, { ...e, timeoutMs: 5_000 });
  };
  for (const spec of plan.meta.policies) {
    if (spec.kind === 'maestro') {
      const p = registry.policy(spec.endpoint ?? 'maestro');
      add(`policy ${p.name}`, p);
    }
    if (spec.kind === 'direct') {
      const e = registry.expert(spec.model ?? '');
      add(`expert ${e.name}`, e);
    }
  }
  if (plan.meta.judge) {
    const j = registry.judge(plan.meta.judge.name);
    add(`judge ${j.name}`, j);
  }
  const deadline = Date.now() + waitMs;
  await Promise.all(
    [...endpoints.entries()].map(async ([label, endpoint]) => {
      for (let said = false; ; said = true) {
        try {
          await listModels(endpoint);
          return;
        } catch (err) {
          if (Date.now() >= deadline) {
            throw new MaestroError(`${label} at ${endpoint.baseUrl} is unreachable`, {
              cause: err,
              hint: 'start the server or fix baseUrl in the registry; nothing was enqueued',
            });
          }
          if (!said) log(`waiting for ${label} at ${endpoint.baseUrl} to answer…`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }),
  );
}

export async function runSweepCommand(env: Env, store: DataStore, opts: SweepCommandOptions) {
  const log = opts.log ?? ((l: string) => console.log(l));
  if (opts.png && !opts.wait)
    throw new ConfigError(
      '(sweep)',
      '--png',
      'needs --wait: it is an option of the report written at the end',
      {
        hint: `without --wait, run \`maestro-eval report <sweep> --png\` when the sweep has finished`,
      },
    );
  const config = loadSweepFile(opts.file);
  const registry = loadRegistry(opts.registry?.length ? opts.registry : config.registry);
  const { catalog, suite } = loadBenchmarks(config.catalog, config.suite);
  const plan = await planSweep(config, { registry, catalog, suite, store }, opts);
  for (const note of plan.notes ?? []) log(`note: ${note}`);
  const conn = connectRedis(env.REDIS_URL, 'client');
  conn.on('error', () => {});
  try {
    const warning = await checkEvictionPolicy(conn);
    if (warning) log(`warning: ${warning}`);
    if (!opts.dryRun && !opts.noPreflight) await preflight(registry, plan, log);
    await checkRunIdentity(conn, env.MAESTRO_PREFIX, store, plan, {
      reuse: opts.reuse ?? false,
      dryRun: opts.dryRun ?? false,
      log,
    });
    if (opts.resume && !opts.dryRun) {
      const r = await resumeSweep(conn, env.MAESTRO_PREFIX, plan.meta.id);
      log(
        r.lifted
          ? `sweep ${r.sweepId}: resumed (was paused: ${r.lifted.reason}); ${r.promoted} held-back rollouts started`
          : `sweep ${r.sweepId}: was not paused; ${r.promoted} held-back rollouts started`,
      );
    }
    let toSubmit = plan;
    if (opts.retryErrors && !opts.dryRun) {
      const r = await resetErroredRollouts(conn, env.MAESTRO_PREFIX, store, plan);
      log(
        `sweep ${r.sweepId}: retrying ${r.reset.length} rollouts (${r.errors} recorded as errors, ${r.failed} failed outright)${
          r.busy.length ? `; ${r.busy.length} still running, left alone` : ''
        }`,
      );
      const reset = new Set(r.reset);
      toSubmit = { ...plan, rollouts: plan.rollouts.filter((x) => reset.has(x.rolloutId)) };
    }
    const res =
      opts.window && !opts.dryRun
        ? await feedSweep(conn, env.MAESTRO_PREFIX, store, toSubmit.meta, toSubmit.rollouts, {
            window: opts.window,
          })
        : await submitSweep(conn, env.MAESTRO_PREFIX, store, toSubmit, { dryRun: opts.dryRun ?? false });
    const verb = opts.dryRun ? 'would be enqueued' : 'enqueued';
    log(
      `${opts.dryRun ? 'dry run: ' : ''}sweep ${res.sweepId}: ${res.planned} rollouts planned, ${res.done} already scored, ${res.inFlight} in flight, ${res.added} ${verb}`,
    );
    const pause = await readPause(conn, env.MAESTRO_PREFIX, plan.meta.id);
    if (pause && !opts.wait) log(pausedMessage(plan.meta.id, pause.reason, opts.file));
    let waited: WaitResult | undefined;
    if (opts.wait && !opts.dryRun)
      waited = await waitThroughOutages(env, store, plan, opts.file, log, {
        printTable: opts.table !== false,
        png: opts.png ?? false,
      });
    return { plan, result: res, dryRun: opts.dryRun ?? false, ...(waited ? { waited } : {}) };
  } finally {
    conn.disconnect();
  }
}

export interface WaitResult {
  done: number;
  failed: number;
  /** The results table of the sweep (Markdown), written with the report. */
  table: string;
  reportDir: string;
  summary: Summary;
}

/** Sweeps up to this many rollouts have their records read while the client waits. */
const READ_AHEAD_MAX = 20_000;

/**
 * The report's records read as they land, between polls, while the client would be idle
 * (a sweep of up to READ_AHEAD_MAX rollouts: the slim records are held until the report).
 * A failure only stops the reading ahead: the report reads what is left.
 */
function readingAhead(store: DataStore, plan: SweepPlan, log: (l: string) => void) {
  if (plan.rollouts.length > READ_AHEAD_MAX) return undefined;
  let failed = false;
  return () => {
    if (failed) return;
    try {
      store.readAhead(plan.meta.id);
    } catch (err) {
      failed = true;
      log(`note: records are read at the end (reading them ahead failed: ${describeError(err)})`);
    }
  };
}

/**
 * `sweep --wait`: waits on a connection that reconnects forever (a Redis restart is reported
 * and waited out, not fatal), then writes the report and prints its results table.
 */
async function waitThroughOutages(
  env: Env,
  store: DataStore,
  plan: SweepPlan,
  file: string,
  log: (line: string) => void,
  report: { printTable: boolean; png: boolean },
): Promise<WaitResult> {
  // The report's code loads while the rollouts run (the client is idle then), not after.
  const reporting = import('./report.ts');
  reporting.catch(() => {}); // awaited below; a failed load is reported there
  const watch = connectWatching(env.REDIS_URL, { log: (l) => console.error(l) });
  let progress: { done: number; failed: number };
  // Rollouts that failed outright are noted (the report counts them as failed: wrong), the table
  // is printed, then the command fails with how to retry them.
  let failedOutright: unknown;
  try {
    progress = await waitForSweep(watch, env.MAESTRO_PREFIX, plan, {
      log,
      file,
      onPoll: readingAhead(store, plan, log),
    });
    await checkFailedOutright(watch, env.MAESTRO_PREFIX, store, plan, file).catch((err) => {
      failedOutright = err;
    });
  } finally {
    watch.disconnect();
  }
  const { runReport } = await reporting;
  const written = await runReport(store, plan.meta.id, undefined, { png: report.png });
  if (report.printTable) log(written.text);
  if (failedOutright) throw failedOutright;
  return { ...progress, table: written.markdown, reportDir: written.out, summary: written.summary };
}

/** `sweep --json`: what was planned and enqueued, and with --wait the outcome and results. */
export function sweepJson(out: Awaited<ReturnType<typeof runSweepCommand>>) {
  return {
    sweepId: out.result.sweepId,
    dryRun: out.dryRun,
    planned: out.result.planned,
    alreadyScored: out.result.done,
    inFlight: out.result.inFlight,
    added: out.result.added,
    notes: out.plan.notes ?? [],
    wait: out.waited
      ? {
          scored: out.waited.done,
          failed: out.waited.failed,
          reportDir: out.waited.reportDir,
          summary: out.waited.summary,
        }
      : null,
  };
}

/** How long `waitForSweep` sees no progress before it checks for lost done entries. */
const REPAIR_AFTER_MS = 5_000;
/** How long `waitForSweep` sees no rollout scored before it says which workers report (once per stall). */
const STALL_NOTICE_MS = 60_000;
/** The wait's poll interval (ms), and its floor near the end (see nextPollMs). */
const POLL_MS = 300;
const MIN_POLL_MS = 5;

/**
 * When to look again: every `maxMs`, sooner when the rate seen since the first poll says the
 * rest will be done before then: at half the time the rest should take (no sooner than
 * 5 ms). Looks close in on the end as it nears (a sweep's last rollouts often finish in one
 * burst, ahead of a straight-line estimate), so the end is seen a few milliseconds after it
 * comes instead of tens. A count that stopped moving (a straggler, a retry's backoff) backs
 * the looks off: never sooner than the time since it last moved, so a wait on one slow
 * rollout goes back to the usual interval within a second. A look is one HLEN.
 */
export function nextPollMs(
  progress: { doneSinceFirst: number; left: number; elapsedMs: number; idleMs?: number },
  maxMs = POLL_MS,
): number {
  const { doneSinceFirst, left, elapsedMs, idleMs = 0 } = progress;
  if (doneSinceFirst <= 0 || left <= 0 || elapsedMs <= 0) return maxMs;
  const etaMs = (left * elapsedMs) / doneSinceFirst;
  return Math.round(Math.min(maxMs, Math.max(MIN_POLL_MS, etaMs / 2, idleMs)));
}

/**
 * What a wait that saw no rollout scored for `idleMs` tells the user: whether any worker
 * process reports under the prefix (each publishes a live entry every 2 s, see
 * src/metrics/live.ts), and whether one of them orchestrates (takes rollouts).
 */
export async function stallNotice(conn: Redis, prefix: string, idleMs: number): Promise<string> {
  const live = await readLive(conn, prefix);
  const head = `no rollout scored in the last ${Math.round(idleMs / 1000)} s`;
  if (live.length === 0)
    return `${head}, and no worker process reports under prefix ${prefix}: the rollouts wait in Redis until one runs (\`maestro-eval worker\` with the same REDIS_URL and MAESTRO_PREFIX)`;
  const orchestrating = live.filter((e) => e.roles.includes('orchestrator')).length;
  const processes = live.length === 1 ? '1 worker process reports' : `${live.length} worker processes report`;
  if (orchestrating === 0)
    return `${head}; ${processes} under prefix ${prefix}, none with the orchestrator role, which takes rollouts: start one (\`maestro-eval worker --role orchestrator\`)`;
  return `${head}; ${processes} (${orchestrating} orchestrating): \`maestro-eval status\` shows what is in flight`;
}

/**
 * Waits until every rollout of the plan is scored (or failed outright), showing a
 * progress bar on a terminal and a line every few seconds otherwise. A wait that sees no
 * rollout scored for a minute says once which workers report (see stallNotice).
 */
export async function waitForSweep(
  conn: Redis,
  prefix: string,
  plan: SweepPlan,
  opts: {
    log?: (l: string) => void;
    timeoutMs?: number;
    pollMs?: number;
    file?: string;
    /** Called after each poll that leaves rollouts to wait for (idle time's work). */
    onPoll?: () => void;
    /** No rollout scored for this long: say which workers report (default STALL_NOTICE_MS). */
    stallNoticeMs?: number;
  } = {},
): Promise<{ done: number; failed: number }> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const watch = new DoneWatch(
    conn,
    prefix,
    plan.meta.id,
    plan.rollouts.map((r) => r.rolloutId),
  );
  const { remaining, total } = watch;
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: ' {bar} {value}/{total} rollouts | {percentage}% | {rate}/s | errors {errors}',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const started = Date.now();
  let lastLine = 0;
  bar?.start(total, 0, { rate: '0.0', errors: 0 });
  let failed = new Set<string>();
  let lastDone = 0;
  let lastProgress = Date.now();
  /** When the done count last moved, and whether this stall was told already. */
  let lastMoved = Date.now();
  let stallTold = false;
  let first: { done: number; at: number } | undefined;
  try {
    while (remaining.size > 0) {
      // The count of the done hash each poll; the remaining ids one by one only now and then.
      const done = await watch.poll();
      first ??= { done, at: performance.now() };
      const errors = watch.errors;
      const rate = (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1);
      bar?.update(done, { rate, errors });
      if (!tty && Date.now() - lastLine > 5_000) {
        log(`progress: ${done}/${total} rollouts scored (${rate}/s, ${errors} errors)`);
        lastLine = Date.now();
      }
      if (remaining.size === 0) break;
      const pause = await readPause(conn, prefix, plan.meta.id);
      if (pause) {
        bar?.stop();
        throw new SweepPausedError(
          plan.meta.id,
          pause.reason,
          `${done}/${total} scored (${errors} errors)`,
          opts.file,
        );
      }
      if (done > lastDone) {
        lastDone = done;
        lastProgress = lastMoved = Date.now();
        stallTold = false;
      } else if (!stallTold && Date.now() - lastMoved >= (opts.stallNoticeMs ?? STALL_NOTICE_MS)) {
        stallTold = true;
        log(await stallNotice(conn, prefix, Date.now() - lastMoved));
      } else if (Date.now() - lastProgress > REPAIR_AFTER_MS) {
        // No progress for a while: a rollout may have completed with its done entry lost.
        lastProgress = Date.now();
        const fixed = await repairDoneIndex(conn, prefix, plan.meta.id, [...remaining]);
        if (fixed.length) log(`re-derived ${fixed.length} done entries from completed rollout jobs`);
      }
      if (!watch.moved) {
        failed = await failedRollouts(conn, prefix, plan.meta.id);
        if ([...remaining].every((id) => failed.has(id))) break;
      }
      if (opts.timeoutMs && Date.now() - started > opts.timeoutMs) {
        throw new MaestroError(
          `sweep ${plan.meta.id} not finished after ${opts.timeoutMs} ms (${remaining.size} left)`,
          {
            hint: 'are workers running? see `maestro-eval status`',
          },
        );
      }
      opts.onPoll?.();
      const next = nextPollMs(
        {
          doneSinceFirst: done - first.done,
          left: total - done,
          elapsedMs: performance.now() - first.at,
          idleMs: Date.now() - lastProgress,
        },
        opts.pollMs ?? POLL_MS,
      );
      await new Promise((r) => setTimeout(r, next));
    }
  } finally {
    bar?.stop();
  }
  const failedHere = [...remaining].filter((id) => failed.has(id)).length;
  log(
    `sweep ${plan.meta.id}: ${total - remaining.size}/${total} scored, ${watch.errors} errors, ${failedHere} failed outright`,
  );
  return { done: total - remaining.size, failed: failedHere };
}

function pausedMessage(sweepId: string, reason: string, file?: string): string {
  return `sweep ${sweepId} is paused: ${reason}. Rollouts in flight finish; new ones wait. Fix the cause, then run \`maestro-eval sweep ${file ?? 'FILE'} --resume\` (add --retry-errors to re-run the errors)`;
}

/** `sweep --wait` stops when the sweep is paused by its error threshold. */
export class SweepPausedError extends MaestroError {
  constructor(sweepId: string, reason: string, progress: string, file?: string) {
    super(`${pausedMessage(sweepId, reason, file)}; ${progress}`);
  }
}

export type { SubmitResult };
