/**
 * JSON as Python's `json.loads` reads it, for the texts the release's Python client puts
 * in its exceptions: the error message of a body that does not parse (`Expecting value:
 * line 1 column 1 (char 0)` …), and `repr()` of a body that does (an error status's
 * message shows the parsed body as a Python dict). Positions count code points, as
 * Python's `str` does. Written from the behaviour of CPython 3.11's json module; the
 * parity tests compare it with /usr/bin/python3 on generated inputs.
 */

export type PyJson = { ok: true; value: unknown; repr: string } | { ok: false; message: string };

class DecodeError {
  constructor(
    readonly msg: string,
    readonly pos: number,
  ) {}
}

/** Python's `isspace`-free JSON whitespace. */
const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /^(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?/;

/** `repr()` of a Python float. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const sign = mant.startsWith('-') ? '-' : '';
  const digits = mant.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1) || '0';
  return `${sign}${int}.${frac}`;
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** `repr()` of a Python str. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x7f || ch === ' ') out += ch;
    else if (NON_PRINTABLE.test(ch)) {
      out +=
        cp <= 0xff
          ? `\\x${cp.toString(16).padStart(2, '0')}`
          : cp <= 0xffff
            ? `\\u${cp.toString(16).padStart(4, '0')}`
            : `\\U${cp.toString(16).padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

type Parsed = { value: unknown; repr: string; end: number };

class Scanner {
  constructor(private readonly s: string[]) {}

  ws(i: number): number {
    while (i < this.s.length && WS.has(this.s[i]!)) i++;
    return i;
  }

  private word(i: number, w: string): boolean {
    return this.s.slice(i, i + w.length).join('') === w;
  }

  /** One value at i (no leading whitespace), or StopIteration as "Expecting value". */
  value(i: number): Parsed {
    const c = this.s[i];
    if (c === '"') {
      const { text, end } = this.string(i + 1);
      return { value: text, repr: pyStrRepr(text), end };
    }
    if (c === '{') return this.object(i + 1);
    if (c === '[') return this.array(i + 1);
    if (c === 'n' && this.word(i, 'null')) return { value: null, repr: 'None', end: i + 4 };
    if (c === 't' && this.word(i, 'true')) return { value: true, repr: 'True', end: i + 4 };
    if (c === 'f' && this.word(i, 'false')) return { value: false, repr: 'False', end: i + 5 };
    const m = NUMBER.exec(this.s.slice(i, i + 400).join(''));
    if (m) {
      if (!m[2] && !m[3]) {
        const n = BigInt(m[1]!);
        return { value: Number(n), repr: n.toString(), end: i + m[0].length };
      }
      const x = Number(m[0]);
      return { value: x, repr: pyFloatRepr(x), end: i + m[0].length };
    }
    if (c === 'N' && this.word(i, 'NaN')) return { value: Number.NaN, repr: 'nan', end: i + 3 };
    if (c === 'I' && this.word(i, 'Infinity')) return { value: Infinity, repr: 'inf', end: i + 8 };
    if (c === '-' && this.word(i, '-Infinity')) return { value: -Infinity, repr: '-inf', end: i + 9 };
    throw new DecodeError('Expecting value', i);
  }

  /** The string whose opening quote is at begin-1; `end` is past the closing quote. */
  string(begin: number): { text: string; end: number } {
    let out = '';
    let i = begin;
    for (;;) {
      const c = this.s[i];
      if (c === undefined) throw new DecodeError('Unterminated string starting at', begin - 1);
      if (c === '"') return { text: out, end: i + 1 };
      if (c === '\\') {
        const e = this.s[i + 1];
        if (e === undefined) throw new DecodeError('Unterminated string starting at', begin - 1);
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (e in simple) {
          out += simple[e];
          i += 2;
          continue;
        }
        if (e !== 'u') throw new DecodeError('Invalid \\escape', i);
        const { cp, next } = this.unicode(i);
        out += String.fromCodePoint(cp);
        i = next;
        continue;
      }
      if (c.codePointAt(0)! < 0x20) throw new DecodeError('Invalid control character at', i);
      out += c;
      i++;
    }
  }

  private hex4(at: number): number | undefined {
    const h = this.s.slice(at, at + 4).join('');
    return /^[0-9a-fA-F]{4}$/.test(h) ? Number.parseInt(h, 16) : undefined;
  }

  /** A `\uXXXX` escape at i (the backslash), joining a surrogate pair as Python does. */
  private unicode(i: number): { cp: number; next: number } {
    const u = this.hex4(i + 2);
    if (u === undefined) throw new DecodeError('Invalid \\uXXXX escape', i + 1);
    if (u >= 0xd800 && u <= 0xdbff && this.s[i + 6] === '\\' && this.s[i + 7] === 'u') {
      const low = this.hex4(i + 8);
      if (low === undefined) throw new DecodeError('Invalid \\uXXXX escape', i + 7);
      if (low >= 0xdc00 && low <= 0xdfff) {
        return { cp: 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00), next: i + 12 };
      }
    }
    return { cp: u, next: i + 6 };
  }

  private object(i: number): Parsed {
    const map = new Map<string, Parsed>();
    let c = this.s[i];
    if (c !== '"') {
      i = this.ws(i);
      c = this.s[i];
      if (c === '}') return { value: {}, repr: '{}', end: i + 1 };
      if (c !== '"') throw new DecodeError('Expecting property name enclosed in double quotes', i);
    }
    i += 1;
    for (;;) {
      const key = this.string(i);
      i = key.end;
      if (this.s[i] !== ':') {
        i = this.ws(i);
        if (this.s[i] !== ':') throw new DecodeError("Expecting ':' delimiter", i);
      }
      i = this.ws(i + 1);
      const v = this.value(i);
      // A repeated key keeps its first place with the last value (a Python dict).
      map.set(key.text, v);
      i = this.ws(v.end);
      c = this.s[i];
      i += 1;
      if (c === '}') break;
      if (c !== ',') throw new DecodeError("Expecting ',' delimiter", i - 1);
      i = this.ws(i);
      c = this.s[i];
      i += 1;
      if (c !== '"') throw new DecodeError('Expecting property name enclosed in double quotes', i - 1);
    }
    const value: Record<string, unknown> = {};
    for (const [k, v] of map) value[k] = v.value;
    const repr = `{${[...map].map(([k, v]) => `${pyStrRepr(k)}: ${v.repr}`).join(', ')}}`;
    return { value, repr, end: i };
  }

  private array(i: number): Parsed {
    const items: Parsed[] = [];
    i = this.ws(i);
    if (this.s[i] === ']') return { value: [], repr: '[]', end: i + 1 };
    for (;;) {
      const v = this.value(i);
      items.push(v);
      i = this.ws(v.end);
      const c = this.s[i];
      i += 1;
      if (c === ']') break;
      if (c !== ',') throw new DecodeError("Expecting ',' delimiter", i - 1);
      i = this.ws(i);
    }
    return { value: items.map((x) => x.value), repr: `[${items.map((x) => x.repr).join(', ')}]`, end: i };
  }
}

/** `json.loads(text)`: the value and its repr, or the JSONDecodeError's message. */
export function pyJsonLoads(text: string): PyJson {
  const s = Array.from(text);
  if (s[0] === '\ufeff') return fail(s, new DecodeError('Unexpected UTF-8 BOM (decode using utf-8-sig)', 0));
  const scan = new Scanner(s);
  try {
    const v = scan.value(scan.ws(0));
    const end = scan.ws(v.end);
    if (end !== s.length) throw new DecodeError('Extra data', end);
    return { ok: true, value: v.value, repr: v.repr };
  } catch (err) {
    if (err instanceof DecodeError) return fail(s, err);
    throw err;
  }
}

function fail(s: string[], err: DecodeError): PyJson {
  const before = s.slice(0, err.pos);
  const line = before.filter((c) => c === '\n').length + 1;
  const col = err.pos - before.lastIndexOf('\n');
  return { ok: false, message: `${err.msg}: line ${line} column ${col} (char ${err.pos})` };
}
