import { hashPick, hashUnit } from '../core/hash.ts';
import type { Item } from '../core/items.ts';
import type { Expert, Registry } from '../core/registry.ts';
import { classificationOptions, classificationReply } from './classify.ts';
import { type SimContext, scene } from './context.ts';

/** Reply of any simulated model asked about an item it cannot find. */
export const VAGUE_REPLY = 'I cannot tell from the image.';

const SKILL_MATCH_BONUS = 0.08;
const SKILL_MISMATCH_PENALTY = 0.15;
const DEFAULT_ACCURACY = 0.3;

/**
 * Probability that `expert` answers an item of `domain` correctly when reached through
 * `skillName`: its profile accuracy, raised when the skill is meant for the domain and
 * lowered when it is meant for other domains, clamped to [0.02, 0.98].
 */
export function expertAccuracy(
  registry: Registry,
  expert: Expert,
  domain: string,
  skillName: string,
): number {
  let p = expert.sim?.accuracy[domain] ?? expert.sim?.defaultAccuracy ?? DEFAULT_ACCURACY;
  const skill = skillName === 'direct' ? undefined : registry.findSkill(skillName);
  if (skill && skill.domains.length > 0) {
    p += skill.domains.includes(domain) ? SKILL_MATCH_BONUS : -SKILL_MISMATCH_PENALTY;
  }
  return Math.min(0.98, Math.max(0.02, p));
}

/** True when the simulated expert gets this (item, skill, seed) right. */
export function expertIsCorrect(registry: Registry, expert: Expert, ctx: SimContext): boolean {
  if (!ctx.ref) return false;
  const p = expertAccuracy(registry, expert, ctx.domain, ctx.skill);
  return hashUnit(ctx.seed, ctx.endpoint, ctx.ref.benchmark, ctx.ref.itemId, ctx.skill) < p;
}

const same = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** Formats a number without binary noise (12.5, not 12.500000000000002). */
function formatNumber(n: number): string {
  return String(Number(n.toPrecision(8)));
}

const INTEGER = /^[-+]?\d+$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/**
 * A deterministic, plausible wrong answer for an item: never equal to any accepted
 * answer (case-insensitive), shaped like the answer type.
 */
export function wrongAnswer(item: Item, ...parts: Array<string | number>): string {
  const gold = item.answers[0] ?? '';
  const accepted = (x: string) => item.answers.some((a) => same(a, x));
  const pick = <T>(xs: T[], tag: string) => hashPick(xs, ...parts, 'wrong', tag);

  switch (item.answerType) {
    case 'choice': {
      const labels = item.options?.map((o) => o.label) ?? ['A', 'B', 'C', 'D'];
      const others = labels.filter((l) => !accepted(l));
      if (others.length > 0) return pick(others, 'label');
      return ['A', 'B', 'C', 'D', 'E'].find((l) => !accepted(l)) ?? 'Z';
    }
    case 'integer': {
      const g = gold.trim();
      if (!INTEGER.test(g)) break;
      const n = Number.parseInt(g, 10);
      const delta = 1 + Math.floor(hashUnit(...parts, 'wrong', 'delta') * 3);
      const down = hashUnit(...parts, 'wrong', 'sign') < 0.5;
      const candidate = down && n - delta >= 0 ? n - delta : n + delta;
      return String(candidate);
    }
    case 'number': {
      const g = gold.trim().replace(/[%,]/g, '');
      if (!NUMBER.test(g)) break;
      const n = Number(g);
      // Far outside a 5 % relative tolerance for any sign.
      return formatNumber(n >= 0 ? n * 1.25 + 1 : n * 1.25 - 1);
    }
    case 'yesno': {
      const g = gold.trim();
      if (g.toLowerCase() === 'yes') return matchCase('no', g);
      if (g.toLowerCase() === 'no') return matchCase('yes', g);
      break;
    }
    case 'code':
      return wrongCode(gold);
    default:
      break;
  }
  // text, list, expression, and anything whose gold does not parse as its type.
  const otherTexts = (item.options ?? []).map((o) => o.text).filter((t) => t.trim() && !accepted(t));
  if (otherTexts.length > 0) return pick(otherTexts, 'text');
  for (const fallback of ['unclear', 'unknown', 'none of these', 'cannot be determined']) {
    if (!accepted(fallback)) return fallback;
  }
  return `not ${gold}`;
}

/** `word` in the letter case of `like` (YES, yes or Yes). */
function matchCase(word: string, like: string): string {
  if (like === like.toUpperCase()) return word.toUpperCase();
  if (like === like.toLowerCase()) return word.toLowerCase();
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}

function functionName(code: string): string {
  return /def\s+([A-Za-z_]\w*)\s*\(/.exec(code)?.[1] ?? 'solution';
}

function wrongCode(reference: string): string {
  const name = functionName(reference);
  return `def ${name}(*args, **kwargs):\n    # Ignores the input, so it fails the tests.\n    return None`;
}

function pythonBlock(code: string): string {
  const trimmed = code.trim();
  if (trimmed.startsWith('```')) return trimmed;
  return `\`\`\`python\n${trimmed}\n\`\`\``;
}

const REASONING = [
  (d: string) => `The image shows ${d}; I checked the details the question asks about.`,
  (d: string) => `Looking at ${d}, I compared the relevant parts step by step.`,
  (d: string) => `I read the question, then examined ${d} for the needed evidence.`,
];

/** The full reply text of a simulated expert. */
export function expertReply(registry: Registry, expert: Expert, ctx: SimContext): string {
  const item = ctx.item;
  if (!ctx.ref || !item) return VAGUE_REPLY;
  const options = classificationOptions(ctx);
  if (options) return classificationReply(ctx, options);
  const parts = [ctx.seed, ctx.endpoint, ctx.ref.benchmark, ctx.ref.itemId, ctx.skill];
  const correct = expertIsCorrect(registry, expert, ctx);
  const reasoning = hashPick(REASONING, ...parts, 'reasoning')(scene(ctx.domain));
  if (item.answerType === 'code') {
    const code = correct ? (item.answers[0] ?? '') : wrongAnswer(item, ...parts);
    return `${reasoning} Here is the function.\n\n${pythonBlock(code)}`;
  }
  const answer = correct ? (item.answers[0] ?? '') : wrongAnswer(item, ...parts);
  return `${reasoning}\nThe answer is ${answer.replace(/\s+/g, ' ').trim()}.`;
}
