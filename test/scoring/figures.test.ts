import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { CandidateVerdict, ItemRecord, Step } from '../../src/core/items.ts';
import { aggregate } from '../../src/scoring/aggregate.ts';
import { routingAnalytics } from '../../src/scoring/analytics.ts';
import {
  fanoutHeatmapSvg,
  groupedBarSvg,
  heatmapSvg,
  routingHeatmapSvg,
  svgToPng,
} from '../../src/scoring/charts.ts';
import { detailsLatex, resultsLatex, tex } from '../../src/scoring/latex.ts';
import { svgToPdf } from '../../src/scoring/pdf.ts';
import { writeReport } from '../../src/scoring/report.ts';
import { catalog, rec, suite } from './helpers.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const search = (expert: string, skill: string): Step => ({
  turn: 0,
  policyText: `<search>${expert}@@${skill}: q</search>`,
  policyLatencyMs: 1,
  policyPromptTokens: 0,
  policyCompletionTokens: 0,
  action: { type: 'search', model: expert, skill, input: 'q' },
  expert,
  skill,
  calls: [],
});

const cand = (expert: string, skill: string, correct: boolean): CandidateVerdict => ({
  expert,
  skill,
  extracted: correct ? 'A' : 'B',
  correct,
});

/** An oracle that sends each item to two pairs: X is right on 3 of 4 alpha items, Y on 1 of 4. */
function oracleRecords(): ItemRecord[] {
  return [0, 1, 2, 3].map((i) =>
    rec({
      policy: 'oracle',
      benchmark: 'alpha',
      itemId: `a${i}`,
      correct: i < 3,
      steps: [search('X', 's'), search('Y', 's')],
      candidates: [cand('X', 's', i < 3), cand('Y', 's', i === 3)],
    }),
  );
}

