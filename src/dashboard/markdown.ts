/**
 * The Markdown the report writer produces, as HTML: headings, pipe tables (with `\|`
 * escapes and column alignment), lists, fenced code, paragraphs, and inline code, bold,
 * links and images. Every piece of text is escaped; links and images go through a
 * resolver that decides which targets are allowed (the report's own files), so a cell
 * cannot inject markup or a `javascript:` link.
 */
import { escapeHtml } from './html.ts';

export interface MarkdownOptions {
  /** URL for a link or image target, or null to render the text without a link. */
  resolve(target: string, kind: 'link' | 'image'): string | null;
  /**
   * A link for a body cell of a table (cells already linked keep their own): the header
   * and row cells are the unescaped texts. Null or absent: no link.
   */
  cellLink?(header: string[], row: string[], column: number): string | null;
}

/** Splits a table row on unescaped pipes and unescapes `\|` and `\\`. */
export function tableCells(line: string): string[] {
  let body = line.trim();
  if (body.startsWith('|')) body = body.slice(1);
  if (body.endsWith('|') && !body.endsWith('\\|')) body = body.slice(0, -1);
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '\\' && (body[i + 1] === '|' || body[i + 1] === '\\')) {
      cur += body[i + 1];
      i++;
    } else if (ch === '|') {
      cells.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

const SEPARATOR = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

function alignments(line: string): Array<'left' | 'right' | 'center' | null> {
  return tableCells(line).map((c) => {
    const left = c.startsWith(':');
    const right = c.endsWith(':');
    return left && right ? 'center' : right ? 'right' : left ? 'left' : null;
  });
}

const INLINE =
  /`([^`]+)`|!\[([^\]]*)\]\(([^)\s]+)\)|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])/g;

/** Inline Markdown of one line or cell. */
export function inline(text: string, opts: MarkdownOptions, links = true): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    out += escapeHtml(text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[1] !== undefined) out += `<code>${escapeHtml(m[1])}</code>`;
    else if (m[3] !== undefined) {
      const src = opts.resolve(m[3], 'image');
      out += src
        ? `<img src="${escapeHtml(src)}" alt="${escapeHtml(m[2] ?? '')}" loading="lazy">`
        : escapeHtml(m[2] ?? '');
    } else if (m[5] !== undefined) {
      const label = inline(m[4] ?? '', opts, false);
      const href = links ? opts.resolve(m[5], 'link') : null;
      out += href ? `<a href="${escapeHtml(href)}">${label}</a>` : label;
    } else if (m[6] !== undefined) out += `<strong>${inline(m[6], opts, links)}</strong>`;
    else if (m[7] !== undefined) out += `<em>${inline(m[7], opts, links)}</em>`;
  }
  return out + escapeHtml(text.slice(last));
}

function table(lines: string[], opts: MarkdownOptions): string {
  const head = tableCells(lines[0] ?? '');
  const align = alignments(lines[1] ?? '');
  const cell = (tag: 'th' | 'td', text: string, i: number, href?: string | null) => {
    const a = align[i];
    const cls = a === 'right' ? ' class="num"' : a === 'center' ? ' style="text-align:center"' : '';
    const body = href ? `<a href="${escapeHtml(href)}">${inline(text, opts, false)}</a>` : inline(text, opts);
    return `<${tag}${cls}>${body}</${tag}>`;
  };
  const rows = lines.slice(2).map((l) => {
    const cells = tableCells(l);
    return `<tr>${cells.map((c, i) => cell('td', c, i, opts.cellLink?.(head, cells, i))).join('')}</tr>`;
  });
  return `<div class="scroll"><table>\n<thead><tr>${head.map((c, i) => cell('th', c, i)).join('')}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

export function renderMarkdown(text: string, opts: MarkdownOptions): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? '').trim().startsWith(fence[1] ?? '```'))
        body.push(lines[i++] ?? '');
      i++;
      out.push(`<pre><code>${escapeHtml(body.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const level = Math.min(6, (heading[1] ?? '#').length + 1); // the page has its own h1
      out.push(`<h${level}>${inline(heading[2] ?? '', opts)}</h${level}>`);
      i++;
      continue;
    }
    if (line.trim().startsWith('|') && SEPARATOR.test(lines[i + 1] ?? '')) {
      const block: string[] = [];
      while (i < lines.length && (lines[i] ?? '').trim().startsWith('|')) block.push(lines[i++] ?? '');
      out.push(table(block, opts));
      continue;
    }
    if (/^\s*[-*]\s+/.test(line)) {
      const items: string[] = [];
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i] ?? '')) {
        items.push(`<li>${inline((lines[i] ?? '').replace(/^\s*[-*]\s+/, ''), opts)}</li>`);
        i++;
      }
      out.push(`<ul>${items.join('')}</ul>`);
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      (lines[i] ?? '').trim() &&
      !/^(#{1,6}\s|\s*[-*]\s+|\s*```|\s*~~~)/.test(lines[i] ?? '') &&
      !((lines[i] ?? '').trim().startsWith('|') && SEPARATOR.test(lines[i + 1] ?? ''))
    ) {
      para.push(lines[i++] ?? '');
    }
    if (para.length === 0) para.push(lines[i++] ?? ''); // never stall on a line no rule takes
    out.push(`<p>${para.map((p) => inline(p, opts)).join('<br>\n')}</p>`);
  }
  return out.join('\n');
}
