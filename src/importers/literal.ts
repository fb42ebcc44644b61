/** Lists written as text in TSV cells and JSON fields (Python `repr` or JSON style). */

/**
 * Parses a list written as text, as Python's `repr` or JSON writes it: `['a', "b's"]`.
 * Only lists of strings (and numbers, kept as their text) are accepted.
 */
export function parseListLiteral(text: string): string[] {
  const s = text.trim();
  if (!s.startsWith('[') || !s.endsWith(']')) throw new Error('not a list');
  const out: string[] = [];
  let i = 1;
  const end = s.length - 1;
  const skipSpace = () => {
    while (i < end && /\s/.test(s[i] as string)) i++;
  };
  skipSpace();
  if (i === end) return out;
  for (;;) {
    skipSpace();
    const q = s[i];
    if (q === "'" || q === '"') {
      i++;
      let v = '';
      for (;;) {
        if (i >= end) throw new Error('unterminated string');
        const ch = s[i] as string;
        if (ch === q) {
          i++;
          break;
        }
        if (ch === '\\') {
          const n = s[i + 1];
          i += 2;
          if (n === 'n') v += '\n';
          else if (n === 't') v += '\t';
          else if (n === 'r') v += '\r';
          else if (n === 'x' || n === 'u') {
            const len = n === 'x' ? 2 : 4;
            const hex = s.slice(i, i + len);
            if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw new Error('bad escape');
            v += String.fromCharCode(Number.parseInt(hex, 16));
            i += len;
          } else if (n === undefined) throw new Error('unterminated string');
          else v += n;
          continue;
        }
        v += ch;
        i++;
      }
      out.push(v);
    } else {
      const m = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(s.slice(i, end));
      if (!m) throw new Error(`unexpected "${s[i]}" at position ${i}`);
      out.push(m[0]);
      i += m[0].length;
    }
    skipSpace();
    if (i === end) return out;
    if (s[i] !== ',') throw new Error(`expected "," at position ${i}`);
    i++;
    skipSpace();
    if (i === end) return out; // trailing comma
  }
}

/** Writes a list of strings the way Python's `repr` does (what VLMEvalKit TSVs contain). */
export function pythonListLiteral(values: readonly string[]): string {
  const one = (v: string) => {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
    let out = '';
    for (const ch of v) {
      if (ch === '\\') out += '\\\\';
      else if (ch === quote) out += `\\${quote}`;
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else out += ch;
    }
    return `${quote}${out}${quote}`;
  };
  return `[${values.map(one).join(', ')}]`;
}
