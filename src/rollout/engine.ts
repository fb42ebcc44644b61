import type { Action } from '../core/items.ts';
import { boundText, clipTail, type ExpertCall, type RolloutState } from '../core/jobs.ts';
import { releaseDecision, releaseResult } from './release.ts';
import { answered, callFrom, copy, nextTurn, pushStep, toScoring } from './transitions.ts';
import type {
  ChatProfile,
  ChildResult,
  EngineConfig,
  FanOutCall,
  PolicyDecision,
  RolloutEvent,
  Transition,
} from './types.ts';

/**
 * The rollout as a pure state machine: `advance(state, event)` returns the next state,
 * whether it must be saved, and what the driver does next. No queue, network or clock:
 * the BullMQ orchestrator and the bench's in-process runner drive the same function.
 */
export function advance(state: RolloutState, event: RolloutEvent, cfg: EngineConfig): Transition {
  const s = copy(state);
  switch (event.type) {
    case 'activate':
      return onActivate(s, event.now, cfg);
    case 'policy-reply':
      return 'fanOut' in event.reply ? onFanOut(s, event.reply.fanOut, cfg) : onDecision(s, event.reply, cfg);
    case 'policy-failed':
      return toScoring(s, { status: 'error', error: event.error });
    case 'children':
      return s.phase === 'scoring' ? onScored(s, event.results) : onExpertResults(s, event.results, cfg);
    case 'children-missing':
      return onMissing(s, event.missing);
  }
}

/** A fresh state for a rollout that has not started. */
export function initialState(): RolloutState {
  return { phase: 'policy', turn: 0, steps: [], pending: [] };
}

/** Whether the rollout has not taken any step yet (admission and pausing apply). */
export function notStarted(state: RolloutState): boolean {
  return state.phase === 'policy' && state.steps.length === 0 && state.pending.length === 0;
}

function onActivate(s: RolloutState, now: number, cfg: EngineConfig): Transition {
  if (s.phase === 'done') {
    // Scored, but its completion was lost (Redis went back to an earlier moment, or the
    // completion met a lost lock): ask the scorer again, which re-uses the record it wrote.
    // Failing here would drop a scored item from every table. The trace is gone from the
    // state: should the record be missing too, the item becomes an error saying so, never
    // a verdict on an empty answer.
    return toScoring(s, { status: 'error', error: 'scored earlier, but its record is missing' });
  }
  s.startedAt ??= new Date(now).toISOString();
  const budget = cfg.profile.budgetMs;
  if (s.phase === 'policy' && budget !== undefined && now - Date.parse(s.startedAt) > budget) {
    // A call in flight has finished (bounded by its endpoint's timeout and attempts); the
    // rollout ends here instead of taking another turn.
    const error = `time budget exceeded (${budget} ms per item; ${s.steps.length} steps taken)`;
    return toScoring(s, { status: 'error', error });
  }
  if (s.pending.length > 0) return { state: s, save: false, next: { type: 'resolve' } };
  if (s.phase === 'scoring') return toScoring(s, {});
  return nextTurn(s, cfg, false);
}

function onDecision(s: RolloutState, d: PolicyDecision, cfg: EngineConfig): Transition {
  const profile = cfg.profile;
  if (profile.name === 'release') return releaseDecision(s, d, profile, cfg);
  const step = pushStep(s, d);
  const action = step.action;
  if (action.type === 'answer') return answered(s, d);
  const problem =
    action.type === 'invalid' ? profile.malformed(action.reason) : nameError(action, profile, cfg);
  if (problem !== undefined || action.type !== 'search') {
    step.formatError = problem;
    s.turn += 1;
    return nextTurn(s, cfg, true);
  }
  return callFrom(s, step, action, cfg, d.modelOverride);
}

/** What the policy is told when a call names an unknown model or skill. */
function nameError(
  action: Extract<Action, { type: 'search' }>,
  profile: ChatProfile,
  { names }: EngineConfig,
): string | undefined {
  if (!names.expert(action.model)) return profile.unknownModel(action.model, names.offeredExperts());
  if (!names.skill(action.skill)) return profile.unknownSkill(action.skill, names.offeredSkills());
  return undefined;
}

/**
 * A fan-out: every call becomes a step of turn 0, all run at once. An input shared by every
 * call (the oracle sends the question to each pair) is bounded and stored once, in
 * `fanOutInput`; the steps and pending calls then keep an empty input.
 */
