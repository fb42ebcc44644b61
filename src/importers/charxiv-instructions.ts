import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import type { CharxivInstructions } from '../core/judge.ts';

/**
 * CharXiv's grading instruction texts, read at run time from a user's checkout of
 * princeton-nlp/CharXiv (`src/constants.py`): the project ships none of them. Only string
 * literals and dicts of string literals are read (no Python runs): `REASONING_GRADING_PREFIX`,
 * `REASONING_GRADING_INST`, `DESCRIPTIVE_GRADING_PREFIX`, `DESCRIPTIVE_GRADING_QMAP` and
 * `DESCRIPTIVE_GRADING_ICL`.
 */

type Literal = string | Record<string, string>;

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '\n': '',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

/** Reads a Python string literal at `at`; returns its value and the index after it. */
export function readPyString(src: string, at: number): { value: string; end: number } | null {
  let i = at;
  const raw = src[i] === 'r' || src[i] === 'R';
  if (raw) i += 1;
  const quote = src.startsWith('"""', i) ? '"""' : src.startsWith("'''", i) ? "'''" : src[i];
  if (quote !== '"' && quote !== "'" && quote !== '"""' && quote !== "'''") return null;
  i += quote.length;
  let out = '';
  while (i < src.length) {
    if (src.startsWith(quote, i)) return { value: out, end: i + quote.length };
    const ch = src[i] as string;
    if (ch === '\\' && i + 1 < src.length) {
      const next = src[i + 1] as string;
      if (raw) out += ch + next;
      else out += ESCAPES[next] ?? ch + next; // Python keeps unknown escapes as written
      i += 2;
      continue;
    }
    if (ch === '\n' && quote.length === 1) return null;
    out += ch;
    i += 1;
  }
  return null;
}

/** Skips spaces, newlines, comments and `\` line continuations. */
function skipBlank(src: string, at: number): number {
  let i = at;
  for (;;) {
    if (/\s/.test(src[i] ?? '')) i += 1;
    else if (src[i] === '\\' && src[i + 1] === '\n') i += 2;
    else if (src[i] === '#') while (i < src.length && src[i] !== '\n') i += 1;
    else return i;
  }
}

/** Reads `{key: "text", …}` (int or string keys, string values). */
function readPyDict(src: string, at: number): Record<string, string> | null {
  const out: Record<string, string> = {};
  let i = skipBlank(src, at + 1);
  while (src[i] !== '}') {
    let key: string;
    const num = /^\d+/.exec(src.slice(i, i + 12));
    if (num) {
      key = num[0];
      i += key.length;
    } else {
      const s = readPyString(src, i);
      if (!s) return null;
      key = s.value;
      i = s.end;
    }
    i = skipBlank(src, i);
    if (src[i] !== ':') return null;
    i = skipBlank(src, i + 1);
    const v = readPyString(src, i);
    if (!v) return null;
    out[key] = v.value;
    i = skipBlank(src, v.end);
    if (src[i] === ',') i = skipBlank(src, i + 1);
    if (i >= src.length) return null;
  }
  return out;
}

/** The value assigned to a top-level name: a string literal or a dict of them. */
export function readPyAssignment(src: string, name: string): Literal | null {
  const m = new RegExp(`^${name}\\s*=\\s*`, 'm').exec(src);
  if (!m) return null;
  const at = skipBlank(src, m.index + m[0].length);
  if (src[at] === '{') return readPyDict(src, at);
  return readPyString(src, at)?.value ?? null;
}

const intKeys = (d: Record<string, string>): Record<number, string> =>
  Object.fromEntries(Object.entries(d).map(([k, v]) => [Number(k), v]));

/** Reads the instruction texts from a CharXiv checkout (or its `src/constants.py` itself). */
export async function loadCharxivInstructions(path: string): Promise<CharxivInstructions> {
  const file = (await stat(path)).isDirectory() ? join(path, 'src', 'constants.py') : path;
  let src: string;
  try {
    src = (await readFile(file, 'utf8')).replace(/\r\n/g, '\n');
  } catch (err) {
    throw new ConfigError(file, '', `cannot read CharXiv's instruction texts (${(err as Error).message})`, {
      hint: 'point MAESTRO_CHARXIV_DIR at a checkout of princeton-nlp/CharXiv',
    });
  }
  const text = (name: string): string => {
    const v = readPyAssignment(src, name);
    if (typeof v !== 'string') throw new ConfigError(file, name, 'no string literal assigned to it');
    return v;
  };
  const dict = (name: string): Record<string, string> => {
    const v = readPyAssignment(src, name);
    if (v === null || typeof v === 'string') throw new ConfigError(file, name, 'no dict of string literals');
    return v;
  };
  const reasoning = intKeys(dict('REASONING_GRADING_INST'));
  for (const c of [1, 2, 3, 4])
    if (reasoning[c] === undefined)
      throw new ConfigError(file, `REASONING_GRADING_INST[${c}]`, 'missing instruction category');
  return {
    source: file,
    reasoningPrefix: text('REASONING_GRADING_PREFIX'),
    reasoning,
    descriptivePrefix: text('DESCRIPTIVE_GRADING_PREFIX'),
    descriptiveQuestions: intKeys(dict('DESCRIPTIVE_GRADING_QMAP')),
    rubrics: dict('DESCRIPTIVE_GRADING_ICL'),
  };
}
