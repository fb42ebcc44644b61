/**
 * What the vector PDF figures need of the PDF base fonts Helvetica and Helvetica-Bold: their
 * glyph widths (the standard Adobe font metrics, in 1/1000 of the font size) and the
 * WinAnsi encoding the text is written in.
 */

/** Widths of the printable ASCII characters, codes 32 to 126, in order. */
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
  556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
  500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
  556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
  278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
const HELVETICA_BOLD = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
  556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278,
  556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584,
  556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556,
  333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/** Widths of the WinAnsi characters above 127 that report text uses; others count as 556. */
const UPPER: Record<number, [number, number]> = {
  133: [1000, 1000], // …
  145: [222, 278], // ‘
  146: [222, 278], // ’
  147: [333, 500], // “
  148: [333, 500], // ”
  149: [350, 350], // •
  150: [556, 556], // –
  151: [1000, 1000], // —
  160: [278, 278], // no-break space
  176: [400, 400], // °
  177: [584, 584], // ±
  183: [278, 278], // ·
  215: [584, 584], // ×
};

/** Unicode characters WinAnsi places in 128–159 (the rest of Latin-1 keeps its code). */
const WIN_ANSI_HIGH: Record<string, number> = {
  '€': 0x80,
  '…': 0x85,
  '‘': 0x91,
  '’': 0x92,
  '“': 0x93,
  '”': 0x94,
  '•': 0x95,
  '–': 0x96,
  '—': 0x97,
  '™': 0x99,
};

/** Text as WinAnsi bytes; a character the encoding lacks becomes "?". */
export function winAnsi(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 63;
    if ((code >= 32 && code <= 126) || (code >= 0xa0 && code <= 0xff)) out.push(code);
    else out.push(WIN_ANSI_HIGH[ch] ?? 63);
  }
  return Uint8Array.from(out);
}

/** The width of WinAnsi `bytes` at font size 1. */
export function textWidth(bytes: Uint8Array, bold: boolean): number {
  const table = bold ? HELVETICA_BOLD : HELVETICA;
  let w = 0;
  for (const b of bytes) {
    if (b >= 32 && b <= 126) w += table[b - 32] ?? 556;
    else w += UPPER[b]?.[bold ? 1 : 0] ?? 556;
  }
  return w / 1000;
}
