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
import { type Node, PyError, parsePython, Undecided } from './math-parse.ts';
import { pyStrip } from './py.ts';
import { SYMPY_NAMES } from './sympy-names.ts';

/**
 * `float(sympy.N(sympy.sympify(s)))` for the strings the release's math reward produces,
 * decided without SymPy where the outcome is certain:
 * - numbers, + - * / % **, unary signs, parentheses, sqrt(...), pi and E are evaluated the way
 *   SymPy does (exact rationals; 53-bit floats once a decimal literal or an irrational is
 *   involved, which can differ from SymPy in the last bit);
 * - `none` (the release's "no number") where Python raises: a syntax error ("3apples",
 *   "2sqrt(3)", "45%", a stray "$" or "<", unbalanced parentheses, empty input), calling a
 *   number, or a result float() rejects: a Symbol or undefined function (alone or with a
 *   nonzero number), zoo (x/0), a comparison, a tuple or a set; 0/0 is nan;
 * - `undecided` for everything else (other SymPy names, keywords, quotes, brackets, symbols
 *   that could cancel such as x-x, complex or infinite results): only SymPy can say, and the
 *   caller must not guess.
 */
export type SympifyResult =
  | { kind: 'value'; value: number }
  | { kind: 'none' }
  | { kind: 'undecided'; why: string };

/**
 * A value during evaluation: a number, something only SymPy knows, the sqrt function, or a
 * non-numeric SymPy result (a Symbol or undefined function, a comparison, a tuple).
 */
type Val =
  | Num
  | { kind: 'unknown'; why: string }
  | { kind: 'sqrtfn' }
  | { kind: 'nonnumeric' }
  | { kind: 'symbolic' }
  | { kind: 'zoo' }
  | { kind: 'nan' };

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

function nameValue(name: string): Val {
  if (name === 'sqrt') return { kind: 'sqrtfn' };
  if (name === 'pi') return { kind: 'flt', v: Math.PI };
  if (name === 'E') return { kind: 'flt', v: Math.E };
  if (SYMPY_NAMES.has(name)) return { kind: 'unknown', why: `SymPy name ${name}` };
  return { kind: 'symbolic' };
}

/** SymPy's x/0: zoo (complex infinity, which float() rejects) or nan for 0/0. */
function divideByZero(a: Num, b: Num): Val | null {
  if (b.kind !== 'rat' || b.p !== 0n) return null;
  if (a.kind === 'rat') return a.p === 0n ? { kind: 'nan' } : { kind: 'zoo' };
  return a.v === 0 ? { kind: 'unknown', why: 'float zero over zero' } : { kind: 'zoo' };
}

function numericStep(op: string, a: Num, b: Num): Val {
  if (op === '/') {
    const special = divideByZero(a, b);
    if (special) return special;
  }
  if (op === '%') return attempt(() => mod(a, b));
  if (op === '//') return attempt(() => floorDiv(a, b));
  return attempt(() => arith(op, a, b));
}

function isNonzero(v: Num): boolean {
  return v.kind === 'rat' ? v.p !== 0n : v.v !== 0;
}

function isZeroOrOne(v: Num): boolean {
  return v.kind === 'rat' ? v.q === 1n && (v.p === 0n || v.p === 1n) : v.v === 0 || v.v === 1;
}

/**
 * One symbolic operand (one Symbol or undefined function inside) with a nonzero number stays
 * non-numeric: x+c, c-x, c*x, x/c, c/x, x**c, c**x (c not 0 or 1). Anything else could
 * cancel (x-x, 0*x, x**0), so only SymPy can say.
 */
function staysSymbolic(op: string, a: Val, b: Val): boolean {
  const [sym, num, numLeft] = a.kind === 'symbolic' ? [a, b, false] : [b, a, true];
  if (sym.kind !== 'symbolic' || !isNum(num)) return false;
  if (op === '+' || op === '-') return true;
  if (op === '*' || op === '/') return isNonzero(num);
  if (op === '**') return numLeft ? !isZeroOrOne(num) : isNonzero(num);
  return false;
}

function combine(op: string, a: Val, b: Val): Val {
  if (isNum(a) && isNum(b)) return numericStep(op, a, b);
  if (a.kind === 'unknown') return a;
  if (b.kind === 'unknown') return b;
  if (staysSymbolic(op, a, b)) return { kind: 'symbolic' };
  return { kind: 'unknown', why: 'arithmetic on a symbol or function' };
}

