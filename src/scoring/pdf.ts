import { deflateSync } from 'node:zlib';
import { textWidth, winAnsi } from './pdf-fonts.ts';

/**
 * A one-page vector PDF of a report figure: the SVG the charts draw (src/scoring/charts.ts)
 * turned into PDF drawing operators, so a figure stays sharp at any zoom in a paper and
 * costs no rasterising. The page has the figure's size in points (1 px = 0.75 pt, so it
 * prints at the size it shows on screen). Text is set in the PDF base fonts Helvetica and
 * Helvetica-Bold (no font is embedded), placed with their standard widths.
 *
 * The SVG understood is what the charts write: rect, line, path (M, L, H, V, Z), text with
 * x, y, text-anchor, font-size, font-weight, fill and transforms made of translate and
 * rotate; `<title>` tool tips are left out. Written by hand: PDF 1.4 objects, a
 * cross-reference table and a trailer, nothing else.
 */
export function svgToPdf(svg: string): Buffer {
  const root = /<svg\b([^>]*)>/.exec(svg);
  if (!root) throw new Error('svgToPdf: no <svg> element');
  const rootAttrs = attributes(root[1] ?? '');
  const width = Number.parseFloat(rootAttrs.width ?? '0');
  const height = Number.parseFloat(rootAttrs.height ?? '0');
  if (!(width > 0 && height > 0)) throw new Error('svgToPdf: the <svg> element needs a width and a height');
  const base: Style = { fontSize: Number.parseFloat(rootAttrs['font-size'] ?? '16'), bold: false };
  const ops: string[] = [
    // SVG user space (y down, px) onto the page (y up, pt).
    `0.75 0 0 -0.75 0 ${num(height * 0.75)} cm`,
  ];
  for (const el of elements(svg)) {
    const a = attributes(el.attrs);
    if (el.tag === 'rect') ops.push(...rect(a, width, height));
    else if (el.tag === 'line')
      ops.push(...stroked(a, `${num(a.x1)} ${num(a.y1)} m ${num(a.x2)} ${num(a.y2)} l`));
    else if (el.tag === 'path') ops.push(...stroked(a, pathOps(a.d ?? '')));
    else if (el.tag === 'text') ops.push(...text(a, el.content ?? '', base));
  }
  const content = deflateSync(Buffer.from(ops.join('\n'), 'latin1'));
  const pageW = num(width * 0.75);
  const pageH = num(height * 0.75);
  return assemble([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${pageW} ${pageH}] /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>`,
    { dict: `<< /Length ${content.length} /Filter /FlateDecode >>`, bytes: content },
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>',
  ]);
}

interface Style {
  fontSize: number;
  bold: boolean;
}

interface Element {
  tag: string;
  attrs: string;
  content?: string;
}

/** The drawing elements in document order; a text element with its (unescaped) content. */
function* elements(svg: string): Generator<Element> {
  const tags = /<(rect|line|path|text)\b([^>]*?)\/?>(?:([^<]*)<\/text>)?/g;
  for (const m of svg.matchAll(tags)) {
    const tag = m[1] as string;
    yield { tag, attrs: m[2] ?? '', ...(tag === 'text' ? { content: unescapeXml(m[3] ?? '') } : {}) };
  }
}

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([\w:-]+)="([^"]*)"/g)) out[m[1] as string] = m[2] as string;
  return out;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}

/** A number for a content stream: at most 3 decimals, no exponent. */
function num(v: string | number | undefined): string {
  const n = typeof v === 'number' ? v : Number.parseFloat(v ?? '0');
  if (!Number.isFinite(n)) return '0';
  return String(Math.round(n * 1000) / 1000);
}

const NAMED: Record<string, [number, number, number]> = { white: [255, 255, 255], black: [0, 0, 0] };

/** An SVG colour as PDF RGB operands (0–1), or null for none. */
export function rgb(colour: string | undefined): string | null {
  if (!colour || colour === 'none') return null;
  let c: [number, number, number] | undefined = NAMED[colour];
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour)?.[1];
  if (hex) {
    const full = hex.length === 3 ? [...hex].map((d) => d + d).join('') : hex;
    c = [0, 2, 4].map((i) => Number.parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
  }
  const fn = /^rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(colour);
  if (fn) c = [Number(fn[1]), Number(fn[2]), Number(fn[3])];
  if (!c) throw new Error(`svgToPdf: colour "${colour}" is not supported`);
  return c.map((v) => num(v / 255)).join(' ');
}

function rect(a: Record<string, string>, width: number, height: number): string[] {
  const size = (v: string | undefined, whole: number) =>
    v?.endsWith('%') ? (whole * Number.parseFloat(v)) / 100 : Number.parseFloat(v ?? '0');
  const box = `${num(a.x)} ${num(a.y)} ${num(size(a.width, width))} ${num(size(a.height, height))} re`;
  const fill = rgb(a.fill ?? 'black');
  const stroke = rgb(a.stroke);
  const out: string[] = [];
  if (fill) out.push(`${fill} rg ${box} f`);
  if (stroke) out.push(`${stroke} RG ${num(a['stroke-width'] ?? '1')} w ${box} S`);
  return out;
}

function stroked(a: Record<string, string>, path: string): string[] {
  const stroke = rgb(a.stroke);
  const fill = rgb(a.fill);
  const out: string[] = [];
  if (fill) out.push(`${fill} rg ${path} f`);
  if (stroke) out.push(`${stroke} RG ${num(a['stroke-width'] ?? '1')} w ${path} S`);
  return out;
}

/** Path data with absolute M, L, H, V and Z commands, as PDF path operators. */
function pathOps(d: string): string {
  const out: string[] = [];
  let x = 0;
  let y = 0;
  for (const m of d.matchAll(/([MLHVZ])([^MLHVZ]*)/gi)) {
    const cmd = m[1] as string;
    const args = (m[2] ?? '')
      .trim()
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    if (cmd === 'M' || cmd === 'L') {
      for (let i = 0; i + 1 < args.length; i += 2) {
        [x, y] = [args[i] as number, args[i + 1] as number];
        out.push(`${num(x)} ${num(y)} ${cmd === 'M' && i === 0 ? 'm' : 'l'}`);
      }
    } else if (cmd === 'H' || cmd === 'V') {
      for (const v of args) {
        if (cmd === 'H') x = v;
        else y = v;
        out.push(`${num(x)} ${num(y)} l`);
      }
    } else if (cmd === 'Z' || cmd === 'z') out.push('h');
    else throw new Error(`svgToPdf: path command "${cmd}" is not supported`);
  }
  return out.join(' ');
}

type Matrix = [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

/** m × n (apply n first, then m), in the a b c d e f order SVG and PDF share. */
function times(m: Matrix, n: Matrix): Matrix {
  return [
    m[0] * n[0] + m[2] * n[1],
    m[1] * n[0] + m[3] * n[1],
    m[0] * n[2] + m[2] * n[3],
    m[1] * n[2] + m[3] * n[3],
    m[0] * n[4] + m[2] * n[5] + m[4],
    m[1] * n[4] + m[3] * n[5] + m[5],
  ];
}

const translate = (x: number, y: number): Matrix => [1, 0, 0, 1, x, y];

/** An SVG transform list made of translate(x y) and rotate(a [cx cy]). */
export function transformMatrix(list: string | undefined): Matrix {
  let m = IDENTITY;
  for (const t of (list ?? '').matchAll(/(translate|rotate)\(([^)]*)\)/g)) {
    const v = (t[2] ?? '')
      .trim()
      .split(/[\s,]+/)
      .map(Number);
    if (t[1] === 'translate') m = times(m, translate(v[0] ?? 0, v[1] ?? 0));
    else {
      const r = ((v[0] ?? 0) * Math.PI) / 180;
      const rot: Matrix = [Math.cos(r), Math.sin(r), -Math.sin(r), Math.cos(r), 0, 0];
      const [cx, cy] = [v[1] ?? 0, v[2] ?? 0];
      m = times(m, times(translate(cx, cy), times(rot, translate(-cx, -cy))));
    }
  }
  return m;
}

function text(a: Record<string, string>, content: string, base: Style): string[] {
  if (!content) return [];
  const size = a['font-size'] ? Number.parseFloat(a['font-size']) : base.fontSize;
  const bold = a['font-weight'] === 'bold' || base.bold;
  const bytes = winAnsi(content);
  const w = textWidth(bytes, bold) * size;
  const anchor = a['text-anchor'] === 'end' ? -w : a['text-anchor'] === 'middle' ? -w / 2 : 0;
  // Glyphs are drawn y up: flip them back in the y-down space, after the element's
  // transform and its x, y; the anchor moves along the text's own baseline.
  const m = times(
    times(transformMatrix(a.transform), translate(Number(a.x ?? 0), Number(a.y ?? 0))),
    times([1, 0, 0, -1, 0, 0], translate(anchor, 0)),
  );
  const fill = rgb(a.fill ?? 'black') ?? '0 0 0';
  return [
    `BT ${fill} rg /${bold ? 'F2' : 'F1'} ${num(size)} Tf ${m.map(num).join(' ')} Tm (${pdfString(bytes)}) Tj ET`,
  ];
}

/** WinAnsi bytes as a PDF literal string's content. */
function pdfString(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x28 || b === 0x29 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b < 0x20 || b > 0x7e) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

/** The objects (1-based numbers in order), their cross-reference table and the trailer. */
function assemble(objects: Array<string | { dict: string; bytes: Buffer }>): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    const inner =
      typeof body === 'string'
        ? Buffer.from(body, 'latin1')
        : Buffer.concat([
            Buffer.from(`${body.dict}\nstream\n`, 'latin1'),
            body.bytes,
            Buffer.from('\nendstream', 'latin1'),
          ]);
    const obj = Buffer.concat([
      Buffer.from(`${i + 1} 0 obj\n`, 'latin1'),
      inner,
      Buffer.from('\nendobj\n', 'latin1'),
    ]);
    offsets.push(offset);
    offset += obj.length;
    parts.push(obj);
  });
  const xref = [
    'xref',
    `0 ${objects.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n `),
    'trailer',
    `<< /Size ${objects.length + 1} /Root 1 0 R >>`,
    'startxref',
    String(offset),
    '%%EOF',
    '',
  ].join('\n');
  parts.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(parts);
}
