/**
 * Values that may hold `${VAR}` or `${VAR:-default}` references. Registry files, POSIX
 * shells and Docker Compose read this syntax the same way (an unset or empty variable
 * takes the default), so a reference copied from the registry into a compose file or a
 * launch script resolves to the same value everywhere: that is what keeps them from
 * drifting apart when an operator overrides a port or a model name.
 */
import { ConfigError } from '../core/errors.ts';

const REF_SOURCE = String.raw`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`;

/** Characters a default may not contain, so it reads the same in Compose and in a double-quoted shell word. */
const UNSAFE_DEFAULT = /["`\\$]/;

/** A value as written (`raw`, references kept) and as resolved from the defaults alone (`value`). */
export interface Expr {
  raw: string;
  value: string;
}

/** References in a string: variable name and default (undefined when none is given). */
export function references(raw: string): Array<{ name: string; fallback: string | undefined }> {
  return [...raw.matchAll(new RegExp(REF_SOURCE, 'g'))].map((m) => ({ name: m[1] ?? '', fallback: m[2] }));
}

/**
 * Reads a raw value. `where` names it in errors. A reference without a default cannot be
 * resolved here and is an error; so is a default with quotes, backslashes or `$`.
 */
export function expr(raw: string, where: string): Expr {
  for (const ref of references(raw)) {
    if (ref.fallback === undefined) {
      throw new ConfigError(where, '', `\${${ref.name}} has no default`, {
        hint: `write \${${ref.name}:-value}: deployment files are generated from the defaults`,
      });
    }
    if (UNSAFE_DEFAULT.test(ref.fallback)) {
      throw new ConfigError(where, '', `the default of \${${ref.name}} contains a quote, backslash or "$"`);
    }
  }
  const value = raw.replace(new RegExp(REF_SOURCE, 'g'), (_m, _name: string, fallback: string) => fallback);
  return { raw, value };
}

/** A value with no references (it must not contain `${`). */
export function literal(value: string): Expr {
  if (value.includes('${')) throw new ConfigError('(literal)', '', `"${value}" looks like a reference`);
  return { raw: value, value };
}

/** `${NAME:-fallback}`. */
export function variable(name: string, fallback: string): Expr {
  return expr(`\${${name}:-${fallback}}`, `(variable ${name})`);
}

/** Splits a raw string into literal text and references. */
function pieces(raw: string): Array<{ text: string } | { ref: string }> {
  const out: Array<{ text: string } | { ref: string }> = [];
  let last = 0;
  for (const m of raw.matchAll(new RegExp(REF_SOURCE, 'g'))) {
    if (m.index > last) out.push({ text: raw.slice(last, m.index) });
    out.push({ ref: m[0] });
    last = m.index + m[0].length;
  }
  if (last < raw.length) out.push({ text: raw.slice(last) });
  return out;
}

/** The value as Compose must read it: references kept, any other `$` doubled. */
export function composeText(e: Expr): string {
  return pieces(e.raw)
    .map((p) => ('ref' in p ? p.ref : p.text.replace(/\$/g, '$$$$')))
    .join('');
}

/** The value as one double-quoted shell word: references expand, everything else is literal. */
export function shellWord(e: Expr): string {
  const body = pieces(e.raw)
    .map((p) => ('ref' in p ? p.ref : p.text.replace(/["`\\$]/g, (c) => `\\${c}`)))
    .join('');
  return `"${body}"`;
}
