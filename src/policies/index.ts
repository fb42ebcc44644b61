import type { Registry } from '../core/registry.ts';
import type { PolicySpec } from '../core/sweep.ts';
import { banditPolicy } from './bandit.ts';
import { directPolicy, oraclePolicy, randomPolicy } from './baselines.ts';
import { maestroPolicy } from './maestro.ts';
import { rulesPolicy } from './rules.ts';
import type { Policy, PolicyDefinition } from './types.ts';

/** Every policy kind, by id. */
export const policyDefinitions: Record<PolicySpec['kind'], PolicyDefinition> = {
  maestro: maestroPolicy,
  direct: directPolicy,
  random: randomPolicy,
  rules: rulesPolicy,
  bandit: banditPolicy,
  oracle: oraclePolicy,
};

/** Builds a policy for a spec; throws NotFoundError for unknown experts or endpoints. */
export function createPolicy(spec: PolicySpec, registry: Registry): Policy {
  return policyDefinitions[spec.kind].create(spec, registry);
}

export { recordBanditReward } from './bandit.ts';
export type { FanOutCall, Policy, PolicyContext, PolicyDecision, PolicyDefinition } from './types.ts';
