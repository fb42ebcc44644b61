/**
 * The command line: every command and its options. `main` runs it; src/cli/main.ts (run
 * through tsx) and the bundle in dist/ (npm run build) both call it.
 */
import { resolve as resolvePath } from 'node:path';
import { Command, Option } from 'commander';
import { bugStack, ConfigError, describeError, NotFoundError } from '../core/errors.ts';
import { DEMO_SWEEP } from '../core/paths.ts';
import { redact } from '../core/redact.ts';
import { loadRegistry } from '../core/registry.ts';
import {
  dataStore,
  type GlobalOptions,
  loadBenchmarks,
  loadRegistryFrom,
  registryFiles,
  resolveEnv,
} from './context.ts';
import { exitWhenFlushed } from './exit.ts';
import { positiveInt } from './options.ts';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const int = positiveInt;
const collect = (v: string, prev: string[] = []) => [...prev, v];

const program = new Command('maestro-eval')
  .description('Distributed evaluation cluster for Maestro-style orchestration (BullMQ/Redis).')
  .option('--redis-url <url>', 'Redis URL (env REDIS_URL; default redis://127.0.0.1:6379)')
  .option('--prefix <prefix>', 'key prefix with a hash tag (env MAESTRO_PREFIX; default {maestro})')
  .option('--data-dir <dir>', 'shared data directory (env MAESTRO_DATA_DIR; default ./maestro-data)')
  .option(
    '--upstream <dir>',
    'Maestro release checkout the release skills read their prompt texts from (env MAESTRO_UPSTREAM)',
  )
  .showHelpAfterError();

// The release skills (and workers this process spawns) find the checkout through the environment.
program.hook('preAction', () => {
  const dir = program.opts<{ upstream?: string }>().upstream;
  if (dir) process.env.MAESTRO_UPSTREAM = resolvePath(dir);
});

const globals = (): GlobalOptions => program.opts<GlobalOptions>();

program
  .command('demo')
  .description('run a full sweep on simulated servers with local workers and print the results table')
  .option('--items <n>', 'fixture items per benchmark', int, 4)
  .option('--orchestrators <n>', 'orchestrator processes', int, 1)
  .option('--verbose', 'show worker output')
  .option(
    '--sweep <file>',
    'the sweep to run (default sweeps/demo.yaml; sweeps/release-demo.yaml: the release profile, 8 samples)',
  )
  .action(async (o: { items: number; orchestrators: number; verbose?: boolean; sweep?: string }) => {
    const { runDemo } = await import('./demo.ts');
    // Its redis-server (when it started one), simulator and workers end with it.
    const { endChildrenOnSignal } = await import('../process/pids.ts');
    endChildrenOnSignal();
    await runDemo({
      items: o.items,
      ...(o.sweep ? { sweep: o.sweep } : {}),
      orchestrators: o.orchestrators,
      echoWorkers: o.verbose ?? false,
      ...(globals().dataDir ? { dataDir: globals().dataDir } : {}),
    });
  });

