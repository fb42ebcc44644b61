import { PY_WS, pyIntCanonical, pyIntParses, pyLen } from './py.ts';

/**
 * The release math reward's answer normalisation (the hendrycks-MATH `strip_string` with the
 * release's additions), rule for rule. Where the release raises (a "\text{ " that occurs
 * twice, a trailing "\frac", an "a/b" whose parts are not integers) this throws
 * MathStripError, and the caller treats it as the release's exception path.
 */
export class MathStripError extends Error {
  constructor(reason: string) {
    super(`strip_string raises: ${reason}`);
    this.name = 'MathStripError';
  }
}

const SQRT_SPACES = new RegExp(`\\\\sqrt${PY_WS}*\\{${PY_WS}*([^}]*)${PY_WS}*\\}`, 'gu');
const FRAC_SPACES = new RegExp(
  `\\\\frac${PY_WS}*\\{${PY_WS}*([^}]*)${PY_WS}*\\}${PY_WS}*\\{${PY_WS}*([^}]*)${PY_WS}*\\}`,
  'gu',
);

function removeRightUnits(s: string): string {
  if (!s.includes('\\text{ ')) return s;
  const parts = s.split('\\text{ ');
  if (parts.length !== 2) throw new MathStripError('"\\text{ " occurs more than once');
  return parts[0]!;
}

function fixSqrt(s: string): string {
  if (!s.includes('\\sqrt')) return s;
  const parts = s.split('\\sqrt');
  let out = parts[0]!;
  for (const part of parts.slice(1)) {
    if (part.length === 0) return s;
    const [first, ...rest] = Array.from(part);
    out += first === '{' ? `\\sqrt${part}` : `\\sqrt{${first}}${rest.join('')}`;
  }
  return out;
}

function fixFracs(s: string): string {
  if (!s.includes('\\frac')) return s;
  const parts = s.split('\\frac');
  let out = parts[0]!;
  for (const part of parts.slice(1)) {
    out += '\\frac';
    const cps = Array.from(part);
    if (cps.length === 0) throw new MathStripError('"\\frac" at the end');
    if (cps[0] === '{') {
      out += part;
      continue;
    }
    if (cps.length < 2) return s;
    const [a, b] = [cps[0]!, cps[1]!];
    const post = cps.slice(2).join('');
    out += b !== '{' ? `{${a}}{${b}}${post}` : `{${a}}${b}${post}`;
  }
  return out;
}

function fixSlash(s: string): string {
  if (!s.includes('/')) return s;
  const parts = s.split('/');
  if (parts.length !== 2) return s;
  const [a, b] = [parts[0]!, parts[1]!];
  if (!pyIntParses(a) || !pyIntParses(b)) throw new MathStripError('int() of a non-integer in "a/b"');
  const [ia, ib] = [pyIntCanonical(a), pyIntCanonical(b)];
  return s === `${ia}/${ib}` ? `\\frac{${ia}}{${ib}}` : s;
}

const LITERAL_REMOVALS: Array<[string, string]> = [
  ['\n', ''],
  ['\\!', ''],
  ['\\\\', '\\'],
  ['tfrac', 'frac'],
  ['dfrac', 'frac'],
  ['\\left', ''],
  ['\\right', ''],
  ['^{\\circ}', ''],
  ['^\\circ', ''],
  ['\\$', ''],
];

/** The release's strip_string. */
export function stripString(input: string): string {
  let s = input;
  // (includes first: a replaceAll that finds nothing still costs a tenth of a microsecond.)
  for (const [from, to] of LITERAL_REMOVALS) if (s.includes(from)) s = s.replaceAll(from, to);
  s = removeRightUnits(s);
  if (s.includes('\\%')) s = s.replaceAll('\\%', '');
  // (Each pattern starts with its literal: without it there is nothing to scan for.)
  if (s.includes('\\sqrt')) s = s.replace(SQRT_SPACES, (_m, inner: string) => `\\sqrt{${inner}}`);
  if (s.includes('\\frac'))
    s = s.replace(FRAC_SPACES, (_m, num: string, den: string) => `\\frac{${num}}{${den}}`);
  s = s.replaceAll(' .', ' 0.').replaceAll('{.', '{0.');
  if (s.length === 0) return s;
  if (s.startsWith('.')) s = `0${s}`;
  const sides = s.split('=');
  if (sides.length === 2 && pyLen(sides[0]!) <= 2) s = sides[1]!;
  s = s.replaceAll(' ', '');
  s = fixSqrt(s);
  s = fixFracs(s);
  if (s === '0.5') s = '\\frac{1}{2}';
  return fixSlash(s);
}

/** The release's last_boxed_only_string: the last `\boxed{…}` (or `\fbox{…}`) with balanced braces. */
export function lastBoxedOnly(s: string): string | null {
  if (s.includes('\\boxed ')) {
    const tail = s.split('\\boxed ').at(-1)!;
    return `\\boxed ${tail.split('$')[0]}`;
  }
  let idx = s.lastIndexOf('\\boxed');
  if (idx < 0) idx = s.lastIndexOf('\\fbox');
  if (idx < 0) return null;
  let open = 0;
  for (let i = idx; i < s.length; i++) {
    if (s[i] === '{') open++;
    if (s[i] === '}') {
      open--;
      if (open === 0) return s.slice(idx, i + 1);
    }
  }
  return null;
}

/** The release's remove_boxed; throws where its asserts fail. */
export function removeBoxed(s: string): string {
  if (s.includes('\\boxed ')) {
    if (!s.startsWith('\\boxed ')) throw new MathStripError('remove_boxed assert');
    return s.slice('\\boxed '.length);
  }
  if (!s.startsWith('\\boxed{') || !s.endsWith('}')) throw new MathStripError('remove_boxed assert');
  return s.slice('\\boxed{'.length, -1);
}
