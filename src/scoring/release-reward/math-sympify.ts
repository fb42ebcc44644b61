import {
  exactSqrt,
  type Flt,
  type Num,
  type Rat,
  rat,
  ratIsSmall,
  ratToDouble,
  toDouble,
} from './math-number.ts';
import { pyStrip } from './py.ts';

/**
 * `float(sympy.N(sympy.sympify(s)))` for the strings the release's math reward produces,
 * decided without SymPy where the outcome is certain:
 * - numbers, + - * / **, unary signs, parentheses and sqrt(...) are evaluated the way SymPy
 *   does (exact rationals; 53-bit floats once a decimal literal is involved);
 * - anything Python cannot parse (juxtaposed atoms such as "3apples" or "2sqrt(3)", a stray
 *   "$", "?", "`", backslash or non-word symbol, unbalanced parentheses, empty input) or that
 *   fails when evaluated (calling a number) is `none`, the release's "no number";
 * - anything else (names other than sqrt, keywords, quotes, brackets, %, //, commas, complex
 *   or infinite results) is `undecided`: only SymPy can say, and the caller must not guess.
 */
export type SympifyResult =
  | { kind: 'value'; value: number }
  | { kind: 'none' }
  | { kind: 'undecided'; why: string };

class Undecided extends Error {}
class PyError extends Error {}

type Tok = { t: 'num'; v: string } | { t: 'name'; v: string } | { t: 'op'; v: string };

const KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for ' +
    'from global if import in is lambda nonlocal not or pass raise return try while with yield'
  ).split(' '),
);

const DIGITS = '[0-9](?:_?[0-9])*';
const EXPONENT = `[eE][-+]?${DIGITS}`;
const POINT_FLOAT = `(?:${DIGITS}\\.(?:${DIGITS})?|\\.${DIGITS})(?:${EXPONENT})?`;
const FLOAT_NUMBER = `(?:${POINT_FLOAT}|${DIGITS}${EXPONENT})`;
const IMAG = `(?:${DIGITS}[jJ]|${FLOAT_NUMBER}[jJ])`;
const INT = '(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?0)*|[1-9](?:_?[0-9])*)';
/** Python 3.11 tokenize's Number: imaginary, then float, then integer (first alternative wins). */
const NUMBER = new RegExp(`^(?:(${IMAG})|(${FLOAT_NUMBER})|(${INT}))`);
const NAME = /^[A-Za-z_0-9]+/;
const OPS = ['**', '//', '*', '/', '+', '-', '(', ')', '.'];

