import { NotFoundError } from '../core/errors.ts';
import type { Registry } from '../core/registry.ts';
import type { PolicySpec, SweepMeta } from '../core/sweep.ts';
import { banditPolicy } from './bandit.ts';
import { directPolicy, oraclePolicy, randomPolicy } from './baselines.ts';
import { maestroPolicy } from './maestro.ts';
import { rulesPolicy } from './rules.ts';
import type { Policy, PolicyDefinition, PolicyDeps } from './types.ts';

/** Every policy kind, by id. */
export const policyDefinitions: Record<PolicySpec['kind'], PolicyDefinition> = {
  maestro: maestroPolicy,
  direct: directPolicy,
  random: randomPolicy,
  rules: rulesPolicy,
  bandit: banditPolicy,
  oracle: oraclePolicy,
};

/**
 * Builds a policy for a spec; throws NotFoundError for unknown experts or endpoints. A
 * policy gets only the shared services its definition declares; without `deps` (e.g. when
 * a sweep is validated) a policy that needs them fails when used, not when built.
 */
export function createPolicy(spec: PolicySpec, registry: Registry, deps: PolicyDeps = {}): Policy {
  const def = policyDefinitions[spec.kind];
  return def.create(spec, registry, {
    ...(def.needs?.shared && deps.shared ? { shared: deps.shared } : {}),
    ...(deps.releasePrompt ? { releasePrompt: deps.releasePrompt } : {}),
  });
}

/** Policies of the sweeps a worker serves, built once per (sweep, policy key). */
export class PolicyCache {
  private readonly policies = new Map<string, Policy>();
  constructor(
    private readonly registry: Registry,
    private readonly deps: PolicyDeps = {},
  ) {}

  get(meta: SweepMeta, key: string): { policy: Policy; spec: PolicySpec } {
    const spec = meta.policies.find((p) => p.key === key);
    if (!spec) throw new NotFoundError(`policy "${key}" is not part of sweep ${meta.id}`);
    const cacheKey = `${meta.id}|${key}`;
    let policy = this.policies.get(cacheKey);
    if (!policy) {
      policy = createPolicy(spec, this.registry, this.deps);
      this.policies.set(cacheKey, policy);
    }
    return { policy, spec };
  }
}

export { contextFor, type RolloutFacts } from './context.ts';
export type {
  FanOutCall,
  Outcome,
  Policy,
  PolicyContext,
  PolicyDecision,
  PolicyDefinition,
  PolicyDeps,
  PolicyReply,
} from './types.ts';
