import { cleanAnswer } from './normalize.ts';
import type { Extraction } from './types.ts';

/**
 * Answer extraction shared by every metric (BENCHMARKS.md, "Answer extraction").
 *
 * 1. Scope: the text inside the last `<answer>…</answer>`; without a tag, the raw text
 *    (direct baselines answer without the protocol). A final `<answer>` that was never
 *    closed (generation stopped) counts as a tag running to the end of the text; a stray
 *    `</answer>` without an opening tag ends the raw text.
 * 2. Inside the scope, in this order: "The answer is …", "Answer: …", "Final answer: …",
 *    `\boxed{…}` (balanced braces), `$…$`. For each pattern the last occurrence wins.
 * 3. Nothing matched: with a tag, its whole content; without one, the last non-empty
 *    line when it is short (≤ 40 characters), else null.
 * 4. The result is cleaned (surrounding whitespace, punctuation, quotes, markdown bold);
 *    an answer that cleans to nothing is no answer.
 *
 * Work is bounded: only the last {@link MAX_EXTRACT_INPUT} characters are read (answers
 * come last), searches use indexOf/lastIndexOf and bounded scans, no backtracking regex.
 */
export const MAX_EXTRACT_INPUT = 200_000;

/** Longest answer a pattern may capture; longer captures are cut. */
const MAX_CAPTURE = 2_000;
/** Longest span scanned for the closing brace of `\boxed{`. */
const MAX_BOXED_SCAN = 20_000;
/** Raw text without a pattern: the last line is taken only when this short. */
const MAX_LAST_LINE = 40;

const OPEN_TAG = '<answer>';
const CLOSE_TAG = '</answer>';

/**
 * The content of the last `<answer>` tag, or null when there is none. Case-insensitive.
 * An unclosed final tag runs to the end of the text.
 */
export function answerTagContent(raw: string): string | null {
  const text = tail(raw);
  const lower = text.toLowerCase();
  const lastOpen = lower.lastIndexOf(OPEN_TAG);
  if (lastOpen < 0) return null;
  const start = lastOpen + OPEN_TAG.length;
  const close = lower.indexOf(CLOSE_TAG, start);
  return close >= 0 ? text.slice(start, close) : text.slice(start);
}

export function extractAnswer(raw: string): Extraction {
  const tagContent = answerTagContent(raw);
  const scope = tagContent ?? withoutStrayClose(tail(raw));
  const where = tagContent === null ? 'raw' : 'tag';

  for (const finder of FINDERS) {
    const hit = finder.find(scope);
    if (hit === null) continue;
    const answer = finish(hit);
    if (answer) return { extracted: answer, method: `${where}:${finder.name}` };
  }

  if (tagContent !== null) {
    const answer = finish(tagContent);
    return answer ? { extracted: answer, method: 'tag:content' } : { extracted: null, method: 'tag:empty' };
  }
  const line = lastNonEmptyLine(scope);
  if (line !== null) {
    const answer = finish(line);
    if (answer && answer.length <= MAX_LAST_LINE) return { extracted: answer, method: 'raw:last-line' };
  }
  return { extracted: null, method: 'none' };
}

interface Finder {
  name: string;
  find(text: string): string | null;
}

const FINDERS: Finder[] = [
  { name: 'answer-is', find: (t) => afterPhrase(t, 'answer is') },
  { name: 'answer-colon', find: (t) => afterPhrase(t, 'answer:') },
  { name: 'final-answer', find: (t) => afterPhrase(t, 'final answer:') },
  { name: 'boxed', find: (t) => lastBoxed(t) },
  { name: 'dollar', find: (t) => lastDollar(t) },
];

/** A closing tag without an opening one (the template held it): read only what precedes it. */
function withoutStrayClose(text: string): string {
  const close = text.toLowerCase().lastIndexOf(CLOSE_TAG);
  return close >= 0 ? text.slice(0, close) : text;
}

function tail(raw: string): string {
  return raw.length > MAX_EXTRACT_INPUT ? raw.slice(raw.length - MAX_EXTRACT_INPUT) : raw;
}

/**
 * The text after the last occurrence of `phrase` (case-insensitive): the rest of that line,
 * or the next non-empty line when the rest is empty ("Answer:\nB"); cut at the first
 * sentence end (". " — so "3.5" stays whole).
 */
