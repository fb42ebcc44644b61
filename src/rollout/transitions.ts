import type { Action, Step } from '../core/items.ts';
import { boundText, type ExpertCall, type RolloutState } from '../core/jobs.ts';
import type { EngineConfig, PolicyDecision, Transition } from './types.ts';

/** Transitions shared by every protocol profile. */

/** Copies what the engine changes, so a caller's state is never mutated. */
export function copy(state: RolloutState): RolloutState {
  return {
    ...state,
    steps: state.steps.map((step) => ({ ...step })),
    pending: [...state.pending],
    ...(state.candidates ? { candidates: [...state.candidates] } : {}),
  };
}

/** How many generations a rollout may take under the profile. */
export function generations(cfg: EngineConfig): number {
  return cfg.profile.name === 'release' ? cfg.profile.maxTurns + 1 : cfg.profile.maxTurns;
}

/** After a turn: the turn limit ends the rollout without an answer, else the policy decides. */
export function nextTurn(s: RolloutState, cfg: EngineConfig, save: boolean): Transition {
  if (s.turn >= generations(cfg)) {
    return toScoring(s, { status: 'no_answer', rawOutput: s.steps[s.steps.length - 1]?.policyText ?? '' });
  }
  return { state: s, save, next: { type: 'decide', first: s.turn === 0 && s.steps.length === 0 } };
}

/** The policy phase is over: the scoring call is the only thing pending. */
export function toScoring(
  s: RolloutState,
  outcome: Partial<Pick<RolloutState, 'status' | 'error' | 'rawOutput'>>,
): Transition {
  Object.assign(s, outcome);
  s.phase = 'scoring';
  s.pending = [{ kind: 'score' }];
  return { state: s, save: true, next: { type: 'score' } };
}

/** Records a policy turn as a step (texts bounded: policy output is untrusted). */
export function pushStep(s: RolloutState, d: PolicyDecision): Step {
  if (d.meta) s.policyMeta = { ...s.policyMeta, ...d.meta };
  const step: Step = {
    turn: s.turn,
    policyText: boundText(d.text),
    policyLatencyMs: d.latencyMs,
    policyPromptTokens: d.promptTokens,
    policyCompletionTokens: d.completionTokens,
    action: boundAction(d.action),
    calls: [],
  };
  s.steps.push(step);
  return step;
}

/** The rollout answered: scored from the baseline's raw output or the policy's turn. */
export function answered(s: RolloutState, d: PolicyDecision): Transition {
  return toScoring(s, { status: 'answered', rawOutput: boundText(d.rawOutput ?? d.text) });
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

/** A valid call: the step names the resolved expert and skill, and the call is pending. */
export function callFrom(
  s: RolloutState,
  step: Step,
  action: Extract<Action, { type: 'search' }>,
  cfg: EngineConfig,
  model?: string,
): Transition {
  step.expert = cfg.names.expert(action.model);
  step.skill = cfg.names.skill(action.skill);
  const call: ExpertCall = {
    kind: 'expert',
    turn: s.turn,
    call: 0,
    expert: step.expert!,
    skill: step.skill!,
    input: action.input,
    ...(model ? { model } : {}),
  };
  s.pending = [call];
  return { state: s, save: true, next: { type: 'call', calls: [call] } };
}
