import type { ReleaseNames } from '../../src/core/release-names.ts';

/**
 * Deterministic (seeded) name strings and action texts for the release-names differential
 * test: every alias and selecting word, case and separator variants, keyword combinations,
 * near misses, names inside longer text, whitespace Python and JavaScript strip differently,
 * unicode and the empty string.
 */

/** mulberry32: a small seeded generator, so the cases are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/** Whitespace: Python strips the first five, JavaScript the last (U+FEFF), both the rest. */
const PADS = ['\u0085', '\u001c', '\u001f', '\u3000', '\u2028', '\ufeff', ' ', '\t', '\n', '\u00a0'];
const SEPARATORS = ['_', '-', '', ' ', '.', '/', '__'];
const FILLERS = ['please', 'use', 'the', 'tool', 'x', 'ERQA', 'vqa', 'chartqa', 'solver2', 'Level-1', 'r1'];
const UNICODE = [
  '',
  ' ',
  '\u0130ntern-s1-mini', // İ lower-cases to "i̇"
  '\u212Aey', // Kelvin sign lower-cases to "k"
  'Co\u0301de',
  'ΣΟΛΒΕΡ',
  '图表_solver',
  'chart😀solver',
  'geometric\ud800solver', // a lone surrogate
  '\u0000chart-r1',
];

function caseVariants(text: string): string[] {
  const title = text.replace(/(^|[_\-\s])([a-z])/g, (_m, s: string, c: string) => s + c.toUpperCase());
  return [text, text.toUpperCase(), title, text.toLowerCase()];
}

