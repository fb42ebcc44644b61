// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${VAR:-default} in messages is registry syntax, not a JS template
/**
 * The deployment plan of a registry: which endpoints are model servers this cluster runs
 * (one vLLM server each), which are external APIs, which expert pools the workers need and
 * which environment variables the registry reads. Compose, Kubernetes, the vLLM launch
 * script and the Prometheus configuration are all rendered from this plan, so they agree
 * with the registry and with each other by construction.
 */
import { basename, extname, relative, resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { DEFAULT_PREFIX, expertQueueName } from '../core/queues.ts';
import { loadRegistry, type Registry } from '../core/registry.ts';
import { readYamlFile } from '../core/yaml-file.ts';
import { type Expr, expr, literal, references, variable } from './expr.ts';
import { loadModels, type ModelsFile, serverSettings } from './models.ts';

export type EndpointKind = 'policy' | 'expert' | 'service';

/** One model server (vLLM) the cluster runs. */
export interface Server {
  kind: EndpointKind;
  /** Registry name. */
  name: string;
  /** DNS-safe id, unique in the plan: `vllm-<id>`, `pool-<id>`. */
  id: string;
  /** Served model name (`--served-model-name`), as the registry writes it. */
  model: Expr;
  /** Port, as the registry writes it. */
  port: Expr;
  /** URL path after the port (normally `/v1`). */
  path: string;
  /** Variable naming the host in the registry's baseUrl (e.g. MAESTRO_GPU_HOST). */
  hostVar: string;
  /** Deployment group: `gpu` for the first registry file, the file's base name for the others. */
  group: string;
  /** `--model`: weights, overridable with WEIGHTS_<ID>. */
  weights: Expr;
  /** GPU index on its host, overridable with GPU_<ID>. */
  gpu: Expr;
  /** vLLM arguments after model, served name and port: defaults, the memory share when the GPU is shared, per-server ones. */
  args: string[];
  /** Same as `args` without the GPU memory share (each server gets a whole GPU on Kubernetes). */
  argsWholeGpu: string[];
}

/** An endpoint the cluster calls but does not run (an API model). */
export interface External {
  kind: EndpointKind;
  name: string;
  baseUrl: string;
  apiKeyEnv?: string;
}

/** An expert pool: workers serving one expert's queue. */
export interface Pool {
  expert: string;
  id: string;
  queue: string;
  capacity: number;
  group: string;
  /** Registry files (repo-relative) a worker of this pool loads: its group's file and those before it. */
  registry: string[];
}

export interface DeployPlan {
  /** Registry files, relative to the project root. */
  files: string[];
  /** The models file, relative to the project root. */
  modelsFile: string;
  models: ModelsFile;
  /** Groups in file order (`gpu` first). */
  groups: string[];
  servers: Server[];
  external: External[];
  pools: Pool[];
  /** Every variable the registry files read, with its default (hosts of servers excluded). */
  variables: Map<string, string>;
  /** Variables naming the hosts of servers. */
  hostVars: string[];
  /** Variables holding API keys (apiKeyEnv). */
  apiKeyVars: string[];
  prefix: string;
  registry: Registry;
}

export interface PlanOptions {
  /** Registry files (absolute or relative to `root`). */
  files: string[];
  /** infra/models.yaml (absolute or relative to `root`). */
  modelsFile: string;
  /** The project root: container paths are computed relative to it. */
  root: string;
  /** Key prefix of the queues (for KEDA's list names). Default {maestro}. */
  prefix?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const REF = String.raw`\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}`;
const URL_SHAPE = new RegExp(`^https?://(${REF}|[^:/$]+)(?::(${REF}|\\d+))?(/[^?#]*)?$`);

/** A lower-case DNS label from a name: `GLM-4.6V-Flash` → `glm-4-6v-flash`. */
export function dnsId(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
}

/** An environment variable suffix from an id: `glm-4-6v-flash` → `GLM_4_6V_FLASH`. */
export function envSuffix(id: string): string {
  return id.toUpperCase().replace(/-/g, '_');
}

function groupName(file: string, index: number): string {
  return index === 0 ? 'gpu' : dnsId(basename(file, extname(file))) || `group${index}`;
}

interface RawEntry {
  file: string;
  fileIndex: number;
  list: string;
  index: number;
  entry: Record<string, unknown>;
}

/** Every variable referenced anywhere in a parsed YAML value. */
function collectRefs(value: unknown, into: Map<string, string>, where: string): void {
  if (typeof value === 'string') {
    for (const ref of references(value)) {
      if (!into.has(ref.name))
        into.set(ref.name, expr(`\${${ref.name}:-${ref.fallback ?? ''}}`, where).value);
    }
  } else if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, into, where);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) collectRefs(v, into, where);
  }
}

