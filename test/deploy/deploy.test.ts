// biome-ignore-all lint/suspicious/noTemplateCurlyInString: registry and Compose syntax in test inputs
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { expertQueueName } from '../../src/core/queues.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import { drift, generate } from '../../src/deploy/index.ts';
import { planDeployment } from '../../src/deploy/plan.ts';
import { REDIS_URL } from '../helpers/cluster.ts';
import {
  ComposeFile,
  type ComposeService,
  type Container,
  type Deployment,
  K8S_SCHEMAS,
  Kustomization,
  type ScaledObject,
  type Service,
} from './schemas.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RELEASE = ['registry/default.yaml', 'registry/ood.yaml'];
const generated = generate({ root: ROOT });
const plan = generated.plan;
const registry = loadRegistry(
  RELEASE.map((f) => join(ROOT, f)),
  {},
);

/** Compose's interpolation: `$$` is a dollar, `${VAR:-default}` takes the default when VAR is unset or empty. */
function interpolate(text: string, env: Record<string, string> = {}): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$/g,
    (m, name?: string, def?: string) => {
      if (m === '$$') return '$';
      if (m === '$') throw new Error('a lone "$": Compose would read it as a variable');
      const v = env[name ?? ''];
      return v !== undefined && v !== '' ? v : (def ?? '');
    },
  );
}

/** Interpolates every string of a parsed document, as Compose does after parsing. */
function interpolateAll(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  }
  return value;
}

function composeWith(env: Record<string, string> = {}): ComposeFile {
  const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  return ComposeFile.parse(interpolateAll(parse(text, { merge: true }), env));
}

/** Services `docker compose --profile P…` starts with `up` (those without profiles always). */
function enabled(doc: ComposeFile, profiles: string[]): Record<string, ComposeService> {
  return Object.fromEntries(
    Object.entries(doc.services).filter(
      ([, s]) => !s.profiles || s.profiles.some((p) => profiles.includes(p)),
    ),
  );
}

function argAfter(args: string[] | undefined, flag: string): string | undefined {
  const i = (args ?? []).indexOf(flag);
  return i >= 0 ? args?.[i + 1] : undefined;
}

function publishedPorts(s: ComposeService): number[] {
  return (s.ports ?? []).map((p) => Number(p.split(':').at(-1)));
}

describe('the checked-in deployment files', () => {
  it('are exactly what the generator renders from the registry and infra/models.yaml', () => {
    const d = drift(ROOT, generated.files);
    expect(d, 'run `maestro-eval deploy sync` and commit the result').toEqual({ changed: [], stale: [] });
    expect([...generated.files.keys()]).toEqual(
      expect.arrayContaining(['docker-compose.yml', 'infra/k8s/keda.yaml', 'infra/vllm/launch.sh']),
    );
  });
});