function classifyChars(s: string): void {
  if (/['"#]/.test(s)) throw new Undecided('quote or comment character');
  if (/[$?`\\]/.test(s)) throw new PyError();
  for (const ch of s) {
    if (ch.codePointAt(0)! < 0x80) continue;
    if (/[\p{L}\p{N}]/u.test(ch)) throw new Undecided('non-ASCII identifier');
    throw new PyError();
  }
  const other = s.match(/[^0-9A-Za-z_.+\-*/() \t\f]/);
  if (other) throw new Undecided(`character ${JSON.stringify(other[0])}`);
}

function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  let rest = s;
  while (rest.length > 0) {
    const space = rest.match(/^[ \t\f]+/);
    if (space) {
      rest = rest.slice(space[0].length);
      continue;
    }
    const num = rest.match(NUMBER);
    if (num) {
      if (num[1] !== undefined) throw new Undecided('imaginary literal');
      if (/_|^0[xXbBoO]/.test(num[0])) throw new Undecided('literal with _ or a base prefix');
      toks.push({ t: 'num', v: num[0] });
      rest = rest.slice(num[0].length);
      continue;
    }
    const name = rest.match(NAME);
    if (name && !/^[0-9]/.test(name[0])) {
      if (KEYWORDS.has(name[0])) throw new Undecided(`keyword ${name[0]}`);
      toks.push({ t: 'name', v: name[0] });
      rest = rest.slice(name[0].length);
      continue;
    }
    const op = OPS.find((o) => rest.startsWith(o));
    if (!op) throw new Undecided(`token at ${JSON.stringify(rest.slice(0, 8))}`);
    if (op === '.' || op === '//') throw new Undecided(`operator ${op}`);
    toks.push({ t: 'op', v: op });
    rest = rest.slice(op.length);
  }
  return toks;
}

/** A value during evaluation: a number, something only SymPy knows, or the sqrt function. */
type Val = Num | { kind: 'unknown'; why: string } | { kind: 'sqrtfn' };

type Node =
  | { n: 'num'; v: string }
  | { n: 'name'; v: string }
  | { n: 'neg' | 'pos'; arg: Node }
  | { n: 'bin'; op: string; left: Node; right: Node }
  | { n: 'call'; callee: Node; args: Node[] };

function literal(v: string): Num {
  if (/[.eE]/.test(v)) return { kind: 'flt', v: Number(v) };
  return rat(BigInt(v));
}

function asDouble(x: Num): number {
  const d = toDouble(x);
  if (d === null) throw new Undecided('value outside the double range');
  return d;
}

function flt(v: number): Flt {
  if (!Number.isFinite(v)) throw new Undecided('non-finite float');
  return { kind: 'flt', v };
}

function checked(r: Rat): Rat {
  if (!ratIsSmall(r)) throw new Undecided('rational too large');
  return r;
}

function arith(op: string, a: Num, b: Num): Num {
  if (op === '**') return power(a, b);
  if (op === '/' && (b.kind === 'rat' ? b.p === 0n : b.v === 0)) throw new Undecided('division by zero');
  if (a.kind === 'rat' && b.kind === 'rat') {
    if (op === '+') return checked(rat(a.p * b.q + b.p * a.q, a.q * b.q));
    if (op === '-') return checked(rat(a.p * b.q - b.p * a.q, a.q * b.q));
    if (op === '*') return checked(rat(a.p * b.p, a.q * b.q));
    return checked(rat(a.p * b.q, a.q * b.p));
  }
  const [x, y] = [asDouble(a), asDouble(b)];
  if (op === '+') return flt(x + y);
  if (op === '-') return flt(x - y);
  if (op === '*') return flt(x * y);
  return flt(x / y);
}

function power(a: Num, b: Num): Num {
  if (a.kind === 'rat' && b.kind === 'rat' && b.q === 1n) {
    if (b.p > 4096n || b.p < -4096n) throw new Undecided('large exponent');
    if (a.p === 0n && b.p < 0n) throw new Undecided('zero to a negative power');
    const e = b.p < 0n ? -b.p : b.p;
    const r = checked(rat(a.p ** e, a.q ** e));
    return b.p < 0n ? rat(r.q, r.p) : r;
  }
  const [x, y] = [asDouble(a), asDouble(b)];
  if (x < 0 && !Number.isInteger(y)) throw new Undecided('complex power');
  if (x === 0 && y <= 0) throw new Undecided('zero to a non-positive power');
  return flt(x ** y);
}

function sqrt(arg: Num): Num {
  if (arg.kind === 'rat') {
    if (arg.p < 0n) throw new Undecided('square root of a negative number');
    const exact = exactSqrt(arg);
    if (exact) return exact;
  }
  const x = asDouble(arg);
  if (x < 0) throw new Undecided('square root of a negative number');
  return flt(Math.sqrt(x));
}

/** Turns a number-producing step into a Val, keeping SymPy-only outcomes as unknown. */
function attempt(step: () => Num): Val {
  try {
    return step();
  } catch (err) {
    if (err instanceof Undecided) return { kind: 'unknown', why: err.message };
    throw err;
  }
}

function isNum(v: Val): v is Num {
  return v.kind === 'rat' || v.kind === 'flt';
}

/**
 * Evaluates every sub-expression (Python does, left to right), so a certain Python error
 * anywhere (PyError) wins over an outcome only SymPy could decide.
 */
function evaluate(node: Node): Val {
  switch (node.n) {
    case 'num':
      return literal(node.v);
    case 'name':
      return node.v === 'sqrt' ? { kind: 'sqrtfn' } : { kind: 'unknown', why: `name ${node.v}` };
    case 'neg':
    case 'pos': {
      const v = evaluate(node.arg);
      if (!isNum(v)) return v.kind === 'unknown' ? v : { kind: 'unknown', why: 'sign of a function' };
      return attempt(() => arith(node.n === 'neg' ? '-' : '+', rat(0n), v));
    }
    case 'bin': {
      const [a, b] = [evaluate(node.left), evaluate(node.right)];
      if (isNum(a) && isNum(b)) return attempt(() => arith(node.op, a, b));
      if (a.kind === 'unknown') return a;
      return b.kind === 'unknown' ? b : { kind: 'unknown', why: 'arithmetic on a function' };
    }
    case 'call': {
      const callee = evaluate(node.callee);
      const args = node.args.map(evaluate);
      if (isNum(callee)) throw new PyError();
      if (callee.kind === 'unknown') return callee;
      if (args.length !== 1) throw new PyError();
      const arg = args[0]!;
      if (arg.kind === 'sqrtfn') throw new PyError();
      return isNum(arg) ? attempt(() => sqrt(arg)) : arg;
    }
  }
}

/** Recursive descent over Python's expression grammar restricted to these tokens. */
class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}

  private isOp(v: string): boolean {
    const t = this.toks[this.pos];
    return t?.t === 'op' && t.v === v;
  }

  private expect(v: string): void {
    if (!this.isOp(v)) throw new PyError();
    this.pos++;
  }

  parseAll(): Node {
    const node = this.sum();
    if (this.pos !== this.toks.length) throw new PyError();
    return node;
  }

  private sum(): Node {
    let node = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.toks[this.pos++]!.v;
      node = { n: 'bin', op, left: node, right: this.term() };
    }
    return node;
  }

  private term(): Node {
    let node = this.unary();
    while (this.isOp('*') || this.isOp('/')) {
      const op = this.toks[this.pos++]!.v;
      node = { n: 'bin', op, left: node, right: this.unary() };
    }
    return node;
  }

  private unary(): Node {
    if (this.isOp('-') || this.isOp('+')) {
      const n = this.toks[this.pos++]!.v === '-' ? 'neg' : 'pos';
      return { n, arg: this.unary() };
    }
    const base = this.primary();
    if (!this.isOp('**')) return base;
    this.pos++;
    return { n: 'bin', op: '**', left: base, right: this.unary() };
  }

  private primary(): Node {
    let node = this.atom();
    while (this.isOp('(')) {
      this.pos++;
      if (this.isOp(')')) {
        this.pos++;
        node = { n: 'call', callee: node, args: [] };
        continue;
      }
      if (this.isOp('*') || this.isOp('**')) throw new Undecided('starred call argument');
      const arg = this.sum();
      this.expect(')');
      node = { n: 'call', callee: node, args: [arg] };
    }
    return node;
  }

  private atom(): Node {
    const t = this.toks[this.pos++];
    if (!t) throw new PyError();
    if (t.t === 'num') return { n: 'num', v: t.v };
    if (t.t === 'name') return { n: 'name', v: t.v };
    if (t.v !== '(') throw new PyError();
    if (this.isOp(')')) throw new Undecided('empty tuple');
    const node = this.sum();
    this.expect(')');
    return node;
  }
}

/** float(N(sympify(s))) where decidable; see the type's comment. */
export function sympifyToFloat(input: string): SympifyResult {
  const s = pyStrip(input.replaceAll('\n', ''));
  try {
    classifyChars(s);
    const toks = tokenize(s);
    if (toks.length === 0) return { kind: 'none' };
    const v = evaluate(new Parser(toks).parseAll());
    if (v.kind === 'unknown') return { kind: 'undecided', why: v.why };
    if (v.kind === 'sqrtfn') return { kind: 'undecided', why: 'bare function' };
    const d = v.kind === 'flt' ? v.v : ratToDouble(v);
    if (d === null) return { kind: 'undecided', why: 'value outside the double range' };
    return { kind: 'value', value: d };
  } catch (err) {
    if (err instanceof PyError) return { kind: 'none' };
    if (err instanceof Undecided) return { kind: 'undecided', why: err.message };
    throw err;
  }
}
