import { dirname, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { ConfigError, NotFoundError } from './errors.ts';
import { fingerprint } from './hash.ts';
import { checkoutSource, dataSource, type ReleaseSource } from './release-source.ts';
import { interpolateEnv, parseWith, readYamlFile } from './yaml-file.ts';

/** Simulation settings: read only by the simulated servers, ignored by real endpoints. */
export const SimProfile = z.object({
  /** Probability of a correct answer per domain (see benchmarks/catalog.yaml). */
  accuracy: z.record(z.string(), z.number().min(0).max(1)).default({}),
  /** Accuracy for domains not listed. */
  defaultAccuracy: z.number().min(0).max(1).default(0.3),
  /** Lognormal service time of one request once it holds a batch slot. */
  latencyMs: z
    .object({ median: z.number().nonnegative(), sigma: z.number().nonnegative().default(0.3) })
    .default({
      median: 150,
      sigma: 0.3,
    }),
  /** Policy only: probability of routing to the best (expert, skill) for the item's domain. */
  routingQuality: z.number().min(0).max(1).optional(),
  /**
   * Batch knee (like vLLM past its KV-cache budget): with more than `at` requests active,
   * each request's service time grows by `slowdown` × (active − at) of itself.
   */
  knee: z.object({ at: z.number().int().nonnegative(), slowdown: z.number().nonnegative() }).optional(),
});
export type SimProfile = z.infer<typeof SimProfile>;

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.\- ]*$/, 'a name of letters, digits, ".", "_", "-"');

const endpointFields = {
  /** Served model name sent in the `model` field. */
  model: z.string().min(1),
  /** OpenAI-compatible base URL, e.g. http://gpu-3:2376/v1 */
  baseUrl: z.url(),
  /** Max concurrent requests this endpoint takes (vLLM batch capacity); enforced cluster-wide. */
  capacity: z.number().int().positive().default(16),
  /** Host label, for placement and reports. */
  host: z.string().default('local'),
  /** Name of the environment variable holding the API key (keys never live in files). */
  apiKeyEnv: z.string().optional(),
  timeoutMs: z.number().int().positive().default(120_000),
  /** Largest image (width × height) the model takes; larger images are shrunk before sending. */
  maxPixels: z.number().int().positive().optional(),
  /** Optional price, for cost columns. */
  pricePerMillionTokens: z
    .object({ input: z.number().nonnegative(), output: z.number().nonnegative() })
    .optional(),
  sim: SimProfile.optional(),
};

/**
 * Adaptive concurrency for one expert endpoint (opt-in): an AIMD controller shared by every
 * pool process through Redis sets the queue's global concurrency between `min` and `max`,
 * never above `capacity`. See src/models/adaptive.ts.
 */
export const AdaptiveConcurrency = z.object({
  /** Lowest limit. Default 1. */
  min: z.number().int().positive().default(1),
  /** Highest limit; default and ceiling: the expert's `capacity`. */
  max: z.number().int().positive().optional(),
  /** Back off when a window's mean latency exceeds this; default: `tolerance` × the lowest latency seen. */
  targetLatencyMs: z.number().positive().optional(),
  /** Latency rise (over the lowest seen) that counts as overload when no target is set. Default 1.5. */
  tolerance: z.number().gt(1).default(1.5),
  /** Prometheus endpoint of the server (vLLM `/metrics`): requests waiting there count as overload. */
  metricsUrl: z.url().optional(),
});
export type AdaptiveConcurrency = z.infer<typeof AdaptiveConcurrency>;