/** Rectangles' fill and the text inside an SVG, in order. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('the accuracy chart', () => {
  it('draws a 95 % whisker per bar at the interval’s ends and titles its axis', () => {
    const svg = groupedBarSvg(
      'Accuracy',
      ['Alpha', 'Beta'],
      [
        { label: 'p', values: [0.5, 1], intervals: [[0.25, 0.75], null] },
        { label: 'q', values: [0, null], intervals: [[0, 0.5], null] },
      ],
    );
    const whiskers = [...svg.matchAll(/<path class="ci" d="M([\d.]+) ([\d.]+)V([\d.]+)/g)];
    expect(whiskers).toHaveLength(2);
    // Plot: top 44, height 260 → y(v) = 304 − 260 v.
    expect(whiskers.map((m) => [Number(m[2]), Number(m[3])])).toEqual([
      [304 - 260 * 0.25, 304 - 260 * 0.75],
      [304, 304 - 260 * 0.5],
    ]);
    expect(texts(svg)).toContain('Accuracy (%)');
    expect(svg).toContain('95 % Wilson');
  });

  it('uses the interval the aggregate computed (Wilson) for every cell', () => {
    const records = [0, 1, 2, 3].map((i) =>
      rec({ policy: 'p', benchmark: 'alpha', itemId: `a${i}`, correct: i < 2 }),
    );
    const summary = aggregate(records, catalog, suite);
    const ci = summary.cells[0]?.ci95;
    expect(ci?.[0]).toBeCloseTo(0.15, 2);
    expect(ci?.[1]).toBeCloseTo(0.85, 2);
  });
});

describe('heatmaps', () => {
  it('show a routing policy’s shares with axis titles, a colour bar and the calls behind each row', () => {
    const records = [
      rec({ policy: 'm', benchmark: 'alpha', itemId: 'a0', steps: [search('X', 's')] }),
      rec({ policy: 'm', benchmark: 'alpha', itemId: 'a1', steps: [search('X', 's'), search('Y', 's')] }),
    ];
    const svg = routingHeatmapSvg('m', routingAnalytics(records), (b) => b.toUpperCase(), ['alpha']);
    const t = texts(svg);
    expect(t).toEqual(
      expect.arrayContaining(['Benchmark', '(expert, skill) pair chosen', 'share of calls (%)']),
    );
    expect(t).toContain('3 calls');
    expect(t).toEqual(expect.arrayContaining(['67', '33', '0', '50', '100']));
    const ns = [...svg.matchAll(/<text class="n"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(ns).toEqual(['n=2', 'n=1']);
  });

  it('show a fan-out policy by each pair’s accuracy, not its (equal) shares', () => {
    const routing = routingAnalytics(oracleRecords());
    const shares = routingHeatmapSvg('oracle', routing, (b) => b);
    expect(texts(shares).filter((x) => x === '50')).toHaveLength(3); // both cells and the colour bar
    const fan = fanoutHeatmapSvg('oracle', routing, (b) => b);
    const t = texts(fan);
    expect(t).toEqual(expect.arrayContaining(['X @ s', 'Y @ s', '75', '25', '4 items', 'pair accuracy (%)']));
    const ns = [...fan.matchAll(/<text class="n"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(ns).toEqual(['3/4', '1/4']);
  });
});

describe('figure files', () => {
  it('renders PNG at 2× the SVG size', async () => {
    const svg = groupedBarSvg('t', ['a'], [{ label: 'p', values: [0.5] }]);
    const meta = await sharp(await svgToPng(svg, 2)).metadata();
    const width = Number(/width="(\d+)"/.exec(svg)?.[1]);
    expect(meta.width).toBe(2 * width);
  });

  it('writes a one-page vector PDF whose cross-references, page size and drawing are right', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" font-size="10"><rect width="40" height="20" fill="#ff0000"/><text x="4" y="12" font-weight="bold">a (b) &amp; \u2014</text></svg>';
    const pdf = svgToPdf(svg);
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-1.4')).toBe(true);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
    const startxref = Number(/startxref\n(\d+)/.exec(text)?.[1]);
    expect(text.slice(startxref, startxref + 4)).toBe('xref');
    const offsets = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    expect(offsets).toHaveLength(6);
    offsets.forEach((o, i) => {
      expect(text.slice(o, o + 8)).toBe(`${i + 1} 0 obj\n`);
    });
    expect(text).toContain('/MediaBox [0 0 30 15]'); // 40 × 20 px at 0.75 pt/px
    expect(text).toContain('/BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding');
    expect(text).not.toContain('/Image');
    const start = text.indexOf('stream\n') + 7;
    const length = Number(/\/Length (\d+) \/Filter \/FlateDecode/.exec(text)?.[1]);
    const ops = inflateSync(pdf.subarray(start, start + length)).toString('latin1');
    expect(ops).toContain('0.75 0 0 -0.75 0 15 cm'); // SVG pixels, y down
    expect(ops).toContain('1 0 0 rg 0 0 40 20 re f');
    // Bold 10 px text at (4, 12), flipped upright; parentheses escaped, the dash in WinAnsi.
    expect(ops).toContain('/F2 10 Tf 1 0 0 -1 4 12 Tm (a \\(b\\) & \\227) Tj');
  });

  it('places anchored and rotated text as the SVG does (poppler renders the PDF, librsvg the SVG)', async () => {
    const svg = [
      '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200" font-size="14">',
      '<rect width="100%" height="100%" fill="white"/>',
      '<text x="250" y="40" text-anchor="end">Right edge</text>',
      '<text x="150" y="100" text-anchor="middle" font-weight="bold">Centred</text>',
      '<text transform="translate(30 120) rotate(-90)" text-anchor="middle">Upward</text>',
      '</svg>',
    ].join('');
    const [pdf, svgPixels] = await Promise.all([renderPdf(svgToPdf(svg)), grey(sharp(Buffer.from(svg)))]);
    // The fonts differ (Helvetica, DejaVu Sans): the anchors must not.
    const box = (img: Grey, x0: number, y0: number, x1: number, y1: number) => inkBox(img, x0, y0, x1, y1);
    for (const img of [pdf, svgPixels]) {
      const right = box(img, 100, 20, 300, 50);
      expect(Math.abs(right.maxX - 250), 'end anchor').toBeLessThanOrEqual(3);
      const centre = box(img, 50, 80, 250, 110);
      expect(Math.abs((centre.minX + centre.maxX) / 2 - 150), 'middle anchor').toBeLessThanOrEqual(3);
      const up = box(img, 0, 40, 60, 200);
      expect(Math.abs((up.minY + up.maxY) / 2 - 120), 'rotated, middle').toBeLessThanOrEqual(3);
      expect(up.maxX).toBeLessThanOrEqual(32); // the baseline at x = 30, glyphs to its left
      expect(up.maxY - up.minY).toBeGreaterThan(up.maxX - up.minX); // reads upward
    }
  });

  it('draws the charts as the SVG does, pixel for pixel apart from the text', async () => {
    const noText = (svg: string) => svg.replace(/<text\b[^>]*>[^<]*<\/text>/g, '');
    const bars = groupedBarSvg(
      't',
      ['a', 'b', 'c'],
      [
        { label: 'p', values: [0.5, 0.9, null], intervals: [[0.3, 0.7], [0.8, 0.95], null] },
        { label: 'q', values: [0.2, 1, 0.4] },
      ],
    );
    const heat = heatmapSvg({
      title: 't',
      rowTitle: 'r',
      columnTitle: 'c',
      scaleTitle: 's',
      rows: ['a', 'b', 'c'],
      columns: ['x', 'y'],
      value: (r, c) => (r === 2 && c === 1 ? null : (r + c) / 3),
      cellN: () => null,
      rowN: () => '',
    });
    for (const svg of [noText(bars), noText(heat)]) {
      // Blurred a little: thin lines at half pixels are anti-aliased differently by the two
      // rasterisers (poppler snaps a 1 px line to one column, librsvg spreads it on two).
      const [pdf, ref] = await Promise.all([
        renderPdf(svgToPdf(svg), 1.2),
        grey(sharp(Buffer.from(svg)), 1.2),
      ]);
      expect([pdf.width, pdf.height]).toEqual([ref.width, ref.height]);
      let off = 0;
      for (let i = 0; i < pdf.data.length; i++)
        if (Math.abs((pdf.data[i] ?? 0) - (ref.data[i] ?? 0)) > 48) off++;
      expect(off / pdf.data.length).toBeLessThan(0.002);
    }
  });
});

interface Grey {
  width: number;
  height: number;
  data: Uint8Array;
}

async function grey(img: Sharp, blur?: number): Promise<Grey> {
  const { data, info } = await (blur ? img.blur(blur) : img)
    .flatten({ background: '#ffffff' })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

/** The PDF's page as pixels, one per SVG pixel (96 dpi), by poppler's pdftoppm. */
async function renderPdf(pdf: Buffer, blur?: number): Promise<Grey> {
  const dir = await mkdtemp(join(tmpdir(), 'pdf-render-'));
  dirs.push(dir);
  await writeFile(join(dir, 'f.pdf'), pdf);
  const r = spawnSync('pdftoppm', ['-png', '-r', '96', '-singlefile', join(dir, 'f.pdf'), join(dir, 'f')]);
  if (r.error || r.status !== 0)
    throw new Error(
      `pdftoppm (Debian's poppler-utils, which .ci/run installs) failed: ${r.error?.message ?? r.stderr}`,
    );
  return grey(sharp(join(dir, 'f.png')), blur);
}

