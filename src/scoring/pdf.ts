import { deflateSync } from 'node:zlib';
import { loadSharp } from '../core/sharp.ts';

/**
 * A one-page PDF holding an SVG figure rendered at `scale` × its size: the page has the
 * figure's size in points (1 px = 0.75 pt, so it prints at the size it shows on screen),
 * the picture is an RGB image stream (FlateDecode). Written by hand: PDF 1.4 objects,
 * a cross-reference table and a trailer, nothing else.
 */
export async function svgToPdf(svg: string, scale = 3): Promise<Buffer> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(Buffer.from(svg), { density: 72 * scale })
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const pageW = ((info.width / scale) * 0.75).toFixed(2);
  const pageH = ((info.height / scale) * 0.75).toFixed(2);
  const content = Buffer.from(`q ${pageW} 0 0 ${pageH} 0 0 cm /Im0 Do Q\n`, 'latin1');
  // zlib's default level: within a few per cent of level 9's size here, at a third of its CPU.
  const pixels = deflateSync(data, { level: 6 });
  const objects: Buffer[] = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>', 'latin1'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>', 'latin1'),
    Buffer.from(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${pageW} ${pageH}] /Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>`,
      'latin1',
    ),
    stream(`<< /Length ${content.length} >>`, content),
    stream(
      `<< /Type /XObject /Subtype /Image /Width ${info.width} /Height ${info.height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length ${pixels.length} >>`,
      pixels,
    ),
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    const obj = Buffer.concat([
      Buffer.from(`${i + 1} 0 obj\n`, 'latin1'),
      body,
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

function stream(dict: string, bytes: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`${dict}\nstream\n`, 'latin1'),
    bytes,
    Buffer.from('\nendstream', 'latin1'),
  ]);
}
