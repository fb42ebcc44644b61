import type { Redis } from 'ioredis';
import { PermanentError } from '../core/errors.ts';
import { hashUnit, mulberry32 } from '../core/hash.ts';
import { loadLua, runLua } from '../core/lua.ts';
import { answerWithLastObservation, callDecision, offeredPairs } from './baselines.ts';
import type { PolicyDefinition } from './types.ts';

/**
 * A contextual bandit over (expert, skill) arms: linear Thompson sampling. Per context
 * (the item's domain), an arm's expected reward is modelled as expert effect + skill
 * effect, so one pull teaches about every arm sharing its expert or its skill: with the
 * release's 5 experts and 5 skills that is 10 parameters per domain instead of 25
 * independent arms. Its sufficient statistics (A = λI + Σ φφᵀ, b = Σ rφ) live in Redis and
 * every update is one atomic script, so all orchestrator and scorer processes on all
 * hosts share and improve one model during the sweep. Rewards come from the scorer as
 * items finish.
 *
 * Bounded staleness: at most `window` decisions may wait for their reward at once; a new
 * rollout beyond that waits (delayed, holding no slot). Without it, a fast cluster would
 * make every decision before the first reward arrives and learn nothing.
 *
 * The bandit is the one policy whose results depend on the order rewards arrive in; the
 * record keeps each decision's order so the learning curve can be drawn.
 */

export const DEFAULT_WINDOW = 8;

export function banditKeys(prefix: string, sweepId: string, policyKey: string) {
  const base = `${prefix}:bandit:${sweepId}:${policyKey}`;
  return {
    /** rolloutId → `order|arm|context` (a decision, made once). */
    decisions: `${base}:decisions`,
    order: `${base}:order`,
    /** `context|arm|n` and `context|arm|s`: trials and successes. */
    stats: `${base}:stats`,
    /** rolloutId → reward (each reward counted once). */
    rewarded: `${base}:rewarded`,
  };
}

// Records a decision unless one exists; returns the stored decision either way.
const DECIDE = loadLua(import.meta.url, 'bandit-decide.lua');

// Counts a reward once: the decision's features φ = (expert, skill) update A and b, and
// the (context, arm) trial and success counters kept for reports.
const REWARD = loadLua(import.meta.url, 'bandit-reward.lua');

/** Cholesky factor L (lower) of a symmetric positive-definite matrix. */
function cholesky(m: number[][]): number[][] {
  const n = m.length;
  const L = m.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = m[i]![j]!;
      for (let k = 0; k < j; k++) sum -= L[i]![k]! * L[j]![k]!;
      L[i]![j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / L[j]![j]!;
    }
  }
  return L;
}

/** Inverse of a symmetric positive-definite matrix (Gauss–Jordan; d is small). */
function invert(m: number[][]): number[][] {
  const n = m.length;
  const a = m.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    const pivot = a[c]![c]!;
    for (let k = 0; k < 2 * n; k++) a[c]![k]! /= pivot;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]!;
      if (f !== 0) for (let k = 0; k < 2 * n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row) => row.slice(n));
}

function normal(rand: () => number): number {
  const u1 = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rand());
}

export interface Arm {
  key: string;
  expert: string;
  skill: string;
}

/**
 * Linear Thompson sampling: θ ~ N(A⁻¹b, v²A⁻¹) over the features (experts, skills) of the
 * context, then the arm maximising θ_expert + θ_skill. Pure: exported for tests.
 */
export function linearThompsonPick(
  arms: Arm[],
  stats: Record<string, string>,
  context: string,
  rand: () => number,
  opts: { lambda?: number; scale?: number } = {},
): Arm {
  const features = [...new Set(arms.flatMap((a) => [`e:${a.expert}`, `s:${a.skill}`]))];
  const index = new Map(features.map((f, i) => [f, i]));
  const lambda = opts.lambda ?? 1;
  const A = features.map((f, i) =>
    features.map((g, j) => (i === j ? lambda : 0) + Number(stats[`${context}|A|${f}|${g}`] ?? 0)),
  );
  const b = features.map((f) => Number(stats[`${context}|b|${f}`] ?? 0));
  const cov = invert(A);
  const mean = cov.map((row) => row.reduce((acc, v, j) => acc + v * b[j]!, 0));
  const L = cholesky(cov);
  const z = features.map(() => normal(rand));
  const scale = opts.scale ?? 0.5;
  const theta = mean.map((m, i) => m + scale * L[i]!.reduce((acc, v, j) => acc + v * z[j]!, 0));
  let best = arms[0]!;
  let bestValue = -Infinity;
  for (const arm of arms) {
    const v = theta[index.get(`e:${arm.expert}`)!]! + theta[index.get(`s:${arm.skill}`)!]!;
    if (v > bestValue) {
      bestValue = v;
      best = arm;
    }
  }
  return best;
}

