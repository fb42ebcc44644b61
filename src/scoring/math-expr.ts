/**
 * Math answer normalisation and a small, safe evaluator for the expressions geometry
 * answers use: numbers, + - * / ^, parentheses and braces, \frac{a}{b}, \sqrt{x},
 * \sqrt[n]{x}, √x, \pi / π, implicit multiplication ("2\sqrt{3}", "3\pi").
 * It never calls eval; input length and nesting depth are capped.
 */

const MAX_MATH_INPUT = 500;
const MAX_DEPTH = 40;

const UNIT =
  /(?:\s*(?:square|sq\.?|cubic))?\s*(?:units?|cm|mm|km|m|meters?|metres?|in|inch(?:es)?|ft|feet|foot|yards?|yd)\s*(?:\^\s*\{?\s*[23]\s*\}?|[²³])?$/i;

/**
 * Canonical text of a math answer: no spaces, units, degree signs or `$`; `\dfrac` → `\frac`,
 * `√` → `\sqrt`, `π` → `\pi`, thousands separators removed, "x = 5" → "5".
 */
export function normaliseMath(input: string): string {
  let s = input.length > MAX_MATH_INPUT ? input.slice(0, MAX_MATH_INPUT) : input;
  s = s.replace(/\$/g, '').replace(/\\[()[\]]/g, '');
  s = s.replace(/\\[dt]frac/g, '\\frac').replace(/\\left|\\right/g, '');
  s = s.replace(/\\[!,;: ]/g, ' ');
  s = s
    .replace(/\\(?:cdot|times)/g, '*')
    .replace(/[×·]/g, '*')
    .replace(/÷/g, '/')
    .replace(/\u2212/g, '-');
  s = s.replace(/\\(?:text|mathrm|mbox|textbf|operatorname)\{([^{}]*)\}/g, '$1');
  // Degrees.
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|°/g, '');
  s = s.replace(/\s*\bdeg(?:rees?)?\b\.?/gi, '');
  // "x = 5", "m\angle ABC = 60": keep what follows the last "=".
  const eq = s.lastIndexOf('=');
  if (eq >= 0) s = s.slice(eq + 1);
  s = s.trim();
  // Units after a value ("12 cm", "24 square units", "5 in^2").
  for (let i = 0; i < 2; i++) {
    const m = UNIT.exec(s);
    if (!m || m.index === 0) break;
    const head = s.slice(0, m.index).trimEnd();
    if (!/[0-9})π]$|\\pi$/.test(head)) break;
    s = head;
  }
  s = s.replace(/\s+/g, '');
  if (/^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  s = s.replace(/π/g, '\\pi').replace(/(^|[^\\a-z])pi(?![a-z])/gi, '$1\\pi');
  s = s.replace(/√/g, '\\sqrt').replace(/(^|[^\\])sqrt/g, '$1\\sqrt');
  s = s.replace(/\\sqrt(\d+(?:\.\d+)?)/g, '\\sqrt{$1}');
  s = s.replace(/\\frac(\d)(\d)/g, '\\frac{$1}{$2}');
  while (s.endsWith('.')) s = s.slice(0, -1);
  return s;
}

type Token =
  | { kind: 'num'; value: number }
  | { kind: 'op'; value: '+' | '-' | '*' | '/' | '^' }
  | { kind: 'open'; value: '(' | '{' | '[' }
  | { kind: 'close'; value: ')' | '}' | ']' }
  | { kind: 'cmd'; value: 'frac' | 'sqrt' | 'pi' };

function tokenize(s: string): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i] as string;
    if (/[0-9.]/.test(ch)) {
      let j = i;
      while (j < s.length && /[0-9.]/.test(s[j] as string)) j++;
      const text = s.slice(i, j);
      if (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text)) return null;
      out.push({ kind: 'num', value: Number(text) });
      i = j;
    } else if (ch === '+' || ch === '-' || ch === '*' || ch === '/' || ch === '^') {
      out.push({ kind: 'op', value: ch });
      i++;
    } else if (ch === '(' || ch === '{' || ch === '[') {
      out.push({ kind: 'open', value: ch });
      i++;
    } else if (ch === ')' || ch === '}' || ch === ']') {
      out.push({ kind: 'close', value: ch });
      i++;
    } else if (ch === '\\') {
      const m = /^\\([a-zA-Z]+)/.exec(s.slice(i, i + 12));
      const name = m?.[1];
      if (name !== 'frac' && name !== 'sqrt' && name !== 'pi') return null;
      out.push({ kind: 'cmd', value: name });
      i += name.length + 1;
    } else if (/\s/.test(ch)) {
      i++;
    } else {
      return null; // variables and anything else: not a closed-form number
    }
    if (out.length > 400) return null;
  }
  return out;
}

