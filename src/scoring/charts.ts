import { loadSharp } from '../core/sharp.ts';
import type { RoutingCell } from './analytics.ts';

/** Escapes text for SVG. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A colour-blind-friendly palette (Okabe–Ito without its pale yellow, which vanishes on
 * white; a dark gold takes its place), then greys.
 */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#8C6D00',
  '#000000',
  '#999999',
  '#555555',
];

/**
 * Renders SVG text to PNG bytes: `scale` pixels per SVG unit (librsvg reads SVG at 72 dpi;
 * 2 gives a sharp figure on paper and on high-DPI screens).
 */
export async function svgToPng(svg: string, scale = 1): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(Buffer.from(svg), { density: 72 * scale })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

export interface BarSeries {
  label: string;
  /** One value in [0, 1] per group, or null when missing. */
  values: Array<number | null>;
  /** A 95 % interval per group (drawn as a whisker), or null. */
  intervals?: Array<[number, number] | null>;
}

const BAR_W = 11;
const GAP = 16;
const PLOT_H = 260;
const LEFT = 62;
const TOP = 44;

/** An interval whisker: a dark line over a white halo, visible on every bar colour. */
function whisker(x: number, lo: number, hi: number): string {
  const y = (v: number) => TOP + PLOT_H - PLOT_H * v;
  const path = `M${x} ${y(lo)}V${y(hi)}M${x - 2.5} ${y(lo)}H${x + 2.5}M${x - 2.5} ${y(hi)}H${x + 2.5}`;
  return `<path d="${path}" stroke="white" stroke-width="2.6" fill="none"/><path class="ci" d="${path}" stroke="#222" stroke-width="1" fill="none"/>`;
}

/**
 * Grouped bar chart: groups on the x axis (benchmarks), one bar per series (policy), each
 * with its 95 % interval as a whisker when given.
 */
