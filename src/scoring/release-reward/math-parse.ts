/**
 * Tokenizer and parser for the expressions the release's math reward hands to SymPy, following
 * Python 3.11's tokenize module and expression grammar for the tokens they can contain. Two
 * kinds of failure: PyError where Python itself raises (a syntax error: SymPy never gets a
 * value), Undecided where the construct is valid Python we do not model.
 */

export class Undecided extends Error {}
export class PyError extends Error {
  // Control flow (caught by sympifyToFloat, for text such as a whole sentence that Python
  // refuses to parse): made without a stack trace, which would cost more than the parse.
  constructor() {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('Python raises here');
    Error.stackTraceLimit = limit;
  }
}

type Tok = { t: 'num' | 'name' | 'kw' | 'op'; v: string };

export type Node =
  | { n: 'num'; v: string }
  | { n: 'name'; v: string }
  | { n: 'neg' | 'pos'; arg: Node }
  | { n: 'bin'; op: string; left: Node; right: Node }
  | { n: 'call'; callee: Node; args: Node[] }
  | { n: 'compare'; operands: Node[] }
  | { n: 'tuple' | 'set'; items: Node[] }
  | { n: 'opaque'; why: string; parts: Node[] };

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
// biome-ignore format: a table
const OPS = [
  '**=', '//=', '>>=', '<<=', '!=', '%=', '*=', '+=', '-=', '->', '/=', ':=', '<=', '==', '>=', '**', '//', '<<',
  '>>', '@=', '<', '>', '=', '!', '%', '*', '+', '-', '/', '(', ')', '{', '}', ',', ':', '.', '@',
];
const SYNTAX_ERROR_OPS = new Set(['**=', '//=', '>>=', '<<=', '%=', '*=', '+=', '-=', '->', '/=', '@=']);
/** Python constructs SymPy's parser rewrites (`!` is factorial there) or that we do not model. */
const UNMODELLED_OPS = new Set([':=', '!']);
/** Keywords that can start an expression; any other keyword there is a syntax error. */
const LEADING_KEYWORDS = new Set(['not', 'lambda', 'await', 'yield', 'None', 'True', 'False']);
export const COMPARISONS = new Set(['<', '>', '<=', '>=', '==', '!=']);

/** Rejects characters before tokenizing: some make any Python expression fail, others we do not model. */
function classifyChars(s: string): void {
  if (/['"#]/.test(s)) throw new Undecided('quote or comment character');
  if (/[$?`\\]/.test(s)) throw new PyError();
  // Non-ASCII word characters are name characters to Python's tokenizer; any other
  // non-ASCII character cannot appear in an expression.
  if (/[^\p{ASCII}\p{L}\p{N}]/u.test(s)) throw new PyError();
  const other = s.match(/[^0-9A-Za-z_.+\-*/(){} \t\f<>=!:,%@\p{L}\p{N}]/u);
  if (other) throw new Undecided(`character ${JSON.stringify(other[0])}`);
}

function nextToken(rest: string): { tok: Tok | null; length: number } {
  const space = rest.match(/^[ \t\f]+/);
  if (space) return { tok: null, length: space[0].length };
  const num = rest.match(NUMBER);
  if (num) {
    if (num[1] !== undefined) throw new Undecided('imaginary literal');
    if (/^0[xXbBoO]/.test(num[0])) throw new Undecided('literal with a base prefix');
    if (num[0].includes('_') && num[2] !== undefined) throw new Undecided('float literal with _');
    return { tok: { t: 'num', v: num[0].replaceAll('_', '') }, length: num[0].length };
  }
  // Python's tokenize reads a name as \w+ (letters, numbers, _), once a number did not match.
  const name = rest.match(/^[\p{L}\p{N}_]+/u);
  if (name) {
    return { tok: { t: KEYWORDS.has(name[0]) ? 'kw' : 'name', v: name[0] }, length: name[0].length };
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

  /** A token we cannot continue with: a keyword there may be valid Python we do not model. */
  private unexpected(): never {
    const t = this.toks[this.pos];
    if (t?.t === 'kw') throw new Undecided(`keyword ${t.v}`);
    throw new PyError();
  }

  private expect(v: string): void {
    if (!this.isOp(v)) this.unexpected();
    this.pos++;
  }

  parseAll(): Node {
    const { nodes, comma } = this.commaList(() => this.pos >= this.toks.length);
    if (this.pos !== this.toks.length) this.unexpected();
    return comma ? { n: 'tuple', items: nodes } : nodes[0]!;
  }

  private commaList(atEnd: () => boolean): { nodes: Node[]; comma: boolean } {
    const nodes = [this.compare()];
    let comma = false;
    while (this.isOp(',')) {
      this.pos++;
      comma = true;
      if (!atEnd()) nodes.push(this.compare());
    }
    return { nodes, comma };
  }

  private compare(): Node {
    const operands = [this.shift()];
    while (this.toks[this.pos]?.t === 'op' && COMPARISONS.has(this.toks[this.pos]!.v)) {
      this.pos++;
      operands.push(this.shift());
    }
    return operands.length === 1 ? operands[0]! : { n: 'compare', operands };
  }

  private shift(): Node {
    let node = this.sum();
    while (this.isOp('<<', '>>')) {
      this.pos++;
      node = { n: 'opaque', why: 'shift operator', parts: [node, this.sum()] };
    }
    return node;
  }

  private sum(): Node {
    let node = this.term();
    while (this.isOp('+', '-')) node = { n: 'bin', op: this.take(), left: node, right: this.term() };
    return node;
  }

  private term(): Node {
    let node = this.unary();
    while (this.isOp('*', '/', '%', '//', '@')) {
      const op = this.take();
      const right = this.unary();
      node =
        op === '@'
          ? { n: 'opaque', why: 'operator @', parts: [node, right] }
          : { n: 'bin', op, left: node, right };
    }
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
    while (this.isOp('(', '.')) {
      if (this.take() === '.') {
        if (this.toks[this.pos]?.t !== 'name') this.unexpected();
        this.pos++;
        node = { n: 'opaque', why: 'attribute access', parts: [node] };
        continue;
      }
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

  private braces(): Node {
    if (this.isOp('}')) {
      this.pos++;
      return { n: 'set', items: [] };
    }
    const { nodes } = this.commaList(() => this.isOp('}'));
    if (this.isOp(':')) throw new Undecided('dict display');
    this.expect('}');
    return { n: 'set', items: nodes };
  }

  private atom(): Node {
    const t = this.toks[this.pos++];
    if (!t) throw new PyError();
    if (t.t === 'num' || t.t === 'name') return { n: t.t, v: t.v };
    if (t.t === 'kw') {
      if (LEADING_KEYWORDS.has(t.v)) throw new Undecided(`keyword ${t.v}`);
      throw new PyError();
    }
    if (t.v === '{') return this.braces();
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
