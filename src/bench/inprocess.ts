/**
 * The reference the benchmark compares the cluster with: the same rollout engine, policy,
 * skill, scoring and record-writing code, driven directly in one process with no queue:
 * decide, run the skill, repeat, score, write the durable record (fsync'd, like the scorer).
 */
import type { Redis } from 'ioredis';
import { DIRECT_SKILL } from '../../skills/index.ts';
import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import type { Item, RolloutStatus } from '../core/items.ts';
import type { ExpertCall, RolloutJobData, RolloutState } from '../core/jobs.ts';
import type { Registry } from '../core/registry.ts';
import type { SweepMeta } from '../core/sweep.ts';
import { ImageCache } from '../data/images.ts';
import type { DataStore } from '../data/store.ts';
import { ClientCache } from '../models/client.ts';
import { traceHeaders } from '../models/headers.ts';
import { contextFor, type Policy, PolicyCache, type PolicyContext } from '../policies/index.ts';
import {
  type ChildResult,
  drive,
  initialState,
  namesFromRegistry,
  protocolProfile,
  type RolloutIO,
} from '../rollout/index.ts';
import { recordFromRollout, scoreItem } from '../scoring/index.ts';
import { SkillRuntime } from '../skills-runtime/runtime.ts';

export interface InProcessDeps {
  registry: Registry;
  store: DataStore;
  catalog: BenchmarkCatalog;
  /** Only learning policies use it; the benchmark's policies do not. */
  redis: Redis;
  prefix: string;
}

export interface InProcessResult {
  /** Policy decisions made (the cluster's "policy steps"). */
  steps: number;
  status: RolloutStatus;
}

/** Where an in-process rollout's time went (ms, summed over rollouts). */
export interface InProcessTiming {
  rollouts: number;
  decide: number;
  skill: number;
  score: number;
  record: number;
}

export class InProcessRunner {
  readonly timing: InProcessTiming = { rollouts: 0, decide: 0, skill: 0, score: 0, record: 0 };
  private readonly clients = new ClientCache();
  private readonly images: ImageCache;
  private readonly skills: SkillRuntime;
  private readonly policies: PolicyCache;
  private readonly names;

  constructor(private readonly deps: InProcessDeps) {
    this.images = new ImageCache(deps.store);
    this.skills = new SkillRuntime({ registry: deps.registry, store: deps.store, clients: this.clients });
    this.policies = new PolicyCache(deps.registry, { shared: { redis: deps.redis, prefix: deps.prefix } });
    this.names = namesFromRegistry(deps.registry, DIRECT_SKILL);
  }

  /** Runs one rollout to its record. `recordSweepId` keeps the records apart from the cluster's. */
  async run(
    meta: SweepMeta,
    r: RolloutJobData,
    recordSweepId = `${meta.id}-inproc`,
  ): Promise<InProcessResult> {
    const { policy, spec } = this.policies.get(meta, r.policy);
    const item = await this.deps.store.item(r.benchmark, r.itemId);
    const rollout: RolloutJobData = { ...r, sweepId: recordSweepId, state: initialState() };
    const context = contextFor({
      spec,
      registry: this.deps.registry,
      item,
      domain: this.deps.catalog.get(r.benchmark).domain,
      seed: r.seed,
      sweepId: recordSweepId,
      rolloutId: r.rolloutId,
      images: () => this.images.dataUrls(item.images),
      clients: this.clients,
    });
    const cfg = { profile: protocolProfile(policy.profile, { maxTurns: meta.maxTurns }), names: this.names };
    let decisions = 0;
    const io = this.io(rollout, item, policy, context, () => decisions++, meta.scoring ?? 'official');
    const { state, result } = await drive(rollout.state, { type: 'activate', now: Date.now() }, cfg, io);
    this.timing.rollouts += 1;
    return { steps: decisions, status: state.status ?? result.status };
  }

  /** The engine's effects, carried out directly: skills run here, scoring writes the record. */
  private io(
    rollout: RolloutJobData,
    item: Item,
    policy: Policy,
    context: (state: RolloutState) => PolicyContext,
    onDecide: () => void,
    mode: 'official' | 'lenient',
  ): RolloutIO {
    const timed = async <T>(key: keyof Omit<InProcessTiming, 'rollouts'>, f: () => Promise<T>) => {
      const t = performance.now();
      try {
        return await f();
      } finally {
        this.timing[key] += performance.now() - t;
      }
    };
    const runCall = async (c: ExpertCall): Promise<ChildResult> => {
      const expert = this.deps.registry.expert(c.expert);
      const out = await this.skills.run({
        expert,
        skill: c.skill,
        input: c.input,
        item,
        images: item.images,
        headers: traceHeaders(item, c.skill, rollout.seed),
      });
      return { kind: 'expert', out: { text: out.text, calls: out.calls, latencyMs: out.latencyMs } };
    };
    return {
      save: async () => {},
      decide: async (state) => {
        onDecide();
        return { type: 'policy-reply', reply: await timed('decide', () => policy.decide(context(state))) };
      },
      call: async (_state, calls) => ({
        type: 'children',
        results: await timed('skill', () => Promise.all(calls.map(runCall))),
      }),
      finish: async (result) => {
        const { rolloutId } = rollout;
        await policy.onOutcome?.({
          sweepId: rollout.sweepId,
          rolloutId,
          status: result.status,
          correct: result.correct,
        });
      },
      resolve: async () => {
        throw new Error('in-process rollouts never wait for a call they did not run');
      },
      score: async (state) => {
        const benchmark = this.deps.catalog.get(rollout.benchmark);
        const record = await timed('score', () =>
          recordFromRollout({ ...rollout, state }, item, benchmark, {
            mode,
            scoreItem: (i, b, raw) => scoreItem(i, b, raw, mode),
            combine: policy.combine?.bind(policy),
            answerOf: policy.answerOf?.bind(policy),
          }),
        );
        await timed('record', () => this.deps.store.appendRecord(record));
        const result = { status: record.status, correct: record.correct, score: record.score };
        return { type: 'children', results: [{ kind: 'scored', result }] };
      },
    };
  }

  /** Runs rollouts with `concurrency` at once; calls `onDone` after each. */
  async runMany(
    meta: SweepMeta,
    rollouts: RolloutJobData[],
    concurrency: number,
    onDone?: (done: number) => void,
  ): Promise<void> {
    let next = 0;
    let done = 0;
    const lane = async () => {
      for (;;) {
        const r = rollouts[next++];
        if (!r) return;
        await this.run(meta, r);
        done += 1;
        onDone?.(done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, rollouts.length) }, lane));
  }
}
