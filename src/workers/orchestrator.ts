import { DelayedError, type Job, Queue, UnrecoverableError, WaitingChildrenError, Worker } from 'bullmq';
import { DIRECT_SKILL } from '../../skills/index.ts';
import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import { describeError, MaestroError } from '../core/errors.ts';
import { PAUSED_RECHECK_MS, readPause } from '../core/guards.ts';
import type { Action, Item, Step } from '../core/items.ts';
import {
  boundText,
  clipTail,
  ExpertJobData,
  ExpertJobResult,
  JOB_SIZE_LIMITS,
  type PendingChild,
  RolloutJobData,
  type RolloutState,
  type ScoreJobData,
  ScoreJobResult,
} from '../core/jobs.ts';
import { expertQueueName, jobIds, ROLLOUT_QUEUE, SCORE_QUEUE } from '../core/queues.ts';
import type { Registry } from '../core/registry.ts';
import type { SweepMeta } from '../core/sweep.ts';
import { ImageCache } from '../data/images.ts';
import type { DataStore } from '../data/store.ts';
import { policyStep, watchWorker } from '../metrics/index.ts';
import { ClientCache } from '../models/client.ts';
import { createPolicy, type Policy, type PolicyContext } from '../policies/index.ts';
import { bullOptions, SweepCache, type WorkerSettings } from './runtime.ts';

export interface OrchestratorOptions extends WorkerSettings {
  registry: Registry;
  store: DataStore;
  /** Benchmark catalog (domains for routing policies). */
  catalog: BenchmarkCatalog;
  /** Policy steps run at once by this process. Waiting rollouts hold no slot. Default 16. */
  concurrency?: number;
  /** Attempts for an expert call (retryable failures). Default 4. */
  expertAttempts?: number;
}

/** Options every child job gets: its failure is reported to the parent, never blocks it. */
const CHILD_OPTS = { ignoreDependencyOnFailure: true, removeOnComplete: true, removeOnFail: 1000 } as const;

/**
 * Orchestrator worker: one policy step per activation. A skill call becomes a child job on
 * the expert's queue and the rollout moves to waiting-children, releasing its slot; when
 * the child finishes the rollout is activated again and continues. The finished rollout
 * gets a scoring child, so its durable record exists before the rollout completes.
 */
