/** HTML helpers for the dashboard's server-rendered pages. Everything not built here is escaped. */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and for quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Markup that is already safe (built from escaped parts). */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Tagged template: interpolated values are escaped unless they are Html (arrays are joined). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(v);
}

/** Escapes a path segment of a link. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

const STYLE = `
  :root { color-scheme: light; --line: #d8dde3; --muted: #5f6b7a; --ok: #1f7a3d; --bad: #b42318; --bar: #2f6fde; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #17202b; background: #f6f7f9; }
  header { background: #17202b; color: #fff; padding: 10px 24px; display: flex; gap: 24px; align-items: baseline; }
  header a { color: #cfe0ff; text-decoration: none; }
  header strong { font-size: 16px; }
  main { padding: 16px 24px 40px; }
  h1 { font-size: 20px; margin: 8px 0 12px; }
  h2 { font-size: 17px; margin: 24px 0 8px; }
  h3 { font-size: 15px; margin: 18px 0 6px; }
  table { border-collapse: collapse; background: #fff; margin: 8px 0 16px; }
  th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top; }
  th { background: #eef1f5; text-align: left; font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .scroll { overflow-x: auto; }
  .muted { color: var(--muted); }
  .bad { color: var(--bad); }
  .ok { color: var(--ok); }
  .banner { background: #fff4e5; border: 1px solid #f0c36d; padding: 8px 12px; margin: 8px 0 16px; }
  .bar { display: inline-block; width: 160px; height: 10px; background: #e4e8ee; vertical-align: middle; margin-right: 6px; }
  .bar > span { display: block; height: 100%; background: var(--bar); }
  figure { margin: 12px 0 20px; background: #fff; border: 1px solid var(--line); padding: 8px; display: inline-block; }
  figure { max-width: 100%; }
  figure img { max-width: 100%; height: auto; display: block; }
  figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
  code { background: #eef1f5; padding: 0 3px; border-radius: 3px; }
  pre { background: #fff; border: 1px solid var(--line); padding: 8px; overflow-x: auto; }
  .cell small { color: var(--muted); display: block; }
  .cell a, #results-table td a { color: inherit; }
  #results-table td a { text-decoration: none; border-bottom: 1px dotted #9aa5b4; }
  .cell.complete .count { color: var(--ok); }
  #live-status { font-size: 12px; }
  .filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; background: #fff; border: 1px solid var(--line); padding: 8px; margin: 8px 0; }
  .step { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--bar); padding: 4px 12px 8px; margin: 10px 0; }
  .step.resampled { border-left-color: #c77700; opacity: 0.85; }
  .step pre { margin: 2px 0 8px; white-space: pre-wrap; word-break: break-word; }
  .label { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
  .tag { display: inline-block; font-size: 12px; padding: 0 6px; border-radius: 8px; background: #e4ecfb; }
  .tag.warn { background: #fff0d6; color: #8a5300; }
  pre.question, #raw-output { white-space: pre-wrap; word-break: break-word; }
  .thumbs { display: flex; flex-wrap: wrap; gap: 8px; }
  img.mini { max-width: 56px; max-height: 42px; border: 1px solid var(--line); vertical-align: middle; }
  td.images { white-space: nowrap; }
  td.images a { display: inline-block; margin: 1px; }
  img.mini { max-width: 96px; max-height: 72px; background: #fff; }
  img.mini.derived { border: 2px solid #c77700; }
  td.attempts details { text-align: left; font-size: 12px; }
  ol.attempt-errors { margin: 2px 0; padding-left: 18px; color: var(--bad); }
  td.output { max-width: 520px; }
  td.output summary { cursor: pointer; color: #2a3a55; }
  pre.call-output { white-space: pre-wrap; word-break: break-word; margin: 4px 0; }
  img.thumb { max-width: 240px; max-height: 180px; border: 1px solid var(--line); background: #fff; }
  tr.discordant td { background: #fff8e6; }
  table.facts th { width: 170px; }
  .downloads { font-size: 12px; }
`;

export interface PageOptions {
  title: string;
  /** A server-sent event stream the page listens to (live updates, see live.ts). */
  events?: string;
}

export function page(opts: PageOptions, body: Html): string {
  const live = opts.events ? html`<script src="/assets/live.js" defer></script>` : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${live}
<title>${opts.title} · maestro-eval</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
<header><strong>maestro-eval</strong><a href="/">Sweeps</a><a href="/queues">Queues</a></header>
<main${opts.events ? html` data-events="${opts.events}"` : ''}>
${body}
</main>
</body>
</html>
`.text;
}

/** A progress bar with its figures. */
export function progressBar(done: number, total: number): Html {
  const pct = total > 0 ? Math.min(100, (100 * done) / total) : 0;
  return html`<span class="bar" role="progressbar" aria-valuenow="${done}" aria-valuemax="${total}"><span style="width:${pct.toFixed(1)}%"></span></span>${done}/${total}`;
}
