/**
 * The state every dashboard route shares: the Redis connection, the sweeps known to Redis
 * and on disk, each sweep's progress (from Redis, else from its records), the reports
 * being built, and the page writer with its Content-Security-Policy.
 */
import { existsSync } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { BenchmarkCatalog, Suite } from '../core/benchmarks.ts';
import type { Env } from '../core/env.ts';
import { describeError } from '../core/errors.ts';
import { connectWatching, redactUrl } from '../core/redis.ts';
import type { Registry } from '../core/registry.ts';
import { SweepMeta } from '../core/sweep.ts';
import type { DataStore } from '../data/store.ts';
import {
  failedRollouts,
  listSweeps,
  queueCounts,
  type SweepProgress,
  sweepProgress,
} from '../producer/progress.ts';
import { benchmarkOrder } from '../scoring/aggregate.ts';
import { type Html, html, page, seg } from './html.ts';
import { type SweepSnapshot, snapshotCells } from './live.ts';
import { progressFromRecords, RecordCache } from './records.ts';
import { REPORT_FILE, type ResultCells, resultsHtml, svgSize } from './sweep-views.ts';

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
  /** Where connection notices go (Redis unreachable, reachable again). Default stderr. */
  log?: (line: string) => void;
}

export const CSP =
  "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface SweepEntry {
  meta: SweepMeta;
  inRedis: boolean;
}

/** What the sweep page and its event stream show: progress, from Redis or from the records. */
export interface SweepState {
  progress: SweepProgress;
  source: 'redis' | 'records';
  finished: boolean;
  report: boolean;
  reportError?: string;
}

export class DashboardContext {
  readonly conn: Redis;
  readonly cache: RecordCache;
  readonly prefix: string;
  readonly intervalMs: number;
  readonly live: boolean;
  private readonly building = new Map<string, Promise<void>>();
  private readonly buildErrors = new Map<string, string>();

  constructor(readonly opts: DashboardOptions) {
    this.prefix = opts.env.MAESTRO_PREFIX;
    this.intervalMs = Math.max(200, (opts.refreshSeconds ?? 5) * 1000);
    this.live = (opts.refreshSeconds ?? 5) > 0;
    // Fails fast per request while Redis is down, reconnects for as long as the dashboard runs
    // and says so.
    this.conn = connectWatching(opts.env.REDIS_URL, {
      failFast: true,
      log: opts.log ?? ((l) => console.error(l)),
    });
    this.cache = new RecordCache(opts.store);
  }

  get store(): DataStore {
    return this.opts.store;
  }

  benchmarkName(id: string): string {
    return this.opts.benchmarks?.catalog.find(id)?.name ?? id;
  }

  /** A sweep's benchmarks in the results table's order (the suite's, then the catalog's). */
  columnsOf(meta: SweepMeta): string[] {
    const ids = meta.benchmarks.map((b) => b.id);
    const b = this.opts.benchmarks;
    return b ? benchmarkOrder(ids, b.catalog, b.suite).filter((id) => ids.includes(id)) : ids;
  }

  sendPage(res: Response, title: string, body: Html, status = 200, events?: string): void {
    res.status(status).set('Content-Security-Policy', CSP).set('X-Content-Type-Options', 'nosniff');
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(page({ title, ...(events && this.live ? { events } : {}) }, body));
  }

  notFound(res: Response, what: string): void {
    this.sendPage(res, 'Not found', html`<h1>${what}</h1><p><a href="/">All sweeps</a></p>`, 404);
  }

  /** Sweeps known to Redis and on disk, oldest first; `redisError` when Redis did not answer. */
  async sweeps(): Promise<{ list: SweepEntry[]; redisError?: string }> {
    const byId = new Map<string, SweepEntry>();
    for (const meta of await sweepsOnDisk(this.store)) byId.set(meta.id, { meta, inRedis: false });
    let redisError: string | undefined;
    try {
      for (const meta of await listSweeps(this.conn, this.prefix)) byId.set(meta.id, { meta, inRedis: true });
    } catch (err) {
      redisError = describeError(err);
    }
    const list = [...byId.values()].sort((a, b) => a.meta.createdAt.localeCompare(b.meta.createdAt));
    return { list, ...(redisError ? { redisError } : {}) };
  }

  async findSweep(id: string): Promise<SweepMeta | null> {
    const { list } = await this.sweeps();
    return list.find((s) => s.meta.id === id)?.meta ?? null;
  }

  reportDir(id: string): string {
    return join(this.store.sweepDir(id), 'report');
  }

  hasReport(id: string): boolean {
    return existsSync(join(this.reportDir(id), 'results.md'));
  }

  /** Builds the report of a finished sweep once, in the background (when the CLI gave a builder). */
  private autoReport(id: string): void {
    const build = this.opts.buildReport;
    if (!build || this.building.has(id) || this.buildErrors.has(id)) return;
    const job = build(id)
      .then(() => undefined)
      .catch((err: unknown) => {
        this.buildErrors.set(id, describeError(err));
      })
      .finally(() => this.building.delete(id));
    this.building.set(id, job);
  }

