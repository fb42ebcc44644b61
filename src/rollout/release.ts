import type { RolloutState } from '../core/jobs.ts';
import { answered, callFrom, nextTurn, pushStep, toScoring } from './transitions.ts';
import type { ChildResult, EngineConfig, PolicyDecision, ReleaseProfile, Transition } from './types.ts';

/**
 * The `release` profile's turns, as the public release's agent loop runs them: every
 * generation is a step, thrown-away ones included; the last step cannot call; errors are
 * observations the policy reads, never the end of the rollout.
 */
export function releaseDecision(
  s: RolloutState,
  d: PolicyDecision,
  profile: ReleaseProfile,
  cfg: EngineConfig,
): Transition {
  const step = pushStep(s, d);
  if (d.turn === 'resample') {
    step.resampled = true;
    s.turn += 1;
    return nextTurn(s, cfg, true);
  }
  const action = step.action;
  if (action.type === 'answer') return answered(s, d);
  if (d.turn === 'stop' || s.turn >= profile.maxTurns) {
    return toScoring(s, { status: 'no_answer', rawOutput: step.policyText });
  }
  const problem =
    action.type === 'invalid'
      ? action.reason
      : !cfg.names.expert(action.model)
        ? profile.unknownModel
        : !cfg.names.skill(action.skill)
          ? profile.unknownSkill
          : undefined;
  if (problem !== undefined || action.type !== 'search') {
    step.observation = problem;
    step.formatError = problem;
    s.turn += 1;
    return nextTurn(s, cfg, true);
  }
  return callFrom(s, step, action, cfg);
}

/** A call settled: its output (or failure) is the observation, and the next step starts. */
export function releaseResult(
  s: RolloutState,
  result: ChildResult | undefined,
  profile: ReleaseProfile,
  cfg: EngineConfig,
): Transition {
  const step = s.steps[s.steps.length - 1];
  if (step && result?.kind === 'failed') step.observation = profile.callFailed(result.reason);
  if (step && result?.kind === 'expert') {
    const text = result.out.text;
    step.observation = text.length > profile.observationChars ? text.slice(-profile.observationChars) : text;
    step.expertLatencyMs = result.out.latencyMs;
    step.calls = result.out.calls;
  }
  s.pending = [];
  s.turn += 1;
  return nextTurn(s, cfg, true);
}