export const Expert = z.object({
  /** Name the policy uses in `<search> NAME@@SKILL: … </search>`. */
  name,
  ...endpointFields,
  adaptive: AdaptiveConcurrency.optional(),
  /** One line on what the expert is good at; shown in the policy prompt. */
  strengths: z.string().default(''),
  /** Listed in the policy prompt. Experts used only by `direct:` baselines set false. */
  offered: z.boolean().default(true),
  /** Temperature inside skills. */
  temperature: z.number().min(0).max(2).default(0.2),
  /** Temperature for direct (baseline) calls. */
  directTemperature: z.number().min(0).max(2).default(0),
  maxTokens: z.number().int().positive().default(1024),
});
export type Expert = z.infer<typeof Expert>;

export const ServiceRole = z.enum(['zoom', 'ocr', 'detection', 'caption']);
export const Service = z.object({
  name,
  role: ServiceRole,
  ...endpointFields,
  /** How the boxes it returns are meant: image pixels, or 0–1000 on both axes. Default: guessed per box. */
  coordinates: z.enum(['pixel', 'norm1000']).optional(),
  temperature: z.number().min(0).max(2).default(0),
  maxTokens: z.number().int().positive().default(1024),
});
export type Service = z.infer<typeof Service>;

export const Skill = z.object({
  /** Name the policy uses (Level 1) or a router dispatches to (Level 2). */
  name,
  level: z.union([z.literal(1), z.literal(2)]).default(1),
  /** When to use it; shown in the policy prompt for Level-1 skills. */
  description: z.string().default(''),
  /** Code that runs it, from skills/ (e.g. `generic`). */
  implementation: z.string().default('generic'),
  /** Domains it is meant for (used by the rules router, simulators and reports). */
  domains: z.array(z.string()).default([]),
  /** Level-2 solvers a router skill may dispatch to. */
  solvers: z.array(z.string()).default([]),
  /** Auxiliary services (names or roles) the skill calls. */
  services: z.array(z.string()).default([]),
  /** Other names that find this skill (the release's factory accepts several per skill). Optional,
   * so registries without aliases keep their fingerprint. */
  aliases: z.array(z.string()).optional(),
  /** Instruction text sent to the expert (data-defined skills). */
  prompt: z.string().optional(),
});
export type Skill = z.infer<typeof Skill>;

export const Policy = z.object({
  name,
  ...endpointFields,
  temperature: z.number().min(0).max(2).default(0),
  topP: z.number().gt(0).max(1).default(1),
  maxTokens: z.number().int().positive().default(1024),
  /**
   * The protocol profile of `maestro` policies on this endpoint, unless the sweep says
   * otherwise: `chat` (any chat model) or `release` (the released checkpoint's own loop).
   */
  profile: z.enum(['chat', 'release']).default('chat'),
});
export type Policy = z.infer<typeof Policy>;

/**
 * A judge model: an OpenAI-compatible endpoint that grades or extracts answers for scorers of
 * record that need one (CharXiv, MathVista's extraction step). `capacity` is its maximum
 * concurrency, enforced cluster-wide like an expert's. A sweep picks one with `judge: NAME`.
 */
export const Judge = z.object({
  name,
  ...endpointFields,
  temperature: z.number().min(0).max(2).default(0),
  maxTokens: z.number().int().positive().default(512),
  /** Attempts per question (failed calls and unreadable replies) before the item is an error. */
  attempts: z.number().int().min(1).max(20).default(4),
});
export type Judge = z.infer<typeof Judge>;

/** The ways expert calls are made (registry `dispatch`). */
export const DISPATCH_MODES = ['queue', 'await', 'inline'] as const;
export type DispatchMode = (typeof DISPATCH_MODES)[number];

export const RegistryFile = z.object({
  version: z.literal(1).default(1),
  /** Checkout of the Maestro release the `release` skills read their prompt texts from. */
  upstream: z.string().min(1).optional(),
  experts: z.array(Expert).default([]),
  services: z.array(Service).default([]),
  skills: z.array(Skill).default([]),
  policies: z.array(Policy).default([]),
  judges: z.array(Judge).default([]),
  /**
   * How expert calls are made: `queue` (default), a child job on the expert's queue served
   * by expert pools, the rollout parked meanwhile; `await`, a job on the same queue that the
   * rollout awaits while it keeps its slot, the pool sending the result straight back (no
   * child job, no second activation); `inline`, by the orchestrator itself under a
   * cluster-wide semaphore per expert (no adaptive concurrency). Every worker of a cluster
   * must agree.
   */
  dispatch: z.enum(DISPATCH_MODES).optional(),
  defaults: z
    .object({
      maxTurns: z.number().int().positive().optional(),
      observationChars: z.number().int().positive().optional(),
    })
    .default({}),
});

