/**
 * The part of pylatexenc's latex2text that mathruler's _parse_latex relies on, for the LaTeX
 * answers take: groups render their content, \frac{a}{b} renders "a/b" (no brackets, as
 * pylatexenc does), \sqrt[n]{x} renders "√(x)" (the index is dropped, as pylatexenc does),
 * \text/\mathrm render their argument, \left/\right vanish, a few symbols become their
 * characters, and any other macro is dropped. Not a full LaTeX renderer.
 */

const SYMBOLS: Record<string, string> = {
  pi: 'π',
  cdot: '·',
  times: '×',
  circ: '∘',
  infty: '∞',
  cup: '∪',
  angle: '∠',
  degree: '°',
  '%': '%',
  $: '$',
  '{': '{',
  '}': '}',
  _: '_',
  '&': '&',
  '#': '#',
  ',': ' ',
  ';': ' ',
  ' ': ' ',
};
const TEXT_MACROS = new Set([
  'text',
  'mathrm',
  'textbf',
  'mathbf',
  'operatorname',
  'mbox',
  'textit',
  'mathit',
]);

class Reader {
  at = 0;
  constructor(readonly s: string) {}
  /** One argument: a {group} or a single character; null at the end. */
  arg(): string | null {
    while (this.s[this.at] === ' ') this.at++;
    if (this.at >= this.s.length) return null;
    if (this.s[this.at] === '{') return this.group();
    if (this.s[this.at] === '\\') return this.macro();
    return this.s[this.at++] as string;
  }
  group(): string {
    this.at++; // "{"
    let out = '';
    while (this.at < this.s.length && this.s[this.at] !== '}') out += this.next();
    this.at++; // "}"
    return out;
  }
  macro(): string {
    this.at++; // "\"
    const m = /^(?:[a-zA-Z]+|.)/.exec(this.s.slice(this.at));
    const name = m ? m[0] : '';
    this.at += name.length;
    if (name in SYMBOLS) return SYMBOLS[name] as string;
    if (name === 'frac' || name === 'dfrac' || name === 'tfrac')
      return `${this.arg() ?? ''}/${this.arg() ?? ''}`;
    if (name === 'sqrt') {
      if (this.s[this.at] === '[') this.at = Math.max(this.at, this.s.indexOf(']', this.at) + 1);
      return `√(${this.arg() ?? ''})`;
    }
    if (TEXT_MACROS.has(name)) return this.arg() ?? '';
    return '';
  }
  next(): string {
    const ch = this.s[this.at] as string;
    if (ch === '{') return this.group();
    if (ch === '\\') return this.macro();
    this.at++;
    return ch;
  }
}

export function latexToText(latex: string): string {
  const r = new Reader(latex);
  let out = '';
  while (r.at < latex.length) {
    if (latex[r.at] === '}')
      r.at++; // a stray closing brace renders nothing
    else out += r.next();
  }
  return out;
}
