/**
 * Reads string literals out of Python source text, so the `release` skills can take their
 * prompt texts from the user's checkout of the Maestro release at run time instead of
 * carrying them in this repository.
 *
 * Supported: single, double and triple quotes; the r/f/b/u prefixes; escapes of ordinary
 * strings; adjacent literals (implicit concatenation); `+` between literals and names; and
 * f-string fields, which come back as `{ expr }` parts for the caller to fill in.
 */

/** A piece of a string: literal text, or an f-string field / a name to fill in. */
export type Part = { text: string } | { expr: string };

/** Raised when the source does not have the shape the reader expects. */
export class PySourceError extends Error {}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
  '\n': '',
};

/** Python's escape processing for a non-raw literal body. */
function pyUnescape(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\' || i + 1 >= body.length) {
      out += c;
      continue;
    }
    const n = body[i + 1]!;
    if (n in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[n];
      i += 1;
    } else if (n === 'x' || n === 'u' || n === 'U') {
      const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
      out += String.fromCodePoint(Number.parseInt(body.slice(i + 2, i + 2 + len), 16));
      i += 1 + len;
    } else {
      out += c; // unknown escape: Python keeps the backslash
    }
  }
  return out;
}

/** Splits an f-string body into text and `{expr}` fields (`{{`/`}}` are literal braces). */
function fstringParts(body: string, raw: boolean): Part[] {
  const parts: Part[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push({ text: raw ? text : pyUnescape(text) });
    text = '';
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if ((c === '{' || c === '}') && body[i + 1] === c) {
      text += c;
      i += 1;
    } else if (c === '{') {
      flush();
      let depth = 1;
      let j = i + 1;
      let quote = '';
      for (; j < body.length && depth > 0; j++) {
        const d = body[j]!;
        if (quote) {
          if (d === quote) quote = '';
        } else if (d === "'" || d === '"') quote = d;
        else if (d === '{') depth += 1;
        else if (d === '}') depth -= 1;
      }
      parts.push({ expr: body.slice(i + 1, j - 1).trim() });
      i = j - 1;
    } else {
      text += c;
    }
  }
  flush();
  return parts;
}

/** Merges neighbouring text parts. */
function merge(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if ('text' in p && last && 'text' in last) last.text += p.text;
    else out.push('text' in p ? { text: p.text } : p);
  }
  return out;
}

const IDENT = /[A-Za-z0-9_]/;

/** A cursor over Python source. */
export class PySource {
  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  /** Index just after the first occurrence of `anchor` at or after `from`. */
  after(anchor: string, from = 0): number {
    const i = this.text.indexOf(anchor, from);
    if (i < 0) throw new PySourceError(`${this.file}: "${anchor}" not found`);
    return i + anchor.length;
  }