/** Normalises a model or skill name: case-insensitive, `_`/`-`/space/no separator alike. */
export function normalizeName(value: string): string {
  return value.toLowerCase().replace(/[\s_-]+/g, '');
}

/** A merged, validated registry with name lookups. */
export class Registry {
  readonly experts: Expert[];
  readonly services: Service[];
  readonly skills: Skill[];
  readonly policies: Policy[];
  /** Judge models; not part of the fingerprint (a sweep that uses one puts it in its own). */
  readonly judges: Judge[];
  readonly maxTurns: number;
  readonly observationChars: number;
  /** How expert calls are made (see RegistryFile `dispatch`). */
  readonly dispatch: DispatchMode;
  readonly files: string[];
  /** Release checkout (absolute; relative values are resolved against their registry file). */
  readonly upstream: string | undefined;
  /**
   * Where this process reads the release's texts: the checkout (MAESTRO_UPSTREAM, else the
   * `upstream:` key) and the policy prompt data (MAESTRO_POLICY_PROMPT).
   */
  readonly releasePaths: { checkout?: string | undefined; policyPrompt?: string | undefined };
  private sources: { checkout?: ReleaseSource; policyPrompt?: ReleaseSource } | undefined;
  private readonly expertIndex = new Map<string, Expert>();
  private readonly skillIndex = new Map<string, Skill>();

  constructor(parts: {
    experts: Expert[];
    services: Service[];
    skills: Skill[];
    policies: Policy[];
    judges?: Judge[];
    maxTurns: number;
    observationChars: number;
    dispatch?: DispatchMode;
    files: string[];
    upstream?: string | undefined;
    releasePaths?: { checkout?: string | undefined; policyPrompt?: string | undefined };
  }) {
    this.judges = parts.judges ?? [];
    this.experts = parts.experts;
    this.services = parts.services;
    this.skills = parts.skills;
    this.policies = parts.policies;
    this.maxTurns = parts.maxTurns;
    this.observationChars = parts.observationChars;
    this.dispatch = parts.dispatch ?? 'queue';
    this.files = parts.files;
    this.upstream = parts.upstream;
    this.releasePaths = parts.releasePaths ?? { checkout: parts.upstream };
    for (const e of this.experts) this.expertIndex.set(normalizeName(e.name), e);
    for (const s of this.skills) this.skillIndex.set(normalizeName(s.name), s);
    for (const s of this.skills) {
      for (const a of s.aliases ?? []) {
        if (!this.skillIndex.has(normalizeName(a))) this.skillIndex.set(normalizeName(a), s);
      }
    }
  }

  /** Experts listed in the policy prompt. */
  offeredExperts(): Expert[] {
    return this.experts.filter((e) => e.offered);
  }

  /** Level-1 skills listed in the policy prompt. */
  offeredSkills(): Skill[] {
    return this.skills.filter((s) => s.level === 1);
  }

  /** Finds an expert by a policy-written name (case and separator tolerant). */
  findExpert(nameText: string): Expert | undefined {
    return this.expertIndex.get(normalizeName(nameText));
  }

  findSkill(nameText: string): Skill | undefined {
    return this.skillIndex.get(normalizeName(nameText));
  }

  expert(nameText: string): Expert {
    const e = this.findExpert(nameText);
    if (!e) {
      throw new NotFoundError(`unknown expert "${nameText}"`, {
        hint: `known experts: ${this.experts.map((x) => x.name).join(', ')}`,
      });
    }
    return e;
  }

