/**
 * Kubernetes manifests from the deployment plan (`kubectl apply -k infra/k8s`):
 * - one vLLM Deployment + Service per served endpoint, on GPU nodes (one GPU each);
 * - one expert-pool Deployment per expert, placed next to its vLLM pod when it can be,
 *   the orchestrator, the scorer and the dashboard on CPU nodes;
 * - KEDA ScaledObjects that scale each pool (and the orchestrator, the scorer) on the
 *   length of its BullMQ wait list;
 * - Redis (AOF, noeviction, password from a Secret) and the registry as a ConfigMap whose
 *   server URLs point at the vLLM Services.
 * Secrets are never generated: `maestro-redis` (key `password`) must exist; `maestro-api-keys`
 * (API keys as env vars), `maestro-dashboard` (`user`, `password`) and `hf-token` (`token`)
 * are optional.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseDocument } from 'yaml';
import { expertQueueName, ROLLOUT_QUEUE, SCORE_QUEUE } from '../core/queues.ts';
import { DASHBOARD_PORT, METRICS_PORT } from './compose.ts';
import type { DeployPlan, Server } from './plan.ts';
import { waitListKey } from './plan.ts';
import { yamlText } from './yaml-out.ts';

export interface K8sOptions {
  namespace: string;
  /** Worker image (override later with `kustomize edit set image maestro-eval=…`). */
  image: string;
  /** Contents of infra/redis.conf. */
  redisConf: string;
  /** Absolute paths of the registry files, in plan order (their text goes into the ConfigMap). */
  registryPaths: string[];
  /** Most pool replicas KEDA may run per expert. */
  maxPoolReplicas: number;
  maxOrchestrators: number;
  maxScorers: number;
}

const PART_OF = 'maestro-eval';
const GPU_NODE_LABEL = 'nvidia.com/gpu.present';
const GPU_TOLERATION = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
const REGISTRY_DIR = '/app/registry';

function labels(name: string, component: string, group?: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': PART_OF,
    ...(group ? { 'maestro-eval/group': group } : {}),
  };
}

function meta(name: string, ns: string, l: Record<string, string>) {
  return { name, namespace: ns, labels: l };
}

export function vllmServiceUrl(s: Server): string {
  return `http://vllm-${s.id}:${s.port.value}${s.path}`;
}

/** A registry file with each served endpoint's baseUrl pointed at its vLLM Service. */
export function clusterRegistry(text: string, plan: DeployPlan): string {
  const doc = parseDocument(text);
  const byName = new Map(plan.servers.map((s) => [s.name, s]));
  for (const list of ['policies', 'experts', 'services']) {
    const seq = doc.get(list, true) as {
      items?: Array<{ get(k: string): unknown; set(k: string, v: unknown): void }>;
    };
    for (const item of seq?.items ?? []) {
      const server = byName.get(String(item.get('name')));
      if (server) item.set('baseUrl', vllmServiceUrl(server));
    }
  }
  return doc.toString({ lineWidth: 0 });
}

function registryEnvPaths(files: string[]): string {
  return files.map((f) => `${REGISTRY_DIR}/${basename(f)}`).join(',');
}

function workerEnv(plan: DeployPlan, ns: string, registry: string[]) {
  return [
    { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'maestro-redis', key: 'password' } } },
    { name: 'REDIS_URL', value: `redis://:$(REDIS_PASSWORD)@redis.${ns}.svc.cluster.local:6379` },
    { name: 'MAESTRO_PREFIX', value: plan.prefix },
    { name: 'MAESTRO_DATA_DIR', value: '/data' },
    { name: 'MAESTRO_METRICS_HOST', value: '0.0.0.0' },
    { name: 'MAESTRO_METRICS_PORT', value: String(METRICS_PORT) },
    { name: 'MAESTRO_REGISTRY', value: registryEnvPaths(registry) },
  ];
}

