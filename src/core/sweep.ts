import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BenchmarkDef, Suite } from './benchmarks.ts';

export const PolicyKind = z.enum(['maestro', 'direct', 'random', 'rules', 'bandit', 'oracle']);
export type PolicyKind = z.infer<typeof PolicyKind>;

/** A policy as a sweep names it. `key` is the label in tables and job ids. */
export const PolicySpec = z.object({
  key: z.string().min(1),
  kind: PolicyKind,
  /** maestro: policy endpoint name in the registry. direct: the registry expert whose endpoint to use. */
  endpoint: z.string().optional(),
  /** direct: the model (a registry expert name, or a served model name with `endpoint`). */
  model: z.string().optional(),
  /** Sampling overrides (temperature, topP, maxTokens). */
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().gt(0).max(1).optional(),
  maxTokens: z.number().int().positive().optional(),
  /**
   * maestro: the protocol profile. `chat` (default): chat turns, any model. `release`: the
   * released checkpoint's own loop (raw continuation, its turn rules and sampling).
   */
  profile: z.enum(['chat', 'release']).optional(),
  /** Rollouts per item and seed (pass@1 is averaged over them). Default 1. */
  samples: z.number().int().positive().max(64).optional(),
  /** bandit: decisions allowed to wait for their reward at once (bounded staleness). Default 8. */
  window: z.number().int().positive().optional(),
  /** bandit: prior precision λ of its linear model (larger moves slower). Default 1. */
  prior: z.number().positive().optional(),
});
export type PolicySpec = z.infer<typeof PolicySpec>;

/**
 * Error threshold: when more than `rate` of the last `window` finished items of a sweep are
 * errors, the sweep is paused (no new rollouts start) until `maestro-eval sweep --resume`.
 */
export const PauseOnErrors = z.object({
  /** Fraction of errors, 0–1, above which the sweep pauses. */
  rate: z.number().min(0).max(1),
  /** How many of the latest finished items to look at (the sweep never pauses before that many). */
  window: z.number().int().min(1).max(10_000),
});
export type PauseOnErrors = z.infer<typeof PauseOnErrors>;

/** What every worker needs to know about a sweep; stored in Redis and in the data directory. */
export const SweepMeta = z.object({
  v: z.literal(1),
  id: z.string(),
  name: z.string(),
  fingerprint: z.string(),
  createdAt: z.string(),
  registryFingerprint: z.string(),
  policies: z.array(PolicySpec).min(1),
  benchmarks: z.array(
    z.object({ id: z.string(), version: z.string(), count: z.number().int().nonnegative() }),
  ),
  seeds: z.array(z.number().int()).min(1),
  maxTurns: z.number().int().positive(),
  /** Items per benchmark used by this sweep (a sweep-level limit is part of the config). */
  limit: z.number().int().positive().optional(),
  /**
   * Wall-clock budget of one rollout (ms) from its first policy step; past it the rollout ends
   * as an error "time budget exceeded". Operational: not part of the fingerprint.
   */
  itemBudgetMs: z.number().int().positive().optional(),
  /** Pause the sweep when too many recent items are errors. Operational: not part of the fingerprint. */
  pauseOnErrors: PauseOnErrors.optional(),
  /** The scoring mode: `official` (the scorers of record; the default) or `lenient`. */
  scoring: z.enum(['official', 'lenient']).optional(),
  /** The judge model scorers of record may ask (registry name and served model); absent: none. */
  judge: z.object({ name: z.string(), model: z.string() }).optional(),
  /**
   * The definitions of the sweep's benchmarks (metric, answer type, domain, import mapping),
   * from the sweep's catalog: workers score and route with these, so a custom catalog needs no
   * worker restart or flag. Absent in sweeps stored by older versions (workers then use theirs).
   */
  catalog: z.array(BenchmarkDef).optional(),
  /** The sweep's suite (which benchmarks are in-domain and out-of-domain), for reports. */
  suite: Suite.optional(),
});
export type SweepMeta = z.infer<typeof SweepMeta>;

const SETTINGS = PolicySpec.omit({ key: true, kind: true }).strict();

/**
 * Parses a policy as written in a sweep: `maestro`, `maestro:ENDPOINT`, `direct:EXPERT`,
 * `random`, `rules`, `bandit`, `oracle`, each optionally followed by settings in YAML flow
 * style, e.g. `maestro{endpoint: policy, temperature: 0}` or `direct:gpt-5{endpoint: openai}`.
 */
export function parsePolicyKey(text: string): PolicySpec {
  const raw = text.trim();
  const brace = raw.indexOf('{');
  const head = brace >= 0 ? raw.slice(0, brace).trim() : raw;
  let settings: z.infer<typeof SETTINGS> = {};
  if (brace >= 0) {
    if (!raw.endsWith('}')) throw new Error(`policy "${raw}": settings must end with "}"`);
    let parsed: unknown;
    try {
      parsed = parseYaml(raw.slice(brace));
    } catch (err) {
      throw new Error(
        `policy "${raw}": settings are not valid YAML (${err instanceof Error ? err.message.split('\n')[0] : err})`,
      );
    }
    const checked = SETTINGS.safeParse(parsed ?? {});
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new Error(`policy "${raw}": ${issue?.path.join('.') || 'settings'}: ${issue?.message}`);
    }
    settings = checked.data;
  }
  const colon = head.indexOf(':');
  const kindText = colon >= 0 ? head.slice(0, colon) : head;
  const arg = colon >= 0 ? head.slice(colon + 1).trim() : '';
  const kind = PolicyKind.safeParse(kindText);
  if (!kind.success) {
    throw new Error(
      `unknown policy "${raw}" (known: maestro[:ENDPOINT], direct:MODEL, random, rules, bandit, oracle)`,
    );
  }
  switch (kind.data) {
    case 'maestro':
      return { key: raw, kind: 'maestro', ...settings, endpoint: settings.endpoint ?? (arg || 'maestro') };
    case 'direct':
      if (!arg) throw new Error(`policy "${raw}": direct needs a model, e.g. direct:GLM-4.6V-Flash`);
      return { key: raw, kind: 'direct', ...settings, model: arg };
    default:
      if (arg) throw new Error(`policy "${raw}": ${kind.data} takes no ":" argument`);
      return { key: raw, kind: kind.data, ...settings };
  }
}
