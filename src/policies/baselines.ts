import { DIRECT_SKILL, statedAnswer } from '../../skills/index.ts';
import { hashPick } from '../core/hash.ts';
import type { CandidateVerdict, ScoreResult } from '../core/items.ts';
import type { Registry } from '../core/registry.ts';
import type { PolicyContext, PolicyDecision, PolicyDefinition } from './types.ts';

/**
 * An expert's output as a baseline's answer: the output, then its stated final answer
 * ("The answer is X") in an `<answer>` tag, as a policy copying the expert would write it.
 * Scorers read the tag; an output with no stated answer (e.g. code) is the answer itself.
 */
export function withStatedAnswer(output: string): string {
  const stated = statedAnswer(output);
  return stated === null ? output : `${output}\n<answer>${stated}</answer>`;
}

/** After one expert call, a baseline answers with the expert's own output (scored by extraction). */
export function answerWithLastObservation(ctx: PolicyContext, meta?: PolicyDecision['meta']): PolicyDecision {
  const last = ctx.steps[ctx.steps.length - 1];
  const raw = last?.observation ?? '';
  return {
    text: `<answer>${raw.length > 200 ? `${raw.slice(0, 200)}…` : raw}</answer>`,
    action: { type: 'answer', answer: raw },
    latencyMs: 0,
    promptTokens: 0,
    completionTokens: 0,
    rawOutput: withStatedAnswer(raw),
    ...(meta ? { meta } : {}),
  };
}

/** A decision that calls one (expert, skill) pair, written as the protocol would. */
export function callDecision(
  model: string,
  skill: string,
  input: string,
  extra: Partial<PolicyDecision> = {},
): PolicyDecision {
  return {
    text: `<search> ${model}@@${skill}: ${input} </search>`,
    action: { type: 'search', model, skill, input },
    latencyMs: 0,
    promptTokens: 0,
    completionTokens: 0,
    ...extra,
  };
}

/** Every offered (expert, skill) pair, in registry order. */
export function offeredPairs(registry: Registry): Array<readonly [string, string]> {
  return registry
    .offeredExperts()
    .flatMap((e) => registry.offeredSkills().map((s) => [e.name, s.name] as const));
}

/**
 * `direct:<model>`: one model answers alone. The model is a registry expert, or, with
 * `{endpoint: EXPERT}`, any served model name behind that expert's endpoint (an API
 * gateway for GPT-5 or Gemini, say), capped by that endpoint's capacity.
 */
export const directPolicy: PolicyDefinition = {
  kind: 'direct',
  description: 'one model answers the question with the image(s) directly',
  usesEndpoint: false,
  create(spec, registry) {
    const expert = registry.expert(spec.endpoint ?? spec.model ?? '');
    const override = spec.endpoint && spec.model && spec.model !== expert.name ? spec.model : undefined;
    return {
      async decide(ctx) {
        if (ctx.steps.length === 0) {
          return callDecision(
            expert.name,
            DIRECT_SKILL,
            ctx.item.question,
            override ? { modelOverride: override } : {},
          );
        }
        return answerWithLastObservation(ctx);
      },
    };
  },
};

/** `random`: a uniformly random (expert, skill) pair, chosen deterministically from the seed and item. */
export const randomPolicy: PolicyDefinition = {
  kind: 'random',
  description: 'a random offered (expert, skill) pair per item',
  usesEndpoint: false,
  create(_spec, registry) {
    const pairs = offeredPairs(registry);
    if (pairs.length === 0) throw new Error('random policy: the registry offers no (expert, skill) pair');
    return {
      async decide(ctx) {
        if (ctx.steps.length === 0) {
          const [model, skill] = hashPick(pairs, 'random', ctx.seed, ctx.item.benchmark, ctx.item.id);
          return callDecision(model, skill, ctx.item.question);
        }
        return answerWithLastObservation(ctx);
      },
    };
  },
};

/**
 * `oracle`: runs every offered (expert, skill) pair on the item (through the normal expert
 * queues, so capacities hold) and counts the item correct if any pair answers correctly.
 * The upper bound of routing; its cost (calls, tokens) is reported beside it.
 */
export const oraclePolicy: PolicyDefinition = {
  kind: 'oracle',
  description: 'every (expert, skill) pair; correct if any is (the routing upper bound)',
  usesEndpoint: false,
  create(_spec, registry) {
    const pairs = offeredPairs(registry);
    if (pairs.length === 0) throw new Error('oracle policy: the registry offers no (expert, skill) pair');
    return {
      async decide(ctx) {
        if (ctx.steps.length > 0) throw new Error('oracle decides once, by fan-out');
        return { fanOut: pairs.map(([model, skill]) => ({ model, skill, input: ctx.item.question })) };
      },
      combine: anyCorrect,
      answerOf: withStatedAnswer,
    };
  },
};

/** A fan-out's verdict: correct if any pair is; the extracted answer of the first right pair. */
export function anyCorrect(verdicts: CandidateVerdict[]): ScoreResult {
  const best = verdicts.find((c) => c.correct);
  const right = verdicts.filter((c) => c.correct).length;
  return {
    correct: best !== undefined,
    score: best ? 1 : 0,
    extracted: best?.extracted ?? verdicts.find((c) => !c.error)?.extracted ?? null,
    reason: `${right} of ${verdicts.length} pairs correct`,
  };
}