interface WorkerSpec {
  name: string;
  component: string;
  group?: string;
  args: string[];
  registry: string[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  /** Prefer the node of this vLLM Deployment. */
  nearServer?: string;
  extraEnv?: unknown[];
  ports?: unknown[];
  probe?: unknown;
  /** Serves worker metrics on METRICS_PORT (default true). */
  metrics?: boolean;
}

function workerDeployment(plan: DeployPlan, opts: K8sOptions, w: WorkerSpec) {
  const l = labels(w.name, w.component, w.group);
  const metrics = w.metrics ?? true;
  const affinity = w.nearServer
    ? {
        podAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                labelSelector: { matchLabels: { 'app.kubernetes.io/name': w.nearServer } },
                topologyKey: 'kubernetes.io/hostname',
              },
            },
          ],
        },
      }
    : {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              preference: { matchExpressions: [{ key: GPU_NODE_LABEL, operator: 'DoesNotExist' }] },
            },
          ],
        },
      };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(w.name, opts.namespace, l),
    spec: {
      // No `replicas`: KEDA's autoscaler owns it (1 when not scaled), and `kubectl apply` must not reset it.
      selector: { matchLabels: { 'app.kubernetes.io/name': w.name } },
      template: {
        metadata: {
          labels: l,
          ...(metrics
            ? {
                annotations: {
                  'prometheus.io/scrape': 'true',
                  'prometheus.io/port': String(METRICS_PORT),
                  'prometheus.io/path': '/metrics',
                },
              }
            : {}),
        },
        spec: {
          terminationGracePeriodSeconds: 45,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
          affinity,
          ...(w.nearServer ? { tolerations: [GPU_TOLERATION] } : {}),
          containers: [
            {
              name: 'maestro',
              image: opts.image,
              args: w.args,
              env: [...workerEnv(plan, opts.namespace, w.registry), ...(w.extraEnv ?? [])],
              envFrom: [{ secretRef: { name: 'maestro-api-keys', optional: true } }],
              ports: [
                ...(metrics ? [{ name: 'metrics', containerPort: METRICS_PORT }] : []),
                ...(w.ports ?? []),
              ],
              livenessProbe: w.probe ?? {
                httpGet: { path: '/metrics', port: 'metrics' },
                periodSeconds: 30,
                timeoutSeconds: 10,
                failureThreshold: 4,
              },
              resources: w.resources,
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
              volumeMounts: [
                { name: 'data', mountPath: '/data' },
                { name: 'registry', mountPath: REGISTRY_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'data', persistentVolumeClaim: { claimName: 'maestro-data' } },
            { name: 'registry', configMap: { name: 'maestro-registry' } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

function vllmDeployment(s: Server, opts: K8sOptions, image: string) {
  const name = `vllm-${s.id}`;
  const l = labels(name, 'vllm', s.group);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name, opts.namespace, l),
    spec: {
      replicas: 1,
      // One GPU cannot hold the old and the new server at once.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: {
          labels: l,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': s.port.value,
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          nodeSelector: { [GPU_NODE_LABEL]: 'true' },
          tolerations: [GPU_TOLERATION],
          containers: [
            {
              name: 'vllm',
              image,
              command: ['vllm', 'serve'],
              args: [
                s.weights.value,
                '--served-model-name',
                s.model.value,
                '--port',
                s.port.value,
                ...s.argsWholeGpu,
              ],
              env: [
                {
                  name: 'HF_TOKEN',
                  valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token', optional: true } },
                },
              ],
              ports: [{ name: 'http', containerPort: Number(s.port.value) }],
              startupProbe: {
                httpGet: { path: '/health', port: 'http' },
                periodSeconds: 10,
                failureThreshold: 180,
              },
              readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 10 },
              livenessProbe: {
                httpGet: { path: '/health', port: 'http' },
                periodSeconds: 30,
                timeoutSeconds: 10,
                failureThreshold: 4,
              },
              resources: {
                requests: { cpu: '4', memory: '24Gi', 'nvidia.com/gpu': '1' },
                limits: { memory: '64Gi', 'nvidia.com/gpu': '1' },
              },
              volumeMounts: [
                { name: 'models', mountPath: '/root/.cache/huggingface', subPath: 'huggingface' },
                { name: 'models', mountPath: '/models', subPath: 'models', readOnly: true },
                { name: 'shm', mountPath: '/dev/shm' },
              ],
            },
          ],
          volumes: [
            { name: 'models', persistentVolumeClaim: { claimName: 'maestro-models' } },
            { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } },
          ],
        },
      },
    },
  };
}

function vllmService(s: Server, ns: string) {
  const name = `vllm-${s.id}`;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name, ns, labels(name, 'vllm', s.group)),
    spec: {
      selector: { 'app.kubernetes.io/name': name },
      ports: [{ name: 'http', port: Number(s.port.value), targetPort: 'http' }],
    },
  };
}