export function planDeployment(opts: PlanOptions): DeployPlan {
  const root = resolve(opts.root);
  const abs = opts.files.map((f) => resolve(root, f));
  const rel = (f: string) => {
    const r = relative(root, f);
    if (r.startsWith('..')) {
      throw new ConfigError(f, '', 'registry and models files must be inside the project', {
        hint: `containers see the project at /app; move the file under ${root}`,
      });
    }
    return r.split('\\').join('/');
  };
  const files = abs.map(rel);
  const modelsAbs = resolve(root, opts.modelsFile);
  const models = loadModels(modelsAbs);
  // Defaults only: the output must not depend on the environment of whoever generates it.
  const registry = loadRegistry(abs, {});
  const groups = abs.map(groupName);
  if (new Set(groups).size !== groups.length) {
    throw new ConfigError(
      abs.join(' + '),
      '',
      `registry files must have distinct base names (groups: ${groups.join(', ')})`,
    );
  }

  const rawByName = new Map<string, RawEntry>();
  const variables = new Map<string, string>();
  abs.forEach((file, fileIndex) => {
    const doc = readYamlFile(file) as Record<string, unknown> | null;
    collectRefs(doc, variables, file);
    for (const list of ['policies', 'experts', 'services']) {
      const items = doc?.[list];
      if (!Array.isArray(items)) continue;
      items.forEach((entry: Record<string, unknown>, index) => {
        rawByName.set(`${list}:${String(entry.name)}`, { file, fileIndex, list, index, entry });
      });
    }
  });

  const servers: Server[] = [];
  const external: External[] = [];
  const ids = new Map<string, string>();
  const ports = new Map<string, string>();
  const hostVars = new Set<string>();
  const endpoints: Array<{
    kind: EndpointKind;
    list: string;
    e: { name: string; baseUrl: string; apiKeyEnv?: string | undefined };
  }> = [
    ...registry.policies.map((e) => ({ kind: 'policy' as const, list: 'policies', e })),
    ...registry.experts.map((e) => ({ kind: 'expert' as const, list: 'experts', e })),
    ...registry.services.map((e) => ({ kind: 'service' as const, list: 'services', e })),
  ];
  for (const { kind, list, e } of endpoints) {
    const raw = rawByName.get(`${list}:${e.name}`);
    if (!raw) throw new ConfigError(abs.join(' + '), list, `cannot find "${e.name}" in the raw files`);
    const where = `${raw.file} at ${list}[${raw.index}]`;
    const hostname = new URL(e.baseUrl).hostname;
    if (!LOOPBACK.has(hostname)) {
      external.push({
        kind,
        name: e.name,
        baseUrl: e.baseUrl,
        ...(e.apiKeyEnv ? { apiKeyEnv: e.apiKeyEnv } : {}),
      });
      continue;
    }
    const rawUrl = String(raw.entry.baseUrl);
    const shape = URL_SHAPE.exec(rawUrl);
    const hostRef = shape?.[1] ? references(shape[1])[0] : undefined;
    if (!shape || !hostRef || !shape[2]) {
      throw new ConfigError(
        raw.file,
        `${list}[${raw.index}].baseUrl`,
        `cannot deploy "${rawUrl}": a served endpoint needs a host variable and an explicit port`,
        {
          hint: 'e.g. http://${MAESTRO_GPU_HOST:-127.0.0.1}:2376/v1, so containers can point the host elsewhere',
        },
      );
    }
    const id = dnsId(e.name);
    const prior = ids.get(id);
    if (prior) throw new ConfigError(where, 'name', `"${e.name}" and "${prior}" map to the same id "${id}"`);
    ids.set(id, e.name);
    const port = expr(shape[2], where);
    const priorPort = ports.get(port.value);
    if (priorPort) {
      throw new ConfigError(where, 'baseUrl', `"${e.name}" and "${priorPort}" both use port ${port.value}`, {
        hint: 'every served endpoint needs its own port (they share one network namespace per host)',
      });
    }
    ports.set(port.value, e.name);
    hostVars.add(hostRef.name);
    const settings = serverSettings(models, e.name, modelsAbs);
    const suffix = envSuffix(id);
    const weights = settings.weights.includes('${')
      ? expr(settings.weights, `${modelsAbs} at servers.${e.name}.weights`)
      : variable(`WEIGHTS_${suffix}`, settings.weights);
    servers.push({
      kind,
      name: e.name,
      id,
      model: expr(String(raw.entry.model), where),
      port,
      path: shape[3] ?? '',
      hostVar: hostRef.name,
      group: groups[raw.fileIndex] ?? 'gpu',
      weights,
      gpu: literal('0'), // assigned below
      args: [],
      argsWholeGpu: [...models.args, ...settings.args],
    });
  }

  // Grouped by registry file, then policies, experts, services in registry order.
  const rank = { policy: 0, expert: 1, service: 2 };
  servers.sort((a, b) => groups.indexOf(a.group) - groups.indexOf(b.group) || rank[a.kind] - rank[b.kind]);

  // GPU indices: explicit ones from the models file, the rest in order, skipping used ones.
  const used = new Set<number>();
  for (const s of servers) {
    const g = models.servers[s.name]?.gpu;
    if (g !== undefined) used.add(g);
  }
  const gpuOf = new Map<string, number>();
  let next = 0;
  for (const s of servers) {
    let g = models.servers[s.name]?.gpu;
    if (g === undefined) {
      while (used.has(next)) next++;
      g = next;
      used.add(g);
    }
    gpuOf.set(s.name, g);
  }
  for (const s of servers) {
    const g = gpuOf.get(s.name) ?? 0;
    const sharing = servers.filter((o) => o.group === s.group && gpuOf.get(o.name) === g).length;
    const share = Math.floor((models.gpuMemory / sharing) * 100) / 100;
    s.gpu = variable(`GPU_${envSuffix(s.id)}`, String(g));
    s.args = [
      ...models.args,
      ...(sharing > 1 ? ['--gpu-memory-utilization', share.toFixed(2)] : []),
      ...(models.servers[s.name]?.args ?? []),
    ];
  }

  const pools: Pool[] = registry.experts.map((e) => {
    const raw = rawByName.get(`experts:${e.name}`);
    const fileIndex = raw?.fileIndex ?? 0;
    return {
      expert: e.name,
      id: dnsId(e.name),
      queue: expertQueueName(e.name),
      capacity: e.capacity,
      group: groups[fileIndex] ?? 'gpu',
      registry: files.slice(0, fileIndex + 1),
    };
  });

  for (const v of hostVars) variables.delete(v);
  const apiKeyVars = [...new Set(external.flatMap((x) => (x.apiKeyEnv ? [x.apiKeyEnv] : [])))].sort();
  return {
    files,
    modelsFile: rel(modelsAbs),
    models,
    groups,
    servers,
    external,
    pools,
    variables,
    hostVars: [...hostVars].sort(),
    apiKeyVars,
    prefix: opts.prefix ?? DEFAULT_PREFIX,
    registry,
  };
}

/** The Redis list BullMQ keeps a queue's waiting jobs in (what KEDA measures). */
export function waitListKey(prefix: string, queue: string): string {
  return `${prefix}:${queue}:wait`;
}
