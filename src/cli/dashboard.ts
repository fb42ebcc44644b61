/** `maestro-eval dashboard`: queues, live sweep progress and results in a browser (src/dashboard). */
import { type Command, InvalidArgumentError } from 'commander';
import type { GlobalOptions } from './context.ts';
import { dataStore, loadBenchmarks, loadRegistryFrom, resolveEnv } from './context.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port number');
  return n;
};
const seconds = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of seconds');
  return n;
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function register(program: Command, { globals }: { globals: () => GlobalOptions }): void {
  program
    .command('dashboard')
    .description('web dashboard: queues (bull-board), live sweep progress, results tables and charts')
    .option('--host <addr>', 'address to bind (0.0.0.0 inside a container)', '127.0.0.1')
    .option('--port <n>', 'port', port, 8080)
    .option(
      '--registry <file>',
      'registry file (repeatable; env MAESTRO_REGISTRY): which expert queues to show',
      collect,
    )
    .option('--refresh <seconds>', 'push progress to open pages every N seconds (0: never)', seconds, 5)
    .option('--no-auto-report', "do not build a finished sweep's report (show how to instead)")
    .option('--queue-actions', 'allow retrying, cleaning and removing jobs from the queue pages')
    .action(
      async (o: {
        host: string;
        port: number;
        registry?: string[];
        refresh: number;
        queueActions?: boolean;
        autoReport: boolean;
      }) => {
        const { dashboardAuthFromEnv, startDashboard } = await import('../dashboard/server.ts');
        const env = resolveEnv(globals());
        const { runReport } = await import('./report.ts');
        const auth = dashboardAuthFromEnv();
        const store = dataStore(env);
        if (!auth && !LOOPBACK.has(o.host)) {
          console.error(
            `warning: the dashboard listens on ${o.host} without authentication; set MAESTRO_DASHBOARD_USER and MAESTRO_DASHBOARD_PASSWORD`,
          );
        }
        const dashboard = await startDashboard({
          env,
          registry: loadRegistryFrom(o.registry),
          store,
          benchmarks: loadBenchmarks(),
          host: o.host,
          port: o.port,
          auth,
          refreshSeconds: o.refresh,
          queueActions: o.queueActions ?? false,
          ...(o.autoReport ? { buildReport: (id: string) => runReport(store, id) } : {}),
        });
        console.log(`ready: dashboard on ${dashboard.url}${auth ? ' (basic auth)' : ''}`);
        await new Promise<void>((r) => {
          process.once('SIGTERM', r);
          process.once('SIGINT', r);
        });
        await dashboard.close();
      },
    );
}