/** Records the reward of a bandit rollout once. Returns false when it was already counted. */
export async function recordBanditReward(
  redis: Redis,
  prefix: string,
  sweepId: string,
  policyKey: string,
  rolloutId: string,
  reward: 0 | 1,
): Promise<boolean> {
  const k = banditKeys(prefix, sweepId, policyKey);
  const decision = await redis.hget(k.decisions, rolloutId);
  if (!decision) return false;
  const [, arm = '', context = ''] = decision.split('|');
  const [expert = '', skill = ''] = arm.split(ARM_SEP);
  const counted = await runLua(
    redis,
    REWARD,
    [k.stats, k.rewarded],
    [rolloutId, context, arm, String(reward), `e:${expert}`, `s:${skill}`],
  );
  return counted === 1;
}

const ARM_SEP = '@@';

export const banditPolicy: PolicyDefinition = {
  kind: 'bandit',
  description: 'Thompson sampling over (expert, skill) arms per domain, learning online from the scorer',
  usesEndpoint: false,
  needs: { shared: true },
  create(spec, registry, deps) {
    const arms: Arm[] = offeredPairs(registry).map(([expert, skill]) => ({
      key: `${expert}${ARM_SEP}${skill}`,
      expert,
      skill,
    }));
    if (arms.length === 0) throw new Error('bandit policy: the registry offers no (expert, skill) pair');
    const window = spec.window ?? DEFAULT_WINDOW;
    const prior = spec.prior ?? 1;
    const shared = () => {
      if (!deps.shared)
        throw new PermanentError('the bandit policy needs the shared Redis state (none given)');
      return deps.shared;
    };
    const keysOf = (sweepId: string) => banditKeys(shared().prefix, sweepId, spec.key);
    return {
      async admit(ctx) {
        const { redis } = shared();
        const k = keysOf(ctx.sweepId);
        if (await redis.hexists(k.decisions, ctx.rolloutId)) return 0;
        const [decided, rewarded] = await Promise.all([redis.hlen(k.decisions), redis.hlen(k.rewarded)]);
        return decided - rewarded < window ? 0 : 100 + Math.floor(hashUnit(ctx.rolloutId, decided) * 200);
      },
      async decide(ctx) {
        const { redis } = shared();
        const k = keysOf(ctx.sweepId);
        if (ctx.steps.length > 0) {
          const stored = (await redis.hget(k.decisions, ctx.rolloutId)) ?? '';
          const [order, arm] = stored.split('|');
          return answerWithLastObservation(ctx, {
            order: Number(order),
            arm: arm ?? '',
            context: ctx.domain,
          });
        }
        const stats = await redis.hgetall(k.stats);
        const rand = mulberry32(Math.floor(hashUnit('bandit', ctx.seed, ctx.rolloutId) * 2 ** 32));
        const chosen = linearThompsonPick(arms, stats, ctx.domain, rand, { lambda: prior }).key;
        // Another process may have decided this rollout already (a retry): keep its choice.
        const stored = String(
          await runLua(redis, DECIDE, [k.decisions, k.order], [ctx.rolloutId, chosen, ctx.domain]),
        );
        const [order, arm = chosen] = stored.split('|');
        const [expert = '', skill = ''] = arm.split(ARM_SEP);
        return callDecision(expert, skill, ctx.item.question, {
          meta: { order: Number(order), arm, context: ctx.domain },
        });
      },
      async onOutcome(o) {
        // A failed item teaches nothing about the arm.
        if (o.status === 'error') return;
        const { redis, prefix } = shared();
        await recordBanditReward(redis, prefix, o.sweepId, spec.key, o.rolloutId, o.correct ? 1 : 0);
      },
    };
  },
};
