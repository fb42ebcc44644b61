import { type Command, InvalidArgumentError } from 'commander';
import { type GlobalOptions, resolveEnv } from './context.ts';
import { positiveInt } from './options.ts';

const list = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('expected a port (0 = off)');
  return n;
};

/** Redis and the key prefix of the floor's processes, as every command reads them. */
function floorConnection(g: GlobalOptions) {
  const env = resolveEnv(g);
  return { redisUrl: env.REDIS_URL, prefix: env.MAESTRO_PREFIX };
}

async function exitFlushed(): Promise<never> {
  const { exitWhenFlushed } = await import('./exit.ts');
  return exitWhenFlushed(0);
}

/** `maestro-eval bench`, and the worker's `--metrics-port` flag. */
export function register(program: Command, ctx: { globals: () => GlobalOptions }): void {
  program
    .command('bench')
    .description(
      'measure the cluster on simulated servers (overhead, ceiling, GPU saturation, scale-out, memory, adaptive concurrency, direct peer, windowed submission, the report of a large sweep); writes bench/results/*.json and .md',
    )
    .option('--quick', 'short smoke run (about a minute)')
    .option(
      '--scenario <ids>',
      'only these scenarios (comma-separated or repeated): overhead, overhead-await, overhead-inline, ceiling, ceiling-await, ceiling-inline, saturation, scaleout, memory, adaptive, direct-peer, feed, report-scale, bodies',
      list,
    )
    .option('--out <dir>', 'output directory (default: bench/results)')
    .option('--note <text>', 'what else ran on the machine, recorded in the report')
    .option('--verbose', 'show worker and simulator output')
    .option(
      '--cpu-prof <dir>',
      'profile every worker process (node --cpu-prof) and add where their time went',
    )
    .option(
      '--baseline <dirs>',
      'other built checkouts (e.g. the commit before a change; comma-separated or repeated) measured beside this one in the same run; direct-peer alternates them',
      list,
    )
    .option(
      '--work-dir <dir>',
      "where the bench's stages keep their data and records (default: the OS temp folder); file creation costs differ between file systems, and direct-peer reports this folder's",
    )
    .action(
      async (o: {
        baseline?: string[];
        quick?: boolean;
        scenario?: string[];
        out?: string;
        note?: string;
        verbose?: boolean;
        cpuProf?: string;
        workDir?: string;
      }) => {
        const { runBench } = await import('../bench/run.ts');
        // Its redis-server, simulators, workers and scenario processes end with it.
        const { endChildrenOnSignal } = await import('../process/pids.ts');
        endChildrenOnSignal();
        const redisUrl = ctx.globals().redisUrl;
        await runBench({
          quick: o.quick ?? false,
          ...(o.scenario ? { scenarios: o.scenario } : {}),
          ...(redisUrl ? { redisUrl } : {}),
          ...(o.out ? { outDir: o.out } : {}),
          ...(o.note ? { note: o.note } : {}),
          verbose: o.verbose ?? false,
          ...(o.cpuProf ? { cpuProfileDir: o.cpuProf } : {}),
          ...(o.baseline ? { baselines: o.baseline } : {}),
          ...(o.workDir ? { workDir: o.workDir } : {}),
          command: `maestro-eval ${process.argv.slice(2).join(' ')}`.trim(),
        });
        // Worker processes and servers are stopped; leftover handles must not keep the CLI alive.
        process.exit(0);
      },
    );

  // The floor of the direct-peer scenario (src/bench/floor.ts): started by the bench, not by
  // users, so left out of the help. Two commands, so that each starts as its counterpart does
  // (bin/maestro-eval.js: the client's V8 flags and code cache for the client, the worker's for
  // the worker).
  program
    .command('bench-floor-worker', { hidden: true })
    .requiredOption('--base-url <url>', "the endpoint's OpenAI-compatible base URL")
    .option('--model <name>', 'the model named in each request', 'Solo')
    .option('--concurrency <n>', 'calls at once', positiveInt, 64)
    .action(async (o: { baseUrl: string; model: string; concurrency: number }) => {
      const { runFloorWorker } = await import('../bench/floor.ts');
      await runFloorWorker({ ...floorConnection(ctx.globals()), ...o });
      await exitFlushed();
    });
  program
    .command('bench-floor-client', { hidden: true })
    .option('--calls <n>', 'jobs to add and wait for', positiveInt, 1000)
    .option('--tag <text>', 'prefix of the job ids', 'floor')
    .action(async (o: { calls: number; tag: string }) => {
      const { runFloorClient } = await import('../bench/floor.ts');
      await runFloorClient({ ...floorConnection(ctx.globals()), ...o });
      await exitFlushed();
    });

  // The worker command lives in main.ts; its metrics port is read from MAESTRO_METRICS_PORT,
  // and this flag sets that variable for the process.
  const worker = program.commands.find((c) => c.name() === 'worker');
  worker
    ?.option(
      '--metrics-port <n>',
      'serve Prometheus metrics on this port (env MAESTRO_METRICS_PORT; default 9464; 0 = off)',
      port,
    )
    .hook('preAction', (cmd) => {
      const p = cmd.opts<{ metricsPort?: number }>().metricsPort;
      if (p !== undefined) process.env.MAESTRO_METRICS_PORT = String(p);
    });
}