export function groupedBarSvg(title: string, groups: string[], series: BarSeries[]): string {
  const groupW = series.length * BAR_W + GAP;
  const perRow = 4;
  const legendH = 20 * Math.ceil(series.length / perRow) + 18;
  const width = Math.max(760, LEFT + groups.length * groupW + 20);
  const height = TOP + PLOT_H + 110 + legendH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text transform="translate(16 ${TOP + PLOT_H / 2}) rotate(-90)" text-anchor="middle" font-size="12">Accuracy (%)</text>`,
  ];
  for (let t = 0; t <= 100; t += 25) {
    const y = TOP + PLOT_H - (PLOT_H * t) / 100;
    parts.push(`<line x1="${LEFT}" y1="${y}" x2="${width - 10}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${y + 4}" text-anchor="end">${t}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = LEFT + gi * groupW + GAP / 2;
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === null || v === undefined) return;
      const h = PLOT_H * v;
      const x = x0 + si * BAR_W;
      parts.push(
        `<rect x="${x}" y="${TOP + PLOT_H - h}" width="${BAR_W - 1}" height="${Math.max(h, 0.01)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${s.label} · ${g}: ${(v * 100).toFixed(1)}%`)}</title></rect>`,
      );
      const ci = s.intervals?.[gi];
      if (ci) parts.push(whisker(x + (BAR_W - 1) / 2, ci[0], ci[1]));
    });
    const cx = x0 + (series.length * BAR_W) / 2;
    parts.push(
      `<text x="${cx}" y="${TOP + PLOT_H + 14}" text-anchor="end" transform="rotate(-40 ${cx} ${TOP + PLOT_H + 14})">${esc(g)}</text>`,
    );
  });
  parts.push(
    `<line x1="${LEFT}" y1="${TOP + PLOT_H}" x2="${width - 10}" y2="${TOP + PLOT_H}" stroke="#444"/>`,
  );
  const legendTop = TOP + PLOT_H + 100;
  series.forEach((s, si) => {
    const x = LEFT + (si % perRow) * 200;
    const y = legendTop + Math.floor(si / perRow) * 20;
    parts.push(
      `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${PALETTE[si % PALETTE.length]}"/>`,
    );
    parts.push(`<text x="${x + 18}" y="${y}">${esc(s.label)}</text>`);
  });
  if (series.some((s) => s.intervals?.some(Boolean))) {
    parts.push(
      `<text x="${LEFT}" y="${height - 8}" fill="#555">Whiskers: 95 % Wilson score interval of each cell's accuracy.</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** A matrix to shade: rows, columns, a value in [0, 1] (or null) per cell, and n per row. */
export interface HeatmapData {
  title: string;
  rowTitle: string;
  columnTitle: string;
  /** What the colour bar measures ("share of skill calls (%)"). */
  scaleTitle: string;
  rows: string[];
  columns: string[];
  value(row: number, column: number): number | null;
  /** The count behind one cell ("3" calls, "3/4" right), written small under its value. */
  cellN(row: number, column: number): string | null;
  /** The count behind a row's cells ("12 calls"), shown at the row's end. */
  rowN(row: number): string;
}

const shadeOf = (v: number) => {
  const s = Math.round(255 - 200 * v);
  return `rgb(${s},${s},255)`;
};

function colourBar(x: number, y: number, h: number, title: string): string[] {
  const parts = [`<text x="${x}" y="${y - 8}" font-size="10">${esc(title)}</text>`];
  const steps = 20;
  for (let i = 0; i < steps; i++) {
    const v = 1 - i / steps;
    parts.push(
      `<rect x="${x}" y="${y + (i * h) / steps}" width="14" height="${h / steps + 0.5}" fill="${shadeOf(v)}"/>`,
    );
  }
  parts.push(`<rect x="${x}" y="${y}" width="14" height="${h}" fill="none" stroke="#888"/>`);
  for (const t of [0, 50, 100]) {
    parts.push(`<text x="${x + 18}" y="${y + h - (h * t) / 100 + 4}">${t}</text>`);
  }
  return parts;
}

/** A heatmap with axis titles, a colour bar and the n behind each cell and each row. */
export function heatmapSvg(d: HeatmapData): string {
  const longest = Math.max(10, ...d.columns.map((p) => p.length));
  const cellW = 34;
  const cellH = 28;
  const left = 40 + Math.max(90, 6.2 * Math.max(...d.rows.map((r) => r.length), 4));
  const top = 64 + Math.ceil(longest * 5.3);
  const plotW = d.columns.length * cellW;
  const barH = Math.max(90, Math.min(200, d.rows.length * cellH));
  const width = Math.max(520, left + plotW + 90 + 130, left + plotW + Math.ceil(longest * 3.1) + 20);
  const height = Math.max(top + d.rows.length * cellH + 50, top + barH + 40);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(d.title)}</text>`,
    `<text x="${left + plotW / 2}" y="40" text-anchor="middle" font-size="12">${esc(d.columnTitle)}</text>`,
    `<text transform="translate(16 ${top + (d.rows.length * cellH) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(d.rowTitle)}</text>`,
  ];
  d.columns.forEach((p, pi) => {
    const x = left + pi * cellW + cellW / 2;
    parts.push(`<text x="${x}" y="${top - 6}" transform="rotate(-60 ${x} ${top - 6})">${esc(p)}</text>`);
  });
  parts.push(`<text x="${left + plotW + 6}" y="${top - 6}" font-weight="bold">n</text>`);
  d.rows.forEach((row, ri) => {
    const y = top + ri * cellH;
    parts.push(`<text x="${left - 6}" y="${y + cellH / 2 + 4}" text-anchor="end">${esc(row)}</text>`);
    d.columns.forEach((_, ci) => {
      const v = d.value(ri, ci);
      const x = left + ci * cellW;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cellW - 2}" height="${cellH - 2}" fill="${v === null || v === 0 ? '#f4f5f8' : shadeOf(v)}"/>`,
      );
      const ink = v !== null && v > 0.6 ? 'white' : 'black';
      if (v !== null && v > 0) {
        parts.push(
          `<text x="${x + cellW / 2 - 1}" y="${y + 12}" text-anchor="middle" fill="${ink}">${Math.round(v * 100)}</text>`,
        );
      }
      const n = d.cellN(ri, ci);
      if (n) {
        parts.push(
          `<text class="n" x="${x + cellW / 2 - 1}" y="${y + 23}" text-anchor="middle" font-size="7.5" fill="${ink === 'white' ? '#e8e8ff' : '#555'}">${esc(n)}</text>`,
        );
      }
    });
    parts.push(`<text x="${left + plotW + 6}" y="${y + cellH / 2 + 4}">${esc(d.rowN(ri))}</text>`);
  });
  parts.push(...colourBar(left + plotW + 90, top, barH, d.scaleTitle));
  parts.push('</svg>');
  return parts.join('\n');
}