describe('docker-compose.yml', () => {
  const doc = composeWith();

  it('validates against the schema of the Compose subset it uses, with declared volumes and existing dependencies', () => {
    const names = new Set(Object.keys(doc.services));
    const volumes = new Set(Object.keys(doc.volumes ?? {}));
    for (const [name, s] of Object.entries(doc.services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const dep of deps) expect(names.has(dep), `${name} depends on ${dep}`).toBe(true);
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0] ?? '';
        if (!/^[./~]/.test(source)) expect(volumes.has(source), `${name} mounts volume ${source}`).toBe(true);
      }
      const ns = s.network_mode?.startsWith('service:') ? s.network_mode.slice(8) : undefined;
      if (ns) {
        const target = doc.services[ns];
        expect(target, `${name} joins ${ns}`).toBeDefined();
        // Whatever profile starts this service also starts the namespace it joins.
        for (const p of s.profiles ?? []) expect(target?.profiles ?? [p]).toContain(p);
      }
    }
  });

  it('runs every served endpoint of the registry on vLLM with its served model name, port and one GPU', () => {
    const netns = doc.services.vllm;
    expect(netns).toBeDefined();
    const served = [...registry.policies, ...registry.experts, ...registry.services].filter(
      (e) => new URL(e.baseUrl).hostname === '127.0.0.1',
    );
    expect(served.map((e) => e.name).sort()).toEqual(
      [
        'maestro',
        'Intern-S1-mini',
        'GLM-4.6V-Flash',
        'qwen3-vl-8b-instruct',
        'Chart-R1',
        'medgemma-1.5-4b-it',
        'DeepEyes-7B',
        'GLM-OCR',
        'PR1-Qwen2.5-VL-3B-Detection',
        'Qwen3.5-9B',
        'Step3-VL-10B',
      ].sort(),
    );
    const vllmServices = Object.entries(doc.services).filter(([n]) => n.startsWith('vllm-'));
    expect(vllmServices).toHaveLength(served.length);
    for (const e of served) {
      const found = vllmServices.find(([, s]) => argAfter(s.command, '--served-model-name') === e.model);
      expect(found, `a vLLM service serving ${e.model}`).toBeDefined();
      const [name, s] = found!;
      const port = Number(new URL(e.baseUrl).port);
      expect(Number(argAfter(s.command, '--port')), name).toBe(port);
      expect(argAfter(s.command, '--max-num-seqs'), name).toBe('512');
      expect(s.image, name).toMatch(/^vllm\/vllm-openai:/);
      expect(s.entrypoint).toEqual(['vllm', 'serve']);
      expect(s.network_mode).toBe('service:vllm');
      const devices = s.deploy?.resources.reservations.devices ?? [];
      expect(devices, name).toEqual([
        { driver: 'nvidia', device_ids: [expect.stringMatching(/^\d+$/)], capabilities: ['gpu'] },
      ]);
      expect(publishedPorts(netns!), name).toContain(port);
      // The release's ports (PROTOCOL.md) for the experts and services it names.
    }
    const byModel = (m: string) =>
      vllmServices.find(([, s]) => argAfter(s.command, '--served-model-name') === m)?.[1];
    const port = (m: string) => Number(argAfter(byModel(m)?.command, '--port'));
    expect([
      port('Intern-S1-mini'),
      port('GLM-4.6V-Flash'),
      port('qwen3-VL-8B-Instruct'),
      port('Chart-R1'),
      port('medgemma-1.5-4b-it'),
      port('DeepEyes-7B'),
      port('GLM-OCR'),
      port('PR1-Qwen2.5-VL-3B-Detection'),
      port('Qwen3.5-9B'),
      port('Step3-VL-10B'),
    ]).toEqual([2368, 2376, 2362, 2364, 2369, 2370, 2388, 2389, 2381, 2382]);
    expect(new Set(publishedPorts(netns!)).size).toBe(publishedPorts(netns!).length);
  });

  it('gives servers sharing a GPU a share of its memory that adds up to at most 90%', () => {
    const byDevice = new Map<string, number[]>();
    for (const [name, s] of Object.entries(doc.services)) {
      if (!name.startsWith('vllm-')) continue;
      const group = s.profiles?.[0] ?? '';
      const id = `${group}/${s.deploy?.resources.reservations.devices[0]?.device_ids[0]}`;
      const share = Number(argAfter(s.command, '--gpu-memory-utilization') ?? 0.9);
      byDevice.set(id, [...(byDevice.get(id) ?? []), share]);
    }
    const shared = [...byDevice.values()].filter((shares) => shares.length > 1);
    expect(shared.length).toBeGreaterThan(0); // infra/models.yaml puts GLM-OCR and the detector on one GPU
    for (const shares of byDevice.values())
      expect(shares.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(0.9 + 1e-9);
  });

  it('lets the workers of each profile reach every server of their registry through the compose network', () => {
    const envs: Array<Record<string, string>> = [
      {},
      { MAESTRO_POLICY_PORT: '8100', MAESTRO_POLICY_MODEL: 'maestro-4b' },
    ];
    for (const env of envs) {
      const d = composeWith(env);
      const pools = Object.entries(d.services).filter(([n]) => n.startsWith('pool-'));
      expect(pools.map(([, s]) => argAfter(s.command, '--experts')).sort()).toEqual(
        registry.experts.map((e) => e.name).sort(),
      );
      for (const [name, s] of [...pools, ['orchestrator', d.services.orchestrator] as const]) {
        const wenv = Object.fromEntries(
          Object.entries(s?.environment ?? {}).map(([k, v]) => [k, String(v ?? '')]),
        );
        expect(wenv.REDIS_URL).toMatch(/^redis:\/\/:?@?redis:6379$/);
        const files = (wenv.MAESTRO_REGISTRY ?? '')
          .split(',')
          .map((f) => join(ROOT, f.replace(/^\/app\//, '')));
        const r = loadRegistry(files, wenv);
        for (const e of [...r.policies, ...r.experts, ...r.services]) {
          const url = new URL(e.baseUrl);
          if (url.protocol === 'https:') continue; // an API model (caption)
          const host = d.services[url.hostname];
          expect(host, `${name}: ${e.name} at ${e.baseUrl}`).toBeDefined();
          expect(publishedPorts(host!), `${name}: ${e.name}`).toContain(Number(url.port));
          const server = Object.values(d.services).find(
            (x) => x.network_mode === `service:${url.hostname}` && argAfter(x.command, '--port') === url.port,
          );
          expect(argAfter(server?.command, '--served-model-name'), `${name}: ${e.name}`).toBe(e.model);
        }
      }
    }
  });

  it('runs the whole cluster without a GPU under --profile sim', () => {
    const sim = enabled(doc, ['sim']);
    expect(Object.keys(sim).sort()).toEqual(['redis', 'sim', 'sim-dashboard', 'sim-fixtures', 'sim-workers']);
    for (const [name, s] of Object.entries(sim)) expect(s.deploy, `${name} reserves no GPU`).toBeUndefined();
    expect(sim.sim?.command).toEqual(['sim', '--host', '0.0.0.0', '--port', '8990']);
    expect(sim['sim-workers']?.command).toEqual(['worker', '--role', 'all']);
    const env = sim['sim-workers']?.environment ?? {};
    expect(env.MAESTRO_SIM_URL).toBe('http://sim:8990');
    expect(env.MAESTRO_REGISTRY).toBe('/app/registry/simulated.yaml');
    expect(env.MAESTRO_PREFIX).not.toBe(doc.services.orchestrator?.environment?.MAESTRO_PREFIX);
    expect(readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8')).toContain('docker compose --profile sim up');
    // The gpu profile, by contrast, reserves one GPU per vLLM server.
    const gpu = enabled(doc, ['gpu']);
    expect(Object.values(gpu).filter((s) => s.deploy).length).toBe(
      plan.servers.filter((s) => s.group === 'gpu').length,
    );
  });

  it('runs Redis with AOF and noeviction', () => {
    const conf = readFileSync(join(ROOT, 'infra/redis.conf'), 'utf8');
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(doc.services.redis?.command?.slice(0, 2)).toEqual([
      'redis-server',
      '/usr/local/etc/redis/redis.conf',
    ]);
    expect(doc.services.redis?.volumes).toContain('./infra/redis.conf:/usr/local/etc/redis/redis.conf:ro');
  });

  // Compose v2 (`docker compose`) where the plugin is installed, else v1 (`docker-compose`,
  // Debian's package, which .ci/run installs): both must accept the file.
  const composeCli = (): string[] => {
    if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0)
      return ['docker', 'compose'];
    if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0)
      return ['docker-compose'];
    throw new Error(
      "no Compose client: install the docker compose plugin or Debian's docker-compose package",
    );
  };
  it('is accepted by the Compose client (`config`) with every profile', () => {
    const [cmd, ...pre] = composeCli();
    const r = spawnSync(
      cmd ?? 'docker',
      [
        ...pre,
        '--profile',
        'gpu',
        '--profile',
        'ood',
        '--profile',
        'sim',
        '--profile',
        'monitoring',
        'config',
        '--quiet',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('the Kubernetes manifests', () => {
  const dir = join(ROOT, 'infra/k8s');
  const objects: Array<{ file: string; kind: string; name: string; obj: unknown }> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const d of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const obj = d.toJS() as { kind: string; metadata: { name: string } };
      objects.push({ file, kind: obj.kind, name: obj.metadata.name, obj });
    }
  }
  const of = <T>(kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.obj as T);
  const deployments = of<Deployment>('Deployment');
  const services = of<Service>('Service');
  const container = (d: Deployment | undefined): Container | undefined => d?.spec.template.spec.containers[0];
  const deployment = (name: string) => deployments.find((d) => d.metadata.name === name);

  it('validate against the schemas of the kinds they use, and kustomization lists every file', () => {
    expect(objects.length).toBeGreaterThan(20);
    for (const o of objects) {
      const schema = K8S_SCHEMAS[o.kind];
      expect(schema, `${o.file}: kind ${o.kind}`).toBeDefined();
      const r = schema!.safeParse(o.obj);
      expect(r.success ? '' : `${o.file} ${o.kind}/${o.name}: ${JSON.stringify(r.error.issues[0])}`).toBe('');
    }
    const k = Kustomization.parse(parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')));
    expect(k.resources.sort()).toEqual(
      readdirSync(dir)
        .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
        .sort(),
    );
    const names = objects.map((o) => `${o.kind}/${o.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('select their own pods, and every Service targets a named container port', () => {
    for (const d of [...deployments, ...of<Deployment>('StatefulSet')]) {
      expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
    }
    for (const s of services) {
      const target = [...deployments, ...of<Deployment>('StatefulSet')].find((d) =>
        Object.entries(s.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
      );
      expect(target, `Service ${s.metadata.name} selects a workload`).toBeDefined();
      for (const p of s.spec.ports) {
        expect(
          container(target)?.ports?.map((x) => x.name),
          s.metadata.name,
        ).toContain(p.targetPort);
      }
    }
  });

  it('run one vLLM server per served endpoint on a GPU node, with the registry’s name and port', () => {
    for (const s of plan.servers) {
      const d = deployment(`vllm-${s.id}`);
      const c = container(d);
      expect(c?.args?.slice(1, 5), s.name).toEqual([
        '--served-model-name',
        s.model.value,
        '--port',
        s.port.value,
      ]);
      expect(c?.args).toContain('--max-num-seqs');
      expect(c?.resources?.limits?.['nvidia.com/gpu']).toBe('1');
      expect(d?.spec.template.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
      const svc = services.find((x) => x.metadata.name === `vllm-${s.id}`);
      expect(svc?.spec.ports[0]?.port).toBe(Number(s.port.value));
    }
    expect(plan.servers.find((s) => s.name === 'Chart-R1')?.port.value).toBe('2364');
  });

  it('point the registry ConfigMap at the vLLM Services without changing the sweep fingerprint', () => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.name === 'maestro-registry')?.obj as {
      data: Record<string, string>;
    };
    const tmp = mkdtempSync(join(tmpdir(), 'maestro-k8s-registry-'));
    try {
      const files = Object.entries(cm.data).map(([name, text]) => {
        writeFileSync(join(tmp, name), text);
        return join(tmp, name);
      });
      expect(Object.keys(cm.data)).toEqual(['default.yaml', 'ood.yaml']);
      const inCluster = loadRegistry(files, {});
      expect(inCluster.fingerprint()).toBe(registry.fingerprint());
      for (const e of [...inCluster.policies, ...inCluster.experts, ...inCluster.services]) {
        const url = new URL(e.baseUrl);
        if (url.protocol === 'https:') continue;
        const svc = services.find((s) => s.metadata.name === url.hostname);
        expect(
          svc?.spec.ports.map((p) => p.port),
          e.name,
        ).toContain(Number(url.port));
        const served = deployment(url.hostname);
        expect(argAfter(container(served)?.args, '--served-model-name'), e.name).toBe(e.model);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('run one pool per expert, next to its vLLM pod, and scale it with KEDA on its BullMQ wait list', () => {
    const scaled = of<ScaledObject>('ScaledObject');
    for (const e of registry.experts) {
      const pool = deployments.find((d) => argAfter(container(d)?.args, '--experts') === e.name);
      expect(pool, e.name).toBeDefined();
      const affinity = JSON.stringify(pool?.spec.template.spec.affinity);
      expect(affinity).toContain(`"app.kubernetes.io/name":"vllm-`);
      expect(container(pool)?.resources?.limits).toMatchObject({
        cpu: expect.any(String),
        memory: expect.any(String),
      });
      const so = scaled.find((s) => s.spec.scaleTargetRef.name === pool?.metadata.name);
      const trigger = so?.spec.triggers[0]?.metadata;
      expect(trigger?.listName, e.name).toBe(`${plan.prefix}:${expertQueueName(e.name)}:wait`);
      expect(trigger?.address).toBe('redis.maestro-eval.svc.cluster.local:6379');
      expect(container(pool)?.env?.map((v) => v.name)).toContain(trigger?.passwordFromEnv);
      expect(pool?.spec.replicas, 'KEDA owns the replica count').toBeUndefined();
    }
    for (const so of scaled) expect(deployment(so.spec.scaleTargetRef.name), so.metadata.name).toBeDefined();
    const redisConf = objects.find((o) => o.name === 'redis-conf')?.obj as { data: Record<string, string> };
    expect(redisConf.data['redis.conf']).toBe(readFileSync(join(ROOT, 'infra/redis.conf'), 'utf8'));
  });

  it('name the list BullMQ 6 really keeps waiting jobs in', async () => {
    const prefix = `{t-keda-${process.pid}}`;
    const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(expertQueueName('Chart-R1'), { connection: conn, prefix });
    try {
      await queue.add('call', { n: 1 });
      await queue.add('call', { n: 2 });
      const so = of<ScaledObject>('ScaledObject').find((s) => s.metadata.name === 'pool-chart-r1');
      const listName = so?.spec.triggers[0]?.metadata.listName ?? '';
      expect(listName.startsWith(plan.prefix)).toBe(true);
      const key = prefix + listName.slice(plan.prefix.length);
      expect(await conn.type(key)).toBe('list');
      expect(await conn.llen(key)).toBe(2);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      conn.disconnect();
    }
  });
});

describe('infra/vllm/launch.sh', () => {
  const script = join(ROOT, 'infra/vllm/launch.sh');
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync('bash', [script, '--print', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
    });
  const commands = (out: string) =>
    new Map(
      out
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2).split(' ')] as const),
    );

  it('is valid bash and launches every served endpoint with the registry’s served name and port', () => {
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
    const r = run(['gpu', 'ood']);
    expect(r.status).toBe(0);
    const cmds = commands(r.stdout);
    expect([...cmds.keys()].sort()).toEqual(plan.servers.map((s) => s.name).sort());
    for (const s of plan.servers) {
      const argv = cmds.get(s.name) ?? [];
      expect(argv.slice(0, 4), s.name).toEqual([
        'env',
        expect.stringMatching(/^CUDA_VISIBLE_DEVICES=\d+$/),
        'vllm',
        'serve',
      ]);
      expect(argAfter(argv, '--served-model-name'), s.name).toBe(s.model.value);
      expect(argAfter(argv, '--port'), s.name).toBe(s.port.value);
      expect(argAfter(argv, '--max-num-seqs'), s.name).toBe('512');
    }
  });

  it('follows the same variables as the registry, starts only what it is asked, and refuses unknown names', () => {
    const r = run(['maestro', 'Chart-R1'], {
      MAESTRO_POLICY_PORT: '8100',
      GPU_CHART_R1: '6',
      WEIGHTS_CHART_R1: '/models/c',
    });
    const cmds = commands(r.stdout);
    expect([...cmds.keys()]).toEqual(['maestro', 'Chart-R1']);
    expect(argAfter(cmds.get('maestro'), '--port')).toBe('8100');
    const policy = loadRegistry([join(ROOT, 'registry/default.yaml')], {
      MAESTRO_POLICY_PORT: '8100',
    }).policy('maestro');
    expect(new URL(policy.baseUrl).port).toBe('8100');
    expect(cmds.get('Chart-R1')?.slice(1, 5)).toEqual([
      'CUDA_VISIBLE_DEVICES=6',
      'vllm',
      'serve',
      '/models/c',
    ]);
    const bad = run(['no-such-model']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown server or group: no-such-model');
  });
});

describe('monitoring', () => {
  it('scrapes every worker service of the compose file and every vLLM server', () => {
    const prom = parse(readFileSync(join(ROOT, 'infra/prometheus/prometheus.yml'), 'utf8'));
    const doc = composeWith();
    const workers = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === 'maestro-workers');
    for (const name of workers.dns_sd_configs[0].names) expect(doc.services[name], name).toBeDefined();
    expect(workers.dns_sd_configs[0].names).toEqual(
      expect.arrayContaining(['orchestrator', 'scorer', 'pool-chart-r1', 'sim-workers']),
    );
    const vllm = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === 'vllm');
    expect(vllm.static_configs.map((c: { targets: string[] }) => c.targets[0]).sort()).toEqual(
      plan.servers.map((s) => `vllm:${s.port.value}`).sort(),
    );
  });

  it('charts only metrics the workers export (or vLLM and process metrics)', () => {
    const source = readdirSync(join(ROOT, 'src/metrics'))
      .map((f) => readFileSync(join(ROOT, 'src/metrics', f), 'utf8'))
      .join('\n');
    const exported = new Set([...source.matchAll(/name: '(maestro_[a-z_]+)'/g)].map((m) => m[1]));
    expect(exported.size).toBeGreaterThan(5);
    const dashboard = JSON.parse(
      readFileSync(join(ROOT, 'infra/grafana/dashboards/maestro-eval.json'), 'utf8'),
    );
    const exprs: string[] = dashboard.panels.flatMap((p: { targets?: Array<{ expr: string }> }) =>
      (p.targets ?? []).map((t) => t.expr),
    );
    expect(exprs.length).toBeGreaterThan(10);
    const used = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b(maestro_[a-z_]+)/g)].map((m) => m[1] ?? '')),
    );
    for (const name of used) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      expect(exported.has(name) || exported.has(base), name).toBe(true);
    }
    // The core worker metrics have panels.
    for (const name of [
      'maestro_queue_jobs',
      'maestro_items_done_total',
      'maestro_expert_in_flight',
      'maestro_skill_duration_seconds_bucket',
      'maestro_policy_step_duration_seconds_bucket',
      'maestro_job_failures_total',
    ]) {
      expect(used.has(name), name).toBe(true);
    }
    const ds = parse(
      readFileSync(join(ROOT, 'infra/grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    );
    expect(
      dashboard.panels.every(
        (p: { datasource?: { uid: string } }) => !p.datasource || p.datasource.uid === ds.datasources[0].uid,
      ),
    ).toBe(true);
  });
});