  policy(nameText: string): Policy {
    const p = this.policies.find((x) => normalizeName(x.name) === normalizeName(nameText));
    if (!p) {
      throw new NotFoundError(`unknown policy endpoint "${nameText}"`, {
        hint: `policy endpoints in the registry: ${this.policies.map((x) => x.name).join(', ') || '(none)'}`,
      });
    }
    return p;
  }

  /** A judge model by name (case and separator tolerant). */
  judge(nameText: string): Judge {
    const j = this.judges.find((x) => normalizeName(x.name) === normalizeName(nameText));
    if (!j) {
      throw new NotFoundError(`unknown judge "${nameText}"`, {
        hint: `judges in the registry: ${this.judges.map((x) => x.name).join(', ') || '(none: add a judges: section)'}`,
      });
    }
    return j;
  }

  /** Finds an auxiliary service by name or by role. */
  service(nameOrRole: string): Service | undefined {
    const n = normalizeName(nameOrRole);
    return (
      this.services.find((s) => normalizeName(s.name) === n) ??
      this.services.find((s) => s.role === nameOrRole)
    );
  }

  /** True when the registry runs the release's skills or its policy profile. */
  usesRelease(): boolean {
    return (
      this.skills.some((s) => s.implementation.startsWith('release:')) ||
      this.policies.some((p) => p.profile === 'release')
    );
  }

  /** The release checkout and prompt data this process reads (commit and contents), read once. */
  releaseSources(): { checkout?: ReleaseSource; policyPrompt?: ReleaseSource } {
    if (!this.sources) {
      const { checkout, policyPrompt } = this.releasePaths;
      this.sources = {
        ...(checkout ? { checkout: checkoutSource(checkout) } : {}),
        ...(policyPrompt ? { policyPrompt: dataSource(policyPrompt) } : {}),
      };
    }
    return this.sources;
  }

  /**
   * Hash of everything that can change results: names, models, skills, prompts, sampling
   * settings, simulation profiles. Endpoint URLs, capacities, adaptive concurrency and hosts
   * are operational and left out, so moving a model to another GPU does not invalidate a sweep.
   */
  fingerprint(): string {
    const strip = <
      T extends { baseUrl: string; capacity: number; host: string; timeoutMs: number; adaptive?: unknown },
    >(
      x: T,
    ) => {
      const { baseUrl: _b, capacity: _c, host: _h, timeoutMs: _t, adaptive: _a, ...rest } = x;
      return rest;
    };
    return fingerprint({
      experts: this.experts.map(strip),
      services: this.services.map(strip),
      skills: this.skills,
      policies: this.policies.map(strip),
      maxTurns: this.maxTurns,
      observationChars: this.observationChars,
      // Not a result setting, but every worker of a sweep must make calls the same way (the
      // capacity of an expert is enforced by its queue or by its semaphore, not both; results
      // come back as children's values or as replies).
      ...(this.dispatch !== 'queue' ? { dispatch: this.dispatch } : {}),
      // The release's texts decide results too: another checkout (or prompt file) is another
      // registry. Paths are left out: the same contents elsewhere are the same texts.
      ...(this.usesRelease() ? { release: this.releaseIdentity() } : {}),
    });
  }

  private releaseIdentity() {
    const id = (s: ReleaseSource | undefined) =>
      s ? { commit: s.commit?.commit ?? null, contents: s.contents } : null;
    const { checkout, policyPrompt } = this.releaseSources();
    return { checkout: id(checkout), policyPrompt: id(policyPrompt) };
  }
}

/**
 * Loads and merges registry files in order. A name defined twice is an error naming both
 * files; references (skill solvers) must resolve in the merged result.
 */
