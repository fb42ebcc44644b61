/**
 * The stand-in for mathruler's sympy step (grader.py are_equal_under_sympy: parse with
 * implicit multiplication, simplify the difference, compare with 0). It evaluates closed-form
 * constant expressions only: numbers, + - * / ^ **, brackets, sqrt(…), pi and implicit
 * multiplication ("2sqrt(3)", "3pi", "2(3)"). Anything else (a variable, another function)
 * is undecided, which counts as not equal. It never calls eval.
 */

type Tok = { t: 'num'; v: number; decimal: boolean } | { t: 'op'; v: string } | { t: 'id'; v: string };

function tokenize(s: string): Tok[] | null {
  const out: Tok[] = [];
  const re = /\s*(?:(\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)|(\*\*|[-+*/^()])|([a-z]+))/gy;
  let at = 0;
  while (at < s.length) {
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) return null;
    at = re.lastIndex;
    if (m[1] !== undefined) out.push({ t: 'num', v: Number(m[1]), decimal: /[.e]/.test(m[1]) });
    else if (m[2] !== undefined) out.push({ t: 'op', v: m[2] === '**' ? '^' : m[2] });
    else out.push({ t: 'id', v: m[3] as string });
  }
  return out;
}

class Parser {
  i = 0;
  constructor(readonly toks: Tok[]) {}
  peek(): Tok | undefined {
    return this.toks[this.i];
  }
  isOp(v: string): boolean {
    const t = this.peek();
    return t?.t === 'op' && t.v === v;
  }
  expr(): number {
    let v = this.term();
    while (this.isOp('+') || this.isOp('-'))
      v = (this.toks[this.i++] as Tok).v === '+' ? v + this.term() : v - this.term();
    return v;
  }
  term(): number {
    let v = this.unary();
    for (;;) {
      if (this.isOp('*')) {
        this.i++;
        v *= this.unary();
      } else if (this.isOp('/')) {
        this.i++;
        v /= this.unary();
      } else if (this.startsAtom())
        v *= this.power(); // implicit multiplication
      else return v;
    }
  }
  startsAtom(): boolean {
    const t = this.peek();
    return t !== undefined && (t.t !== 'op' || t.v === '(');
  }
  unary(): number {
    if (this.isOp('-') || this.isOp('+')) {
      const sign = (this.toks[this.i++] as Tok).v === '-' ? -1 : 1;
      return sign * this.unary();
    }
    return this.power();
  }
  power(): number {
    const base = this.atom();
    if (!this.isOp('^')) return base;
    this.i++;
    return base ** this.unary();
  }
  atom(): number {
    const t = this.toks[this.i++];
    if (!t) throw new Error('end');
    if (t.t === 'num') return t.v;
    if (t.t === 'op' && t.v === '(') {
      const v = this.expr();
      if (!this.isOp(')')) throw new Error('bracket');
      this.i++;
      return v;
    }
    if (t.t === 'id' && t.v === 'pi') return Math.PI;
    if (t.t === 'id' && t.v === 'sqrt' && this.isOp('(')) return Math.sqrt(this.atom());
    throw new Error('unsupported');
  }
}

/** The value of a closed-form expression and whether it has a decimal number, or null. */
export function evaluateClosedForm(expr: string): { value: number; decimal: boolean } | null {
  const toks = tokenize(expr);
  if (!toks || toks.length === 0) return null;
  try {
    const p = new Parser(toks);
    const value = p.expr();
    if (p.i !== toks.length || !Number.isFinite(value)) return null;
    return { value, decimal: toks.some((t) => t.t === 'num' && t.decimal) };
  } catch {
    return null;
  }
}

/**
 * Whether the two sides are equal as sympy would find: exact rational and radical values are
 * compared to 1e-12 relative (floating-point noise), but with a decimal number on either side
 * sympy computes with floats, so the values must be identical.
 */
export function closedFormEqual(a: string, b: string): boolean {
  const x = evaluateClosedForm(a);
  const y = evaluateClosedForm(b);
  if (!x || !y) return false;
  if (x.decimal || y.decimal) return x.value === y.value;
  return Math.abs(x.value - y.value) <= 1e-12 * Math.max(1, Math.abs(x.value), Math.abs(y.value));
}
