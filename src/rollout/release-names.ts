import type { ReleaseKeywordRule, ReleaseNames } from '../core/release-names.ts';
import type { NameResolver } from './types.ts';

/**
 * How the public Maestro release reads a policy's `<search>` block: which block, how it
 * splits into model, skill and input, how the names are matched (the data is in
 * `registry/release-names.yaml`), and the exact observation the policy gets when the call
 * is malformed. Pure functions; test/parity/release-names.test.ts proves them against the
 * release's own Python.
 */

/** Observations are cut to this many characters (code points) before the policy sees them. */
export const RELEASE_MAX_OBS_LENGTH = 100_000;

/** The observation texts of a `<search>` the release cannot carry out. */
export const RELEASE_OBSERVATIONS = {
  modelName: 'Model Name Error',
  skillName: 'Skill Name Error',
  missingAt: 'Format Error: Missing @@ separator',
  /** Never produced: a block with a `:` always splits in two at the first one. */
  missingColon: 'Format Error: Missing : separator',
  invalidFormat: 'Format Error: Invalid skill call format',
  skillErrorPrefix: 'Skill execution error: ',
} as const;

/** How a turn's `<search>` ends up. */
export type ReleaseSearch =
  /** No complete `<search>…</search>`: no call, empty observation. */
  | { kind: 'no-search' }
  /** A call the release refuses before any skill runs: the policy is shown `observation`. */
  | { kind: 'error'; observation: string }
  /** A valid call: run `skill` with expert `model` on `input`. */
  | { kind: 'call'; model: string; skill: string; input: string }
  /**
   * A valid call to a skill name the release matches but cannot run (`runs: false`):
   * no expert is called and the policy is shown `observation`.
   */
  | { kind: 'rejected'; model: string; skill: string; input: string; observation: string };

/** The characters Python's `str.strip()` removes (`str.isspace()`); all in the BMP. */
const PY_SPACE = new Set(
  [
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002,
    0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
  ].map((c) => String.fromCharCode(c)),
);

/** Python's `str.strip()` (JavaScript's `trim()` differs: it removes U+FEFF, keeps U+0085). */
export function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_SPACE.has(text.charAt(start))) start++;
  while (end > start && PY_SPACE.has(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

/**
 * Stripped and lower-cased as the release does (`strip().lower()`). Only ASCII words are
 * matched, and the characters whose lower case contains ASCII (U+0130, U+212A) lower the
 * same in both languages.
 */
function normalize(text: string): string {
  return pyStrip(text).toLowerCase();
}

/** The expert a model name selects (`check_llm_name`), or '' when none does. */
export function releaseModelName(names: ReleaseNames, text: string): string {
  const lower = normalize(text);
  for (const m of names.models) {
    if (m.contains.some((w) => lower.includes(w))) return m.name;
  }
  return '';
}

function ruleMatches(rule: ReleaseKeywordRule, lower: string): boolean {
  if (!rule.all.every((w) => lower.includes(w))) return false;
  return rule.any === undefined || rule.any.some((w) => lower.includes(w));
}

/** The skill a skill name selects (`check_skill_name`), or '' when none does. */
export function releaseSkillName(names: ReleaseNames, text: string): string {
  const lower = normalize(text);
  for (const s of names.skills) {
    if (s.aliases.includes(lower)) return s.name;
  }
  return names.keywordRules.find((r) => ruleMatches(r, lower))?.skill ?? '';
}

/**
 * The action the release acts on in a generated turn: with `<search>` and no `<answer>`,
 * the text up to the first `</search>` (that tag included); otherwise no action.
 */
export function releaseActionText(turnText: string): string | undefined {
  if (!turnText.includes('<search>') || turnText.includes('<answer>')) return undefined;
  return `${turnText.split('</search>')[0]}</search>`;
}

/** The content of the first `<search>…</search>` (shortest, across lines), if any. */
function firstSearch(actionText: string): string | undefined {
  return /<search>([\s\S]*?)<\/search>/.exec(actionText)?.[1];
}

/** Splits at the first `sep` (Python's `split(sep, 1)`), or undefined without one. */
function splitOnce(text: string, sep: string): [string, string] | undefined {
  const at = text.indexOf(sep);
  return at < 0 ? undefined : [text.slice(0, at), text.slice(at + sep.length)];
}

/**
 * From an action text to the call the release makes, or the observation it answers with:
 * `Model-Name@@Skill-Name: input`, split at the first `:` then the first `@@`, each part
 * stripped; the model is checked before the skill.
 */
export function parseReleaseSearch(actionText: string, names: ReleaseNames): ReleaseSearch {
  const content = firstSearch(actionText);
  if (content === undefined) return { kind: 'no-search' };
  if (!content.includes('@@') || !content.includes(':')) {
    return { kind: 'error', observation: RELEASE_OBSERVATIONS.invalidFormat };
  }
  const [head, rest] = splitOnce(content, ':')!;
  const input = pyStrip(rest);
  const pair = splitOnce(pyStrip(head), '@@');
  if (!pair) return { kind: 'error', observation: RELEASE_OBSERVATIONS.missingAt };
  const model = releaseModelName(names, pyStrip(pair[0]));
  const skill = releaseSkillName(names, pyStrip(pair[1]));
  if (!model) return { kind: 'error', observation: RELEASE_OBSERVATIONS.modelName };
  if (!skill) return { kind: 'error', observation: RELEASE_OBSERVATIONS.skillName };
  if (names.skills.find((s) => s.name === skill)?.runs === false) {
    return {
      kind: 'rejected',
      model,
      skill,
      input,
      observation: releaseSkillErrorObservation(`Invalid skill: ${skill}`),
    };
  }
  return { kind: 'call', model, skill, input };
}

/** The observation for a skill that failed with `message`. */
export function releaseSkillErrorObservation(message: string): string {
  return `${RELEASE_OBSERVATIONS.skillErrorPrefix}${message}`;
}

/** An observation as the policy is shown it: its first RELEASE_MAX_OBS_LENGTH code points. */
export function cutReleaseObservation(text: string): string {
  if (text.length <= RELEASE_MAX_OBS_LENGTH) return text;
  let points = 0;
  let i = 0;
  while (i < text.length && points < RELEASE_MAX_OBS_LENGTH) {
    const code = text.codePointAt(i)!;
    i += code > 0xffff ? 2 : 1;
    points++;
  }
  return text.slice(0, i);
}

/** The engine's name resolution with the release's matching (unknown: undefined). */
export function releaseNameResolver(names: ReleaseNames): NameResolver {
  return {
    expert: (name) => releaseModelName(names, name) || undefined,
    skill: (name) => releaseSkillName(names, name) || undefined,
    offeredExperts: () => names.models.map((m) => m.name),
    offeredSkills: () => names.skills.filter((s) => s.runs).map((s) => s.name),
  };
}
