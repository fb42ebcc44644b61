import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import type { Env } from '../core/env.ts';
import { describeError, MaestroError } from '../core/errors.ts';
import { redactProcessOutput, registerSecrets, secretsFromEnv } from '../core/redact.ts';
import { checkEvictionPolicy, connectRedis, redactUrl } from '../core/redis.ts';
import type { Registry } from '../core/registry.ts';
import type { DataStore } from '../data/store.ts';
import { loadReleasePrompt } from '../importers/release-prompt.ts';
import { startWorkerTelemetry } from '../metrics/server.ts';
import { recordFromRollout, scoreItem, usesJudge } from '../scoring/index.ts';
import { refusalsAtStartup } from '../workers/datasets.ts';
import { startExpertPool } from '../workers/expert-pool.ts';
import { startOrchestrator } from '../workers/orchestrator.ts';
import type { MakeRecord } from '../workers/record.ts';
import { startScorer } from '../workers/scorer.ts';
import { JudgeContexts } from './judge.ts';

export type Role = 'orchestrator' | 'expert' | 'scorer' | 'all';

export interface RunWorkerOptions {
  roles: Role[];
  env: Env;
  registry: Registry;
  store: DataStore;
  catalog: BenchmarkCatalog;
  experts?: string[];
  concurrency?: number;
  log?: (line: string) => void;
  /** A sweep arrived whose datasets this host lacks (the text says what to run here). */
  onRefuse?: (text: string) => void;
}

/** Starts worker roles in this process; returns a graceful close. */
export async function startWorkers(opts: RunWorkerOptions) {
  const log = opts.log ?? ((l: string) => console.log(l));
  // Every configured key is a secret of this process before any endpoint is called.
  const { experts, services, policies, judges } = opts.registry;
  registerSecrets(secretsFromEnv([...experts, ...services, ...policies, ...judges].map((e) => e.apiKeyEnv)));
  const connection = connectRedis(opts.env.REDIS_URL, 'worker');
  connection.on('error', (err) => log(`[redis] ${describeError(err)}`));
  const warning = await checkEvictionPolicy(connection);
  if (warning) log(`warning: ${warning}`);
  // Refuse now, not rollout by rollout: sweeps with work left need their datasets here.
  const refusals = await refusalsAtStartup(connection, opts.env.MAESTRO_PREFIX, opts.store);
  if (refusals.length) {
    connection.disconnect();
    throw new MaestroError(refusals.join('\n\n'));
  }
  const base = {
    connection,
    prefix: opts.env.MAESTRO_PREFIX,
    lockDuration: opts.env.MAESTRO_LOCK_MS,
    stalledInterval: opts.env.MAESTRO_STALLED_MS,
    ...(opts.onRefuse ? { onRefuse: opts.onRefuse } : {}),
  };
  // Judge models for scorers of record that ask one (scoring roles only).
  const judging = new JudgeContexts({
    registry: opts.registry,
    dataDir: opts.store.root,
    connection,
    prefix: opts.env.MAESTRO_PREFIX,
    charxivDir: opts.env.MAESTRO_CHARXIV_DIR,
  });
  const makeRecord: MakeRecord = (rollout, item, benchmark, { combine, answerOf, mode, judge }) =>
    recordFromRollout(rollout, item, benchmark, {
      scoreItem: async (i, b, raw) =>
        scoreItem(i, b, raw, mode, judge && usesJudge(b, mode) ? await judging.get(judge) : undefined),
      combine,
      answerOf,
      mode,
    });
  const roles = new Set(opts.roles.includes('all') ? ['orchestrator', 'expert', 'scorer'] : opts.roles);
  const closers: Array<() => Promise<void>> = [];
  if (roles.has('expert') && opts.registry.dispatch === 'inline') {
    log('expert pool: none (the registry sets dispatch: inline; orchestrators make the expert calls)');
  } else if (roles.has('expert')) {
    const pool = await startExpertPool({
      ...base,
      registry: opts.registry,
      store: opts.store,
      ...(opts.experts ? { experts: opts.experts } : {}),
    });
    closers.push(pool.close);
    log(`expert pool serving ${pool.experts.join(', ')}`);
  }
  if (roles.has('scorer')) {
    const scorer = startScorer({
      ...base,
      store: opts.store,
      catalog: opts.catalog,
      registry: opts.registry,
      storageDeadlineMs: opts.env.MAESTRO_STORAGE_DEADLINE_MS,
      log,
      makeRecord,
    });
    closers.push(async () => {
      await scorer.close();
      await judging.close();
    });
  }
  // By default an orchestrator without the scorer role writes a sweep's records only where
  // its data directory holds the sweep (the directory it was submitted to, where reports
  // read it); with a data directory of its own per host, the scorers write them.
  const recordsWhereSubmitted = opts.env.MAESTRO_INLINE_SCORING === 'auto' && !roles.has('scorer');
  const holdsSweep = sweepsHeldBy(opts.store);
  if (roles.has('orchestrator')) {
    const orch = startOrchestrator({
      ...base,
      registry: opts.registry,
      store: opts.store,
      catalog: opts.catalog,
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      ...(scoresInline(
        opts.env.MAESTRO_INLINE_SCORING,
        roles.has('scorer'),
        () => opts.store.canWriteRecords(),
        log,
      )
        ? {
            // Code execution (code_pass) stays on the scoring queue: it runs Python; so do
            // benchmarks whose scorer may ask the sweep's judge model (a network call).
            inlineScoring: {
              makeRecord,
              cheap: (b, meta) =>
                b.metric !== 'code_pass' &&
                !(meta.judge && usesJudge(b, 'official')) &&
                (!recordsWhereSubmitted || holdsSweep(meta.id)),
              storageDeadlineMs: opts.env.MAESTRO_STORAGE_DEADLINE_MS,
              log,
            },
          }
        : {}),
      ...(opts.env.MAESTRO_POLICY_PROMPT
        ? { releasePrompt: releasePromptFrom(opts.env.MAESTRO_POLICY_PROMPT) }
        : {}),
    });
    closers.push(orch.close);
  }
  // Prometheus endpoint (MAESTRO_METRICS_PORT, 0 = off) and the live entry `status` reads.
  const telemetry = await startWorkerTelemetry({
    conn: connection,
    prefix: opts.env.MAESTRO_PREFIX,
    registry: opts.registry,
    roles: [...roles],
    log,
  });
  closers.push(telemetry.close);
  log(
    `ready: roles=${[...roles].join(',')} redis=${redactUrl(opts.env.REDIS_URL)} prefix=${opts.env.MAESTRO_PREFIX} pid=${process.pid}`,
  );
  return {
    async close() {
      // Workers stop taking jobs and wait for the active ones to finish.
      await Promise.all(closers.map((c) => c()));
      connection.disconnect();
    },
  };
}

