/**
 * The dashboard (`maestro-eval dashboard`): the queues (bull-board under /queues), every
 * sweep's live progress per benchmark and policy (server-rendered, reloading while the
 * sweep runs), and each sweep's results from its report directory (results.md as a table,
 * the charts, the other report files). Binds 127.0.0.1 unless told otherwise; basic auth
 * when MAESTRO_DASHBOARD_USER and MAESTRO_DASHBOARD_PASSWORD are set.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { Env } from '../core/env.ts';
import { ConfigError, describeError } from '../core/errors.ts';
import { expertQueueName, ROLLOUT_QUEUE, SCORE_QUEUE } from '../core/queues.ts';
import { connectWatching, redactUrl } from '../core/redis.ts';
import type { Registry } from '../core/registry.ts';
import { SweepMeta } from '../core/sweep.ts';
import { DataStore } from '../data/store.ts';
import {
  type CellProgress,
  failedRollouts,
  listSweeps,
  queueCounts,
  type SweepProgress,
  sweepProgress,
} from '../producer/progress.ts';
import { Html, html, page, progressBar, seg } from './html.ts';
import { renderMarkdown } from './markdown.ts';

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
  /** Seconds between reloads of live pages; 0 turns reloading off. Default 5. */
  refreshSeconds?: number;
  /** Let bull-board retry, clean, promote and remove jobs. Default false (read-only). */
  queueActions?: boolean;
  /** Where reconnection notices go ("Redis unreachable, retrying in …"). Default stderr. */
  log?: (line: string) => void;
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

/** Report files the dashboard serves, by extension. */
const REPORT_TYPES: Record<string, string> = {
  png: 'image/png',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
};
const REPORT_FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.(png|md|csv|json|jsonl)$/;
const CSP =
  "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface SweepEntry {
  meta: SweepMeta;
  inRedis: boolean;
}

