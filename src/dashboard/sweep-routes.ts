/** Routes of the sweeps: the index, a sweep's page, their event streams, the report files. */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { Express, Request, Response } from 'express';
import { NotFoundError } from '../core/errors.ts';
import { redactUrl } from '../core/redis.ts';
import { DataStore } from '../data/store.ts';
import { CSP, type DashboardContext } from './context.ts';
import { Html, html, seg } from './html.ts';
import { type SweepSnapshot, streamEvents } from './live.ts';
import { renderMarkdown } from './markdown.ts';
import { failedOutright } from './records.ts';
import {
  failedSection,
  liveBar,
  progressGrid,
  REPORT_FILE,
  REPORT_TYPES,
  resolveReportTarget,
} from './sweep-views.ts';

export function registerSweepRoutes(app: Express, ctx: DashboardContext): void {
  app.get('/', (req, res) => indexPage(ctx, req, res));
  app.get('/events', (_req, res) => {
    streamEvents(res, ctx.intervalMs, async () => {
      const { list, redisError } = await ctx.sweeps();
      const out: SweepSnapshot[] = [];
      for (const entry of list)
        out.push({ ...ctx.snapshot(await ctx.stateOf(entry, !redisError)), cells: [] });
      return out;
    });
  });
  app.get('/sweeps/:id', (req, res) => sweepPage(ctx, String(req.params.id), res));
  app.get('/sweeps/:id/events', (req, res) => {
    const id = String(req.params.id);
    streamEvents(res, ctx.intervalMs, async () => {
      const { list, redisError } = await ctx.sweeps();
      const entry = list.find((s) => s.meta.id === id);
      if (!entry) throw new NotFoundError(`no sweep "${id}"`);
      return ctx.snapshot(await ctx.stateOf(entry, !redisError));
    });
  });
  // The results section alone (the live script swaps it in when the report appears).
  app.get('/sweeps/:id/results', async (req, res) => {
    const id = String(req.params.id);
    const { list, redisError } = await ctx.sweeps();
    const entry = list.find((s) => s.meta.id === id);
    if (!entry) {
      res.status(404).type('text/plain').send('not found\n');
      return;
    }
    const body = await ctx.resultsSection(id, await ctx.stateOf(entry, !redisError));
    res.set('Content-Security-Policy', CSP).set('Cache-Control', 'no-store').type('html').send(body.text);
  });
  app.get('/sweeps/:id/report/:file', (req, res) =>
    reportFile(ctx, String(req.params.id), String(req.params.file), req, res),
  );
  app.get('/api/sweeps/:id', async (req, res) => {
    const id = String(req.params.id);
    const { list, redisError } = await ctx.sweeps();
    const entry = list.find((s) => s.meta.id === id);
    if (!entry) {
      res.status(404).json({ error: `no sweep "${id}"` });
      return;
    }
    const s = await ctx.stateOf(entry, !redisError);
    res.json({
      meta: entry.meta,
      progress: s.progress,
      source: s.source,
      finished: s.finished,
      report: s.report,
    });
  });
}

async function indexPage(ctx: DashboardContext, _req: Request, res: Response): Promise<void> {
  const { list, redisError } = await ctx.sweeps();
  const rows = [];
  for (const entry of [...list].reverse()) {
    const { meta } = entry;
    const s = await ctx.stateOf(entry, !redisError);
    rows.push(
      html`<tr><td><a href="/sweeps/${seg(meta.id)}">${meta.id}</a></td><td>${meta.name}</td><td>${meta.createdAt}</td><td class="num">${meta.policies.length}</td><td class="num">${meta.benchmarks.length}</td><td>${liveBar(meta.id, s.progress)}</td><td data-report-of="${meta.id}"><a href="/sweeps/${seg(meta.id)}#results"${s.report ? '' : new Html(' hidden')}>results</a><span class="muted"${s.report ? new Html(' hidden') : ''}>none yet</span></td></tr>`,
    );
  }
  ctx.sendPage(
    res,
    'Sweeps',
    html`<h1>Sweeps</h1>${ctx.redisBanner(redisError)}
<p class="muted">Redis ${redactUrl(ctx.opts.env.REDIS_URL)} · prefix ${ctx.prefix} · data ${ctx.store.root}${ctx.live ? html` · <span id="live-status">live</span>` : ''}</p>
${
  rows.length
    ? html`<table id="sweeps"><thead><tr><th>sweep</th><th>name</th><th>created</th><th class="num">policies</th><th class="num">benchmarks</th><th>progress</th><th>report</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No sweep yet: submit one with <code>maestro-eval sweep FILE</code>.</p>`
}
${redisError ? '' : await ctx.queueTable()}`,
    200,
    '/events',
  );
}

