import { hashPick, hashUnit } from '../core/hash.ts';
import type { Item } from '../core/items.ts';
import type { Expert, Policy, Registry, Skill } from '../core/registry.ts';
import type { SimContext } from './context.ts';
import type { SimMessage } from './request.ts';

/** Routing quality of a policy without a `sim.routingQuality`. */
export const DEFAULT_ROUTING_QUALITY = 0.8;
/** After this many observations the policy answers even if the last call failed. */
export const MAX_RETRIES_BEFORE_ANSWER = 3;

export interface Candidates {
  experts: Expert[];
  skills: Skill[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when `name` appears in `text` as a whole name (not inside a longer one). */
export function mentions(text: string, name: string): boolean {
  const re = new RegExp(`(?<![A-Za-z0-9_.-])${escapeRegExp(name)}(?![A-Za-z0-9_-]|\\.[A-Za-z0-9])`, 'i');
  return re.test(text);
}

/**
 * What the policy may call: offered experts and Level-1 skills named in its prompt (the
 * system messages, or the first user message when there is no system message). When the
 * prompt names none of them, everything offered.
 */
export function candidates(registry: Registry, messages: SimMessage[]): Candidates {
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer');
  const prompt = (system.length > 0 ? system : messages.filter((m) => m.role === 'user').slice(0, 1))
    .map((m) => m.text)
    .join('\n');
  const offeredExperts = registry.offeredExperts();
  const offeredSkills = registry.offeredSkills();
  const experts = offeredExperts.filter((e) => mentions(prompt, e.name));
  const skills = offeredSkills.filter((s) => mentions(prompt, s.name));
  return {
    experts: experts.length > 0 ? experts : offeredExperts,
    skills: skills.length > 0 ? skills : offeredSkills,
  };
}

/** Observation blocks given back to the policy so far (user turns after the first one). */
export function informationBlocks(messages: SimMessage[]): string[] {
  const firstUser = messages.findIndex((m) => m.role === 'user');
  if (firstUser < 0) return [];
  const blocks: string[] = [];
  for (const m of messages.slice(firstUser + 1)) {
    if (m.role !== 'user' && m.role !== 'tool') continue;
    const re = /<information>([\s\S]*?)(?:<\/information>|$)/g;
    for (let match = re.exec(m.text); match; match = re.exec(m.text)) {
      blocks.push(match[1] ?? '');
    }
  }
  return blocks;
}

export function isFailedCall(block: string): boolean {
  const t = block.trim().toLowerCase();
  return (
    t.includes('unknown model') ||
    t.includes('unknown skill') ||
    t.includes('malformed') ||
    t.startsWith('error')
  );
}

/** The last `The answer is X` of a text, without trailing punctuation or emphasis. */
export function lastStatedAnswer(text: string): string | null {
  const re = /the answer is\s*:?\s*([^\n]+)/gi;
  let found: string | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const x = (m[1] ?? '')
      .trim()
      .replace(/[.。]+$/, '')
      .replace(/^\*\*(.*)\*\*$/, '$1')
      .replace(/^["'`](.*)["'`]$/, '$1')
      .trim();
    if (x) found = x;
  }
  return found;
}

function lastCodeBlock(text: string): string | null {
  const re = /```(?:python|py)?\s*\n([\s\S]*?)```/g;
  let found: string | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) found = m[1]?.trim() || found;
  return found ? `\`\`\`python\n${found}\n\`\`\`` : null;
}

function expertScore(expert: Expert, domain: string): number {
  return expert.sim?.accuracy[domain] ?? expert.sim?.defaultAccuracy ?? 0.3;
}

/** The best pair for a domain: most accurate candidate expert (registry order on ties), first fitting skill. */
export function bestPair(c: Candidates, domain: string): { expert: Expert; skill: Skill } | null {
  let expert: Expert | undefined;
  for (const e of c.experts) if (!expert || expertScore(e, domain) > expertScore(expert, domain)) expert = e;
  const skill = c.skills.find((s) => s.domains.includes(domain)) ?? c.skills[0];
  return expert && skill ? { expert, skill } : null;
}

export function fallbackAnswer(item: Item | null): string {
  if (item?.options && item.options.length > 0) return item.options[0]?.label ?? 'A';
  if (item?.answerType === 'choice') return 'A';
  return '0';
}

/** The question as one line, with protocol tags taken out so it cannot end the call early. */
export function callInput(item: Item): string {
  return item.question
    .replace(/<\/?(search|answer|information|think)>/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function search(expert: Expert, skill: Skill, item: Item, think: string): string {
  return `<think>${think}</think>\n<search> ${expert.name}@@${skill.name}: ${callInput(item)} </search>`;
}

/** An (expert, skill) call and the short reasoning that leads to it. */
export interface PlannedCall {
  expert: Expert;
  skill: Skill;
  think: string;
}

/**
 * The first call of a rollout: the best pair with probability `routingQuality`, else a
 * pair drawn from all candidates (a hash of `hashParts`, so the same seed routes the same).
 */
export function firstCall(
  policy: Policy,
  c: Candidates,
  best: { expert: Expert; skill: Skill },
  domain: string,
  hashParts: Array<string | number>,
): PlannedCall {
  const q = policy.sim?.routingQuality ?? DEFAULT_ROUTING_QUALITY;
  if (hashUnit(...hashParts, 'route') < q) {
    const think = `This is a ${domain} question. ${best.expert.name} is strongest here, and ${best.skill.name} fits it.`;
    return { ...best, think };
  }
  const pairs = c.experts.flatMap((expert) => c.skills.map((skill) => ({ expert, skill })));
  const pick = hashPick(pairs, ...hashParts, 'pair');
  return {
    ...pick,
    think: `This is a ${domain} question. I will ask ${pick.expert.name} through ${pick.skill.name}.`,
  };
}

/** The answer an observation gives: its last code block (code items) or its last stated answer. */
export function answerIn(item: Item, observation: string): string | null {
  let answer: string | null = null;
  if (item.answerType === 'code') answer = lastCodeBlock(observation);
  return answer ?? lastStatedAnswer(observation);
}

/** The full text of one simulated policy turn (before stop sequences are applied). */
export function policyReply(registry: Registry, policy: Policy, ctx: SimContext): string {
  const item = ctx.item;
  if (!ctx.ref || !item) return '<think>I cannot identify the question.</think>\n<answer> unknown </answer>';
  const domain = ctx.domain || 'general';
  const c = candidates(registry, ctx.messages);
  const best = bestPair(c, ctx.domain);
  const blocks = informationBlocks(ctx.messages);
  const hashParts = [ctx.seed, ctx.endpoint, ctx.ref.benchmark, ctx.ref.itemId];

  if (best && blocks.length === 0) {
    const call = firstCall(policy, c, best, domain, hashParts);
    return search(call.expert, call.skill, item, call.think);
  }

  const last = blocks[blocks.length - 1] ?? '';
  if (best && blocks.length > 0 && blocks.length < MAX_RETRIES_BEFORE_ANSWER && isFailedCall(last)) {
    return search(
      best.expert,
      best.skill,
      item,
      `The last call failed. For a ${domain} question I will call ${best.expert.name} with ${best.skill.name}.`,
    );
  }

  const answer = answerIn(item, last);
  if (answer === null) {
    return `<think>The tool output gives no clear answer, so I will guess.</think>\n<answer> ${fallbackAnswer(item)} </answer>`;
  }
  return `<think>The tool output settles the ${domain} question.</think>\n<answer> ${answer} </answer>`;
}