const CLOSE_FOR = { '(': ')', '{': '}', '[': ']' } as const;

class Parser {
  private pos = 0;
  private depth = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  parse(): number | null {
    const v = this.expr();
    return v !== null && this.pos === this.tokens.length && Number.isFinite(v) ? v : null;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private enter(): boolean {
    this.depth++;
    return this.depth <= MAX_DEPTH;
  }

  private expr(): number | null {
    if (!this.enter()) return null;
    let left = this.term();
    while (left !== null) {
      const t = this.peek();
      if (t?.kind !== 'op' || (t.value !== '+' && t.value !== '-')) break;
      this.pos++;
      const right = this.term();
      if (right === null) return null;
      left = t.value === '+' ? left + right : left - right;
    }
    this.depth--;
    return left;
  }

  private term(): number | null {
    let left = this.unary();
    while (left !== null) {
      const t = this.peek();
      if (t?.kind === 'op' && (t.value === '*' || t.value === '/')) {
        this.pos++;
        const right = this.unary();
        if (right === null) return null;
        left = t.value === '*' ? left * right : left / right;
      } else if (t && (t.kind === 'num' || t.kind === 'cmd' || (t.kind === 'open' && t.value !== '['))) {
        const right = this.power(); // implicit multiplication: 2\sqrt{3}, 3\pi, 2(4)
        if (right === null) return null;
        left *= right;
      } else break;
    }
    return left;
  }

  private unary(): number | null {
    const t = this.peek();
    if (t?.kind === 'op' && (t.value === '-' || t.value === '+')) {
      this.pos++;
      if (!this.enter()) return null;
      const v = this.unary();
      this.depth--;
      return v === null ? null : t.value === '-' ? -v : v;
    }
    return this.power();
  }

  private power(): number | null {
    const base = this.primary();
    if (base === null) return null;
    const t = this.peek();
    if (t?.kind === 'op' && t.value === '^') {
      this.pos++;
      if (!this.enter()) return null;
      const exp = this.unary();
      this.depth--;
      return exp === null ? null : base ** exp;
    }
    return base;
  }

  private group(): number | null {
    const t = this.peek();
    if (t?.kind !== 'open') return null;
    this.pos++;
    const v = this.expr();
    const c = this.peek();
    if (v === null || c?.kind !== 'close' || c.value !== CLOSE_FOR[t.value]) return null;
    this.pos++;
    return v;
  }

  /** A command argument: a braced group, or a single number / command. */
  private argument(): number | null {
    const t = this.peek();
    if (t?.kind === 'open') return this.group();
    return this.primary();
  }

  private primary(): number | null {
    if (!this.enter()) return null;
    const t = this.peek();
    let v: number | null = null;
    if (t?.kind === 'num') {
      this.pos++;
      v = t.value;
    } else if (t?.kind === 'open' && t.value !== '[') {
      v = this.group();
    } else if (t?.kind === 'cmd') {
      this.pos++;
      if (t.value === 'pi') v = Math.PI;
      else if (t.value === 'frac') {
        const a = this.argument();
        const b = a === null ? null : this.argument();
        v = a === null || b === null ? null : a / b;
      } else {
        let index = 2;
        if (this.peek()?.kind === 'open' && this.peek()?.value === '[') {
          const n = this.group();
          if (n === null) return null;
          index = n;
        }
        const x = this.argument();
        v = x === null ? null : index === 2 ? Math.sqrt(x) : Math.sign(x) * Math.abs(x) ** (1 / index);
      }
    }
    this.depth--;
    return v;
  }
}

/** The numeric value of a normalised math answer, or null when it is not a closed-form number. */
export function evaluateMath(normalised: string): number | null {
  if (normalised === '' || normalised.length > MAX_MATH_INPUT) return null;
  const tokens = tokenize(normalised);
  if (!tokens || tokens.length === 0) return null;
  return new Parser(tokens).parse();
}