  async stateOf(entry: SweepEntry, redisUp: boolean): Promise<SweepState> {
    const { meta } = entry;
    let progress: SweepProgress;
    let source: SweepState['source'] = 'redis';
    if (entry.inRedis && redisUp) {
      const failed = await failedRollouts(this.conn, this.prefix, meta.id);
      progress = await sweepProgress(this.conn, this.prefix, meta, failed);
    } else {
      progress = progressFromRecords(meta, await this.cache.records(meta.id));
      source = 'records';
    }
    const finished = progress.total > 0 && progress.done + progress.failed >= progress.total;
    if (finished && !this.hasReport(meta.id)) this.autoReport(meta.id);
    const reportError = this.buildErrors.get(meta.id);
    return {
      progress,
      source,
      finished,
      report: this.hasReport(meta.id),
      ...(reportError ? { reportError } : {}),
    };
  }

  snapshot(s: SweepState): SweepSnapshot {
    return {
      id: s.progress.sweepId,
      done: s.progress.done,
      total: s.progress.total,
      errors: s.progress.errors,
      failed: s.progress.failed,
      finished: s.finished,
      report: s.report,
      ...(s.reportError ? { reportError: s.reportError } : {}),
      cells: snapshotCells(s.progress),
    };
  }

  redisBanner(err: string | undefined): Html | string {
    return err
      ? html`<div class="banner">Redis at ${redactUrl(this.opts.env.REDIS_URL)} does not answer (${err}): live progress and queues are unavailable; progress and reports are read from ${this.store.root}.</div>`
      : '';
  }

  async queueTable(): Promise<Html> {
    try {
      const counts = await queueCounts(this.conn, this.prefix, this.opts.registry);
      return html`<h2>Queues</h2><table><thead><tr><th>queue</th><th class="num">waiting</th><th class="num">active</th><th class="num">delayed</th><th class="num">waiting for children</th><th class="num">completed</th><th class="num">failed</th></tr></thead><tbody>${counts.map(
        ({ queue, counts: c }) =>
          html`<tr><td><a href="/queues/queue/${seg(queue)}">${queue}</a></td><td class="num">${(c.waiting ?? 0) + (c.prioritized ?? 0)}</td><td class="num">${c.active ?? 0}</td><td class="num">${c.delayed ?? 0}</td><td class="num">${c['waiting-children'] ?? 0}</td><td class="num">${c.completed ?? 0}</td><td class="num">${c.failed ?? 0}</td></tr>`,
      )}</tbody></table>`;
    } catch (err) {
      return html`${this.redisBanner(describeError(err))}`;
    }
  }

  /** The results section: the report's tables and charts, or why there is none yet. */
  async resultsSection(id: string, s: SweepState): Promise<Html> {
    if (!s.report) {
      if (s.reportError) return html`<p class="bad">Building the report failed: ${s.reportError}</p>`;
      if (s.finished && this.opts.buildReport)
        return html`<p class="muted">The sweep has finished: the report is being built and appears here by itself.</p>`;
      return html`<p class="muted">No report yet: ${this.opts.buildReport ? 'it is built, and shown here, as soon as the sweep finishes' : html`run <code>maestro-eval report ${id}</code> when the sweep has finished`}. The grid above has the accuracy so far; click a cell for its items.</p>`;
    }
    const dir = this.reportDir(id);
    const names = (await readdir(dir)).filter((n) => REPORT_FILE.test(n)).sort();
    const sizes: Record<string, { width: number; height: number } | null> = {};
    for (const n of names.filter((x) => x.endsWith('.svg'))) sizes[n] = await svgHeader(join(dir, n));
    const cells = await resultCells(join(dir, 'results.json'));
    return resultsHtml(id, await readFile(join(dir, 'results.md'), 'utf8'), names, sizes, cells);
  }

  /** Waits for reports being built, then lets go of Redis. */
  async close(): Promise<void> {
    await Promise.all([...this.building.values()]);
    this.conn.disconnect();
  }
}

const ResultsJson = z.object({
  benchmarks: z.array(z.object({ id: z.string(), name: z.string() })),
  rows: z.array(z.object({ policy: z.string() })),
});

/** Policies and benchmarks of results.json (undefined when it is missing or not ours). */
async function resultCells(path: string): Promise<ResultCells | undefined> {
  try {
    const doc = ResultsJson.parse(JSON.parse(await readFile(path, 'utf8')));
    return { policies: doc.rows.map((r) => r.policy), benchmarks: doc.benchmarks };
  } catch {
    return undefined;
  }
}

/** The size of a chart's SVG (its root element is in its first bytes). */
async function svgHeader(path: string): Promise<{ width: number; height: number } | null> {
  const file = await open(path, 'r').catch(() => null);
  if (!file) return null;
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return svgSize(head.subarray(0, bytesRead).toString('utf8'));
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
