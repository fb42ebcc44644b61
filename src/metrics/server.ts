import { createServer, type Server } from 'node:http';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import { ConfigError, describeError } from '../core/errors.ts';
import { expertQueueName, ROLLOUT_QUEUE, SCORE_QUEUE } from '../core/queues.ts';
import type { Registry as ExpertRegistry } from '../core/registry.ts';
import { enableProcessMetrics, inFlightSnapshot, recent, registry } from './index.ts';
import { startLivePublisher } from './live.ts';

/** Default port of a worker's metrics endpoint. */
export const DEFAULT_METRICS_PORT = 9464;

export interface MetricsAddress {
  /** 0 = no metrics server. */
  port: number;
  host: string;
}

/**
 * Where to serve metrics: MAESTRO_METRICS_PORT (0 = off) and MAESTRO_METRICS_HOST
 * (default 127.0.0.1). The default port is 9464, except under a test runner (VITEST set),
 * where it is 0 so parallel test workers do not compete for one port.
 */
export function metricsAddress(env: NodeJS.ProcessEnv = process.env): MetricsAddress {
  const raw = env.MAESTRO_METRICS_PORT?.trim();
  const port = raw ? Number(raw) : env.VITEST ? 0 : DEFAULT_METRICS_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError('(environment)', 'MAESTRO_METRICS_PORT', `expected a port number, got "${raw}"`, {
      hint: 'use 0 to turn the metrics endpoint off',
    });
  }
  return { port, host: env.MAESTRO_METRICS_HOST?.trim() || '127.0.0.1' };
}

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'waiting-children', 'failed'] as const;

let queueGauge: Gauge<'queue' | 'state'> | null = null;

/** Registers the queue-depth gauge, read from Redis at each scrape. */
function watchQueueDepths(conn: Redis, prefix: string, names: string[]): () => Promise<void> {
  const queues = names.map((name) => new Queue(name, { connection: conn, prefix }));
  if (queueGauge) registry.removeSingleMetric('maestro_queue_jobs');
  queueGauge = new Gauge({
    name: 'maestro_queue_jobs',
    help: 'Jobs per queue and state (cluster-wide, read from Redis at scrape time)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        queues.map(async (q) => {
          const counts = await q.getJobCounts(...STATES);
          for (const state of STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
        }),
      );
    },
  });
  return async () => {
    await Promise.all(queues.map((q) => q.close()));
  };
}

/** Serves `GET /metrics` (Prometheus text format) on host:port. */
export async function serveMetrics(addr: MetricsAddress): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
      res.writeHead(404).end('not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        res.writeHead(500).end(`metrics failed: ${describeError(err)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : addr.port;
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface TelemetryOptions {
  conn: Redis;
  prefix: string;
  registry: ExpertRegistry;
  roles: string[];
  address?: MetricsAddress;
  log?: (line: string) => void;
}

/**
 * Everything a worker process reports: the Prometheus endpoint (when a port is set) and
 * the live entry `maestro-eval status` reads. A busy port is a warning, not a failure:
 * several workers on one host need one port each.
 */
export async function startWorkerTelemetry(
  opts: TelemetryOptions,
): Promise<{ url?: string; close(): Promise<void> }> {
  const log = opts.log ?? (() => {});
  const addr = opts.address ?? metricsAddress();
  const closers: Array<() => Promise<void>> = [];
  let url: string | undefined;
  if (addr.port > 0) {
    enableProcessMetrics();
    const names = [ROLLOUT_QUEUE, SCORE_QUEUE, ...opts.registry.experts.map((e) => expertQueueName(e.name))];
    closers.push(watchQueueDepths(opts.conn, opts.prefix, names));
    try {
      const server = await serveMetrics(addr);
      url = server.url;
      closers.push(server.close);
      log(`metrics: ${server.url}`);
    } catch (err) {
      log(
        `warning: metrics endpoint not started on ${addr.host}:${addr.port} (${describeError(err)}); give each worker on a host its own MAESTRO_METRICS_PORT, or 0 for none`,
      );
    }
  }
  const live = startLivePublisher({
    conn: opts.conn,
    prefix: opts.prefix,
    roles: opts.roles,
    recent,
    inFlight: inFlightSnapshot,
  });
  closers.push(live.stop);
  return {
    ...(url ? { url } : {}),
    async close() {
      await Promise.all(closers.map((c) => c().catch(() => {})));
    },
  };
}