program
  .command('sweep')
  .description('expand a sweep file into rollout jobs (idempotent: only missing rollouts are added)')
  .argument('[file]', 'sweep file', DEMO_SWEEP)
  .option('--registry <file>', "registry file (repeatable; default: the sweep file's)", collect)
  .option('--benchmarks <ids>', 'only these benchmarks', list)
  .option('--policies <keys>', 'only these policies', list)
  .option('--limit <n>', 'only the first N items per benchmark', int)
  .option('--dry-run', 'show what would be enqueued')
  .option('--wait', 'wait for the sweep to finish, with progress')
  .option('--no-preflight', 'do not check that endpoints answer first')
  .option('--retry-errors', 're-run only the rollouts recorded as errors (or failed outright)')
  .option('--resume', 'lift a pause (error threshold) and start the rollouts it held back')
  .option('--json', 'print the outcome as one JSON object on stdout (docs/json.md); progress goes to stderr')
  .option('--reuse', 'count records of another run of this sweep (other --prefix or Redis) as results')
  .option(
    '--window <n>',
    'windowed submission: at most N rollouts queued or running, topped up as they finish (stays until all are added)',
    int,
  )
  .option(
    '--png',
    'with --wait: the report also rasters its figures to PNG (2×; SVG and PDF are always written)',
  )
  .action(
    async (
      file: string,
      o: {
        json?: boolean;
        registry?: string[];
        benchmarks?: string[];
        policies?: string[];
        limit?: number;
        dryRun?: boolean;
        wait?: boolean;
        preflight: boolean;
        retryErrors?: boolean;
        resume?: boolean;
        reuse?: boolean;
        window?: number;
        png?: boolean;
      },
    ) => {
      const { runSweepCommand, sweepJson } = await import('./sweep.ts');
      const env = resolveEnv(globals());
      const out = await runSweepCommand(env, dataStore(env), {
        ...(o.json ? { log: (l: string) => console.error(l) } : {}),
        file,
        ...(o.registry ? { registry: o.registry } : {}),
        ...(o.benchmarks ? { benchmarks: o.benchmarks } : {}),
        ...(o.policies ? { policies: o.policies } : {}),
        ...(o.limit ? { limit: o.limit } : {}),
        dryRun: o.dryRun ?? false,
        wait: o.wait ?? false,
        noPreflight: !o.preflight,
        retryErrors: o.retryErrors ?? false,
        resume: o.resume ?? false,
        reuse: o.reuse ?? false,
        ...(o.window ? { window: o.window } : {}),
        png: o.png ?? false,
      });
      if (o.json) console.log(JSON.stringify(sweepJson(out)));
      // A waited sweep is over once its report is written and printed (its connections are
      // closed): exit once the output is out, without Node's freeing of the heap page by page.
      if (o.wait) await exitWhenFlushed(Number(process.exitCode ?? 0));
    },
  );

program
  .command('worker')
  .description('run worker roles until SIGTERM (graceful: in-flight jobs finish)')
  .addOption(
    new Option('--role <role>', 'role to run (repeatable)')
      .choices(['orchestrator', 'expert', 'scorer', 'all'])
      .argParser(collect),
  )
  .option('--experts <names>', 'expert pool: serve only these experts', list)
  .option('--concurrency <n>', 'orchestrator: policy steps at once', int)
  .option('--registry <file>', 'registry file (repeatable; env MAESTRO_REGISTRY)', collect)
  .option('--shutdown-ms <n>', 'graceful shutdown deadline', int, 30_000)
  .action(
    async (o: {
      role?: string[];
      experts?: string[];
      concurrency?: number;
      registry?: string[];
      shutdownMs: number;
    }) => {
      const { runWorkersUntilSignal } = await import('./worker.ts');
      const env = resolveEnv(globals());
      const { catalog } = loadBenchmarks();
      await runWorkersUntilSignal(
        {
          roles: (o.role ?? ['all']) as Array<'orchestrator' | 'expert' | 'scorer' | 'all'>,
          env,
          registry: loadRegistryFrom(o.registry),
          store: dataStore(env),
          catalog,
          ...(o.experts ? { experts: o.experts } : {}),
          ...(o.concurrency ? { concurrency: o.concurrency } : {}),
        },
        o.shutdownMs,
      );
    },
  );

program
  .command('status')
  .description('progress per sweep and benchmark, and queue counts (headlines first, at most 40 lines)')
  .argument('[sweep]', 'sweep id (default: the latest three)')
  .option('--watch', 'refresh every second; waits out Redis outages')
  .option('--json', 'print the status as JSON (docs/json.md); with --watch, one line per second')
  .option('--registry <file>', 'registry file (repeatable)', collect)
  .action(async (sweep: string | undefined, o: { watch?: boolean; json?: boolean; registry?: string[] }) => {
    const { runStatus } = await import('./status.ts');
    await runStatus(resolveEnv(globals()), loadRegistryFrom(o.registry), sweep, o);
  });