const pct = (correct: number, done: number) => (done > 0 ? `${((100 * correct) / done).toFixed(1)}%` : '—');

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const { env, registry, store } = opts;
  const prefix = env.MAESTRO_PREFIX;
  const refresh = opts.refreshSeconds ?? 5;
  // Fails fast per request while Redis is down, reconnects for as long as the dashboard runs
  // and says so.
  const conn: Redis = connectWatching(env.REDIS_URL, {
    failFast: true,
    log: opts.log ?? ((l) => console.error(l)),
  });

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

  const sendPage = (res: Response, title: string, body: Html, reload = 0, status = 200) => {
    res.status(status).set('Content-Security-Policy', CSP).set('X-Content-Type-Options', 'nosniff');
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(page({ title, refresh: reload }, body));
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

  async function progressOf(meta: SweepMeta): Promise<SweepProgress> {
    return sweepProgress(conn, prefix, meta, await failedRollouts(conn, prefix, meta.id));
  }

  const reportDir = (id: string) => join(store.sweepDir(id), 'report');

  const redisBanner = (err: string | undefined) =>
    err
      ? html`<div class="banner">Redis at ${redactUrl(env.REDIS_URL)} does not answer (${err}): live progress and queues are unavailable; reports are read from ${store.root}.</div>`
      : '';

  app.get('/', async (_req, res) => {
    const { list, redisError } = await sweeps();
    const rows = [];
    for (const { meta, inRedis } of [...list].reverse()) {
      let live: Html | string = html`<span class="muted">not in Redis</span>`;
      if (inRedis && !redisError) {
        const p = await progressOf(meta);
        const total = p.cells.reduce((a, c) => a + c.total, 0);
        live = html`${progressBar(p.done, total)} ${p.errors ? html`<span class="bad">${p.errors} errors</span>` : ''} ${p.failed ? html`<span class="bad">${p.failed} failed</span>` : ''}`;
      }
      const hasReport = existsSync(join(reportDir(meta.id), 'results.md'));
      rows.push(
        html`<tr><td><a href="/sweeps/${seg(meta.id)}">${meta.id}</a></td><td>${meta.name}</td><td>${meta.createdAt}</td><td>${meta.policies.length}</td><td>${meta.benchmarks.length}</td><td>${live}</td><td>${hasReport ? html`<a href="/sweeps/${seg(meta.id)}#results">results</a>` : html`<span class="muted">none yet</span>`}</td></tr>`,
      );
    }
    let queueTable: Html | string = '';
    if (!redisError) {
      try {
        const counts = await queueCounts(conn, prefix, registry);
        queueTable = html`<h2>Queues</h2><table><thead><tr><th>queue</th><th class="num">waiting</th><th class="num">active</th><th class="num">delayed</th><th class="num">waiting for children</th><th class="num">completed</th><th class="num">failed</th></tr></thead><tbody>${counts.map(
          ({ queue, counts: c }) =>
            html`<tr><td><a href="/queues/queue/${seg(queue)}">${queue}</a></td><td class="num">${(c.waiting ?? 0) + (c.prioritized ?? 0)}</td><td class="num">${c.active ?? 0}</td><td class="num">${c.delayed ?? 0}</td><td class="num">${c['waiting-children'] ?? 0}</td><td class="num">${c.completed ?? 0}</td><td class="num">${c.failed ?? 0}</td></tr>`,
        )}</tbody></table>`;
      } catch (err) {
        queueTable = redisBanner(describeError(err));
      }
    }
    sendPage(
      res,
      'Sweeps',
      html`<h1>Sweeps</h1>${redisBanner(redisError)}
<p class="muted">Redis ${redactUrl(env.REDIS_URL)} · prefix ${prefix} · data ${store.root}</p>
${
  rows.length
    ? html`<table><thead><tr><th>sweep</th><th>name</th><th>created</th><th class="num">policies</th><th class="num">benchmarks</th><th>progress</th><th>report</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No sweep yet: submit one with <code>maestro-eval sweep FILE</code>.</p>`
}
${queueTable}`,
      refresh,
    );
  });

  app.get('/sweeps/:id', async (req, res) => {
    const id = String(req.params.id);
    const { list, redisError } = await sweeps();
    const entry = list.find((s) => s.meta.id === id);
    if (!entry) {
      sendPage(res, 'Not found', html`<h1>No sweep "${id}"</h1><p><a href="/">All sweeps</a></p>`, 0, 404);
      return;
    }
    const { meta } = entry;
    let progressHtml: Html | string =
      html`<p class="muted">This sweep is not in Redis (${redisError ? 'Redis does not answer' : 'its keys were removed'}): showing its files only.</p>`;
    let running = false;
    if (entry.inRedis && !redisError) {
      const p = await progressOf(meta);
      const total = p.cells.reduce((a, c) => a + c.total, 0);
      running = p.done + p.failed < total;
      progressHtml = progressMatrix(meta, p, total);
    }
    const dir = reportDir(meta.id);
    let results: Html | string =
      html`<p class="muted">No report yet: run <code>maestro-eval report ${meta.id}</code> when the sweep has finished.</p>`;
    if (existsSync(join(dir, 'results.md'))) {
      const names = (await readdir(dir)).filter((n) => REPORT_FILE.test(n)).sort();
      const md = await readFile(join(dir, 'results.md'), 'utf8');
      const base = `/sweeps/${seg(meta.id)}/report/`;
      const body = renderMarkdown(md, { resolve: (t, kind) => resolveReportTarget(t, kind, base, names) });
      const charts = names.filter((n) => n === 'accuracy.png' || /^routing-.+\.png$/.test(n));
      const others = names.filter((n) => !n.endsWith('.png'));
      results = html`<div id="results-table">${new Html(body)}</div>
<h2>Charts</h2>
${charts.map(
  (n) =>
    html`<figure><img src="${base}${seg(n)}" alt="${n === 'accuracy.png' ? 'accuracy per benchmark and policy' : `routing heatmap (${n.slice(8, -4)})`}"><figcaption>${n}</figcaption></figure> `,
)}
<h2>Report files</h2>
<ul>${others.map((n) => html`<li><a href="${base}${seg(n)}">${n}</a></li>`)}</ul>`;
    }
    sendPage(
      res,
      meta.id,
      html`<h1>Sweep ${meta.id}</h1>${redisBanner(redisError)}
<p class="muted">${meta.name} · created ${meta.createdAt} · seeds ${meta.seeds.join(', ')} · max turns ${meta.maxTurns}${meta.limit ? ` · first ${meta.limit} items per benchmark` : ''}</p>
<h2>Progress</h2>
${progressHtml}
<h2 id="results">Results</h2>
${results}`,
      running ? refresh : 0,
    );
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
        resolve: (t, kind) => resolveReportTarget(t, kind, base, names),
      });
      sendPage(
        res,
        `${file} · ${id}`,
        html`<p><a href="/sweeps/${seg(id)}">← sweep ${id}</a> · <a href="${base}${seg(file)}?raw">raw</a></p>${new Html(body)}`,
      );
      return;
    }
    res.set('Content-Type', REPORT_TYPES[ext] ?? 'application/octet-stream');
    res.set('X-Content-Type-Options', 'nosniff').set('Content-Security-Policy', "default-src 'none'");
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
    const progress = entry.inRedis && !redisError ? await progressOf(entry.meta) : null;
    res.json({ meta: entry.meta, progress, report: existsSync(join(reportDir(id), 'results.md')) });
  });

  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendPage(res, 'Error', html`<h1>Something failed</h1><pre>${describeError(err)}</pre>`, 0, 500);
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
      await Promise.all(queues.map((q) => q.close().catch(() => {})));
      conn.disconnect();
    },
  };
}