function applyCall(callee: Val, args: Val[]): Val {
  if (isNum(callee)) throw new PyError();
  if (callee.kind === 'unknown') return callee;
  if (callee.kind === 'symbolic') return { kind: 'symbolic' };
  if (callee.kind === 'nonnumeric') return { kind: 'nonnumeric' };
  if (args.length !== 1) throw new PyError();
  const arg = args[0]!;
  if (isNum(arg)) return attempt(() => sqrt(arg));
  if (arg.kind === 'symbolic') return arg;
  return arg.kind === 'unknown' ? arg : { kind: 'unknown', why: 'sqrt of a non-number' };
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
      return nameValue(node.v);
    case 'neg':
    case 'pos': {
      const v = evaluate(node.arg);
      if (isNum(v)) return attempt(() => arith(node.n === 'neg' ? '-' : '+', rat(0n), v));
      return v.kind === 'unknown' || v.kind === 'nonnumeric' || v.kind === 'symbolic'
        ? v
        : { kind: 'unknown', why: `sign of ${v.kind}` };
    }
    case 'bin':
      return combine(node.op, evaluate(node.left), evaluate(node.right));
    case 'call':
      return applyCall(evaluate(node.callee), node.args.map(evaluate));
    case 'opaque':
      node.parts.forEach(evaluate);
      return { kind: 'unknown', why: node.why };
    case 'set':
      node.items.forEach(evaluate);
      return { kind: 'nonnumeric' };
    case 'compare':
    case 'tuple': {
      const parts = (node.n === 'compare' ? node.operands : node.items).map(evaluate);
      const unknown = parts.find((p) => p.kind === 'unknown');
      // A comparison of a SymPy object may raise or give a relational; either way no number,
      // unless it is nested in arithmetic, which the caller handles.
      return unknown && node.n === 'compare' ? unknown : { kind: 'nonnumeric' };
    }
  }
}

function floorDiv(a: Num, b: Num): Num {
  if (a.kind !== 'rat' || b.kind !== 'rat' || b.p === 0n) throw new Undecided('// on floats or by zero');
  const num = a.p * b.q;
  const den = a.q * b.p;
  let floor = num / den;
  if (num % den !== 0n && num < 0n !== den < 0n) floor -= 1n;
  return rat(floor);
}

function mod(a: Num, b: Num): Num {
  if (a.kind !== 'rat' || b.kind !== 'rat' || b.p === 0n) throw new Undecided('% on floats or by zero');
  const floor = floorDiv(a, b) as Rat;
  return checked(rat(a.p * b.q - floor.p * b.p * a.q, a.q * b.q));
}

/** The special top-level names SymPy turns into non-finite floats. */
function bareConstant(node: Node): number | null {
  const inner = node.n === 'neg' || node.n === 'pos' ? node.arg : node;
  if (inner.n !== 'name' || (inner.v !== 'nan' && inner.v !== 'oo')) return null;
  const value = inner.v === 'nan' ? Number.NaN : Number.POSITIVE_INFINITY;
  return node.n === 'neg' ? -value : value;
}

function finish(v: Val): SympifyResult {
  if (v.kind === 'unknown') return { kind: 'undecided', why: v.why };
  if (v.kind === 'sqrtfn') return { kind: 'undecided', why: 'bare function' };
  if (v.kind === 'nonnumeric' || v.kind === 'symbolic' || v.kind === 'zoo') return { kind: 'none' };
  if (v.kind === 'nan') return { kind: 'value', value: Number.NaN };
  const d = v.kind === 'flt' ? v.v : ratToDouble(v);
  if (d === null) return { kind: 'undecided', why: 'value outside the double range' };
  return { kind: 'value', value: d };
}

/** float(N(sympify(s))) where decidable; see the type's comment. */
export function sympifyToFloat(input: string): SympifyResult {
  const s = pyStrip(input.replaceAll('\n', ''));
  try {
    const ast = parsePython(s);
    if (!ast) return { kind: 'none' };
    const constant = bareConstant(ast);
    if (constant !== null) return { kind: 'value', value: constant };
    return finish(evaluate(ast));
  } catch (err) {
    if (err instanceof PyError) return { kind: 'none' };
    if (err instanceof Undecided) return { kind: 'undecided', why: err.message };
    throw err;
  }
}
