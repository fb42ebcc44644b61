/**
 * The deployment generator: every deployment file of the project, rendered from the
 * registry files and infra/models.yaml. `maestro-eval deploy sync` writes them; `--check`
 * (and test/deploy) fails when a checked-in file differs from what the generator renders.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { renderCompose } from './compose.ts';
import { renderK8s } from './k8s.ts';
import { type DeployPlan, planDeployment } from './plan.ts';
import { renderPrometheus } from './prometheus.ts';
import { renderLaunchScript } from './vllm.ts';

export { planDeployment } from './plan.ts';

/** The registry files the checked-in deployment is generated from: the release, in-domain + out-of-domain. */
export const DEFAULT_DEPLOY_REGISTRY = ['registry/default.yaml', 'registry/ood.yaml'];
export const DEFAULT_MODELS_FILE = 'infra/models.yaml';
export const DEFAULT_SIM_REGISTRY = ['registry/simulated.yaml'];
export const K8S_DIR = 'infra/k8s';

export interface GenerateOptions {
  /** Project root. */
  root: string;
  /** Registry files (relative to root or absolute). */
  files?: string[];
  modelsFile?: string;
  /** Registry files of the compose `sim` profile. */
  simRegistry?: string[];
  prefix?: string;
  namespace?: string;
  image?: string;
  maxPoolReplicas?: number;
}

export interface Generated {
  plan: DeployPlan;
  /** Repo-relative path → content. */
  files: Map<string, string>;
}

export function generate(opts: GenerateOptions): Generated {
  const root = resolve(opts.root);
  const files = opts.files?.length ? opts.files : DEFAULT_DEPLOY_REGISTRY;
  const plan = planDeployment({
    root,
    files,
    modelsFile: opts.modelsFile ?? DEFAULT_MODELS_FILE,
    ...(opts.prefix ? { prefix: opts.prefix } : {}),
  });
  const out = new Map<string, string>();
  out.set(
    'docker-compose.yml',
    renderCompose(plan, { simRegistry: opts.simRegistry ?? DEFAULT_SIM_REGISTRY }),
  );
  const k8s = renderK8s(plan, {
    namespace: opts.namespace ?? 'maestro-eval',
    image: opts.image ?? 'maestro-eval:latest',
    redisConf: readFileSync(join(root, 'infra', 'redis.conf'), 'utf8'),
    registryPaths: plan.files.map((f) => join(root, f)),
    maxPoolReplicas: opts.maxPoolReplicas ?? 4,
    maxOrchestrators: 8,
    maxScorers: 4,
  });
  for (const [name, text] of Object.entries(k8s)) out.set(`${K8S_DIR}/${name}`, text);
  out.set('infra/vllm/launch.sh', renderLaunchScript(plan));
  out.set('infra/prometheus/prometheus.yml', renderPrometheus(plan));
  return { plan, files: out };
}

export interface Drift {
  /** Files whose content differs from the generator's (or that are missing). */
  changed: string[];
  /** Generated-directory files the generator no longer writes. */
  stale: string[];
}

/** Compares the generated files with those on disk. */
export function drift(root: string, files: Map<string, string>): Drift {
  const changed: string[] = [];
  for (const [path, text] of files) {
    const full = join(root, path);
    if (!existsSync(full) || readFileSync(full, 'utf8') !== text) changed.push(path);
  }
  const k8sDir = join(root, K8S_DIR);
  const stale = existsSync(k8sDir)
    ? readdirSync(k8sDir)
        .map((n) => `${K8S_DIR}/${n}`)
        .filter((p) => p.endsWith('.yaml') && !files.has(p))
    : [];
  return { changed, stale };
}

/** Writes the generated files (only those that changed) and removes stale ones. */
export async function writeGenerated(root: string, files: Map<string, string>): Promise<Drift> {
  const d = drift(root, files);
  for (const path of d.changed) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, files.get(path) ?? '');
    if (path.endsWith('.sh')) await chmod(full, 0o755);
  }
  for (const path of d.stale) await rm(join(root, path));
  return d;
}
