import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { DIRECT_SKILL } from '../../skills/index.ts';
import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import { describeError } from '../core/errors.ts';
import { PAUSED_RECHECK_MS, readPause } from '../core/guards.ts';
import { RolloutJobData } from '../core/jobs.ts';
import { ROLLOUT_QUEUE } from '../core/queues.ts';
import type { Registry } from '../core/registry.ts';
import { ImageCache } from '../data/images.ts';
import type { DataStore } from '../data/store.ts';
import { watchWorker } from '../metrics/index.ts';
import { ClientCache } from '../models/client.ts';
import { contextFor, PolicyCache, type PolicyDeps } from '../policies/index.ts';
import {
  drive,
  type EngineConfig,
  namesFromRegistry,
  notStarted,
  protocolProfile,
} from '../rollout/index.ts';
import { awaitedExperts } from './awaited-experts.ts';
import { policySeed } from './children.ts';
import { clusterIO } from './cluster-io.ts';
import { DatasetGuard, refuseUnlessHeld } from './datasets.ts';
import { noteFinalFailure } from './failures.ts';
import { inlineConcurrency, inlineExperts } from './inline-experts.ts';
import { type InlineScoring, inlineScorer } from './record.ts';
import {
  bullOptions,
  checkSweep,
  QueueCache,
  redacting,
  SweepCache,
  sweepDomain,
  type WorkerSettings,
} from './runtime.ts';

export interface OrchestratorOptions extends WorkerSettings {
  registry: Registry;
  store: DataStore;
  /** Benchmark catalog (domains for routing policies). */
  catalog: BenchmarkCatalog;
  /** Policy steps at once (parked rollouts hold none). Default 16; inline and await dispatch: see inlineConcurrency. */
  concurrency?: number;
  /** Attempts for an expert call (retryable failures). Default 4. */
  expertAttempts?: number;
  /** The release prompt texts (from the user's copy of the release's data), when given. */
  releasePrompt?: PolicyDeps['releasePrompt'];
  /**
   * Score in the rollout's last step instead of a scoring child job, for benchmarks whose
   * metric is local and cheap (`cheap`): the record is written here, before the rollout
   * completes. Given when the scorer role runs in the same process.
   */
  inlineScoring?: InlineScoring;
}

/**
 * Orchestrator worker: drives the rollout engine (src/rollout) on BullMQ. Each activation
 * runs policy turns until the rollout must wait; a skill call becomes a child job on the
 * expert's queue and the rollout moves to waiting-children, releasing its slot. The state
 * is saved before any child is enqueued, so a crash in between re-adds the same child.
 */
export function startOrchestrator(opts: OrchestratorOptions) {
  const { registry, store, prefix } = opts;
  const sweeps = new SweepCache(opts.connection, prefix);
  const images = new ImageCache(store);
  const clients = new ClientCache();
  const policies = new PolicyCache(registry, {
    shared: { redis: opts.connection, prefix },
    ...(opts.releasePrompt ? { releasePrompt: opts.releasePrompt } : {}),
  });
  const names = namesFromRegistry(registry, DIRECT_SKILL);
  const queues = new QueueCache(opts.connection, prefix);
  const datasets = new DatasetGuard(store);
  const scoreHere = inlineScorer(opts, opts.inlineScoring);
  const fingerprint = registry.fingerprint();
  const held = inlineExperts(opts) ?? awaitedExperts({ ...opts, queue: (name) => queues.get(name) });

  async function process(job: Job, token?: string): Promise<unknown> {
    if (!token) throw new UnrecoverableError('no lock token');
    const parsed = RolloutJobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid rollout payload: ${parsed.error.issues[0]?.message}`);
    const data = parsed.data;
    const meta = checkSweep(await sweeps.get(data.sweepId), data, registry, fingerprint);
    await refuseUnlessHeld(datasets, meta, job, token, opts.onRefuse);
    await waitIfPaused(opts, job, token, data);
    const { policy, spec } = policies.get(meta, data.policy);
    const item = await store.item(data.benchmark, data.itemId);
    const cfg: EngineConfig = {
      profile: protocolProfile(policy.profile, { maxTurns: meta.maxTurns, budgetMs: meta.itemBudgetMs }),
      names,
    };
    const context = contextFor({
      spec,
      registry,
      item,
      domain: sweepDomain(meta, data.benchmark, opts.catalog),
      seed: policySeed(data),
      sweepId: data.sweepId,
      rolloutId: data.rolloutId,
      images: () => images.dataUrls(item.images),
      clients,
    });
    const io = clusterIO({
      job,
      token,
      data,
      item,
      policy,
      context,
      queue: (name) => queues.get(name),
      conn: opts.connection,
      prefix,
      expertAttempts: opts.expertAttempts ?? 4,
      scoreInline: scoreHere(data, item, meta, policy),
      held,
    });
    const { result } = await drive(data.state, { type: 'activate', now: Date.now() }, cfg, io);
    return result;
  }

  const worker = new Worker(ROLLOUT_QUEUE, redacting(process), {
    ...bullOptions(opts),
    concurrency: opts.concurrency ?? (held ? inlineConcurrency(registry) : 16),
  });
  worker.on('error', (err) => console.error(`[orchestrator] ${describeError(err)}`));
  worker.on('failed', (job) => {
    if (job) noteFinalFailure(job, store).catch(() => {});
  });
  watchWorker(worker, ROLLOUT_QUEUE);
  return {
    worker,
    async close() {
      await worker.close();
      await held?.close();
      await queues.close();
    },
  };
}

/** A paused sweep (error threshold) starts no new rollouts; the ones in flight go on. */
async function waitIfPaused(opts: OrchestratorOptions, job: Job, token: string, data: RolloutJobData) {
  if (notStarted(data.state) && (await readPause(opts.connection, opts.prefix, data.sweepId))) {
    await job.moveToDelayed(Date.now() + PAUSED_RECHECK_MS, token);
    throw new DelayedError();
  }
}