const pairLabel = (p: string) => p.replace('@@', ' @ ');

/** A policy's routing cells, benchmarks in `order` (others after, as they come). */
function policyRows(policy: string, cells: RoutingCell[], order: string[]): RoutingCell[] {
  const rank = (b: string) => (order.includes(b) ? order.indexOf(b) : order.length);
  return cells.filter((c) => c.policy === policy).sort((a, b) => rank(a.benchmark) - rank(b.benchmark));
}

/**
 * Heatmap of a policy's routing: rows = benchmarks, columns = (expert, skill) pairs,
 * shade = the share of the benchmark's skill calls that went to the pair; n = skill calls.
 */
export function routingHeatmapSvg(
  policy: string,
  cells: RoutingCell[],
  benchmarkNames: (id: string) => string,
  order: string[] = [],
): string {
  const rows = policyRows(policy, cells, order);
  const pairs = [...new Set(rows.flatMap((c) => Object.keys(c.choices)))].sort();
  const totals = rows.map((c) => Object.values(c.choices).reduce((a, b) => a + b, 0));
  return heatmapSvg({
    title: `Routing of ${policy}: share of skill calls per benchmark`,
    rowTitle: 'Benchmark',
    columnTitle: '(expert, skill) pair chosen',
    scaleTitle: 'share of calls (%)',
    rows: rows.map((c) => benchmarkNames(c.benchmark)),
    columns: pairs.map(pairLabel),
    value: (ri, ci) => {
      const total = totals[ri] ?? 0;
      return total ? (rows[ri]?.choices[pairs[ci] ?? ''] ?? 0) / total : 0;
    },
    cellN: (ri, ci) => {
      const n = rows[ri]?.choices[pairs[ci] ?? ''] ?? 0;
      return n > 0 ? `n=${n}` : null;
    },
    rowN: (ri) => `${totals[ri] ?? 0} calls`,
  });
}

/**
 * The fan-out view (oracle): every item goes to every pair, so routing shares are all
 * equal; what tells pairs apart is how often each answered correctly. Rows = benchmarks,
 * columns = pairs, shade = accuracy of the pair on the benchmark's items; n = items.
 */
export function fanoutHeatmapSvg(
  policy: string,
  cells: RoutingCell[],
  benchmarkNames: (id: string) => string,
  order: string[] = [],
): string {
  const rows = policyRows(policy, cells, order);
  const pairs = [...new Set(rows.flatMap((c) => Object.keys(c.pairAccuracy)))].sort();
  return heatmapSvg({
    title: `Fan-out of ${policy}: accuracy of each pair per benchmark`,
    rowTitle: 'Benchmark',
    columnTitle: '(expert, skill) pair, every item sent to every pair',
    scaleTitle: 'pair accuracy (%)',
    rows: rows.map((c) => benchmarkNames(c.benchmark)),
    columns: pairs.map(pairLabel),
    value: (ri, ci) => {
      const acc = rows[ri]?.pairAccuracy[pairs[ci] ?? ''];
      return acc && acc.n > 0 ? acc.correct / acc.n : null;
    },
    cellN: (ri, ci) => {
      const acc = rows[ri]?.pairAccuracy[pairs[ci] ?? ''];
      return acc ? `${acc.correct}/${acc.n}` : null;
    },
    rowN: (ri) => `${rows[ri]?.items ?? 0} items`,
  });
}
