import { DelayedError, Queue, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import type { Redis } from 'ioredis';
import { type Benchmark, type BenchmarkCatalog, catalogFromDefs } from '../core/benchmarks.ts';
import { NotFoundError } from '../core/errors.ts';
import type { RolloutJobData } from '../core/jobs.ts';
import { keys } from '../core/queues.ts';
import { redactDeep, redactError } from '../core/redact.ts';
import type { Registry } from '../core/registry.ts';
import { SweepMeta } from '../core/sweep.ts';

/** Settings shared by every worker role. */
export interface WorkerSettings {
  /** Worker connection (maxRetriesPerRequest: null). */
  connection: Redis;
  prefix: string;
  /** Lock duration of active jobs (ms): a crashed worker's jobs return to the queue after it. */
  lockDuration?: number;
  /** How often to look for stalled jobs (ms). */
  stalledInterval?: number;
  /** How many times a job may stall (its worker died) before it fails. */
  maxStalledCount?: number;
  /**
   * Told when a sweep arrives whose datasets this host lacks (the text says what to run
   * here); the job goes back to the queue untouched, for a host that has them.
   */
  onRefuse?: (text: string) => void;
}

export function bullOptions(s: WorkerSettings) {
  return {
    connection: s.connection,
    prefix: s.prefix,
    lockDuration: s.lockDuration ?? 30_000,
    stalledInterval: s.stalledInterval ?? 15_000,
    maxStalledCount: s.maxStalledCount ?? 10,
  };
}

/** Sweep metadata from Redis, cached per process (it never changes for a sweep id). */
export class SweepCache {
  private readonly cache = new Map<string, SweepMeta>();
  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
  ) {}

  async get(sweepId: string): Promise<SweepMeta> {
    const hit = this.cache.get(sweepId);
    if (hit) return hit;
    const raw = await this.conn.get(keys.sweep(this.prefix, sweepId));
    if (!raw) throw new NotFoundError(`sweep ${sweepId} has no metadata in Redis (prefix ${this.prefix})`);
    const meta = SweepMeta.parse(JSON.parse(raw));
    this.cache.set(sweepId, meta);
    return meta;
  }
}

/** Queue handles by name, opened on first use and closed together. */
export class QueueCache {
  private readonly queues = new Map<string, Queue>();
  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
  ) {}

  get(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.conn, prefix: this.prefix });
      this.queues.set(name, q);
    }
    return q;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

const sweepCatalogs = new WeakMap<SweepMeta, BenchmarkCatalog>();

/**
 * A benchmark of a sweep: the definition the sweep carries (its own catalog), else the
 * worker's catalog (sweeps stored by older versions).
 */
export function sweepBenchmark(meta: SweepMeta, id: string, fallback: BenchmarkCatalog): Benchmark {
  if (!meta.catalog) return fallback.get(id);
  let catalog = sweepCatalogs.get(meta);
  if (!catalog) {
    catalog = catalogFromDefs(meta.catalog, `sweep ${meta.id}`);
    sweepCatalogs.set(meta, catalog);
  }
  return catalog.find(id) ?? fallback.get(id);
}

/** The item's domain for routing policies, from the sweep's own catalog; '' when unknown. */
export function sweepDomain(meta: SweepMeta, benchmark: string, catalog: BenchmarkCatalog): string {
  try {
    return sweepBenchmark(meta, benchmark, catalog).domain;
  } catch {
    return '';
  }
}

/**
 * A job processor whose results and errors pass through `redact` before BullMQ stores them
 * (return values, failure messages and stack traces): no configured key or bearer token
 * reaches Redis through a job.
 */
export function redacting<A extends unknown[], T>(process: (...args: A) => Promise<T>) {
  return async (...args: A): Promise<T> => {
    try {
      return redactDeep(await process(...args));
    } catch (err) {
      // BullMQ's signals (a rollout parked, delayed) carry no text: not worth a stack trace.
      if (err instanceof WaitingChildrenError || err instanceof DelayedError) throw err;
      throw redactError(err);
    }
  };
}

/** A rollout this worker can run: same registry as its sweep, a policy of the sweep. */
export function checkSweep(
  meta: SweepMeta,
  data: RolloutJobData,
  registry: Registry,
  fingerprint: string,
): SweepMeta {
  if (meta.registryFingerprint !== fingerprint) {
    throw new UnrecoverableError(
      `this worker's registry (${registry.files.join(', ')}) differs from the one sweep ${meta.id} was submitted with; start workers with the same --registry files${registry.usesRelease() ? ' and the same release checkout and prompt data (MAESTRO_UPSTREAM, MAESTRO_POLICY_PROMPT)' : ''}`,
    );
  }
  if (!meta.policies.some((p) => p.key === data.policy))
    throw new UnrecoverableError(`policy "${data.policy}" is not part of sweep ${meta.id}`);
  return meta;
}
