import { ConfigError } from '../core/errors.ts';

/**
 * Tab-separated values as pandas writes them (`to_csv(sep='\t')`): a field that contains a
 * tab, a newline or a double quote is wrapped in double quotes, with inner quotes doubled.
 */

export interface TsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
}

/** Splits TSV text into records. An unterminated quoted field is an error naming the line. */
export function parseTsv(text: string, file: string): TsvRecord[] {
  const records: TsvRecord[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  const src = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  i = src;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        const quoteLine = line;
        i++;
        for (;;) {
          if (i >= n) throw new ConfigError(file, `line ${quoteLine}`, 'unterminated quoted field');
          const ch = text[i] as string;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          value += ch;
          i++;
        }
        if (i < n && text[i] !== '\t' && text[i] !== '\n' && text[i] !== '\r') {
          throw new ConfigError(file, `line ${line}`, 'unexpected text after a closing quote');
        }
      } else {
        while (i < n && text[i] !== '\t' && text[i] !== '\n') {
          value += text[i];
          i++;
        }
        if (value.endsWith('\r')) value = value.slice(0, -1);
      }
      fields.push(value);
      if (text[i] === '\r') i++;
      if (i >= n || text[i] === '\n') {
        i++;
        line++;
        break;
      }
      i++; // tab
    }
    if (!(fields.length === 1 && fields[0] === '')) records.push({ fields, line: start });
  }
  return records;
}

function quote(value: string): string {
  return /[\t\n\r"]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Writes rows as TSV (header first), quoting like pandas. */
export function stringifyTsv(
  columns: readonly string[],
  rows: ReadonlyArray<Record<string, string>>,
): string {
  const lines = [columns.map(quote).join('\t')];
  for (const row of rows) lines.push(columns.map((c) => quote(row[c] ?? '')).join('\t'));
  return `${lines.join('\n')}\n`;
}