function scaledObject(
  name: string,
  queue: string,
  plan: DeployPlan,
  opts: K8sOptions,
  scale: { max: number; perReplica: number },
) {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: meta(name, opts.namespace, labels(name, 'autoscaling')),
    spec: {
      scaleTargetRef: { name },
      minReplicaCount: 1,
      maxReplicaCount: scale.max,
      pollingInterval: 15,
      cooldownPeriod: 300,
      triggers: [
        {
          type: 'redis',
          metadata: {
            address: `redis.${opts.namespace}.svc.cluster.local:6379`,
            listName: waitListKey(plan.prefix, queue),
            listLength: String(scale.perReplica),
            passwordFromEnv: 'REDIS_PASSWORD',
          },
        },
      ],
    },
  };
}

const docs = (header: string, items: unknown[]) =>
  items.map((item, i) => yamlText(item, i === 0 ? header : undefined)).join('---\n');

/** The manifests, by file name under infra/k8s/. */
export function renderK8s(plan: DeployPlan, opts: K8sOptions): Record<string, string> {
  const ns = opts.namespace;
  const source = `Generated by \`maestro-eval deploy sync\` from ${plan.files.join(' + ')} and ${plan.modelsFile}: do not edit.`;
  const vllmImage = plan.models.image;
  const files: Record<string, string> = {};

  files['namespace.yaml'] = docs(` ${source}`, [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'app.kubernetes.io/part-of': PART_OF } },
    },
  ]);

  files['storage.yaml'] = docs(
    ` ${source}\n Shared volumes. Both must be ReadWriteMany (NFS, EFS, Filestore, CephFS…): every worker\n reads the same data directory, every vLLM pod the same model cache. Set storageClassName for your cluster.`,
    [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: meta('maestro-data', ns, labels('maestro-data', 'storage')),
        spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '200Gi' } } },
      },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: meta('maestro-models', ns, labels('maestro-models', 'storage')),
        spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Ti' } } },
      },
    ],
  );

  const redisLabels = labels('redis', 'redis');
  files['redis.yaml'] = docs(
    ` ${source}\n Redis with infra/redis.conf (AOF, noeviction). The password comes from the Secret\n maestro-redis (key: password), which you create: see docs/deploy.md.`,
    [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: meta('redis-conf', ns, redisLabels),
        data: { 'redis.conf': opts.redisConf },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta('redis', ns, redisLabels),
        spec: {
          selector: { 'app.kubernetes.io/name': 'redis' },
          ports: [{ name: 'redis', port: 6379, targetPort: 'redis' }],
        },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: meta('redis', ns, redisLabels),
        spec: {
          serviceName: 'redis',
          replicas: 1,
          selector: { matchLabels: { 'app.kubernetes.io/name': 'redis' } },
          template: {
            metadata: { labels: redisLabels },
            spec: {
              containers: [
                {
                  name: 'redis',
                  image: 'redis:7.4',
                  command: ['redis-server', '/etc/redis/redis.conf', '--requirepass', '$(REDIS_PASSWORD)'],
                  env: [
                    {
                      name: 'REDIS_PASSWORD',
                      valueFrom: { secretKeyRef: { name: 'maestro-redis', key: 'password' } },
                    },
                    { name: 'REDISCLI_AUTH', value: '$(REDIS_PASSWORD)' },
                  ],
                  ports: [{ name: 'redis', containerPort: 6379 }],
                  readinessProbe: {
                    exec: { command: ['sh', '-c', 'redis-cli ping | grep -q PONG'] },
                    periodSeconds: 5,
                  },
                  resources: { requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '8Gi' } },
                  volumeMounts: [
                    { name: 'data', mountPath: '/data' },
                    { name: 'conf', mountPath: '/etc/redis', readOnly: true },
                  ],
                },
              ],
              volumes: [{ name: 'conf', configMap: { name: 'redis-conf' } }],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } },
            },
          ],
        },
      },
    ],
  );

  const registryData: Record<string, string> = {};
  plan.files.forEach((f, i) => {
    const path = opts.registryPaths[i];
    if (path) registryData[basename(f)] = clusterRegistry(readFileSync(path, 'utf8'), plan);
  });
  files['registry.yaml'] = docs(
    ` ${source}\n The registry files, with each served endpoint's baseUrl pointed at its vLLM Service\n (URLs are left out of a sweep's fingerprint: sweeps submitted with the original files match).`,
    [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: meta('maestro-registry', ns, labels('maestro-registry', 'registry')),
        data: registryData,
      },
    ],
  );

  files['vllm.yaml'] = docs(
    ` ${source}\n One vLLM server per served endpoint, one GPU each, on nodes labelled ${GPU_NODE_LABEL}=true\n (NVIDIA GPU feature discovery sets it). Weights download into the maestro-models volume.`,
    plan.servers.flatMap((s) => [vllmDeployment(s, opts, vllmImage), vllmService(s, ns)]),
  );

  const first = plan.files.slice(0, 1);
  const workers: unknown[] = [
    workerDeployment(plan, opts, {
      name: 'orchestrator',
      component: 'orchestrator',
      args: ['worker', '--role', 'orchestrator', '--concurrency', '32'],
      registry: first,
      resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } },
    }),
    workerDeployment(plan, opts, {
      name: 'scorer',
      component: 'scorer',
      args: ['worker', '--role', 'scorer'],
      registry: first,
      resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } },
    }),
    ...plan.pools.map((p) =>
      workerDeployment(plan, opts, {
        name: `pool-${p.id}`,
        component: 'expert-pool',
        group: p.group,
        args: ['worker', '--role', 'expert', '--experts', p.expert],
        registry: p.registry,
        resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '4', memory: '4Gi' } },
        ...(plan.servers.some((s) => s.name === p.expert) ? { nearServer: `vllm-${p.id}` } : {}),
      }),
    ),
  ];
  files['workers.yaml'] = docs(
    ` ${source}\n Workers. Expert pools prefer the node of their expert's vLLM pod; the others prefer CPU nodes.\n For out-of-domain sweeps: kubectl -n ${ns} set env deploy/orchestrator deploy/scorer MAESTRO_REGISTRY=${registryEnvPaths(plan.files)}`,
    workers,
  );

  files['dashboard.yaml'] = docs(
    ` ${source}\n The dashboard: kubectl -n ${ns} port-forward svc/dashboard ${DASHBOARD_PORT}. Basic auth from the optional\n Secret maestro-dashboard (keys user, password).`,
    [
      workerDeployment(plan, opts, {
        name: 'dashboard',
        component: 'dashboard',
        args: ['dashboard', '--host', '0.0.0.0', '--port', String(DASHBOARD_PORT)],
        registry: plan.files,
        resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
        extraEnv: [
          {
            name: 'MAESTRO_DASHBOARD_USER',
            valueFrom: { secretKeyRef: { name: 'maestro-dashboard', key: 'user', optional: true } },
          },
          {
            name: 'MAESTRO_DASHBOARD_PASSWORD',
            valueFrom: { secretKeyRef: { name: 'maestro-dashboard', key: 'password', optional: true } },
          },
        ],
        ports: [{ name: 'http', containerPort: DASHBOARD_PORT }],
        probe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 30 },
        metrics: false,
      }),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta('dashboard', ns, labels('dashboard', 'dashboard')),
        spec: {
          selector: { 'app.kubernetes.io/name': 'dashboard' },
          ports: [{ name: 'http', port: DASHBOARD_PORT, targetPort: 'http' }],
        },
      },
    ],
  );

  files['keda.yaml'] = docs(
    ` ${source}\n KEDA scales each pool on its queue's BullMQ wait list (${waitListKey(plan.prefix, '<queue>')}).\n An expert never gets more than its registry capacity in requests, whatever the replica count: extra\n pool replicas add CPU for skills (image work) and resilience. Add GPU throughput by adding vLLM\n replicas and raising the capacity in the registry.`,
    [
      scaledObject('orchestrator', ROLLOUT_QUEUE, plan, opts, {
        max: opts.maxOrchestrators,
        perReplica: 200,
      }),
      scaledObject('scorer', SCORE_QUEUE, plan, opts, { max: opts.maxScorers, perReplica: 100 }),
      ...plan.pools.map((p) =>
        scaledObject(`pool-${p.id}`, expertQueueName(p.expert), plan, opts, {
          max: opts.maxPoolReplicas,
          perReplica: Math.max(1, p.capacity),
        }),
      ),
    ],
  );

  const resources = Object.keys(files);
  files['kustomization.yaml'] = yamlText(
    {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources,
      images: [{ name: opts.image.split(':')[0], newTag: opts.image.split(':')[1] ?? 'latest' }],
    },
    ` ${source}\n kubectl apply -k infra/k8s   (needs KEDA for keda.yaml; see docs/deploy.md)\n Use your registry's image: kustomize edit set image ${opts.image.split(':')[0]}=<registry>/maestro-eval:<tag>`,
  );
  return files;
}
