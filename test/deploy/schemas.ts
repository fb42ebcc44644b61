/**
 * Schemas of the subset of Compose and Kubernetes the generator writes. Strict: a field the
 * generator writes by mistake (a typo, a field in the wrong place) fails validation, as it
 * would fail `docker compose config` or `kubectl apply --dry-run=server`.
 */
import { z } from 'zod';

const Duration = z.string().regex(/^\d+(ms|s|m|h)$/, 'a Compose duration like 30s or 15m');
const Str = z.string();
const Strs = z.array(Str);

const DependsOn = z.union([
  Strs,
  z.record(
    Str,
    z
      .object({
        condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']),
        required: z.boolean().optional(),
        restart: z.boolean().optional(),
      })
      .strict(),
  ),
]);

const Healthcheck = z
  .object({
    test: z.union([Str, z.array(Str).min(2)]),
    interval: Duration.optional(),
    timeout: Duration.optional(),
    retries: z.number().int().positive().optional(),
    start_period: Duration.optional(),
  })
  .strict();

export const GpuDevice = z
  .object({
    driver: z.literal('nvidia'),
    device_ids: z.array(Str).length(1),
    capabilities: z.array(z.literal('gpu')).min(1),
  })
  .strict();

export const ComposeService = z
  .object({
    image: Str,
    build: z.union([Str, z.object({ context: Str, dockerfile: Str.optional() }).strict()]).optional(),
    entrypoint: Strs.optional(),
    command: Strs.optional(),
    profiles: Strs.min(1).optional(),
    environment: z.record(Str, z.union([Str, z.number(), z.boolean(), z.null()])).optional(),
    ports: z.array(Str.regex(/^(\S+:)?[^:\s]+:[^:\s]+$/, 'HOST_ADDR:HOST_PORT:CONTAINER_PORT')).optional(),
    volumes: Strs.optional(),
    depends_on: DependsOn.optional(),
    healthcheck: Healthcheck.optional(),
    restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']).optional(),
    network_mode: Str.optional(),
    ipc: z.enum(['host', 'private', 'shareable']).optional(),
    init: z.boolean().optional(),
    stop_grace_period: Duration.optional(),
    deploy: z
      .object({
        resources: z
          .object({ reservations: z.object({ devices: z.array(GpuDevice).min(1) }).strict() })
          .strict(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((s) => !(s.network_mode?.startsWith('service:') && s.ports), {
    message: 'a service in another service’s network namespace cannot publish ports',
  });
export type ComposeService = z.infer<typeof ComposeService>;

export const ComposeFile = z
  .object({
    name: Str.regex(/^[a-z0-9][a-z0-9_-]*$/).optional(),
    services: z.record(Str.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/), ComposeService),
    volumes: z.record(Str, z.object({}).strict().nullable()).optional(),
  })
  .catchall(z.unknown())
  .superRefine((doc, ctx) => {
    for (const key of Object.keys(doc)) {
      if (!['name', 'services', 'volumes'].includes(key) && !key.startsWith('x-')) {
        ctx.addIssue({ code: 'custom', message: `unknown top-level key "${key}"`, path: [key] });
      }
    }
  });
export type ComposeFile = z.infer<typeof ComposeFile>;

// ---- Kubernetes --------------------------------------------------------------------------

const Labels = z.record(
  Str.regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/),
  Str.regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/).max(63),
);
const DnsName = Str.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);
const Meta = z
  .object({
    name: DnsName,
    namespace: DnsName.optional(),
    labels: Labels.optional(),
    annotations: z.record(Str, Str).optional(),
  })
  .strict();
const Quantity = Str.regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/);
const Resources = z
  .object({ requests: z.record(Str, Quantity).optional(), limits: z.record(Str, Quantity).optional() })
  .strict();
const PortRef = z.union([z.number().int().positive(), Str]);
const Probe = z
  .object({
    httpGet: z.object({ path: Str, port: PortRef }).strict().optional(),
    exec: z.object({ command: Strs }).strict().optional(),
    periodSeconds: z.number().int().positive().optional(),
    timeoutSeconds: z.number().int().positive().optional(),
    failureThreshold: z.number().int().positive().optional(),
  })
  .strict();
