import { hashPick, hashUnit } from '../core/hash.ts';
import type { Item } from '../core/items.ts';
import type { Policy, Registry } from '../core/registry.ts';
import type { ReleaseTurn, SimContext } from './context.ts';
import {
  answerIn,
  bestPair,
  callInput,
  candidates,
  fallbackAnswer,
  firstCall,
  isFailedCall,
  MAX_RETRIES_BEFORE_ANSWER,
  type PlannedCall,
} from './policy.ts';

/**
 * The simulated policy in the `release` protocol profile (requests that carry their own
 * `chat_template`, see isReleaseRequest): it continues the raw token stream the release's
 * agent loop builds, where observations arrive inside the final assistant message as
 * `<|im_start|>user<information>…</information><|im_end|>`.
 *
 * - First step (no observation yet): `<think> … </think>\n\n<search> EXPERT@@SKILL: question
 *   </search>`, routed like the chat policy. A share MALFORMED_RATE of draws is a malformed
 *   generation instead (a `<think>` that runs on, an `<answer>` without a call, or an
 *   unclosed `<search>`), which the agent loop throws away and samples again.
 * - After an observation: `<answer> X </answer>` (sometimes after a `</think>`), the answer
 *   stated in the last observation; after a failed call, the best pair is called again;
 *   after the first observation, a share SECOND_SEARCH_RATE of draws calls again instead.
 *
 * No stop strings are needed: a reply ends as at end-of-sequence and never holds `<|im_end|>`.
 * Every draw hashes the rollout seed, the item, the request's sampling `seed` and the
 * continuation, so a resampled step only differs when the caller changes the sampling seed
 * (as it must with vLLM too).
 */
export const MALFORMED_RATE = 0.15;
export const SECOND_SEARCH_RATE = 0.1;

type Draw = (...tag: string[]) => number;

/** The observations in a continuation, in order (an unclosed last one included). */
export function continuationObservations(continuation: string): string[] {
  const blocks: string[] = [];
  const re = /<information>([\s\S]*?)(?:<\/information>|$)/g;
  for (let m = re.exec(continuation); m; m = re.exec(continuation)) blocks.push(m[1] ?? '');
  return blocks;
}

function searchText(call: PlannedCall, item: Item): string {
  return `<think> ${call.think} </think>\n\n<search> ${call.expert.name}@@${call.skill.name}: ${callInput(item)} </search>`;
}

function malformed(call: PlannedCall, item: Item, draw: Draw): string {
  const kinds = [
    `<think> ${call.think} Before calling anyone I should look at the question again, and then again, weighing every model`,
    `<think> ${call.think} </think>\n\n<answer> ${fallbackAnswer(item)} </answer>`,
    `<think> ${call.think} </think>\n\n<search> ${call.expert.name}@@${call.skill.name}: ${callInput(item)}`,
  ];
  return kinds[Math.floor(draw('malformed-kind') * kinds.length)] as string;
}

function answerText(item: Item, domain: string, last: string, draw: Draw): string {
  const answer = answerIn(item, last);
  const text = `<answer> ${answer ?? fallbackAnswer(item)} </answer>`;
  if (draw('think') < 0.5) return text;
  const why = answer === null ? 'gives no clear answer, so I will guess' : `settles the ${domain} question`;
  return `<think> The tool output ${why}. </think>\n\n${text}`;
}

/** The text of one generation in the release profile. */
export function releaseReply(registry: Registry, policy: Policy, ctx: SimContext, turn: ReleaseTurn): string {
  const item = ctx.item;
  if (!ctx.ref || !item)
    return '<think> I cannot identify the question. </think>\n\n<answer> unknown </answer>';
  const ref = ctx.ref;
  const domain = ctx.domain || 'general';
  const c = candidates(registry, ctx.messages);
  const best = bestPair(c, ctx.domain);
  const hashParts = [ctx.seed, ctx.endpoint, ref.benchmark, ref.itemId];
  const draw: Draw = (...tag) =>
    hashUnit(...hashParts, 'release', turn.sampleSeed ?? '', turn.continuation, ...tag);
  const blocks = continuationObservations(turn.continuation);
  const last = blocks[blocks.length - 1] ?? '';

  if (best && blocks.length === 0) {
    const call = firstCall(policy, c, best, domain, hashParts);
    return draw('malformed') < MALFORMED_RATE ? malformed(call, item, draw) : searchText(call, item);
  }
  if (best && blocks.length < MAX_RETRIES_BEFORE_ANSWER && isFailedCall(last)) {
    const think = `The last call failed. I will call ${best.expert.name} with ${best.skill.name}.`;
    return searchText({ ...best, think }, item);
  }
  if (best && blocks.length === 1 && draw('again') < SECOND_SEARCH_RATE) {
    const pairs = c.experts.flatMap((expert) => c.skills.map((skill) => ({ expert, skill })));
    const pick = hashPick(pairs, ...hashParts, 'release-again', turn.continuation);
    const think = `I want a second opinion from ${pick.expert.name}.`;
    return searchText({ ...pick, think }, item);
  }
  return answerText(item, domain, last, draw);
}
