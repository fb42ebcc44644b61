/**
 * Parts of a sweep's page: the progress grid (policies as rows and benchmarks as columns,
 * like the results table; every cell links to its items) and the results section.
 */
import type { ItemRecord } from '../core/items.ts';
import type { SweepMeta } from '../core/sweep.ts';
import type { SweepProgress } from '../producer/progress.ts';
import { Html, html, seg } from './html.ts';
import { cellUrl, itemUrl } from './item-views.ts';
import { type CellSnapshot, cellAccuracy, snapshotCells } from './live.ts';
import { renderMarkdown } from './markdown.ts';

function cellHtml(key: string, c: CellSnapshot | undefined, href: string | null): Html {
  if (!c) return html`<td></td>`;
  const count = html`<span class="count">${c.done}/${c.total}</span>`;
  return html`<td class="num cell${c.done >= c.total ? ' complete' : ''}" data-cell="${key}">${href ? html`<a href="${href}">${count}</a>` : count}<small class="acc">${cellAccuracy(c)}${c.errors ? ` · ${c.errors} err` : ''}</small></td>`;
}

/** A progress bar with a text the live script updates. */
export function liveBar(id: string, p: Pick<SweepProgress, 'done' | 'total' | 'errors' | 'failed'>): Html {
  const width = p.total > 0 ? Math.min(100, (100 * p.done) / p.total) : 0;
  const text = `${p.done}/${p.total}${p.errors ? ` · ${p.errors} errors` : ''}${p.failed ? ` · ${p.failed} failed` : ''}`;
  return html`<span class="live-bar" data-sweep="${id}"><span class="bar" role="progressbar" aria-valuenow="${p.done}" aria-valuemax="${p.total}"><span style="width:${width.toFixed(1)}%"></span></span><span class="bar-text">${text}</span></span>`;
}

/**
 * The grid has the results table's layout: policies as rows in the same (code-point) order,
 * benchmarks as columns in the sweep's order, headed by their catalog names when known.
 */
export function progressGrid(
  meta: SweepMeta,
  p: SweepProgress,
  source: 'redis' | 'records',
  layout: { nameOf?: (benchmark: string) => string; columns?: string[] } = {},
): Html {
  const cells = new Map(snapshotCells(p).map((c) => [c.key, c]));
  const policies = meta.policies.map((x) => x.key).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const benchmarks = layout.columns ?? meta.benchmarks.map((b) => b.id);
  const nameOf = layout.nameOf ?? ((b: string) => b);
  return html`<p>${liveBar(meta.id, p)} scored${source === 'records' ? html` <span class="muted">(counted from the records on disk)</span>` : ''}</p>
<div class="scroll"><table id="progress"><thead><tr><th>policy</th>${benchmarks.map((b) => html`<th class="num" title="${b}">${nameOf(b)}</th>`)}<th class="num">all</th></tr></thead>
<tbody>${policies.map(
    (k) =>
      html`<tr data-policy="${k}"><th>${k}</th>${benchmarks.map((b) => cellHtml(`${k}|${b}`, cells.get(`${k}|${b}`), cellUrl(meta.id, k, b)))}${cellHtml(`${k}|*`, cells.get(`${k}|*`), null)}</tr>`,
  )}</tbody>
<tfoot><tr><th>all</th>${benchmarks.map((b) => cellHtml(`*|${b}`, cells.get(`*|${b}`), null))}<td></td></tr></tfoot></table></div>
<p class="muted">Each cell: items scored / planned, accuracy so far (errors left out). Click a cell for its items. <a href="/sweeps/${seg(meta.id)}/compare">Compare two policies item by item</a>.</p>`;
}

/** Rows the sweep page lists of the rollouts that failed outright. */
export const FAILED_SHOWN = 200;

/**
 * The rollouts that failed outright (`failed` holds their error records), each with its
 * cell, item and cause, so the reason is on the sweep's page without opening a report.
 */