describe('the worker image', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('is a multi-stage node:20-slim build that prunes dev dependencies and runs unprivileged', () => {
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^node:20(\.\d+)*-(bookworm-)?slim$/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const user = dockerfile.search(/^USER (node|\d+)/m);
    expect(user).toBeGreaterThan(0);
    expect(user).toBeLessThan(dockerfile.search(/^ENTRYPOINT/m));
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/maestro-eval.js"\]/m);
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of (m[1] ?? '').split(/\s+/))
        expect(() => readFileSync(join(ROOT, src)), src).not.toThrow(/ENOENT/);
    }
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['node_modules', '.git', 'maestro-data']));
    // Everything the CLI imports at run time is a production dependency.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const dep of ['tsx', 'express', '@bull-board/api', '@bull-board/express', 'bullmq', 'yaml']) {
      expect(pkg.dependencies[dep], dep).toBeDefined();
    }
  });
});

describe('the generator', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'maestro-deploy-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const setup = (registryText: string, models: string) => {
    const dir = mkdtempSync(join(tmp, 'p-'));
    mkdirSync(join(dir, 'registry'));
    mkdirSync(join(dir, 'infra'));
    writeFileSync(join(dir, 'registry/r.yaml'), registryText);
    writeFileSync(join(dir, 'infra/models.yaml'), models);
    return () => planDeployment({ root: dir, files: ['registry/r.yaml'], modelsFile: 'infra/models.yaml' });
  };
  const expert = (name: string, url: string) =>
    `experts:\n  - { name: ${name}, model: ${name}, baseUrl: "${url}", capacity: 4 }\n`;

  it('refuses a served model without weights, a shared port, a fixed host, and files outside the project', () => {
    expect(setup(expert('A', 'http://${GPU:-127.0.0.1}:2400/v1'), 'servers: {}\n')).toThrow(
      /infra\/models.yaml at servers.A: no weights for "A"/,
    );
    expect(
      setup(
        `${expert('A', 'http://${GPU:-127.0.0.1}:2400/v1')}  - { name: B, model: B, baseUrl: "http://\${GPU:-127.0.0.1}:2400/v1" }\n`,
        'servers: { A: { weights: a }, B: { weights: b } }\n',
      ),
    ).toThrow(/"B" and "A" both use port 2400/);
    expect(setup(expert('A', 'http://127.0.0.1:2400/v1'), 'servers: { A: { weights: a } }\n')).toThrow(
      /needs a host variable and an explicit port/,
    );
    expect(() =>
      planDeployment({
        root: join(tmp, 'nowhere'),
        files: [join(ROOT, 'registry/default.yaml')],
        modelsFile: 'm.yaml',
      }),
    ).toThrow(/must be inside the project/);
  });

  it('leaves API endpoints out and follows a new expert into every file (no code change)', () => {
    const make = setup(
      `${expert('New-Expert', 'http://${NEW_HOST:-127.0.0.1}:2499/v1')}  - { name: api, model: gpt-x, baseUrl: "https://api.example.com/v1", apiKeyEnv: X_KEY }\n`,
      'servers: { New-Expert: { weights: org/new, args: [--trust-remote-code] } }\n',
    );
    const p = make();
    expect(p.servers.map((s) => [s.name, s.port.value, s.hostVar, s.weights.raw])).toEqual([
      ['New-Expert', '2499', 'NEW_HOST', '${WEIGHTS_NEW_EXPERT:-org/new}'],
    ]);
    expect(p.external.map((x) => x.name)).toEqual(['api']);
    expect(p.apiKeyVars).toEqual(['X_KEY']);
    expect(p.pools.map((x) => x.queue)).toEqual(['expert.New-Expert', 'expert.api']);
  });
});
