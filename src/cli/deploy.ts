/**
 * `maestro-eval deploy`: deployment files rendered from the registry (src/deploy).
 *   deploy compose|k8s|vllm|prometheus  print (or --out) one kind of file
 *   deploy sync [--check]               write (or check) the checked-in files
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { MaestroError } from '../core/errors.ts';
import { ROOT } from '../core/paths.ts';
import type { GlobalOptions } from './context.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

interface DeployFlags {
  registry?: string[];
  models?: string;
  prefix?: string;
  namespace: string;
  image: string;
  maxPoolReplicas: number;
  simRegistry?: string[];
  out?: string;
}

function withCommon(cmd: Command): Command {
  return cmd
    .option(
      '--registry <file>',
      'registry file (repeatable; default registry/default.yaml + registry/ood.yaml)',
      collect,
    )
    .option('--models <file>', 'weights, GPUs and vLLM flags per server', 'infra/models.yaml')
    .option('--prefix <prefix>', 'queue key prefix (KEDA list names)')
    .option('--namespace <ns>', 'Kubernetes namespace', 'maestro-eval')
    .option('--image <image>', 'worker image for Kubernetes', 'maestro-eval:latest')
    .option('--max-pool-replicas <n>', 'KEDA: most replicas per expert pool', positive, 4)
    .option('--sim-registry <file>', 'registry of the compose sim profile (repeatable)', collect);
}

async function render(flags: DeployFlags, globals: GlobalOptions) {
  const { generate } = await import('../deploy/index.ts');
  return generate({
    root: ROOT,
    ...(flags.registry ? { files: flags.registry.map((f) => resolve(f)) } : {}),
    modelsFile: resolve(ROOT, flags.models ?? 'infra/models.yaml'),
    ...(flags.simRegistry ? { simRegistry: flags.simRegistry } : {}),
    ...((flags.prefix ?? globals.prefix) ? { prefix: flags.prefix ?? globals.prefix } : {}),
    namespace: flags.namespace,
    image: flags.image,
    maxPoolReplicas: flags.maxPoolReplicas,
  });
}

async function emit(text: string, out: string | undefined): Promise<void> {
  if (!out) {
    process.stdout.write(text);
    return;
  }
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFile(resolve(out), text, { mode: out.endsWith('.sh') ? 0o755 : 0o644 });
  console.error(`wrote ${out}`);
}

export function register(program: Command, { globals }: { globals: () => GlobalOptions }): void {
  const deploy = program
    .command('deploy')
    .description('deployment files rendered from the registry: compose, Kubernetes, vLLM launch commands');

  const single = (name: string, description: string, path: (files: Map<string, string>) => string) =>
    withCommon(deploy.command(name).description(description))
      .option('--out <file>', 'write to this file instead of stdout')
      .action(async (flags: DeployFlags) => {
        const { files } = await render(flags, globals());
        await emit(path(files), flags.out);
      });

  single(
    'compose',
    'docker-compose.yml: Redis, vLLM servers with GPU reservations, workers, profiles',
    (f) => f.get('docker-compose.yml') ?? '',
  );
  single(
    'vllm',
    'a bash script with the vLLM launch command of every served endpoint',
    (f) => f.get('infra/vllm/launch.sh') ?? '',
  );
  single(
    'prometheus',
    'the Prometheus scrape configuration of the compose deployment',
    (f) => f.get('infra/prometheus/prometheus.yml') ?? '',
  );

  withCommon(
    deploy.command('k8s').description('Kubernetes manifests (vLLM, worker pools, KEDA, Redis, registry)'),
  )
    .option('--out <dir>', 'write one file per concern into this directory instead of stdout')
    .action(async (flags: DeployFlags) => {
      const { files } = await render(flags, globals());
      const k8s = [...files].filter(([p]) => p.startsWith('infra/k8s/'));
      if (!flags.out) {
        process.stdout.write(
          k8s
            .filter(([p]) => !p.endsWith('kustomization.yaml'))
            .map(([, t]) => t)
            .join('---\n'),
        );
        return;
      }
      for (const [p, text] of k8s) await emit(text, join(flags.out, p.slice('infra/k8s/'.length)));
    });

  withCommon(
    deploy.command('sync').description('write the checked-in deployment files (docker-compose.yml, infra/…)'),
  )
    .option('--check', 'change nothing; fail if a file differs from what the generator renders')
    .action(async (flags: DeployFlags & { check?: boolean }) => {
      const { drift, writeGenerated } = await import('../deploy/index.ts');
      const { files } = await render(flags, globals());
      if (flags.check) {
        const d = drift(ROOT, files);
        if (d.changed.length || d.stale.length) {
          throw new MaestroError(
            `deployment files out of date: ${[...d.changed, ...d.stale.map((s) => `${s} (stale)`)].join(', ')}`,
            { hint: 'run `maestro-eval deploy sync` and commit the result' },
          );
        }
        console.log(`deployment files up to date (${files.size} files)`);
        return;
      }
      const d = await writeGenerated(ROOT, files);
      for (const p of d.changed) console.log(`wrote ${p}`);
      for (const p of d.stale) console.log(`removed ${p}`);
      if (!d.changed.length && !d.stale.length)
        console.log(`deployment files up to date (${files.size} files)`);
    });
}