function afterPhrase(text: string, phrase: string): string | null {
  const lower = text.toLowerCase();
  let at = lower.lastIndexOf(phrase);
  // "answer is" must not match "answer isn't"/"answer island".
  for (let i = 0; at >= 0 && i < 50 && /[a-z']/.test(lower[at + phrase.length] ?? ''); i++) {
    at = at === 0 ? -1 : lower.lastIndexOf(phrase, at - 1);
  }
  if (at < 0) return null;
  let pos = at + phrase.length;
  let line = lineFrom(text, pos);
  if (cleanAnswer(line.text) === '') {
    // "Answer:\n\nB": look at the next few lines.
    pos = line.next;
    for (let i = 0; i < 3 && pos < text.length; i++) {
      line = lineFrom(text, pos);
      if (cleanAnswer(line.text) !== '') break;
      pos = line.next;
    }
  }
  return cutSentence(line.text);
}

function lineFrom(text: string, pos: number): { text: string; next: number } {
  const nl = text.indexOf('\n', pos);
  const end = nl < 0 ? text.length : nl;
  const capped = Math.min(end, pos + MAX_CAPTURE);
  return { text: text.slice(pos, capped), next: nl < 0 ? text.length : nl + 1 };
}

/** Cuts at the first ". " / "! " / "? " (a sentence end, not a decimal point). */
function cutSentence(line: string): string {
  for (let i = 0; i < line.length - 1; i++) {
    const ch = line[i];
    if ((ch === '.' || ch === '!' || ch === '?') && /\s/.test(line[i + 1] as string)) {
      const head = line.slice(0, i);
      if (cleanAnswer(head) !== '') return head;
    }
  }
  return line;
}

/** Content of the last `\boxed{…}` whose braces balance. */
function lastBoxed(text: string): string | null {
  const marker = '\\boxed';
  let from = text.length;
  for (let attempt = 0; attempt < 20; attempt++) {
    const at = text.lastIndexOf(marker, from);
    if (at < 0) return null;
    let open = at + marker.length;
    while (open < text.length && text[open] === ' ') open++;
    if (text[open] === '{') {
      const close = matchingBrace(text, open);
      if (close >= 0) return text.slice(open + 1, close);
    }
    if (at === 0) return null;
    from = at - 1;
  }
  return null;
}

/** Index of the brace closing the one at `open`, or -1 (unbalanced, or too far away). */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  const end = Math.min(text.length, open + MAX_BOXED_SCAN);
  for (let i = open; i < end; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++; // \{ and \} are literal braces
      continue;
    }
    if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * The last `$…$` (or `$$…$$`) math span. Follows the TeX/pandoc convention so prices do
 * not pair up: the opening `$` is followed by a non-space, the closing one preceded by a
 * non-space and not followed by a digit; `\$` is a literal dollar.
 */
function lastDollar(text: string): string | null {
  // Up to four unescaped dollar positions, last first.
  const d: number[] = [];
  for (let i = text.length - 1; i >= 0 && d.length < 4; i--) {
    if (text[i] === '$' && text[i - 1] !== '\\') d.push(i);
  }
  const [c1, c0, o1, o0] = d;
  if (c1 === undefined || c0 === undefined) return null;
  let content: string;
  if (c0 === c1 - 1) {
    // $$ … $$
    if (o1 === undefined || o0 === undefined || o0 !== o1 - 1) return null;
    content = text.slice(o1 + 1, c0);
    if (content.trim() === '') return null;
  } else {
    content = text.slice(c0 + 1, c1);
    if (
      content === '' ||
      /\s/.test(content[0] as string) ||
      /\s/.test(content[content.length - 1] as string)
    ) {
      return null;
    }
    if (/[0-9]/.test(text[c1 + 1] ?? '')) return null;
  }
  return content.length > MAX_CAPTURE ? null : content;
}

function lastNonEmptyLine(text: string): string | null {
  let end = text.length;
  while (end > 0) {
    const nl = text.lastIndexOf('\n', end - 1);
    const line = text.slice(nl + 1, end);
    if (line.trim() !== '') return line;
    if (nl < 0) return null;
    end = nl;
  }
  return null;
}

/** Unwraps a capture that is itself wrapped in `\boxed{}`, `$…$`, `\(…\)` or `\text{}`, then cleans it. */
function finish(capture: string): string | null {
  let t = cleanAnswer(capture);
  for (let i = 0; i < 4; i++) {
    const before = t;
    if (t.startsWith('\\boxed')) {
      let open = 6;
      while (t[open] === ' ') open++;
      if (t[open] === '{' && matchingBrace(t, open) === t.length - 1) t = t.slice(open + 1, -1);
    }
    if (t.length >= 2 && t.startsWith('$') && t.endsWith('$')) t = trimChar(t, '$');
    if (t.startsWith('\\(') && t.endsWith('\\)')) t = t.slice(2, -2);
    if (t.startsWith('\\[') && t.endsWith('\\]')) t = t.slice(2, -2);
    const text = /^\\(?:text|textbf|mathrm)\{([^{}]*)\}$/.exec(t);
    if (text) t = text[1] as string;
    t = cleanAnswer(t);
    if (t === before) break;
  }
  return t === '' ? null : t;
}

function trimChar(text: string, ch: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text[start] === ch) start++;
  while (end > start && text[end - 1] === ch) end--;
  return text.slice(start, end);
}
