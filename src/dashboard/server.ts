/**
 * The dashboard (`maestro-eval dashboard`): the queues (bull-board under /queues), every
 * sweep's progress per policy and benchmark (server-rendered, then updated in place by
 * server-sent events while the sweep runs), the item browser (a cell's items, one item's
 * trace, two policies compared; see item-routes.ts), and each sweep's results from its
 * report directory, built automatically when the sweep finishes if the CLI passes a builder. Binds 127.0.0.1 unless told otherwise; basic auth
 * when MAESTRO_DASHBOARD_USER and MAESTRO_DASHBOARD_PASSWORD are set.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { BenchmarkCatalog, Suite } from '../core/benchmarks.ts';
import type { Env } from '../core/env.ts';
import { ConfigError, describeError, NotFoundError } from '../core/errors.ts';
import { expertQueueName, ROLLOUT_QUEUE, SCORE_QUEUE } from '../core/queues.ts';
import { connectRedis, redactUrl } from '../core/redis.ts';
import type { Registry } from '../core/registry.ts';
import { SweepMeta } from '../core/sweep.ts';
import { DataStore } from '../data/store.ts';
import {
  failedRollouts,
  listSweeps,
  queueCounts,
  type SweepProgress,
  sweepProgress,
} from '../producer/progress.ts';
import { benchmarkOrder } from '../scoring/aggregate.ts';
import { Html, html, page, seg } from './html.ts';
import { registerItemRoutes } from './item-routes.ts';
import { LIVE_SCRIPT, type SweepSnapshot, snapshotCells, streamEvents } from './live.ts';
import { renderMarkdown } from './markdown.ts';
import { progressFromRecords, RecordCache } from './records.ts';
import {
  liveBar,
  pngSize,
  progressGrid,
  REPORT_FILE,
  REPORT_TYPES,
  resolveReportTarget,
  resultsHtml,
} from './sweep-views.ts';

export interface BasicAuth {
  user: string;
  password: string;
}

export interface DashboardOptions {
  env: Env;
  registry: Registry;
  store: DataStore;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Basic auth on every page but /healthz; null or undefined: none. */
  auth?: BasicAuth | null;
  /** Seconds between live updates pushed to open pages (server-sent events); 0 turns them off. Default 5. */
  refreshSeconds?: number;
  /** The catalog and suite the reports use: the progress grid takes their names and column order. */
  benchmarks?: { catalog: BenchmarkCatalog; suite: Suite };
  /** Builds a finished sweep's report (the CLI passes `runReport`); without it, the page says how to. */
  buildReport?: (sweepId: string) => Promise<unknown>;
  /** Let bull-board retry, clean, promote and remove jobs. Default false (read-only). */
  queueActions?: boolean;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

/** Basic-auth credentials from MAESTRO_DASHBOARD_USER / MAESTRO_DASHBOARD_PASSWORD (both or neither). */
export function dashboardAuthFromEnv(env: NodeJS.ProcessEnv = process.env): BasicAuth | null {
  const user = env.MAESTRO_DASHBOARD_USER ?? '';
  const password = env.MAESTRO_DASHBOARD_PASSWORD ?? '';
  if (!user && !password) return null;
  if (!user || !password) {
    throw new ConfigError(
      '(environment)',
      user ? 'MAESTRO_DASHBOARD_PASSWORD' : 'MAESTRO_DASHBOARD_USER',
      'basic auth needs both MAESTRO_DASHBOARD_USER and MAESTRO_DASHBOARD_PASSWORD',
    );
  }
  return { user, password };
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of an Authorization header against the credentials. */
export function checkBasicAuth(header: string | undefined, auth: BasicAuth): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), digest(auth.user));
  const passOk = timingSafeEqual(digest(decoded.slice(colon + 1)), digest(auth.password));
  return userOk && passOk;
}

const CSP =
  "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface SweepEntry {
  meta: SweepMeta;
  inRedis: boolean;
}

/** What the sweep page and its event stream show: progress, from Redis or from the records. */
interface SweepState {
  progress: SweepProgress;
  source: 'redis' | 'records';
  finished: boolean;
  report: boolean;
  reportError?: string;
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const { env, registry, store } = opts;
  const prefix = env.MAESTRO_PREFIX;
  const intervalMs = Math.max(200, (opts.refreshSeconds ?? 5) * 1000);
  const live = (opts.refreshSeconds ?? 5) > 0;
  // Fails fast per request while Redis is down, reconnects for as long as the dashboard runs.
  const conn: Redis = connectRedis(env.REDIS_URL, 'client', {
    retryStrategy: (n) => Math.min(250 * n, 5_000),
  });
  conn.on('error', () => {});
  const cache = new RecordCache(store);
  const benchmarkName = (id: string) => opts.benchmarks?.catalog.find(id)?.name ?? id;
  /** A sweep's benchmarks in the results table's order (the suite's, then the catalog's). */
  const columnsOf = (meta: SweepMeta) => {
    const ids = meta.benchmarks.map((b) => b.id);
    if (!opts.benchmarks) return ids;
    return benchmarkOrder(ids, opts.benchmarks.catalog, opts.benchmarks.suite).filter((id) =>
      ids.includes(id),
    );
  };
  const building = new Map<string, Promise<void>>();
  const buildErrors = new Map<string, string>();

