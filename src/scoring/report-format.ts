import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import { roundTo } from './normalize.ts';

/** Formatting shared by the report's Markdown and CSV writers. */

export const DASH = '—';

/** Accuracy as a percent with one decimal ("61.2"), or null. */
export function pct(x: number | null): string | null {
  return x === null ? null : roundTo(x * 100, 1).toFixed(1);
}

export function fixed(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '' : roundTo(x, digits).toFixed(digits);
}

export function md(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function mdTable(header: string[], align: Array<'l' | 'r'>, rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const sep = align.map((a) => (a === 'l' ? ':---' : '---:'));
  return [line(header), line(sep), ...rows.map(line)].join('\n');
}

export function nameOf(catalog: BenchmarkCatalog, id: string): string {
  return catalog.find(id)?.name ?? id;
}
