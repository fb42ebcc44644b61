/**
 * The dashboard (`maestro-eval dashboard`): the queues (bull-board under /queues), every
 * sweep's progress per policy and benchmark (server-rendered, then updated in place by
 * server-sent events while the sweep runs; sweep-routes.ts), the item browser (a cell's
 * items, one item's trace, two policies compared; item-routes.ts), and each sweep's results
 * from its report directory, built automatically when the sweep finishes if the CLI passes
 * a builder. Binds 127.0.0.1 unless told otherwise; basic auth when MAESTRO_DASHBOARD_USER
 * and MAESTRO_DASHBOARD_PASSWORD are set.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { ConfigError, describeError } from '../core/errors.ts';
import { expertQueueName, ROLLOUT_QUEUE, SCORE_QUEUE } from '../core/queues.ts';
import { type BasicAuth, DashboardContext, type DashboardOptions } from './context.ts';
import { html } from './html.ts';
import { registerItemRoutes } from './item-routes.ts';
import { LIVE_SCRIPT } from './live.ts';
import { registerSweepRoutes } from './sweep-routes.ts';

export type { BasicAuth, DashboardOptions } from './context.ts';

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

/** bull-board on /queues over every queue of the registry (read-only unless asked). */
function queueBoard(app: Express, ctx: DashboardContext): Queue[] {
  const { registry, queueActions } = ctx.opts;
  const names = [ROLLOUT_QUEUE, SCORE_QUEUE, ...registry.experts.map((e) => expertQueueName(e.name))];
  const queues = names.map((name) => new Queue(name, { connection: ctx.conn, prefix: ctx.prefix }));
  const boardAdapter = new ExpressAdapter();
  boardAdapter.setBasePath('/queues');
  createBullBoard({
    queues: queues.map(
      (q) => new BullMQAdapter(q, { readOnlyMode: !queueActions, allowRetries: Boolean(queueActions) }),
    ),
    // @bull-board/express pins its own copy of @bull-board/api (9.10.1 beside our 9.10.2): the
    // classes are the same, TypeScript only sees two declarations of a private field.
    serverAdapter: boardAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'maestro-eval queues', hideDocsLink: true } },
  });
  app.use('/queues', boardAdapter.getRouter());
  return queues;
}

function requireAuth(app: Express, auth: BasicAuth): void {
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (checkBasicAuth(req.headers.authorization, auth)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', 'Basic realm="maestro-eval", charset="UTF-8"')
      .type('text/plain')
      .send('authentication required\n');
  });
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const ctx = new DashboardContext(opts);
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  if (opts.auth) requireAuth(app, opts.auth);
  const queues = queueBoard(app, ctx);
  app.get('/assets/live.js', (_req, res) => {
    res.type('text/javascript').set('Cache-Control', 'no-cache').send(LIVE_SCRIPT);
  });
  registerSweepRoutes(app, ctx);
  registerItemRoutes(app, ctx);
  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    ctx.sendPage(res, 'Error', html`<h1>Something failed</h1><pre>${describeError(err)}</pre>`, 500);
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
      await ctx.close();
    },
  };
}