/**
 * Whether this host's data directory holds a sweep (its `sweep.json`), asked per rollout: a
 * sweep found is remembered, one not found is looked for again after a minute.
 */
export function sweepsHeldBy(store: DataStore, now: () => number = Date.now): (sweepId: string) => boolean {
  const seen = new Map<string, number>();
  return (sweepId) => {
    const at = seen.get(sweepId);
    if (at === Number.POSITIVE_INFINITY) return true;
    if (at !== undefined && now() - at < 60_000) return false;
    const held = store.holdsSweep(sweepId);
    seen.set(sweepId, held ? Number.POSITIVE_INFINITY : now());
    return held;
  };
}

/**
 * Whether an orchestrator scores cheap metrics in the rollout's last step (no scoring job),
 * given MAESTRO_INLINE_SCORING, whether the scorer role runs in this process, and whether
 * this host can write the records.
 */
export function scoresInline(
  mode: Env['MAESTRO_INLINE_SCORING'],
  besideScorer: boolean,
  canWriteRecords: () => boolean,
  log: (line: string) => void = () => {},
): boolean {
  if (mode === 'off') return false;
  if (mode === 'always' || besideScorer) return true;
  if (mode === 'beside-scorer') return false;
  if (canWriteRecords()) return true;
  log('orchestrator: the data directory is not writable here: rollouts are scored by scoring jobs');
  return false;
}

/**
 * Runs workers until SIGTERM/SIGINT, then shuts down gracefully: no new jobs are taken,
 * active ones finish; past the deadline the process exits and any unfinished job is
 * recovered by another worker once its lock expires.
 */
export async function runWorkersUntilSignal(opts: RunWorkerOptions, deadlineMs = 30_000): Promise<void> {
  redactProcessOutput();
  // The handlers are in place before start-up, so a signal right after `ready:` (or during
  // start-up, whose workers may already hold jobs) stops the process gracefully too, never by
  // the signal's default action.
  let stop: ((signal: string) => void) | undefined;
  let early: string | undefined;
  const onSignal = (signal: string) => {
    if (stop) stop(signal);
    else if (!early) {
      early = signal;
      deadline();
    }
  };
  const deadline = () => {
    const timer = setTimeout(() => {
      console.log('shutdown deadline passed; exiting (unfinished jobs will be recovered)');
      process.exit(1);
    }, deadlineMs);
    timer.unref();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  let refuse: ((text: string) => void) | undefined;
  const handle = await startWorkers({ ...opts, onRefuse: (text) => refuse?.(text) });
  await new Promise<void>((resolveStop) => {
    let stopping = false;
    refuse = (text) => {
      if (stopping) return;
      console.error(
        `error: ${text}\nthis worker stops; the sweep's jobs wait in the queue for a host that has the data`,
      );
      process.exitCode = 3;
      stop?.('refused');
    };
    stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`${signal}: finishing in-flight jobs (deadline ${deadlineMs} ms)`);
      if (!early) deadline();
      handle.close().then(
        () => resolveStop(),
        () => resolveStop(),
      );
    };
    if (early) stop(early);
  });
}

/** Reads the release prompt once, on first use; a bad file fails the rollouts that need it, loudly. */
function releasePromptFrom(path: string) {
  let loading: ReturnType<typeof loadReleasePrompt> | undefined;
  return () => {
    loading ??= loadReleasePrompt(path);
    return loading;
  };
}
