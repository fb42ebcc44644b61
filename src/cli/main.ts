import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, describeError, NotFoundError } from '../core/errors.ts';
import { DEMO_SWEEP } from '../core/paths.ts';
import { loadRegistry } from '../core/registry.ts';
import {
  dataStore,
  type GlobalOptions,
  loadBenchmarks,
  loadRegistryFrom,
  registryFiles,
  resolveEnv,
} from './context.ts';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

const program = new Command('maestro-eval')
  .description('Distributed evaluation cluster for Maestro-style orchestration (BullMQ/Redis).')
  .option('--redis-url <url>', 'Redis URL (env REDIS_URL; default redis://127.0.0.1:6379)')
  .option('--prefix <prefix>', 'key prefix with a hash tag (env MAESTRO_PREFIX; default {maestro})')
  .option('--data-dir <dir>', 'shared data directory (env MAESTRO_DATA_DIR; default ./maestro-data)')
  .showHelpAfterError();

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
  .option(
    '--window <n>',
    'windowed submission: at most N rollouts queued or running, topped up as they finish (stays until all are added)',
    int,
  )
  .action(
    async (
      file: string,
      o: {
        registry?: string[];
        benchmarks?: string[];
        policies?: string[];
        limit?: number;
        dryRun?: boolean;
        wait?: boolean;
        preflight: boolean;
        retryErrors?: boolean;
        resume?: boolean;
        window?: number;
      },
    ) => {
      const { runSweepCommand } = await import('./sweep.ts');
      const env = resolveEnv(globals());
      await runSweepCommand(env, dataStore(env), {
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
        ...(o.window ? { window: o.window } : {}),
      });
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
  .description('progress per sweep and benchmark, and queue counts')
  .argument('[sweep]', 'sweep id (default: the latest three)')
  .option('--watch', 'refresh every second')
  .option('--registry <file>', 'registry file (repeatable)', collect)
  .action(async (sweep: string | undefined, o: { watch?: boolean; registry?: string[] }) => {
    const { statusText } = await import('./report.ts');
    const env = resolveEnv(globals());
    const registry = loadRegistryFrom(o.registry);
    for (;;) {
      const text = await statusText(env, registry, sweep);
      if (o.watch) process.stdout.write(`\x1b[2J\x1b[H${text}\n`);
      else console.log(text);
      if (!o.watch) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  });

program
  .command('report')
  .description('write the results tables (Markdown, CSV, JSON) and per-item JSONL of a sweep')
  .argument('[sweep]', 'sweep id or name (default: the latest)')
  .option('--out <dir>', 'output directory (default: <data-dir>/sweeps/<id>/report)')
  .action(async (sweep: string | undefined, o: { out?: string }) => {
    const { runReport } = await import('./report.ts');
    const env = resolveEnv(globals());
    const r = await runReport(dataStore(env), sweep, o.out);
    console.log(r.markdown);
    console.log(`${r.records.length} item records; files:\n  ${Object.values(r.files).join('\n  ')}`);
  });

program
  .command('sim')
  .description('serve the simulated OpenAI-compatible policy, expert and service endpoints')
  .option('--registry <file>', 'registry file (repeatable)', collect)
  .option('--port <n>', 'port', int, 8990)
  .option('--host <addr>', 'address to bind (0.0.0.0 inside containers)', '127.0.0.1')
  .option('--seed <n>', 'seed', (v) => Number(v), 0)
  .action(async (o: { registry?: string[]; port: number; host: string; seed: number }) => {
    const { startSimServer } = await import('../sim/server.ts');
    const env = resolveEnv(globals());
    const { catalog } = loadBenchmarks();
    const sim = await startSimServer({
      registry: loadRegistry(registryFiles(o.registry)),
      catalog,
      dataDir: env.MAESTRO_DATA_DIR,
      port: o.port,
      host: o.host,
      seed: o.seed,
    });
    console.log(`ready: simulated endpoints on ${sim.url} (set MAESTRO_SIM_URL=${sim.url})`);
    await new Promise<void>((r) => {
      process.once('SIGTERM', r);
      process.once('SIGINT', r);
    });
    await sim.close();
  });

// Commands that live in their own files register themselves here.
for (const register of await loadCommandModules()) register(program, { globals });

async function loadCommandModules(): Promise<
  Array<(p: Command, ctx: { globals: () => GlobalOptions }) => void>
> {
  const { commandModules } = await import('./commands.ts');
  return commandModules;
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`error: ${describeError(err)}`);
  process.exit(err instanceof ConfigError || err instanceof NotFoundError ? 2 : 1);
}