export function startOrchestrator(opts: OrchestratorOptions) {
  const { registry, store, prefix } = opts;
  const sweeps = new SweepCache(opts.connection, prefix);
  const images = new ImageCache(store);
  const clients = new ClientCache();
  const policies = new Map<string, Policy>();
  const queues = new Map<string, Queue>();
  const checkedSweeps = new Set<string>();
  const expertAttempts = opts.expertAttempts ?? 4;

  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: opts.connection, prefix });
      queues.set(name, q);
    }
    return q;
  };

  const policyFor = (meta: SweepMeta, key: string): Policy => {
    const cacheKey = `${meta.id}|${key}`;
    let p = policies.get(cacheKey);
    if (!p) {
      const spec = meta.policies.find((x) => x.key === key);
      if (!spec) throw new UnrecoverableError(`policy "${key}" is not part of sweep ${meta.id}`);
      p = createPolicy(spec, registry);
      policies.set(cacheKey, p);
    }
    return p;
  };

  const checkSweep = (meta: SweepMeta) => {
    if (checkedSweeps.has(meta.id)) return;
    if (meta.registryFingerprint !== registry.fingerprint()) {
      throw new UnrecoverableError(
        `this worker's registry (${registry.files.join(', ')}) differs from the one sweep ${meta.id} was submitted with; start workers with the same --registry files`,
      );
    }
    checkedSweeps.add(meta.id);
  };

  /** Adds a pending child (idempotent by id) and parks the rollout until it finishes. */
  async function park(job: Job, token: string, pending: PendingChild): Promise<boolean> {
    await queue(pending.queue).add(pending.queue === SCORE_QUEUE ? 'score' : 'call', pending.data, {
      ...CHILD_OPTS,
      jobId: pending.jobId,
      parent: { id: job.id!, queue: job.queueQualifiedName },
      ...(pending.queue === SCORE_QUEUE
        ? { attempts: 3, backoff: { type: 'exponential', delay: 1_000 }, sizeLimit: JOB_SIZE_LIMITS.score }
        : {
            attempts: expertAttempts,
            backoff: { type: 'expert', delay: 500 },
            sizeLimit: JOB_SIZE_LIMITS.expert,
          }),
    });
    return job.moveToWaitingChildren(token);
  }

  type Resolution =
    | { kind: 'value'; value: unknown }
    | { kind: 'failed'; reason: string }
    | { kind: 'missing' };

  async function resolveAll(job: Job, pending: PendingChild[]): Promise<Resolution[]> {
    const [values, failures] = await Promise.all([job.getChildrenValues(), job.getIgnoredChildrenFailures()]);
    return pending.map((p) => {
      const key = `${prefix}:${p.queue}:${p.jobId}`;
      if (key in values) return { kind: 'value', value: values[key] };
      if (key in failures) return { kind: 'failed', reason: String(failures[key]) };
      return { kind: 'missing' };
    });
  }

  async function process(job: Job, token?: string): Promise<unknown> {
    if (!token) throw new UnrecoverableError('no lock token');
    const parsed = RolloutJobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid rollout payload: ${parsed.error.issues[0]?.message}`);
    const data = parsed.data;
    const state: RolloutState = data.state;
    /** Saves the state; BullMQ checks `sizeLimit` only when a job is added, so it is checked here. */
    const save = async () => {
      const next = { ...data, state };
      const bytes = Buffer.byteLength(JSON.stringify(next));
      if (bytes > JOB_SIZE_LIMITS.rollout) {
        throw new UnrecoverableError(
          `rollout state is ${bytes} bytes, over the ${JOB_SIZE_LIMITS.rollout}-byte limit (turn ${state.turn})`,
        );
      }
      await job.updateData(next);
    };
    const meta = await sweeps.get(data.sweepId);
    checkSweep(meta);
    const notStarted = state.phase === 'policy' && state.steps.length === 0 && state.pending.length === 0;
    if (notStarted) {
      // A paused sweep (error threshold) starts no new rollouts; the ones in flight go on.
      const pause = await readPause(opts.connection, prefix, data.sweepId);
      if (pause) {
        await job.moveToDelayed(Date.now() + PAUSED_RECHECK_MS, token);
        throw new DelayedError();
      }
    }
    const item = await store.item(data.benchmark, data.itemId);
    const policy = policyFor(meta, data.policy);
    const spec = meta.policies.find((p) => p.key === data.policy)!;
    const policySeed = data.sample === 0 ? data.seed : data.seed * 1_000 + data.sample;
    const ctx: PolicyContext = {
      spec,
      registry,
      item,
      domain: opts.catalog.find(data.benchmark)?.domain ?? '',
      steps: state.steps,
      turn: state.turn,
      seed: policySeed,
      sweepId: data.sweepId,
      rolloutId: data.rolloutId,
      images: () => images.dataUrls(item.images),
      clients,
      headers: traceHeaders(item, 'policy', policySeed),
      redis: opts.connection,
      prefix,
    };
    state.startedAt ??= new Date().toISOString();

    /** Enqueues children (idempotent ids) and parks; true when the rollout must wait. */
    const parkAll = async (children: PendingChild[]): Promise<boolean> => {
      let waiting = false;
      for (const child of children) waiting = (await park(job, token, child)) || waiting;
      return waiting;
    };

    const startScoring = async (): Promise<boolean> => {
      state.phase = 'scoring';
      const scoreData: ScoreJobData = { v: 1, sweepId: data.sweepId, rolloutId: data.rolloutId };
      state.pending = [{ queue: SCORE_QUEUE, jobId: jobIds.score(data.rolloutId), data: scoreData }];
      await save();
      return parkAll(state.pending);
    };

    const expertChild = (
      turn: number,
      call: number,
      expert: string,
      skill: string,
      input: string,
      model?: string,
    ): PendingChild => {
      const child: ExpertJobData = {
        v: 1,
        sweepId: data.sweepId,
        rolloutId: data.rolloutId,
        turn,
        expert,
        skill,
        ...(model ? { model } : {}),
        input: clipTail(input),
        benchmark: data.benchmark,
        itemId: data.itemId,
        images: item.images,
        seed: policySeed,
      };
      return { queue: expertQueueName(expert), jobId: jobIds.step(data.rolloutId, turn, call), data: child };
    };

    const budgetMs = meta.itemBudgetMs;
    const overBudget = () =>
      budgetMs !== undefined &&
      state.startedAt !== undefined &&
      Date.now() - Date.parse(state.startedAt) > budgetMs;

    // Bounded: every iteration advances a turn, resolves children or parks.
    for (let guard = 0; guard < meta.maxTurns * 4 + 8; guard++) {
      if (state.phase === 'policy' && overBudget()) {
        // Checked at every activation: a call in flight finishes (bounded by its endpoint's
        // timeout and attempts), then the rollout ends here instead of taking another turn.
        state.status = 'error';
        state.error = `time budget exceeded (${budgetMs} ms per item; ${state.steps.length} steps taken)`;
        if (await startScoring()) throw new WaitingChildrenError();
        continue;
      }
      if (state.pending.length > 0) {
        const results = await resolveAll(job, state.pending);
        const missing = state.pending.filter((_, i) => results[i]?.kind === 'missing');
        if (missing.length > 0) {
          // Crashed between saving the decision and enqueueing it: enqueue again (same ids).
          if (await parkAll(missing)) throw new WaitingChildrenError();
          continue;
        }
        if (state.phase === 'scoring') {
          const r = results[0]!;
          if (r.kind === 'failed') throw new Error(`scoring failed: ${r.reason}`);
          const result = ScoreJobResult.parse(r.kind === 'value' ? r.value : undefined);
          // The record is durable; keep only a small payload in Redis.
          await job.updateData({
            ...data,
            state: { phase: 'done', turn: state.turn, steps: [], pending: [], status: result.status },
          });
          return result;
        }
        const fanOut = state.pending.length > 1 || state.candidates !== undefined;
        const firstFailure = results.find((r) => r.kind === 'failed');
        state.pending.forEach((p, i) => {
          const r = results[i]!;
          const child = ExpertJobData.parse(p.data);
          const step = fanOut
            ? state.steps.find(
                (s) => s.turn === child.turn && s.expert === child.expert && s.skill === child.skill,
              )
            : state.steps[state.steps.length - 1];
          if (!step) return;
          if (r.kind === 'failed') {
            step.observation = `error: the ${step.skill} call to ${step.expert} failed: ${r.reason}`;
            if (fanOut)
              state.candidates?.push({
                expert: child.expert,
                skill: child.skill,
                rawOutput: '',
                error: r.reason,
              });
          } else if (r.kind === 'value') {
            const out = ExpertJobResult.parse(r.value);
            step.observation = boundText(out.text);
            step.expertLatencyMs = out.latencyMs;
            step.calls = out.calls;
            if (fanOut)
              state.candidates?.push({
                expert: child.expert,
                skill: child.skill,
                rawOutput: boundText(out.text),
              });
          }
        });
        state.pending = [];
        if (fanOut) {
          const ok = state.candidates?.filter((c) => !c.error) ?? [];
          if (ok.length === 0) {
            state.status = 'error';
            state.error = `every fan-out call failed; first: ${firstFailure?.kind === 'failed' ? firstFailure.reason : '?'}`;
          } else {
            state.status = 'answered';
            state.rawOutput = clipTail(ok[0]!.rawOutput);
          }
          if (await startScoring()) throw new WaitingChildrenError();
          continue;
        }
        if (firstFailure?.kind === 'failed') {
          const step = state.steps[state.steps.length - 1];
          state.status = 'error';
          state.error = `expert ${step?.expert} (${step?.skill}) failed: ${firstFailure.reason}`;
          if (await startScoring()) throw new WaitingChildrenError();
          continue;
        }
        state.turn += 1;
        ctx.turn = state.turn;
        await save();
      }

      if (state.phase === 'scoring') {
        if (await startScoring()) throw new WaitingChildrenError();
        continue;
      }
      if (state.turn >= meta.maxTurns) {
        state.status = 'no_answer';
        state.rawOutput = state.steps[state.steps.length - 1]?.policyText ?? '';
        if (await startScoring()) throw new WaitingChildrenError();
        continue;
      }

      if (state.turn === 0 && state.steps.length === 0) {
        const delay = policy.admit ? await policy.admit(ctx) : 0;
        if (delay > 0) {
          await job.moveToDelayed(Date.now() + delay, token);
          throw new DelayedError();
        }
        const calls = policy.fanOut?.(ctx);
        if (calls?.length) {
          state.candidates = [];
          state.pending = calls.map((c, i) => {
            const expert = registry.expert(c.model);
            const skillName = registry.findSkill(c.skill)?.name ?? c.skill;
            state.steps.push({
              turn: 0,
              policyText: `<search> ${expert.name}@@${skillName}: ${c.input} </search>`,
              policyLatencyMs: 0,
              policyPromptTokens: 0,
              policyCompletionTokens: 0,
              action: { type: 'search', model: expert.name, skill: skillName, input: c.input },
              expert: expert.name,
              skill: skillName,
              calls: [],
            });
            return expertChild(0, i + 1, expert.name, skillName, c.input);
          });
          await save();
          if (await parkAll(state.pending)) throw new WaitingChildrenError();
          continue;
        }
      }

      let decision: Awaited<ReturnType<Policy['decide']>>;
      try {
        decision = await policy.decide(ctx);
        policyStep(data.policy, decision.latencyMs);
      } catch (err) {
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if ((err instanceof MaestroError && !err.retryable) || lastAttempt) {
          state.status = 'error';
          state.error = `policy ${data.policy} failed: ${describeError(err)}`;
          if (await startScoring()) throw new WaitingChildrenError();
          continue;
        }
        throw err;
      }
      if (decision.meta) state.policyMeta = { ...state.policyMeta, ...decision.meta };

      // Policy output is untrusted: stored texts are bounded and free of control characters.
      const action = boundAction(decision.action);
      const step: Step = {
        turn: state.turn,
        policyText: boundText(decision.text),
        policyLatencyMs: decision.latencyMs,
        policyPromptTokens: decision.promptTokens,
        policyCompletionTokens: decision.completionTokens,
        action,
        calls: [],
      };
      if (action.type === 'answer') {
        state.steps.push(step);
        state.status = 'answered';
        state.rawOutput = boundText(decision.rawOutput ?? decision.text);
        if (await startScoring()) throw new WaitingChildrenError();
        continue;
      }
      if (action.type === 'invalid') {
        step.formatError = `error: ${action.reason}. Use <search> MODEL@@SKILL: input </search> or <answer> ... </answer>.`;
        state.steps.push(step);
        state.turn += 1;
        ctx.turn = state.turn;
        await save();
        continue;
      }
      const expert = registry.findExpert(action.model);
      const isDirect = action.skill.toLowerCase() === DIRECT_SKILL;
      const skill = isDirect ? undefined : registry.findSkill(action.skill);
      const nameError = !expert
        ? `error: unknown model "${action.model}". Available models: ${registry
            .offeredExperts()
            .map((e) => e.name)
            .join(', ')}.`
        : !isDirect && !skill
          ? `error: unknown skill "${action.skill}". Available skills: ${registry
              .offeredSkills()
              .map((s) => s.name)
              .join(', ')}.`
          : null;
      if (nameError || !expert) {
        step.formatError = nameError ?? 'error: unknown model';
        state.steps.push(step);
        state.turn += 1;
        ctx.turn = state.turn;
        await save();
        continue;
      }
      step.expert = expert.name;
      step.skill = skill?.name ?? DIRECT_SKILL;
      state.steps.push(step);
      state.pending = [
        expertChild(state.turn, 0, expert.name, step.skill, action.input, decision.modelOverride),
      ];
      await save();
      if (await parkAll(state.pending)) throw new WaitingChildrenError();
    }
    throw new Error(`rollout ${data.rolloutId} did not settle (internal loop guard)`);
  }

  const worker = new Worker(ROLLOUT_QUEUE, process, {
    ...bullOptions(opts),
    concurrency: opts.concurrency ?? 16,
  });
  worker.on('error', (err) => console.error(`[orchestrator] ${describeError(err)}`));
  watchWorker(worker, ROLLOUT_QUEUE);

  return {
    worker,
    async close() {
      await worker.close();
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}

/** An action with its texts bounded (a policy's answer or call input can be arbitrarily long). */
function boundAction(action: Action): Action {
  switch (action.type) {
    case 'search':
      return { ...action, input: boundText(action.input) };
    case 'answer':
      return { ...action, answer: boundText(action.answer) };
    default:
      return { ...action, reason: boundText(action.reason, 500) };
  }
}

/** Headers that let servers (and the simulators) correlate a request with its item. */
export function traceHeaders(item: Item, skill: string, seed: number): Record<string, string> {
  return {
    'x-maestro-item': `${encodeURIComponent(item.benchmark)}/${encodeURIComponent(item.id)}`,
    'x-maestro-skill': skill,
    'x-maestro-seed': String(seed),
  };
}