/** The bounding box of dark pixels inside a region. */
function inkBox(img: Grey, x0: number, y0: number, x1: number, y1: number) {
  let [minX, minY, maxX, maxY] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, -1, -1];
  for (let y = y0; y < Math.min(y1, img.height); y++)
    for (let x = x0; x < Math.min(x1, img.width); x++)
      if ((img.data[y * img.width + x] ?? 255) < 128) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
  if (maxX < 0) throw new Error(`no ink in (${x0}, ${y0})–(${x1}, ${y1})`);
  return { minX, minY, maxX, maxY };
}

describe('LaTeX tables', () => {
  it('escape names and set the results in booktabs with the best value of each column bold', () => {
    expect(tex('a_b & 50% #1 {x} ~ ^ $ \\')).toBe(
      'a\\_b \\& 50\\% \\#1 \\{x\\} \\textasciitilde{} \\textasciicircum{} \\$ \\textbackslash{}',
    );
    const records = [
      rec({ policy: 'p_1', benchmark: 'alpha', itemId: 'a0', correct: true }),
      rec({ policy: 'p_1', benchmark: 'alpha', itemId: 'a1', correct: false }),
      rec({ policy: 'q', benchmark: 'alpha', itemId: 'a0', correct: true }),
      rec({ policy: 'q', benchmark: 'alpha', itemId: 'a1', correct: true }),
    ];
    const summary = aggregate(records, catalog, suite);
    const t = resultsLatex(summary, catalog, 'Main results');
    const lines = t.split('\n');
    const rule = (r: string) => lines.indexOf(r);
    expect(rule('\\toprule')).toBeLessThan(rule('\\midrule'));
    expect(rule('\\midrule')).toBeLessThan(rule('\\bottomrule'));
    expect(lines).toContain('Policy & Alpha & Beta & Gamma & Delta & In-domain avg & Out-of-domain avg \\\\');
    expect(lines).toContain('p\\_1 & 50.0 & -- & -- & -- & -- & -- \\\\');
    expect(lines).toContain('q & \\textbf{100.0} & -- & -- & -- & -- & -- \\\\');
    const d = detailsLatex(summary, catalog, 'Details');
    expect(d).toContain('\\begin{longtable}');
    expect(d).toContain('p\\_1 & Alpha & 2 & 50.0 & 9.5--90.5 & 0 & 50.0 & 0 &');
  });
});