program
  .command('report')
  .description(
    'write the results tables (Markdown, CSV, JSON, LaTeX), the figures (SVG and PDF; PNG with --png) and per-item JSONL of a sweep',
  )
  .argument('[sweep]', 'sweep id or name (default: the latest)')
  .option('--out <dir>', 'output directory (default: <data-dir>/sweeps/<id>/report)')
  .option('--png', 'also raster the figures to PNG (2×, with sharp)')
  .option('--json', 'print the results as JSON (docs/json.md)')
  .action(async (sweep: string | undefined, o: { out?: string; json?: boolean; png?: boolean }) => {
    const { runReport, reportJson } = await import('./report.ts');
    const env = resolveEnv(globals());
    const r = await runReport(dataStore(env), sweep, o.out, { png: o.png ?? false });
    if (o.json) {
      console.log(JSON.stringify(reportJson(r)));
      return;
    }
    console.log(r.text);
    const failed = r.records.filter((x) => x.status === 'error').length;
    const note = failed > 0 ? ` (${failed} failed, ${r.failed} of them outright: counted as wrong)` : '';
    console.log(`${r.records.length} item records${note}; files:\n  ${Object.values(r.files).join('\n  ')}`);
  });

program
  .command('sim')
  .description('serve the simulated OpenAI-compatible policy, expert, service and judge endpoints')
  .option('--registry <file>', 'registry file (repeatable)', collect)
  .option('--port <n>', 'port (default: the port of MAESTRO_SIM_URL, else 8990)', int)
  .option('--host <addr>', 'address to bind (0.0.0.0 inside containers)', '127.0.0.1')
  .option('--seed <n>', 'seed', (v) => Number(v), 0)
  .action(async (o: { registry?: string[]; port?: number; host: string; seed: number }) => {
    const { startSimServer } = await import('../sim/server.ts');
    const env = resolveEnv(globals());
    const { catalog } = loadBenchmarks();
    const sim = await startSimServer({
      registry: loadRegistry(registryFiles(o.registry)),
      catalog,
      dataDir: env.MAESTRO_DATA_DIR,
      port: o.port ?? simPortFromEnv(process.env.MAESTRO_SIM_URL),
      host: o.host,
      seed: o.seed,
    });
    const { listDatasets } = await import('./data.ts');
    const datasets = listDatasets(dataStore(env)).map((m) => m.benchmark);
    if (datasets.length === 0) {
      console.error(
        `WARNING: no datasets in ${env.MAESTRO_DATA_DIR}: the simulator answers from the items' gold answers, so every request about an item will fail ("not in its data directory"). Start it with the workers' data directory (MAESTRO_DATA_DIR or --data-dir).`,
      );
    } else console.log(`simulating from ${datasets.length} datasets in ${env.MAESTRO_DATA_DIR}`);
    console.log(`ready: simulated endpoints on ${sim.url} (set MAESTRO_SIM_URL=${sim.url})`);
    await new Promise<void>((r) => {
      process.once('SIGTERM', r);
      process.once('SIGINT', r);
    });
    await sim.close();
  });

/** The port `sim` listens on by default: MAESTRO_SIM_URL's (what the registry calls), else 8990. */
function simPortFromEnv(url: string | undefined): number {
  if (!url) return 8990;
  try {
    const u = new URL(url);
    return u.port ? Number(u.port) : 8990;
  } catch {
    return 8990;
  }
}

/**
 * Runs the command line on `argv` (node's, script path included). Commands that live in
 * their own files register themselves first.
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  const { commandModules } = await import('./commands.ts');
  for (const register of commandModules) register(program, { globals });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    console.error(`error: ${redact(describeError(err))}`);
    // A bug's stack always; any error's with MAESTRO_DEBUG=1.
    const bug = bugStack(err);
    const stack = bug ?? bugStack(err, process.env.MAESTRO_DEBUG === '1');
    if (stack) console.error(redact(stack));
    if (bug) console.error('(a bug in maestro-eval: please report it with the lines above)');
    await exitWhenFlushed(err instanceof ConfigError || err instanceof NotFoundError ? 2 : 1);
  }
}