async function sweepPage(ctx: DashboardContext, id: string, res: Response): Promise<void> {
  const { list, redisError } = await ctx.sweeps();
  const entry = list.find((s) => s.meta.id === id);
  if (!entry) return ctx.notFound(res, `No sweep "${id}"`);
  const { meta } = entry;
  const s = await ctx.stateOf(entry, !redisError);
  const events = ctx.live && !(s.finished && s.report) ? `/sweeps/${seg(meta.id)}/events` : undefined;
  const notInRedis =
    s.source === 'records' && !entry.inRedis
      ? html`<p class="muted">This sweep is not in Redis (${redisError ? 'Redis does not answer' : 'its keys were removed'}): progress is counted from its records.</p>`
      : '';
  const grid = progressGrid(meta, s.progress, s.source, {
    nameOf: (b) => ctx.benchmarkName(b),
    columns: ctx.columnsOf(meta),
  });
  ctx.sendPage(
    res,
    meta.id,
    html`<h1>Sweep ${meta.id}</h1>${ctx.redisBanner(redisError)}
<p class="muted">${meta.name} · created ${meta.createdAt} · seeds ${meta.seeds.join(', ')} · max turns ${meta.maxTurns}${meta.limit ? ` · first ${meta.limit} items per benchmark` : ''}${events ? html` · <span id="live-status">live</span>` : ''}</p>
<h2>Progress</h2>
${notInRedis}${grid}
${failedSection(meta.id, (await ctx.cache.records(meta.id)).filter(failedOutright))}
<h2 id="results">Results</h2>
<div data-results="/sweeps/${seg(meta.id)}/results" data-report="${s.report ? '1' : '0'}">${await ctx.resultsSection(meta.id, s)}</div>`,
    200,
    events,
  );
}

async function reportFile(
  ctx: DashboardContext,
  id: string,
  file: string,
  req: Request,
  res: Response,
): Promise<void> {
  const { list } = await ctx.sweeps();
  const dir = ctx.reportDir(id);
  const path =
    list.some((s) => s.meta.id === id) && REPORT_FILE.test(file) ? DataStore.safeJoin(dir, file) : '';
  const info = path ? await stat(path).catch(() => null) : null;
  if (!info?.isFile()) {
    res.status(404).type('text/plain').send('not found\n');
    return;
  }
  const ext = file.slice(file.lastIndexOf('.') + 1);
  if (ext === 'md' && req.query.raw === undefined) {
    const names = (await readdir(dir)).filter((n) => REPORT_FILE.test(n));
    const base = `/sweeps/${seg(id)}/report/`;
    const body = renderMarkdown(await readFile(path, 'utf8'), {
      resolve: (t) => resolveReportTarget(t, base, names),
    });
    ctx.sendPage(
      res,
      `${file} · ${id}`,
      html`<p><a href="/sweeps/${seg(id)}">← sweep ${id}</a> · <a href="${base}${seg(file)}?raw">raw</a></p><div class="scroll">${new Html(body)}</div>`,
    );
    return;
  }
  res.set('Content-Type', REPORT_TYPES[ext] ?? 'application/octet-stream');
  res
    .set('X-Content-Type-Options', 'nosniff')
    .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
  res.set('Content-Length', String(info.size));
  createReadStream(path).pipe(res);
}