  /** If a string literal (with prefix) starts at `pos`, its prefix and quote. */
  private literalAt(pos: number): { prefix: string; quote: string; start: number } | undefined {
    const m = /^([rRfFbBuU]{0,2})('''|"""|'|")/.exec(this.text.slice(pos, pos + 5));
    if (!m) return undefined;
    if (pos > 0 && IDENT.test(this.text[pos - 1]!)) return undefined;
    return { prefix: m[1]!.toLowerCase(), quote: m[2]!, start: pos + m[0].length };
  }

  /** Reads one literal at `pos`; returns its parts and the index after it. */
  private literal(pos: number): { parts: Part[]; end: number } {
    const lit = this.literalAt(pos);
    if (!lit) throw new PySourceError(`${this.file}: no string literal at offset ${pos}`);
    const { prefix, quote, start } = lit;
    const raw = prefix.includes('r');
    let i = start;
    for (;;) {
      if (i >= this.text.length) throw new PySourceError(`${this.file}: unterminated string at ${pos}`);
      if (this.text[i] === '\\') i += 2;
      else if (this.text.startsWith(quote, i)) break;
      else i += 1;
    }
    const body = this.text.slice(start, i);
    const parts = prefix.includes('f') ? fstringParts(body, raw) : [{ text: raw ? body : pyUnescape(body) }];
    return { parts, end: i + quote.length };
  }

  /** Skips spaces, newlines, comments and line continuations. */
  private skipBlank(pos: number, newlines: boolean): number {
    let i = pos;
    for (;;) {
      const c = this.text[i];
      if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) i += 1;
      else if (c === '\\' && this.text[i + 1] === '\n') i += 2;
      else if (c === '#' && newlines) while (i < this.text.length && this.text[i] !== '\n') i += 1;
      else return i;
    }
  }

  /**
   * Reads an expression of literals and names joined by `+` (or adjacent), optionally in
   * parentheses, starting at `pos`. Names come back as `{ expr: name }` parts.
   */
  expression(pos: number): Part[] {
    let i = this.skipBlank(pos, false);
    // Inside ( or [ the pieces may sit on separate lines (a one-item list reads as its item).
    const paren = this.text[i] === '(' || this.text[i] === '[';
    if (paren) i += 1;
    const parts: Part[] = [];
    for (;;) {
      i = this.skipBlank(i, paren);
      if (this.literalAt(i)) {
        const lit = this.literal(i);
        parts.push(...lit.parts);
        i = lit.end;
        continue;
      }
      const name = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(this.text.slice(i, i + 200));
      if (name && parts.length === 0) {
        parts.push({ expr: name[0] });
        i += name[0].length;
        continue;
      }
      if (this.text[i] === '+') {
        i = this.skipBlank(i + 1, paren);
        const next = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(this.text.slice(i, i + 200));
        if (next && !this.literalAt(i)) {
          parts.push({ expr: next[0] });
          i += next[0].length;
        }
        continue;
      }
      break;
    }
    if (parts.length === 0) throw new PySourceError(`${this.file}: no string expression at offset ${pos}`);
    return merge(parts);
  }

  /** The next `count` string groups (adjacent literals) after `pos`, skipping other code. */
  literalsAfter(pos: number, count: number): Part[][] {
    const groups: Part[][] = [];
    let i = pos;
    while (groups.length < count) {
      if (i >= this.text.length) throw new PySourceError(`${this.file}: fewer than ${count} strings found`);
      if (this.text[i] === '#') {
        while (i < this.text.length && this.text[i] !== '\n') i += 1;
        continue;
      }
      if (!this.literalAt(i)) {
        i += 1;
        continue;
      }
      const parts: Part[] = [];
      for (;;) {
        const lit = this.literal(i);
        parts.push(...lit.parts);
        i = lit.end;
        const j = this.skipBlank(i, true);
        if (!this.literalAt(j)) break;
        i = j;
      }
      groups.push(merge(parts));
    }
    return groups;
  }

  /** A list of plain strings `[ "a", "b", ]` starting at `pos` (after blanks). */
  stringList(pos: number): { items: string[]; end: number } {
    let i = this.skipBlank(pos, true);
    if (this.text[i] !== '[') throw new PySourceError(`${this.file}: no list at offset ${pos}`);
    i += 1;
    const items: string[] = [];
    for (;;) {
      i = this.skipBlank(i, true);
      if (this.text[i] === ']') return { items, end: i + 1 };
      if (this.text[i] === ',') {
        i += 1;
        continue;
      }
      if (!this.literalAt(i)) throw new PySourceError(`${this.file}: list holds a non-string at offset ${i}`);
      const parts: Part[] = [];
      for (;;) {
        const lit = this.literal(i);
        parts.push(...lit.parts);
        i = this.skipBlank(lit.end, true);
        if (!this.literalAt(i)) break;
      }
      items.push(renderParts(merge(parts), {}, this.file));
    }
  }

  /** A dict of string lists `{ "k": ["a"], … }` starting at `pos`. */
  stringListDict(pos: number): Record<string, string[]> {
    let i = this.skipBlank(pos, true);
    if (this.text[i] !== '{') throw new PySourceError(`${this.file}: no dict at offset ${pos}`);
    i += 1;
    const out: Record<string, string[]> = {};
    for (;;) {
      i = this.skipBlank(i, true);
      if (this.text[i] === '}') return out;
      if (this.text[i] === ',') {
        i += 1;
        continue;
      }
      const key = this.literal(i);
      i = this.skipBlank(key.end, true);
      if (this.text[i] !== ':') throw new PySourceError(`${this.file}: no ':' in dict at offset ${i}`);
      const list = this.stringList(i + 1);
      out[renderParts(key.parts, {}, this.file)] = list.items;
      i = list.end;
    }
  }

  /** Start of the last module-level assignment `NAME = …`, just after the `=`. */
  assignment(name: string): number | undefined {
    const re = new RegExp(`^${name}[ \\t]*=(?!=)`, 'gm');
    let last: number | undefined;
    for (const m of this.text.matchAll(re)) last = m.index + m[0].length;
    return last;
  }
}

/** Joins parts into text, filling fields from `values`; unknown fields throw, naming `where`. */
export function renderParts(parts: Part[], values: Record<string, string>, where: string): string {
  return parts
    .map((p) => {
      if ('text' in p) return p.text;
      const v = values[p.expr];
      if (v === undefined) throw new PySourceError(`${where}: no value for the field {${p.expr}}`);
      return v;
    })
    .join('');
}