describe('writeReport', () => {
  it('writes SVG and PDF of each figure (PNG with png), a fan-out view for the oracle and a terminal text without links', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'figures-test-'));
    dirs.push(dir);
    const records = [
      ...oracleRecords(),
      rec({ policy: 'm', benchmark: 'alpha', itemId: 'a0', steps: [search('X', 's')] }),
      rec({ policy: 'm', benchmark: 'alpha', itemId: 'a1', steps: [search('Y', 's')] }),
    ];
    const r = await writeReport(dir, records, { catalog, suite, sweepId: 's', png: true });
    const names = Object.keys(r.files);
    for (const stem of ['accuracy', 'fanout-oracle', 'routing-m']) {
      for (const ext of ['svg', 'png', 'pdf']) expect(names, `${stem}.${ext}`).toContain(`${stem}.${ext}`);
    }
    const raster = await sharp(join(dir, 'accuracy.png')).metadata();
    expect(raster.format).toBe('png');
    // Drawn at 2×: twice the SVG's width.
    const svgWidth = Number(/width="(\d+)"/.exec(await readFile(join(dir, 'accuracy.svg'), 'utf8'))?.[1]);
    expect(raster.width).toBe(2 * svgWidth);
    expect(names).not.toContain('routing-oracle.svg');
    expect(await readFile(join(dir, 'routing.md'), 'utf8')).toContain('](fanout-oracle.svg)');
    expect(r.markdown).toContain('](accuracy.svg)');
    expect(r.text).not.toMatch(/\]\(/);
    expect(r.text).toContain('| Policy | Alpha |');
    expect((await readFile(join(dir, 'accuracy.pdf'))).subarray(0, 5).toString()).toBe('%PDF-');
    // A later report where m no longer routes drops m's old heatmap files; written without
    // png, it drops the earlier rasters too (they would be out of date).
    const again = await writeReport(dir, oracleRecords(), { catalog, suite, sweepId: 's' });
    expect(Object.keys(again.files)).not.toContain('routing-m.svg');
    const left = await readdir(dir);
    expect(left.filter((n) => n.startsWith('routing-m.'))).toEqual([]);
    expect(left.filter((n) => n.endsWith('.png'))).toEqual([]);
    expect(left).toContain('fanout-oracle.pdf');
    expect(left).toContain('accuracy.svg');
  });
});