export function loadRegistry(files: string[], env: NodeJS.ProcessEnv = process.env): Registry {
  if (files.length === 0)
    throw new ConfigError('(registry)', '', 'no registry file given', { hint: 'pass --registry FILE' });
  const seen = new Map<string, string>();
  const merged = {
    experts: [] as Expert[],
    services: [] as Service[],
    skills: [] as Skill[],
    policies: [] as Policy[],
    judges: [] as Judge[],
    maxTurns: 4,
    upstream: undefined as string | undefined,
    observationChars: 1000,
    dispatch: undefined as DispatchMode | undefined,
  };
  for (const file of files) {
    const raw = interpolateEnv(readYamlFile(file), file, env);
    const parsed = parseWith(RegistryFile, raw, file);
    const claim = (list: string, kind: string, value: string, index: number) => {
      const key = `${kind}:${normalizeName(value)}`;
      const prior = seen.get(key);
      if (prior) {
        throw new ConfigError(
          file,
          `${list}[${index}].name`,
          `${kind} "${value}" is already defined in ${prior}`,
          {
            hint: 'rename one of them or remove the duplicate',
          },
        );
      }
      seen.set(key, file);
    };
    for (const [i, e] of parsed.experts.entries()) claim('experts', 'expert', e.name, i);
    for (const [i, s] of parsed.services.entries()) claim('services', 'service', s.name, i);
    for (const [i, s] of parsed.skills.entries()) claim('skills', 'skill', s.name, i);
    for (const [i, p] of parsed.policies.entries()) claim('policies', 'policy', p.name, i);
    for (const [i, j] of parsed.judges.entries()) claim('judges', 'judge', j.name, i);
    merged.experts.push(...parsed.experts);
    merged.services.push(...parsed.services);
    merged.skills.push(...parsed.skills);
    merged.policies.push(...parsed.policies);
    merged.judges.push(...parsed.judges);
    if (parsed.upstream) merged.upstream = resolvePath(dirname(resolvePath(file)), parsed.upstream);
    if (parsed.dispatch) {
      if (merged.dispatch && merged.dispatch !== parsed.dispatch)
        throw new ConfigError(
          file,
          'dispatch',
          `"${parsed.dispatch}" differs from "${merged.dispatch}" in an earlier registry file`,
        );
      merged.dispatch = parsed.dispatch;
    }
    if (parsed.defaults.maxTurns) merged.maxTurns = parsed.defaults.maxTurns;
    if (parsed.defaults.observationChars) merged.observationChars = parsed.defaults.observationChars;
  }
  const checkout = env.MAESTRO_UPSTREAM?.trim() ? resolvePath(env.MAESTRO_UPSTREAM.trim()) : merged.upstream;
  const policyPrompt = env.MAESTRO_POLICY_PROMPT?.trim()
    ? resolvePath(env.MAESTRO_POLICY_PROMPT.trim())
    : undefined;
  const registry = new Registry({ ...merged, files, releasePaths: { checkout, policyPrompt } });
  if (registry.dispatch === 'inline') {
    const adaptive = registry.experts.findIndex((e) => e.adaptive);
    if (adaptive >= 0) {
      throw new ConfigError(
        files.join(' + '),
        `experts[${adaptive}].adaptive`,
        `adaptive concurrency needs the expert queue, but the registry sets dispatch: inline`,
        { hint: 'remove `adaptive` or `dispatch: inline`' },
      );
    }
  }
  registry.skills.forEach((skill, i) => {
    for (const solver of skill.solvers) {
      if (!registry.findSkill(solver)) {
        throw new ConfigError(
          files.join(' + '),
          `skills[${i}].solvers`,
          `solver "${solver}" of ${skill.name} is not defined`,
        );
      }
    }
    for (const svc of skill.services) {
      if (!registry.service(svc)) {
        throw new ConfigError(
          files.join(' + '),
          `skills[${i}].services`,
          `service "${svc}" of ${skill.name} is not defined`,
        );
      }
    }
  });
  return registry;
}