function randomCase(rand: Rand, text: string): string {
  return [...text].map((c) => (rand() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
}

function separatorVariants(text: string): string[] {
  return SEPARATORS.map((s) => text.replace(/[_-]/g, s));
}

/** Near misses: one character dropped, doubled or swapped. */
function nearMisses(rand: Rand, text: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n && text.length > 1; i++) {
    const at = Math.floor(rand() * text.length);
    const kind = i % 3;
    if (kind === 0) out.push(text.slice(0, at) + text.slice(at + 1));
    else if (kind === 1) out.push(text.slice(0, at) + text[at] + text.slice(at));
    else out.push(text.slice(0, at) + pick(rand, ['0', 'z', '-', '_', ' ']) + text.slice(at + 1));
  }
  return out;
}

function decorate(rand: Rand, text: string): string[] {
  return [
    `${pick(rand, PADS)}${text}${pick(rand, PADS)}`,
    `${pick(rand, FILLERS)} ${text}`,
    `${text}${pick(rand, SEPARATORS)}${pick(rand, FILLERS)}`,
    `xx${text}yy`,
    randomCase(rand, text),
  ];
}

export function modelCases(names: ReleaseNames, seed = 12): string[] {
  const rand = seeded(seed);
  const words = names.models.flatMap((m) => [m.name, ...m.contains]);
  const out: string[] = [...UNICODE];
  for (const w of words) {
    out.push(...caseVariants(w), ...separatorVariants(w), ...nearMisses(rand, w, 4), ...decorate(rand, w));
  }
  // Two names in one string: the earlier rule wins, whatever the order in the text.
  for (let i = 0; i < 60; i++)
    out.push(`${pick(rand, words)} ${pick(rand, SEPARATORS)} ${pick(rand, words)}`);
  // Random mutations of the selecting words.
  for (let i = 0; i < 150; i++) {
    const w = pick(rand, words);
    const variants = [...separatorVariants(w), ...nearMisses(rand, w, 2), ...decorate(rand, w)];
    out.push(randomCase(rand, pick(rand, variants)));
  }
  out.push('gpt-4o', 'qwen2.5-vl-7b', 'glm-4.5v', 'qwen3vl', 'qwen-3-vl', 'medgemma-4b-it', 'intern-s1');
  out.push('step-3', 'Qwen3.5-9b-instruct', 'QWEN35-9B', 'chart_r1', 'chartr1', 'step 3');
  return out;
}

export function skillCases(names: ReleaseNames, seed = 34): string[] {
  const rand = seeded(seed);
  const aliases = names.skills.flatMap((s) => s.aliases);
  const canonical = names.skills.map((s) => s.name);
  const keywords = [...new Set(names.keywordRules.flatMap((r) => [...r.all, ...(r.any ?? [])]))];
  const out: string[] = [...UNICODE];
  for (const a of aliases) out.push(a, a.toUpperCase(), `${pick(rand, PADS)}${a}`, ...nearMisses(rand, a, 1));
  for (const c of canonical)
    out.push(...caseVariants(c), ...separatorVariants(c).slice(1, 4), ...decorate(rand, c));
  for (const r of names.keywordRules) {
    const words = [...r.all, ...(r.any ?? []).slice(0, 1)];
    out.push(
      words.join('_'),
      words.reverse().join(' '),
      r.all.slice(1).join('_'),
      randomCase(rand, words.join('-')),
    );
  }
  // Random keyword combinations: the rule order decides.
  for (let i = 0; i < 250; i++) {
    const n = 1 + Math.floor(rand() * 4);
    const parts = Array.from({ length: n }, () =>
      rand() < 0.8 ? pick(rand, keywords) : pick(rand, FILLERS),
    );
    out.push(randomCase(rand, parts.join(pick(rand, SEPARATORS))));
  }
  return out;
}

/** Action texts: a `<search>` block (or not), assembled from name cases and format variants. */
export function actionCases(names: ReleaseNames, seed = 56): string[] {
  const rand = seeded(seed);
  const models = modelCases(names, seed + 1);
  const skills = skillCases(names, seed + 2);
  const inputs = ['What is the value?', ' a: b: c ', '', '\n multi\nline\n', 'x@@y', '¿qué? 😀'];
  const out: string[] = [];
  for (let i = 0; i < 300; i++) {
    const call = `${pick(rand, models)}${pick(rand, [' @@ ', '@@', '@@\n'])}${pick(rand, skills)}${pick(rand, [':', ' : ', ':\n'])}${pick(rand, inputs)}`;
    out.push(`${pick(rand, ['', 'Let me think. ', '<think>x</think>\n'])}<search>${call}</search>`);
  }
  // Malformed shapes: no @@, no colon, @@ only after the colon, several or unclosed blocks.
  const shapes = [
    (m: string, s: string, i: string) => `<search>${m} ${s}: ${i}</search>`,
    (m: string, s: string, i: string) => `<search>${m}@@${s} ${i}</search>`,
    (m: string, s: string, i: string) => `<search>${m}: ${s}@@${i}</search>`,
    (m: string, s: string, i: string) => `<search>${m}@${s}: ${i}</search>`,
    (m: string, s: string, i: string) =>
      `<search>${m}@@${s}: ${i}</search>\n<search>${s}@@${m}: ${i}</search>`,
    (m: string, s: string, i: string) => `<search>${m}@@${s}: ${i}`,
    (m: string, s: string, i: string) => `<search><search>${m}@@${s}: ${i}</search>`,
    (m: string, s: string, i: string) => `<SEARCH>${m}@@${s}: ${i}</SEARCH>`,
  ];
  for (let i = 0; i < 80; i++) {
    out.push(pick(rand, shapes)(pick(rand, models), pick(rand, skills), pick(rand, inputs)));
  }
  const long = `${'😀'.repeat(60_000)}${'a'.repeat(50_000)}`;
  out.push(
    `<search>Chart-R1@@Chart_Problem_Solver:${long}</search>`,
    '<search>Chart-R1@@Chart_Problem_Solver: q</search><search>GLM-4.6V@@ocr: r</search>',
    '<search>Chart-R1@@Chart_Problem_Solver: q',
    '<search></search>',
    '<search>\u0085chart-r1\u0085@@\u0085chart\u0085:\u0085x\u0085</search>',
  );
  return out;
}