export function failedSection(sweepId: string, failed: readonly ItemRecord[]): Html {
  if (failed.length === 0) return html``;
  const rows = failed
    .slice(0, FAILED_SHOWN)
    .map(
      (r) =>
        html`<tr data-failed="${r.rolloutId}"><td><a href="${cellUrl(sweepId, r.policy, r.benchmark)}">${r.policy} · ${r.benchmark}</a></td><td><a href="${itemUrl(sweepId, r.rolloutId)}">${r.itemId}</a>${r.seed || r.sample ? html` <small class="muted">seed ${r.seed} · sample ${r.sample}</small>` : ''}</td><td class="bad cause">${(r.error ?? '').replace(/^failed outright: /, '')}</td></tr>`,
    );
  const more = failed.length - rows.length;
  return html`<h2 id="failed">Failed outright (${failed.length})</h2>
<p class="muted">Never scored; counted as errors in the tables. Fix the cause, then <code>maestro-eval sweep FILE --retry-errors</code>.</p>
<div class="scroll"><table id="failed-items"><thead><tr><th>cell</th><th>item</th><th>cause</th></tr></thead><tbody>${rows}</tbody></table></div>
${more > 0 ? html`<p class="muted">and ${more} more (all of them in the report's items.jsonl)</p>` : ''}`;
}

/** Report files the dashboard serves, by extension. */
export const REPORT_TYPES: Record<string, string> = {
  png: 'image/png',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  tex: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
};
export const REPORT_FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.(png|svg|pdf|tex|md|csv|json|jsonl)$/;

/** Report links and images may only point at the report's own files. */
export function resolveReportTarget(target: string, base: string, names: string[]): string | null {
  const [file, hash] = target.split('#', 2);
  if (!file || !names.includes(file)) return null;
  return `${base}${seg(file)}${hash ? `#${encodeURIComponent(hash)}` : ''}`;
}

const dims = (size: { width: number; height: number } | null | undefined) =>
  size ? html` width="${Math.round(size.width)}" height="${Math.round(size.height)}"` : '';

const chartAlt = (n: string) =>
  n === 'accuracy.svg'
    ? 'accuracy per benchmark and policy with 95 % intervals'
    : n.startsWith('fanout-')
      ? `fan-out: which pairs answered correctly (${n.slice(7, -4)})`
      : `routing heatmap (${n.slice(8, -4)})`;

/** Who the rows and columns of the results tables are: policies, and benchmark names → ids. */
export interface ResultCells {
  policies: string[];
  benchmarks: Array<{ id: string; name: string }>;
}

/** A results-table cell (policy row, benchmark column) links to that cell's items. */
function resultCellLink(
  sweepId: string,
  cells: ResultCells,
  head: string[],
  row: string[],
  column: number,
): string | null {
  const policy = row[0] ?? '';
  const bench = cells.benchmarks.find((b) => b.name === head[column]);
  if (column === 0 || !bench || !cells.policies.includes(policy)) return null;
  return cellUrl(sweepId, policy, bench.id);
}

/** Width and height of a chart's SVG from its root element, or null when it has none. */
export function svgSize(head: string): { width: number; height: number } | null {
  const root = /<svg\b[^>]*>/.exec(head)?.[0];
  const width = Number(/\swidth="([\d.]+)"/.exec(root ?? '')?.[1]);
  const height = Number(/\sheight="([\d.]+)"/.exec(root ?? '')?.[1]);
  return width > 0 && height > 0 ? { width, height } : null;
}

/**
 * The results section from a report directory's files. The charts are shown as their SVG
 * (drawn by the browser, sharp at any zoom), with their PDF (and PNG, when the report was
 * written with `--png`) as downloads; `sizes` has their sizes in CSS pixels.
 */
export function resultsHtml(
  sweepId: string,
  markdown: string,
  names: string[],
  sizes: Record<string, { width: number; height: number } | null> = {},
  cells?: ResultCells,
): Html {
  const base = `/sweeps/${seg(sweepId)}/report/`;
  const body = renderMarkdown(markdown, {
    resolve: (t) => resolveReportTarget(t, base, names),
    ...(cells ? { cellLink: (head, row, i) => resultCellLink(sweepId, cells, head, row, i) } : {}),
  });
  const charts = names.filter(
    (n) => n === 'accuracy.svg' || /^routing-.+\.svg$/.test(n) || /^fanout-.+\.svg$/.test(n),
  );
  const stems = charts.map((c) => c.slice(0, -4));
  const others = names.filter((n) => !stems.includes(n.slice(0, n.lastIndexOf('.'))));
  const siblings = (svg: string) =>
    ['svg', 'pdf', 'png']
      .map((ext) => `${svg.slice(0, -4)}.${ext}`)
      .filter((n) => names.includes(n))
      .map((n) => html` · <a href="${base}${seg(n)}">${n.slice(n.lastIndexOf('.') + 1).toUpperCase()}</a>`);
  return html`<div id="results-table" class="scroll">${new Html(body)}</div>
<h2>Charts</h2>
${charts.map(
  (n) =>
    html`<figure><img src="${base}${seg(n)}" alt="${chartAlt(n)}"${dims(sizes[n])}><figcaption>${n}<span class="downloads">${siblings(n)}</span></figcaption></figure> `,
)}
<h2>Report files</h2>
<ul>${others.map((n) => html`<li><a href="${base}${seg(n)}">${n}</a></li>`)}</ul>`;
}
