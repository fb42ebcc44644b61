import sharp from 'sharp';
import type { RoutingCell } from './analytics.ts';

/** Escapes text for SVG. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A colour-blind-friendly palette (Okabe–Ito, then greys). */
const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
  '#999999',
  '#555555',
];

/** Renders SVG text to PNG bytes. */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 96 }).png({ compressionLevel: 9 }).toBuffer();
}

export interface BarSeries {
  label: string;
  /** One value in [0, 1] per group, or null when missing. */
  values: Array<number | null>;
}

/** Grouped bar chart: groups on the x axis (benchmarks), one bar per series (policy). */
export function groupedBarSvg(title: string, groups: string[], series: BarSeries[]): string {
  const barW = 9;
  const gap = 14;
  const groupW = series.length * barW + gap;
  const left = 50;
  const top = 40;
  const plotH = 260;
  const legendH = 20 * Math.ceil(series.length / 4);
  const width = Math.max(600, left + groups.length * groupW + 20);
  const height = top + plotH + 110 + legendH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let t = 0; t <= 100; t += 25) {
    const y = top + plotH - (plotH * t) / 100;
    parts.push(`<line x1="${left}" y1="${y}" x2="${width - 10}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${t}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + gap / 2;
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === null || v === undefined) return;
      const h = plotH * v;
      parts.push(
        `<rect x="${x0 + si * barW}" y="${top + plotH - h}" width="${barW - 1}" height="${h}" fill="${PALETTE[si % PALETTE.length]}"/>`,
      );
    });
    const cx = x0 + (series.length * barW) / 2;
    parts.push(
      `<text x="${cx}" y="${top + plotH + 12}" text-anchor="end" transform="rotate(-40 ${cx} ${top + plotH + 12})">${esc(g)}</text>`,
    );
  });
  series.forEach((s, si) => {
    const x = left + (si % 4) * 220;
    const y = top + plotH + 95 + Math.floor(si / 4) * 20;
    parts.push(
      `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${PALETTE[si % PALETTE.length]}"/>`,
    );
    parts.push(`<text x="${x + 18}" y="${y}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * Heatmap of a policy's routing: rows = benchmarks, columns = (expert, skill) pairs,
 * shade = the share of the benchmark's skill calls that went to the pair.
 */
export function routingHeatmapSvg(
  policy: string,
  cells: RoutingCell[],
  benchmarkNames: (id: string) => string,
  order: string[] = [],
): string {
  const rank = (b: string) => (order.includes(b) ? order.indexOf(b) : order.length);
  const rows = cells.filter((c) => c.policy === policy).sort((a, b) => rank(a.benchmark) - rank(b.benchmark));
  const pairs = [...new Set(rows.flatMap((c) => Object.keys(c.choices)))].sort();
  const longest = Math.max(10, ...pairs.map((p) => p.length));
  const cellW = 34;
  const cellH = 22;
  const left = 130;
  // Labels are rotated 60°: about 5.3 px of height and 3 px of width per character.
  const top = 50 + Math.ceil(longest * 5.3);
  const width = Math.max(480, left + pairs.length * cellW + Math.ceil(longest * 3.1) + 20);
  const height = top + rows.length * cellH + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Routing of ${esc(policy)}: share of skill calls per benchmark</text>`,
  ];
  pairs.forEach((p, pi) => {
    const x = left + pi * cellW + cellW / 2;
    parts.push(
      `<text x="${x}" y="${top - 6}" transform="rotate(-60 ${x} ${top - 6})">${esc(p.replace('@@', ' @ '))}</text>`,
    );
  });
  rows.forEach((c, ri) => {
    const y = top + ri * cellH;
    parts.push(
      `<text x="${left - 6}" y="${y + cellH / 2 + 4}" text-anchor="end">${esc(benchmarkNames(c.benchmark))}</text>`,
    );
    const total = Object.values(c.choices).reduce((a, b) => a + b, 0);
    pairs.forEach((p, pi) => {
      const share = total ? (c.choices[p] ?? 0) / total : 0;
      const shade = Math.round(255 - 200 * share);
      parts.push(
        `<rect x="${left + pi * cellW}" y="${y}" width="${cellW - 2}" height="${cellH - 2}" fill="rgb(${shade},${shade},255)"/>`,
      );
      if (share > 0) {
        parts.push(
          `<text x="${left + pi * cellW + cellW / 2 - 1}" y="${y + cellH / 2 + 3}" text-anchor="middle" fill="${share > 0.6 ? 'white' : 'black'}">${Math.round(share * 100)}</text>`,
        );
      }
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
