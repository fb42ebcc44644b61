/**
 * The reference the benchmark compares the cluster with: the same policy, skill, scoring
 * and record-writing code, called directly in one process with no queue. One rollout is
 * the orchestrator's loop without the hops: decide, run the skill, repeat, score, write
 * the durable record (fsync'd, like the scorer).
 */
import type { Redis } from 'ioredis';
import { DIRECT_SKILL } from '../../skills/index.ts';
import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import type { ItemRecord, RolloutStatus, Step } from '../core/items.ts';
import { clipTail, type RolloutJobData } from '../core/jobs.ts';
import type { Registry } from '../core/registry.ts';
import type { SweepMeta } from '../core/sweep.ts';
import { ImageCache } from '../data/images.ts';
import type { DataStore } from '../data/store.ts';
import { ClientCache } from '../models/client.ts';
import { createPolicy, type Policy, type PolicyContext } from '../policies/index.ts';
import { scoreItem } from '../scoring/index.ts';
import { SkillRuntime } from '../skills-runtime/runtime.ts';
import { traceHeaders } from '../workers/orchestrator.ts';

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
  private readonly policies = new Map<string, Policy>();

  constructor(private readonly deps: InProcessDeps) {
    this.images = new ImageCache(deps.store);
    this.skills = new SkillRuntime({ registry: deps.registry, store: deps.store, clients: this.clients });
  }

  /** Runs one rollout to its record. `recordSweepId` keeps the records apart from the cluster's. */
  async run(
    meta: SweepMeta,
    r: RolloutJobData,
    recordSweepId = `${meta.id}-inproc`,
  ): Promise<InProcessResult> {
    const { registry, store, catalog } = this.deps;
    const spec = meta.policies.find((p) => p.key === r.policy);
    if (!spec) throw new Error(`policy ${r.policy} is not in sweep ${meta.id}`);
    let policy = this.policies.get(spec.key);
    if (!policy) {
      policy = createPolicy(spec, registry);
      this.policies.set(spec.key, policy);
    }
    const startedAt = new Date();
    const item = await store.item(r.benchmark, r.itemId);
    const benchmark = catalog.get(r.benchmark);
    const steps: Step[] = [];
    let status: RolloutStatus = 'no_answer';
    let rawOutput = '';
    for (let turn = 0; turn < meta.maxTurns; ) {
      const ctx: PolicyContext = {
        spec,
        registry,
        item,
        domain: benchmark.domain,
        steps,
        turn,
        seed: r.seed,
        sweepId: recordSweepId,
        rolloutId: r.rolloutId,
        images: () => this.images.dataUrls(item.images),
        clients: this.clients,
        headers: traceHeaders(item, 'policy', r.seed),
        redis: this.deps.redis,
        prefix: this.deps.prefix,
      };
      let t = performance.now();
      const d = await policy.decide(ctx);
      this.timing.decide += performance.now() - t;
      const step: Step = {
        turn,
        policyText: clipTail(d.text),
        policyLatencyMs: d.latencyMs,
        policyPromptTokens: d.promptTokens,
        policyCompletionTokens: d.completionTokens,
        action: d.action,
        calls: [],
      };
      steps.push(step);
      const action = d.action;
      if (action.type === 'answer') {
        status = 'answered';
        rawOutput = clipTail(d.rawOutput ?? d.text);
        break;
      }
      turn += 1;
      if (action.type === 'invalid') {
        step.formatError = `error: ${action.reason}`;
        continue;
      }
      const expert = registry.findExpert(action.model);
      const isDirect = action.skill.toLowerCase() === DIRECT_SKILL;
      const skill = isDirect ? DIRECT_SKILL : registry.findSkill(action.skill)?.name;
      if (!expert || !skill) {
        step.formatError = `error: unknown ${expert ? 'skill' : 'model'}`;
        continue;
      }
      step.expert = expert.name;
      step.skill = skill;
      t = performance.now();
      const out = await this.skills.run({
        expert,
        skill,
        input: clipTail(action.input),
        item,
        images: item.images,
        headers: traceHeaders(item, skill, r.seed),
      });
      this.timing.skill += performance.now() - t;
      step.observation = clipTail(out.text);
      step.expertLatencyMs = out.latencyMs;
      step.calls = out.calls;
    }
    if (status === 'no_answer') rawOutput = steps[steps.length - 1]?.policyText ?? '';
    let t = performance.now();
    const score =
      status === 'answered'
        ? await scoreItem(item, benchmark, rawOutput)
        : { correct: false, score: 0, extracted: null, reason: 'no <answer> within the turn limit' };
    this.timing.score += performance.now() - t;
    const finishedAt = new Date();
    const sum = (f: (s: Step) => number) => steps.reduce((a, s) => a + f(s), 0);
    const record: ItemRecord = {
      v: 1,
      sweepId: recordSweepId,
      rolloutId: r.rolloutId,
      policy: r.policy,
      benchmark: r.benchmark,
      itemId: r.itemId,
      seed: r.seed,
      sample: 0,
      status,
      rawOutput,
      extracted: score.extracted,
      correct: score.correct,
      score: score.score,
      scoreReason: score.reason,
      steps,
      latencyMs: finishedAt.getTime() - startedAt.getTime(),
      policyLatencyMs: sum((s) => s.policyLatencyMs),
      expertLatencyMs: sum((s) => s.expertLatencyMs ?? 0),
      expertCalls: sum((s) => s.calls.length),
      promptTokens: sum((s) => s.policyPromptTokens + s.calls.reduce((a, c) => a + c.promptTokens, 0)),
      completionTokens: sum(
        (s) => s.policyCompletionTokens + s.calls.reduce((a, c) => a + c.completionTokens, 0),
      ),
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
    };
    t = performance.now();
    await store.writeRecord(record);
    this.timing.record += performance.now() - t;
    this.timing.rollouts += 1;
    return { steps: steps.length, status };
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