/** Report links and images may only point at the report's own files. */
function resolveReportTarget(
  target: string,
  _kind: 'link' | 'image',
  base: string,
  names: string[],
): string | null {
  const [file, hash] = target.split('#', 2);
  if (!file || !names.includes(file)) return null;
  return `${base}${seg(file)}${hash ? `#${encodeURIComponent(hash)}` : ''}`;
}

function progressMatrix(meta: SweepMeta, p: SweepProgress, total: number): Html {
  const cells = new Map<string, CellProgress>(p.cells.map((c) => [`${c.benchmark}|${c.policy}`, c]));
  const policies = meta.policies.map((x) => x.key);
  const byPolicy = new Map<string, { done: number; total: number; correct: number; errors: number }>();
  for (const c of p.cells) {
    const t = byPolicy.get(c.policy) ?? { done: 0, total: 0, correct: 0, errors: 0 };
    t.done += c.done;
    t.total += c.total;
    t.correct += c.correct;
    t.errors += c.errors;
    byPolicy.set(c.policy, t);
  }
  const cellHtml = (c: { done: number; total: number; correct: number; errors: number } | undefined) =>
    c
      ? html`<td class="num cell">${c.done}/${c.total}<small>${pct(c.correct, c.done - c.errors)}${c.errors ? html` · <span class="bad">${c.errors} err</span>` : ''}</small></td>`
      : html`<td></td>`;
  return html`<p>${progressBar(p.done, total)} scored · ${p.errors} errors · ${p.failed} failed outright</p>
<div class="scroll"><table id="progress"><thead><tr><th>benchmark</th>${policies.map((k) => html`<th class="num">${k}</th>`)}</tr></thead>
<tbody>${meta.benchmarks.map(
    (b) => html`<tr><td>${b.id}</td>${policies.map((k) => cellHtml(cells.get(`${b.id}|${k}`)))}</tr>`,
  )}</tbody>
<tfoot><tr><th>all</th>${policies.map((k) => cellHtml(byPolicy.get(k)))}</tr></tfoot></table></div>
<p class="muted">Each cell: items scored / planned, accuracy so far (errors left out).</p>`;
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
