/**
 * Process metrics of the worker roles (Prometheus, prom-client). The workers call the
 * small hooks below; nothing is exported over HTTP unless the process starts the metrics
 * server (src/metrics/server.ts). The same hooks feed the live figures that
 * `maestro-eval status` shows (src/metrics/live.ts).
 */
import type { Worker } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { RecentLatencies } from './live.ts';

/** This process's metrics registry (not prom-client's global one). */
export const registry = new Registry();

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const expertInFlight = new Gauge({
  name: 'maestro_expert_in_flight',
  help: 'Expert jobs (skill runs) in flight in this process, per expert endpoint',
  labelNames: ['expert'] as const,
  registers: [registry],
});
const skillSeconds = new Histogram({
  name: 'maestro_skill_duration_seconds',
  help: 'Duration of expert jobs (one skill run, all its model calls), per expert and skill',
  labelNames: ['expert', 'skill', 'outcome'] as const,
  buckets: SECONDS,
  registers: [registry],
});
const requestSeconds = new Histogram({
  name: 'maestro_expert_request_duration_seconds',
  help: 'Latency of requests to the expert endpoint itself, per expert and skill',
  labelNames: ['expert', 'skill'] as const,
  buckets: SECONDS,
  registers: [registry],
});
const policySeconds = new Histogram({
  name: 'maestro_policy_step_duration_seconds',
  help: 'Latency of one policy decision, per policy',
  labelNames: ['policy'] as const,
  buckets: SECONDS,
  registers: [registry],
});
const jobsCompleted = new Counter({
  name: 'maestro_jobs_completed_total',
  help: 'Jobs this process completed, per queue',
  labelNames: ['queue'] as const,
  registers: [registry],
});
const jobErrors = new Counter({
  name: 'maestro_job_errors_total',
  help: 'Failed job attempts in this process, per queue (each retry counts)',
  labelNames: ['queue'] as const,
  registers: [registry],
});
const jobRetries = new Counter({
  name: 'maestro_job_retries_total',
  help: 'Failed attempts that will be retried, per queue',
  labelNames: ['queue'] as const,
  registers: [registry],
});
const jobFailures = new Counter({
  name: 'maestro_job_failures_total',
  help: 'Jobs that failed for good (attempts exhausted or unrecoverable), per queue',
  labelNames: ['queue'] as const,
  registers: [registry],
});
const itemsDone = new Counter({
  name: 'maestro_items_done_total',
  help: 'Items scored (durable records written), per status',
  labelNames: ['status'] as const,
  registers: [registry],
});
const adaptiveLimit = new Gauge({
  name: 'maestro_adaptive_limit',
  help: 'Cluster-wide concurrency limit set by the adaptive controller, per expert',
  labelNames: ['expert'] as const,
  registers: [registry],
});
const adaptiveChanges = new Counter({
  name: 'maestro_adaptive_changes_total',
  help: 'Limit changes made by the adaptive controller from this process, per expert and reason',
  labelNames: ['expert', 'reason'] as const,
  registers: [registry],
});

let processMetrics = false;
/** Adds the standard process metrics (RSS, CPU, heap, event-loop lag) once. */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

/** Recent latencies for the live status (see live.ts). */
export const recent = new RecentLatencies();
const inFlightByExpert = new Map<string, number>();

/** In-flight expert jobs of this process, per expert. */
export function inFlightSnapshot(): Record<string, number> {
  return Object.fromEntries([...inFlightByExpert].filter(([, n]) => n > 0));
}

/** A model call as skills trace it (src/core/items.ts CallTrace). */
interface TracedCall {
  service: string;
  latencyMs: number;
  ok: boolean;
}

/**
 * Marks an expert job as started; call the returned function when it ends with its outcome
 * and the calls it made.
 */
export function expertJobStarted(
  expert: string,
  skill: string,
): (outcome: 'ok' | 'error', calls?: readonly TracedCall[]) => void {
  const started = performance.now();
  expertInFlight.inc({ expert });
  inFlightByExpert.set(expert, (inFlightByExpert.get(expert) ?? 0) + 1);
  let ended = false;
  return (outcome, calls = []) => {
    if (ended) return;
    ended = true;
    const ms = performance.now() - started;
    expertInFlight.dec({ expert });
    inFlightByExpert.set(expert, Math.max(0, (inFlightByExpert.get(expert) ?? 1) - 1));
    skillSeconds.observe({ expert, skill, outcome }, ms / 1000);
    for (const c of calls) {
      if (c.service === 'expert' && c.ok) requestSeconds.observe({ expert, skill }, c.latencyMs / 1000);
    }
    if (outcome === 'ok') recent.record(`expert|${expert}|${skill}`, ms);
  };
}

/** Latency of the endpoint's own calls in a skill's trace (mean of the ok expert calls). */
export function expertCallLatency(calls: readonly TracedCall[]): number | undefined {
  const own = calls.filter((c) => c.service === 'expert' && c.ok);
  if (own.length === 0) return undefined;
  return own.reduce((a, c) => a + c.latencyMs, 0) / own.length;
}

export function policyStep(policy: string, ms: number): void {
  policySeconds.observe({ policy }, ms / 1000);
  recent.record(`policy|${policy}`, ms);
}

export function itemDone(status: string): void {
  itemsDone.inc({ status });
}

export function adaptiveChanged(expert: string, limit: number, reason: string): void {
  adaptiveLimit.set({ expert }, limit);
  adaptiveChanges.inc({ expert, reason });
}

export function adaptiveSet(expert: string, limit: number): void {
  adaptiveLimit.set({ expert }, limit);
}

/** Counts a worker's completions, failed attempts, retries and final failures. */
export function watchWorker(worker: Worker, queue: string): void {
  worker.on('completed', () => jobsCompleted.inc({ queue }));
  worker.on('failed', (job, err) => {
    jobErrors.inc({ queue });
    const attempts = job?.opts.attempts ?? 1;
    const final = !job || err?.name === 'UnrecoverableError' || job.attemptsMade >= attempts;
    if (final) jobFailures.inc({ queue });
    else jobRetries.inc({ queue });
  });
}