function onFanOut(s: RolloutState, calls: FanOutCall[], cfg: EngineConfig): Transition {
  s.candidates = [];
  const shared = calls.length > 0 && calls.every((c) => c.input === calls[0]!.input);
  if (shared) s.fanOutInput = boundText(calls[0]!.input);
  s.pending = calls.map((c, i): ExpertCall => {
    const expert = cfg.names.expert(c.model) ?? c.model;
    const skill = cfg.names.skill(c.skill) ?? c.skill;
    const input = shared ? '' : boundText(c.input);
    s.steps.push({
      turn: 0,
      policyText: shared
        ? `<search> ${expert}@@${skill} </search>`
        : `<search> ${expert}@@${skill}: ${input} </search>`,
      policyLatencyMs: 0,
      policyPromptTokens: 0,
      policyCompletionTokens: 0,
      action: { type: 'search', model: expert, skill, input },
      expert,
      skill,
      calls: [],
    });
    return { kind: 'expert', turn: 0, call: i + 1, expert, skill, input };
  });
  return { state: s, save: true, next: { type: 'call', calls: withInputs(s, s.pending as ExpertCall[]) } };
}

/** Calls as sent: a fan-out's shared input put back into each. */
function withInputs(s: RolloutState, calls: ExpertCall[]): ExpertCall[] {
  const shared = s.fanOutInput;
  return shared === undefined ? calls : calls.map((c) => (c.input === '' ? { ...c, input: shared } : c));
}

function onExpertResults(s: RolloutState, results: ChildResult[], cfg: EngineConfig): Transition {
  const calls = s.pending.filter((p): p is ExpertCall => p.kind === 'expert');
  const fanOut = calls.length > 1 || s.candidates !== undefined;
  if (!fanOut && cfg.profile.name === 'release') return releaseResult(s, results[0], cfg.profile, cfg);
  calls.forEach((call, i) => {
    const r = results[i];
    const step = fanOut
      ? s.steps.find((x) => x.turn === call.turn && x.expert === call.expert && x.skill === call.skill)
      : s.steps[s.steps.length - 1];
    if (!step || !r) return;
    if (r.kind === 'failed') {
      step.observation = `error: the ${step.skill} call to ${step.expert} failed: ${r.reason}`;
      if (fanOut)
        s.candidates?.push({ expert: call.expert, skill: call.skill, rawOutput: '', error: r.reason });
    } else if (r.kind === 'expert') {
      step.observation = boundText(r.out.text);
      step.expertLatencyMs = r.out.latencyMs;
      step.calls = r.out.calls;
      if (fanOut) s.candidates?.push({ expert: call.expert, skill: call.skill, rawOutput: step.observation });
    }
  });
  s.pending = [];
  const failure = results.find((r) => r.kind === 'failed');
  if (fanOut) {
    const ok = s.candidates?.filter((c) => !c.error) ?? [];
    if (ok.length === 0) {
      const first = failure?.kind === 'failed' ? failure.reason : '?';
      return toScoring(s, { status: 'error', error: `every fan-out call failed; first: ${first}` });
    }
    return toScoring(s, { status: 'answered', rawOutput: clipTail(ok[0]!.rawOutput) });
  }
  if (failure?.kind === 'failed') {
    const step = s.steps[s.steps.length - 1];
    const error = `expert ${step?.expert} (${step?.skill}) failed: ${failure.reason}`;
    return toScoring(s, { status: 'error', error });
  }
  s.turn += 1;
  // Not saved: this state follows from the saved one (the call pending) and the children's
  // results, which the queue keeps; the next call or the scoring saves it.
  return nextTurn(s, cfg, false);
}

function onScored(s: RolloutState, results: ChildResult[]): Transition {
  const r = results[0];
  if (r?.kind !== 'scored') {
    const reason = r?.kind === 'failed' ? r.reason : 'no scoring result';
    return { state: s, save: false, next: { type: 'fail', error: `scoring failed: ${reason}` } };
  }
  // The record is durable; keep only a small payload in the queue.
  const done: RolloutState = { phase: 'done', turn: s.turn, steps: [], pending: [], status: r.result.status };
  return { state: done, save: true, next: { type: 'finish', result: r.result } };
}

/** Crashed between saving the pending calls and enqueueing them: enqueue them again. */
function onMissing(s: RolloutState, missing: number[]): Transition {
  const lost = missing.map((i) => s.pending[i]).filter((p) => p !== undefined);
  if (lost.some((p) => p.kind === 'score')) return { state: s, save: false, next: { type: 'score' } };
  const calls = lost.filter((p): p is ExpertCall => p.kind === 'expert');
  return { state: s, save: false, next: { type: 'call', calls: withInputs(s, calls) } };
}
