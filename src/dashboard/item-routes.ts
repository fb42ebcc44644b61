/** The item browser's routes: a cell's items, one item's trace, two policies compared, images. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Express, Request, Response } from 'express';
import { describeError } from '../core/errors.ts';
import type { ImageRef, Item } from '../core/items.ts';
import type { DataStore } from '../data/store.ts';
import type { DashboardContext } from './context.ts';
import { cellPage, comparePage, itemPage } from './item-views.ts';
import { comparePolicies, filterChoices, filterRecords, parseItemFilter } from './records.ts';

const IMAGE = /^([0-9a-f]{64})\.(png|jpg|webp|gif)$/;
const MIME: Record<string, ImageRef['mime']> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};

const one = (v: unknown) => (typeof v === 'string' ? v : '');

export function registerItemRoutes(app: Express, ctx: DashboardContext): void {
  app.get('/sweeps/:id/cells/:policy/:benchmark', (req, res) => cellRoute(ctx, req, res));
  app.get('/sweeps/:id/items/:rollout', (req, res) => itemRoute(ctx, req, res));
  app.get('/sweeps/:id/compare', (req, res) => compareRoute(ctx, req, res));
  app.get('/images/:file', (req, res) => imageRoute(ctx.store, String(req.params.file), res));
}

/** Gold answers of a benchmark's items, or nothing when its dataset is not readable. */
async function goldOf(store: DataStore, benchmark: string): Promise<(id: string) => string[] | undefined> {
  try {
    const ds = await store.loadDataset(benchmark);
    return (id) => ds.byId.get(id)?.answers;
  } catch {
    return () => undefined;
  }
}

async function cellRoute(ctx: DashboardContext, req: Request, res: Response): Promise<void> {
  const meta = await ctx.findSweep(String(req.params.id));
  if (!meta) return ctx.notFound(res, `No sweep "${req.params.id}"`);
  const policy = String(req.params.policy);
  const benchmark = String(req.params.benchmark);
  const all = (await ctx.cache.records(meta.id)).filter(
    (r) => r.policy === policy && r.benchmark === benchmark,
  );
  const filter = parseItemFilter(req.query as Record<string, unknown>);
  ctx.sendPage(
    res,
    `${policy} on ${benchmark} · ${meta.id}`,
    cellPage({
      sweepId: meta.id,
      policy,
      benchmark,
      all,
      shown: filterRecords(all, filter),
      filter,
      choices: filterChoices(all),
      gold: await goldOf(ctx.store, benchmark),
    }),
  );
}

async function itemRoute(ctx: DashboardContext, req: Request, res: Response): Promise<void> {
  const meta = await ctx.findSweep(String(req.params.id));
  if (!meta) return ctx.notFound(res, `No sweep "${req.params.id}"`);
  const records = await ctx.cache.records(meta.id);
  const record = records.find((r) => r.rolloutId === req.params.rollout);
  if (!record) return ctx.notFound(res, `No item record "${req.params.rollout}" in sweep ${meta.id}`);
  let item: Item | null = null;
  let itemError: string | null = null;
  try {
    item = await ctx.store.item(record.benchmark, record.itemId);
  } catch (err) {
    itemError = describeError(err);
  }
  const siblings = records.filter(
    (r) =>
      r.benchmark === record.benchmark &&
      r.itemId === record.itemId &&
      r.seed === record.seed &&
      r.sample === record.sample &&
      r.rolloutId !== record.rolloutId,
  );
  const cell = records.filter((r) => r.policy === record.policy && r.benchmark === record.benchmark);
  const at = cell.indexOf(record);
  ctx.sendPage(
    res,
    `${record.itemId} · ${record.policy}`,
    itemPage({
      sweepId: meta.id,
      record,
      item,
      itemError,
      siblings,
      previous: cell[at - 1],
      next: cell[at + 1],
    }),
  );
}

async function compareRoute(ctx: DashboardContext, req: Request, res: Response): Promise<void> {
  const meta = await ctx.findSweep(String(req.params.id));
  if (!meta) return ctx.notFound(res, `No sweep "${req.params.id}"`);
  const policies = meta.policies.map((p) => p.key);
  const benchmarks = meta.benchmarks.map((b) => b.id);
  const a = policies.includes(one(req.query.a)) ? one(req.query.a) : (policies[0] ?? '');
  const fallbackB = policies.find((p) => p !== a) ?? a;
  const b = policies.includes(one(req.query.b)) && one(req.query.b) !== a ? one(req.query.b) : fallbackB;
  const benchmark = benchmarks.includes(one(req.query.benchmark)) ? one(req.query.benchmark) : '';
  const rows = comparePolicies(await ctx.cache.records(meta.id), a, b, benchmark || undefined);
  ctx.sendPage(
    res,
    `${a} vs ${b} · ${meta.id}`,
    comparePage({ sweepId: meta.id, policies, benchmarks, a, b, benchmark, rows }),
  );
}

/** A content-addressed image of the data directory, by `<sha256>.<ext>`. */
async function imageRoute(store: DataStore, file: string, res: Response): Promise<void> {
  const m = IMAGE.exec(file);
  const mime = MIME[m?.[2] ?? ''];
  const path = m?.[1] && mime ? store.imagePath({ sha256: m[1], mime }) : '';
  const info = path ? await stat(path).catch(() => null) : null;
  if (!info?.isFile()) {
    res.status(404).type('text/plain').send('not found\n');
    return;
  }
  res.set('Content-Type', mime).set('X-Content-Type-Options', 'nosniff');
  res.set('Content-Security-Policy', "default-src 'none'").set('Cache-Control', 'private, max-age=86400');
  res.set('Content-Length', String(info.size));
  createReadStream(path).pipe(res);
}