const EnvVar = z
  .object({
    name: Str.regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
    value: Str.optional(),
    valueFrom: z
      .object({
        secretKeyRef: z.object({ name: DnsName, key: Str, optional: z.boolean().optional() }).strict(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine(
    (e) => (e.value === undefined) !== (e.valueFrom === undefined),
    'an env var has a value or a valueFrom',
  );
export const Container = z
  .object({
    name: DnsName,
    image: Str,
    command: Strs.optional(),
    args: Strs.optional(),
    env: z.array(EnvVar).optional(),
    envFrom: z
      .array(
        z
          .object({ secretRef: z.object({ name: DnsName, optional: z.boolean().optional() }).strict() })
          .strict(),
      )
      .optional(),
    ports: z
      .array(z.object({ name: Str.max(15), containerPort: z.number().int().min(1).max(65535) }).strict())
      .optional(),
    startupProbe: Probe.optional(),
    readinessProbe: Probe.optional(),
    livenessProbe: Probe.optional(),
    resources: Resources.optional(),
    securityContext: z
      .object({ allowPrivilegeEscalation: z.boolean(), readOnlyRootFilesystem: z.boolean() })
      .strict()
      .optional(),
    volumeMounts: z
      .array(
        z
          .object({
            name: DnsName,
            mountPath: Str,
            subPath: Str.optional(),
            readOnly: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();
export type Container = z.infer<typeof Container>;
const Volume = z
  .object({
    name: DnsName,
    persistentVolumeClaim: z.object({ claimName: DnsName }).strict().optional(),
    configMap: z.object({ name: DnsName }).strict().optional(),
    emptyDir: z
      .object({ medium: z.literal('Memory').optional(), sizeLimit: Quantity.optional() })
      .strict()
      .optional(),
  })
  .strict();
const Toleration = z.object({ key: Str, operator: z.enum(['Exists', 'Equal']), effect: Str }).strict();
const PodSpec = z
  .object({
    terminationGracePeriodSeconds: z.number().int().nonnegative().optional(),
    securityContext: z.record(Str, z.union([z.number(), z.boolean()])).optional(),
    nodeSelector: z.record(Str, Str).optional(),
    tolerations: z.array(Toleration).optional(),
    affinity: z.record(Str, z.unknown()).optional(),
    containers: z.array(Container).min(1),
    volumes: z.array(Volume).optional(),
  })
  .strict();
const PodTemplate = z
  .object({
    metadata: z.object({ labels: Labels, annotations: z.record(Str, Str).optional() }).strict(),
    spec: PodSpec,
  })
  .strict();
const Selector = z.object({ matchLabels: Labels }).strict();

export const Deployment = z
  .object({
    apiVersion: z.literal('apps/v1'),
    kind: z.literal('Deployment'),
    metadata: Meta,
    spec: z
      .object({
        replicas: z.number().int().nonnegative().optional(),
        strategy: z
          .object({ type: z.enum(['Recreate', 'RollingUpdate']) })
          .strict()
          .optional(),
        selector: Selector,
        template: PodTemplate,
      })
      .strict(),
  })
  .strict();
export type Deployment = z.infer<typeof Deployment>;

export const StatefulSet = z
  .object({
    apiVersion: z.literal('apps/v1'),
    kind: z.literal('StatefulSet'),
    metadata: Meta,
    spec: z
      .object({
        serviceName: DnsName,
        replicas: z.number().int().nonnegative(),
        selector: Selector,
        template: PodTemplate,
        volumeClaimTemplates: z.array(
          z
            .object({
              metadata: z.object({ name: DnsName }).strict(),
              spec: z.object({ accessModes: Strs, resources: Resources }).strict(),
            })
            .strict(),
        ),
      })
      .strict(),
  })
  .strict();
export type StatefulSet = z.infer<typeof StatefulSet>;

export const Service = z
  .object({
    apiVersion: z.literal('v1'),
    kind: z.literal('Service'),
    metadata: Meta,
    spec: z
      .object({
        selector: Labels,
        ports: z
          .array(
            z.object({ name: Str, port: z.number().int().min(1).max(65535), targetPort: PortRef }).strict(),
          )
          .min(1),
      })
      .strict(),
  })
  .strict();
export type Service = z.infer<typeof Service>;

export const ConfigMap = z
  .object({
    apiVersion: z.literal('v1'),
    kind: z.literal('ConfigMap'),
    metadata: Meta,
    data: z.record(Str, Str),
  })
  .strict();
export const Namespace = z
  .object({ apiVersion: z.literal('v1'), kind: z.literal('Namespace'), metadata: Meta })
  .strict();
export const PersistentVolumeClaim = z
  .object({
    apiVersion: z.literal('v1'),
    kind: z.literal('PersistentVolumeClaim'),
    metadata: Meta,
    spec: z
      .object({
        accessModes: z.array(z.enum(['ReadWriteOnce', 'ReadWriteMany', 'ReadOnlyMany'])),
        resources: Resources,
      })
      .strict(),
  })
  .strict();
export const ScaledObject = z
  .object({
    apiVersion: z.literal('keda.sh/v1alpha1'),
    kind: z.literal('ScaledObject'),
    metadata: Meta,
    spec: z
      .object({
        scaleTargetRef: z.object({ name: DnsName }).strict(),
        minReplicaCount: z.number().int().nonnegative(),
        maxReplicaCount: z.number().int().positive(),
        pollingInterval: z.number().int().positive(),
        cooldownPeriod: z.number().int().positive(),
        triggers: z
          .array(
            z
              .object({
                type: z.literal('redis'),
                metadata: z
                  .object({
                    address: Str.regex(/^[a-z0-9.-]+:\d+$/),
                    listName: Str.min(1),
                    listLength: Str.regex(/^\d+$/),
                    passwordFromEnv: Str,
                  })
                  .strict(),
              })
              .strict(),
          )
          .length(1),
      })
      .strict()
      .refine((s) => s.maxReplicaCount >= s.minReplicaCount, 'maxReplicaCount < minReplicaCount'),
  })
  .strict();
export type ScaledObject = z.infer<typeof ScaledObject>;
export const Kustomization = z
  .object({
    apiVersion: z.literal('kustomize.config.k8s.io/v1beta1'),
    kind: z.literal('Kustomization'),
    resources: Strs.min(1),
    images: z.array(z.object({ name: Str, newTag: Str }).strict()).optional(),
  })
  .strict();

export const K8S_SCHEMAS: Record<string, z.ZodType> = {
  Deployment,
  StatefulSet,
  Service,
  ConfigMap,
  Namespace,
  PersistentVolumeClaim,
  ScaledObject,
};