  const queueNames = [ROLLOUT_QUEUE, SCORE_QUEUE, ...registry.experts.map((e) => expertQueueName(e.name))];
  const queues = queueNames.map((name) => new Queue(name, { connection: conn, prefix }));
  const boardAdapter = new ExpressAdapter();
  boardAdapter.setBasePath('/queues');
  createBullBoard({
    queues: queues.map(
      (q) =>
        new BullMQAdapter(q, { readOnlyMode: !opts.queueActions, allowRetries: Boolean(opts.queueActions) }),
    ),
    // @bull-board/express pins its own copy of @bull-board/api (9.10.1 beside our 9.10.2): the
    // classes are the same, TypeScript only sees two declarations of a private field.
    serverAdapter: boardAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'maestro-eval queues', hideDocsLink: true } },
  });

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  if (opts.auth) {
    const auth = opts.auth;
    app.use((req: Request, res: Response, next: NextFunction) => {
      if (checkBasicAuth(req.headers.authorization, auth)) return next();
      res
        .status(401)
        .set('WWW-Authenticate', 'Basic realm="maestro-eval", charset="UTF-8"')
        .type('text/plain')
        .send('authentication required\n');
    });
  }
  app.use('/queues', boardAdapter.getRouter());
  app.get('/assets/live.js', (_req, res) => {
    res.type('text/javascript').set('Cache-Control', 'no-cache').send(LIVE_SCRIPT);
  });

  const sendPage = (res: Response, title: string, body: Html, status = 200, events?: string) => {
    res.status(status).set('Content-Security-Policy', CSP).set('X-Content-Type-Options', 'nosniff');
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(page({ title, ...(events && live ? { events } : {}) }, body));
  };

  /** Sweeps known to Redis and on disk, oldest first; `redisError` when Redis did not answer. */
  async function sweeps(): Promise<{ list: SweepEntry[]; redisError?: string }> {
    const byId = new Map<string, SweepEntry>();
    for (const meta of await sweepsOnDisk(store)) byId.set(meta.id, { meta, inRedis: false });
    let redisError: string | undefined;
    try {
      for (const meta of await listSweeps(conn, prefix)) byId.set(meta.id, { meta, inRedis: true });
    } catch (err) {
      redisError = describeError(err);
    }
    const list = [...byId.values()].sort((a, b) => a.meta.createdAt.localeCompare(b.meta.createdAt));
    return { list, ...(redisError ? { redisError } : {}) };
  }

  const reportDir = (id: string) => join(store.sweepDir(id), 'report');
  const hasReport = (id: string) => existsSync(join(reportDir(id), 'results.md'));

  /** Builds the report of a finished sweep once, in the background (when the CLI gave a builder). */
  function autoReport(id: string): void {
    if (!opts.buildReport || building.has(id) || buildErrors.has(id)) return;
    const job = opts
      .buildReport(id)
      .then(() => undefined)
      .catch((err: unknown) => {
        buildErrors.set(id, describeError(err));
      })
      .finally(() => building.delete(id));
    building.set(id, job);
  }

  async function stateOf(entry: SweepEntry, redisUp: boolean): Promise<SweepState> {
    const { meta } = entry;
    let progress: SweepProgress;
    let source: SweepState['source'] = 'redis';
    if (entry.inRedis && redisUp) {
      progress = await sweepProgress(conn, prefix, meta, await failedRollouts(conn, prefix, meta.id));
    } else {
      progress = progressFromRecords(meta, await cache.records(meta.id));
      source = 'records';
    }
    const finished = progress.total > 0 && progress.done + progress.failed >= progress.total;
    if (finished && !hasReport(meta.id)) autoReport(meta.id);
    const reportError = buildErrors.get(meta.id);
    return {
      progress,
      source,
      finished,
      report: hasReport(meta.id),
      ...(reportError ? { reportError } : {}),
    };
  }

  const snapshot = (s: SweepState): SweepSnapshot => ({
    id: s.progress.sweepId,
    done: s.progress.done,
    total: s.progress.total,
    errors: s.progress.errors,
    failed: s.progress.failed,
    finished: s.finished,
    report: s.report,
    ...(s.reportError ? { reportError: s.reportError } : {}),
    cells: snapshotCells(s.progress),
  });

  const redisBanner = (err: string | undefined) =>
    err
      ? html`<div class="banner">Redis at ${redactUrl(env.REDIS_URL)} does not answer (${err}): live progress and queues are unavailable; progress and reports are read from ${store.root}.</div>`
      : '';

  async function findSweep(id: string): Promise<SweepMeta | null> {
    const { list } = await sweeps();
    return list.find((s) => s.meta.id === id)?.meta ?? null;
  }
  registerItemRoutes(app, {
    store,
    cache,
    findSweep,
    sendPage: (res, title, body, status) => sendPage(res, title, body, status),
  });

  app.get('/', async (_req, res) => {
    const { list, redisError } = await sweeps();
    const rows = [];
    for (const entry of [...list].reverse()) {
      const { meta } = entry;
      const s = await stateOf(entry, !redisError);
      rows.push(
        html`<tr><td><a href="/sweeps/${seg(meta.id)}">${meta.id}</a></td><td>${meta.name}</td><td>${meta.createdAt}</td><td class="num">${meta.policies.length}</td><td class="num">${meta.benchmarks.length}</td><td>${liveBar(meta.id, s.progress)}</td><td>${s.report ? html`<a href="/sweeps/${seg(meta.id)}#results">results</a>` : html`<span class="muted">none yet</span>`}</td></tr>`,
      );
    }
    sendPage(
      res,
      'Sweeps',
      html`<h1>Sweeps</h1>${redisBanner(redisError)}
<p class="muted">Redis ${redactUrl(env.REDIS_URL)} · prefix ${prefix} · data ${store.root} · <span id="live-status"></span></p>
${
  rows.length
    ? html`<table id="sweeps"><thead><tr><th>sweep</th><th>name</th><th>created</th><th class="num">policies</th><th class="num">benchmarks</th><th>progress</th><th>report</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No sweep yet: submit one with <code>maestro-eval sweep FILE</code>.</p>`
}
${redisError ? '' : await queueTable()}`,
      200,
      '/events',
    );
  });

  async function queueTable(): Promise<Html> {
    try {
      const counts = await queueCounts(conn, prefix, registry);
      return html`<h2>Queues</h2><table><thead><tr><th>queue</th><th class="num">waiting</th><th class="num">active</th><th class="num">delayed</th><th class="num">waiting for children</th><th class="num">completed</th><th class="num">failed</th></tr></thead><tbody>${counts.map(
        ({ queue, counts: c }) =>
          html`<tr><td><a href="/queues/queue/${seg(queue)}">${queue}</a></td><td class="num">${(c.waiting ?? 0) + (c.prioritized ?? 0)}</td><td class="num">${c.active ?? 0}</td><td class="num">${c.delayed ?? 0}</td><td class="num">${c['waiting-children'] ?? 0}</td><td class="num">${c.completed ?? 0}</td><td class="num">${c.failed ?? 0}</td></tr>`,
      )}</tbody></table>`;
    } catch (err) {
      return html`${redisBanner(describeError(err))}`;
    }
  }

  app.get('/events', (req, res) => {
    streamEvents(req, res, intervalMs, async () => {
      const { list, redisError } = await sweeps();
      const out: SweepSnapshot[] = [];
      for (const entry of list) out.push({ ...snapshot(await stateOf(entry, !redisError)), cells: [] });
      return out;
    });
  });

  async function resultsSection(id: string, s: SweepState): Promise<Html> {
    if (!s.report) {
      const why = s.reportError
        ? html`<p class="bad">Building the report failed: ${s.reportError}</p>`
        : s.finished && opts.buildReport
          ? html`<p class="muted">The sweep has finished: the report is being built and appears here by itself.</p>`
          : html`<p class="muted">No report yet: ${opts.buildReport ? 'it is built, and shown here, as soon as the sweep finishes' : html`run <code>maestro-eval report ${id}</code> when the sweep has finished`}. The grid above has the accuracy so far; click a cell for its items.</p>`;
      return why;
    }
    const dir = reportDir(id);
    const names = (await readdir(dir)).filter((n) => REPORT_FILE.test(n)).sort();
    const sizes: Record<string, { width: number; height: number } | null> = {};
    for (const n of names.filter((x) => x.endsWith('.png'))) sizes[n] = await pngHeader(join(dir, n));
    return resultsHtml(id, await readFile(join(dir, 'results.md'), 'utf8'), names, sizes);
  }

  app.get('/sweeps/:id', async (req, res) => {
    const id = String(req.params.id);
    const { list, redisError } = await sweeps();
    const entry = list.find((s) => s.meta.id === id);
    if (!entry) {
      sendPage(res, 'Not found', html`<h1>No sweep "${id}"</h1><p><a href="/">All sweeps</a></p>`, 404);
      return;
    }
    const { meta } = entry;
    const s = await stateOf(entry, !redisError);
    const events = live && !(s.finished && s.report) ? `/sweeps/${seg(meta.id)}/events` : undefined;
    const notInRedis =
      s.source === 'records' && entry.inRedis === false
        ? html`<p class="muted">This sweep is not in Redis (${redisError ? 'Redis does not answer' : 'its keys were removed'}): progress is counted from its records.</p>`
        : '';
    sendPage(
      res,
      meta.id,
      html`<h1>Sweep ${meta.id}</h1>${redisBanner(redisError)}
<p class="muted">${meta.name} · created ${meta.createdAt} · seeds ${meta.seeds.join(', ')} · max turns ${meta.maxTurns}${meta.limit ? ` · first ${meta.limit} items per benchmark` : ''}${events ? html` · <span id="live-status">live</span>` : ''}</p>
<h2>Progress</h2>
${notInRedis}${progressGrid(meta, s.progress, s.source, { nameOf: benchmarkName, columns: columnsOf(meta) })}
<h2 id="results">Results</h2>
<div data-results="/sweeps/${seg(meta.id)}/results" data-report="${s.report ? '1' : '0'}">${await resultsSection(meta.id, s)}</div>`,
      200,
      events,
    );
  });

  app.get('/sweeps/:id/events', async (req, res) => {
    const id = String(req.params.id);
    streamEvents(req, res, intervalMs, async () => {
      const { list, redisError } = await sweeps();
      const entry = list.find((s) => s.meta.id === id);
      if (!entry) throw new NotFoundError(`no sweep "${id}"`);
      return snapshot(await stateOf(entry, !redisError));
    });
  });

  /** The results section alone (the live script swaps it in when the report appears). */
  app.get('/sweeps/:id/results', async (req, res) => {
    const id = String(req.params.id);
    const { list, redisError } = await sweeps();
    const entry = list.find((s) => s.meta.id === id);
    if (!entry) {
      res.status(404).type('text/plain').send('not found\n');
      return;
    }
    const body = await resultsSection(id, await stateOf(entry, !redisError));
    res.set('Content-Security-Policy', CSP).set('Cache-Control', 'no-store').type('html').send(body.text);
  });

  app.get('/sweeps/:id/report/:file', async (req, res) => {
    const id = String(req.params.id);
    const file = String(req.params.file);
    const { list } = await sweeps();
    if (!list.some((s) => s.meta.id === id) || !REPORT_FILE.test(file)) {
      res.status(404).type('text/plain').send('not found\n');
      return;
    }
    const dir = reportDir(id);
    const path = DataStore.safeJoin(dir, file);
    const info = await stat(path).catch(() => null);
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
      sendPage(
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
  });

  app.get('/api/sweeps/:id', async (req, res) => {
    const id = String(req.params.id);
    const { list, redisError } = await sweeps();
    const entry = list.find((s) => s.meta.id === id);
    if (!entry) {
      res.status(404).json({ error: `no sweep "${id}"` });
      return;
    }
    const s = await stateOf(entry, !redisError);
    res.json({
      meta: entry.meta,
      progress: s.progress,
      source: s.source,
      finished: s.finished,
      report: s.report,
    });
  });

  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendPage(res, 'Error', html`<h1>Something failed</h1><pre>${describeError(err)}</pre>`, 500);
  });

  const host = opts.host ?? '127.0.0.1';
  const server: Server = await new Promise((resolveServer, reject) => {
    const s = app.listen(opts.port ?? 8080, host, (err?: Error) => (err ? reject(err) : resolveServer(s)));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 8080);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await Promise.all([...building.values()]);
      await Promise.all(queues.map((q) => q.close().catch(() => {})));
      conn.disconnect();
    },
  };
}

async function pngHeader(path: string): Promise<{ width: number; height: number } | null> {
  const file = await open(path, 'r').catch(() => null);
  if (!file) return null;
  try {
    const head = Buffer.alloc(24);
    await file.read(head, 0, 24, 0);
    return pngSize(head);
  } finally {
    await file.close();
  }
}

async function sweepsOnDisk(store: DataStore): Promise<SweepMeta[]> {
  const dir = join(store.root, 'sweeps');
  const names = await readdir(dir).catch(() => [] as string[]);
  const metas: SweepMeta[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, name, 'sweep.json'), 'utf8').catch(() => null);
    if (!text) continue;
    try {
      const parsed = SweepMeta.safeParse(JSON.parse(text));
      if (parsed.success) metas.push(parsed.data);
    } catch {
      // not a sweep directory
    }
  }
  return metas;
}
