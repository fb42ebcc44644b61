import { ci, PUNCT_AND_ASCII_WS, PY_DOT, PY_WS, pyStrip } from './py.ts';

/**
 * The answer extraction shared by the release's chartqa, msearthmcq, slake, vstar and zwz
 * reward functions (same rules in each). It reads the whole decoded response, observations
 * included, and returns "" when nothing is found:
 * 1. the first `<answer>…</answer>` on one line (case-insensitive, no newline inside), cleaned;
 *    inside it, the first "The answer is …", "Answer: …", `\boxed{…}`, `$$…$$` or `$…$` wins;
 * 2. otherwise the first "Answer: …" / "Final Answer: …" rest of line, `\boxed{…}` (no nested
 *    braces), `$$…$$` or `$…$` anywhere;
 * 3. otherwise the last non-empty line not starting with "Question:", "Problem:", "Solve:" or
 *    "Given:", with a leading "So", "Therefore", "Thus", "Hence", "Finally" or "The answer is"
 *    (and a ':' or '-') removed.
 * "Cleaned" means Python whitespace stripped, then ASCII punctuation and whitespace stripped.
 */

const S = PY_WS;
const D = PY_DOT;

function re(source: string): RegExp {
  return new RegExp(source, 'u');
}

const ANSWER_TAG = re(`<${ci('answer')}>(${D}*?)</${ci('answer')}>`);

const COMMON_TAIL = [
  re(`${ci('Answer:')}${S}*(${D}*)`),
  re(`${ci('answer:')}${S}*(${D}*)`),
  re(`${ci('ANSWER:')}${S}*(${D}*)`),
  re(`${ci('Final Answer:')}${S}*(${D}*)`),
  re(`${ci('final answer:')}${S}*(${D}*)`),
  re(`${ci('FINAL ANSWER:')}${S}*(${D}*)`),
  re(`\\\\${ci('boxed')}\\{([^}]*)\\}`),
  re(`\\$\\$(${D}*?)\\$\\$`),
  re(`\\$(${D}*?)\\$`),
];

const OUTER = [ANSWER_TAG, ...COMMON_TAIL];
const INNER = [re(`${ci('The answer is')}${S}+(${D}*)`), ...COMMON_TAIL];

const LEAD_WORDS = re(
  `^(${['So', 'Therefore', 'Thus', 'Hence', 'Finally', 'The answer is'].map(ci).join('|')})${S}*[:\\-]?${S}*`,
);
const SKIPPED_LINE_STARTS = ['Question:', 'Problem:', 'Solve:', 'Given:'];

function clean(group: string): string {
  return pyStrip(pyStrip(group), PUNCT_AND_ASCII_WS);
}

function firstMatch(patterns: RegExp[], text: string): { index: number; value: string } | null {
  for (const [index, pattern] of patterns.entries()) {
    const match = pattern.exec(text);
    if (match) return { index, value: clean(match[1] ?? '') };
  }
  return null;
}

function lastAnswerLine(text: string): string {
  const lines = pyStrip(text).split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    let line = pyStrip(lines[i]!);
    if (!line || SKIPPED_LINE_STARTS.some((start) => line.startsWith(start))) continue;
    line = pyStrip(line.replace(LEAD_WORDS, ''), PUNCT_AND_ASCII_WS);
    if (line) return line;
  }
  return '';
}

/** The release's extract_answer for the tagged-answer family. */
export function extractTaggedAnswer(text: string): string {
  const outer = firstMatch(OUTER, text);
  if (!outer) return lastAnswerLine(text);
  if (outer.index !== 0) return outer.value;
  const inner = firstMatch(INNER, outer.value);
  return inner ? inner.value : outer.value;
}
