/**
 * Tokenizer and parser for the expressions the release's math reward hands to SymPy, following
 * Python 3.11's tokenize module and expression grammar for the tokens they can contain. Two
 * kinds of failure: PyError where Python itself raises (a syntax error: SymPy never gets a
 * value), Undecided where the construct is valid Python we do not model.
 */

export class Undecided extends Error {}
export class PyError extends Error {}

type Tok = { t: 'num'; v: string } | { t: 'name'; v: string } | { t: 'op'; v: string };

export type Node =
  | { n: 'num'; v: string }
  | { n: 'name'; v: string }
  | { n: 'neg' | 'pos'; arg: Node }
  | { n: 'bin'; op: string; left: Node; right: Node }
  | { n: 'call'; callee: Node; args: Node[] }
  | { n: 'compare'; operands: Node[] }
  | { n: 'tuple'; items: Node[] };

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

/** Python's operators that can be built from our characters, longest first. */
const OPS = [
  '**=',
  '//=',
  '>>=',
  '<<=',
  '!=',
  '%=',
  '*=',
  '+=',
  '-=',
  '->',
  '/=',
  ':=',
  '<=',
  '==',
  '>=',
  '**',
  '//',
  '<<',
  '>>',
  '<',
  '>',
  '=',
  '!',
  '%',
  '*',
  '+',
  '-',
  '/',
  '(',
  ')',
  ',',
  ':',
  '.',
];
const SYNTAX_ERROR_OPS = new Set(['**=', '//=', '>>=', '<<=', '%=', '*=', '+=', '-=', '->', '/=', ':']);
const UNMODELLED_OPS = new Set([':=', '!', '//', '<<', '>>', '.']);
export const COMPARISONS = new Set(['<', '>', '<=', '>=', '==', '!=']);

/** Rejects characters before tokenizing: some make any Python expression fail, others we do not model. */
function classifyChars(s: string): void {
  if (/['"#]/.test(s)) throw new Undecided('quote or comment character');
  if (/[$?`\\]/.test(s)) throw new PyError();
  for (const ch of s) {
    if (ch.codePointAt(0)! < 0x80) continue;
    if (/[\p{L}\p{N}]/u.test(ch)) throw new Undecided('non-ASCII identifier');
    throw new PyError();
  }
  const other = s.match(/[^0-9A-Za-z_.+\-*/() \t\f<>=!:,%]/);
  if (other) throw new Undecided(`character ${JSON.stringify(other[0])}`);
}

function nextToken(rest: string): { tok: Tok | null; length: number } {
  const space = rest.match(/^[ \t\f]+/);
  if (space) return { tok: null, length: space[0].length };
  const num = rest.match(NUMBER);
  if (num) {
    if (num[1] !== undefined) throw new Undecided('imaginary literal');
    if (/_|^0[xXbBoO]/.test(num[0])) throw new Undecided('literal with _ or a base prefix');
    return { tok: { t: 'num', v: num[0] }, length: num[0].length };
  }
  const name = rest.match(/^[A-Za-z_][A-Za-z_0-9]*/);
  if (name) {
    if (KEYWORDS.has(name[0])) throw new Undecided(`keyword ${name[0]}`);
    return { tok: { t: 'name', v: name[0] }, length: name[0].length };
  }
  const op = OPS.find((o) => rest.startsWith(o));
  if (!op) throw new Undecided(`token at ${JSON.stringify(rest.slice(0, 8))}`);
  if (SYNTAX_ERROR_OPS.has(op)) throw new PyError();
  if (UNMODELLED_OPS.has(op)) throw new Undecided(`operator ${op}`);
  return { tok: { t: 'op', v: op }, length: op.length };
}

function tokenize(s: string): Tok[] {
  classifyChars(s);
  const toks: Tok[] = [];
  let rest = s;
  while (rest.length > 0) {
    const { tok, length } = nextToken(rest);
    if (tok) toks.push(tok);
    rest = rest.slice(length);
  }
  return toks;
}

/** Recursive descent over Python's expression grammar restricted to these tokens. */
class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}

  private isOp(...vs: string[]): boolean {
    const t = this.toks[this.pos];
    return t?.t === 'op' && vs.includes(t.v);
  }

  private take(): string {
    return this.toks[this.pos++]!.v;
  }

  private expect(v: string): void {
    if (!this.isOp(v)) throw new PyError();
    this.pos++;
  }

  parseAll(): Node {
    const items = [this.compare()];
    let comma = false;
    while (this.isOp(',')) {
      this.pos++;
      comma = true;
      if (this.pos < this.toks.length) items.push(this.compare());
    }
    if (this.pos !== this.toks.length) throw new PyError();
    return comma ? { n: 'tuple', items } : items[0]!;
  }

  private compare(): Node {
    const operands = [this.sum()];
    while (this.toks[this.pos]?.t === 'op' && COMPARISONS.has(this.toks[this.pos]!.v)) {
      this.pos++;
      operands.push(this.sum());
    }
    return operands.length === 1 ? operands[0]! : { n: 'compare', operands };
  }

  private sum(): Node {
    let node = this.term();
    while (this.isOp('+', '-')) node = { n: 'bin', op: this.take(), left: node, right: this.term() };
    return node;
  }

  private term(): Node {
    let node = this.unary();
    while (this.isOp('*', '/', '%')) node = { n: 'bin', op: this.take(), left: node, right: this.unary() };
    return node;
  }

  private unary(): Node {
    if (this.isOp('-', '+')) return { n: this.take() === '-' ? 'neg' : 'pos', arg: this.unary() };
    const base = this.primary();
    if (!this.isOp('**')) return base;
    this.pos++;
    return { n: 'bin', op: '**', left: base, right: this.unary() };
  }

  private primary(): Node {
    let node = this.atom();
    while (this.isOp('(')) {
      this.pos++;
      node = { n: 'call', callee: node, args: this.callArgs() };
    }
    return node;
  }

  private callArgs(): Node[] {
    if (this.isOp(')')) {
      this.pos++;
      return [];
    }
    if (this.isOp('*', '**')) throw new Undecided('starred call argument');
    const next = this.toks[this.pos + 1];
    if (next?.t === 'op' && next.v === '=') throw new Undecided('keyword argument');
    const arg = this.compare();
    if (this.isOp(',')) throw new Undecided('several call arguments');
    this.expect(')');
    return [arg];
  }

  private atom(): Node {
    const t = this.toks[this.pos++];
    if (!t) throw new PyError();
    if (t.t === 'num') return { n: 'num', v: t.v };
    if (t.t === 'name') return { n: 'name', v: t.v };
    if (t.v !== '(') throw new PyError();
    if (this.isOp(')')) throw new Undecided('empty tuple');
    const node = this.compare();
    if (this.isOp(',')) throw new Undecided('parenthesised tuple');
    this.expect(')');
    return node;
  }
}

/** Parses what SymPy's parse_expr would see (the string is stripped first, as it does). */
export function parsePython(s: string): Node | null {
  const toks = tokenize(s);
  return toks.length === 0 ? null : new Parser(toks).parseAll();
}
