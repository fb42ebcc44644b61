/**
 * Adaptive per-endpoint concurrency, shared by every process of the cluster.
 *
 * An AIMD controller (additive increase, multiplicative decrease, with a TCP-like slow
 * start) per expert endpoint. Its state is one Redis hash; every pool process on every
 * host reports finished requests to it, and one Lua script folds each report in and, once
 * a window of reports is complete, decides: back off (×`decrease`) when the window's
 * latency rose past the target or past `tolerance` × the lowest latency seen, when too
 * many requests failed, or when the server reported requests waiting in its own queue;
 * otherwise grow, but only when the limit was actually used (the queue's active count,
 * read through BullMQ's `getActiveCount`, reached the limit). The script (`adaptive.lua`)
 * touches only the controller's own hash; the process that made a change applies it with
 * BullMQ's public `Queue.setGlobalConcurrency`, so one limit holds for every worker of the
 * queue. It never leaves [min, max], and max never exceeds the registry's capacity.
 *
 * Deciding and applying are two steps, so two processes that change the limit at nearly
 * the same time could apply their values out of order. Each applier therefore reads the
 * controller's limit back after writing and writes again until both agree: the last
 * writer always re-checks after every earlier decision, so the queue ends on the latest
 * limit. Workers idle on a full queue pick up a raised limit at the queue's next job
 * fetch (BullMQ wakes one blocked worker per job it moves to active), at the latest after
 * the worker's drain delay.
 *
 * Windows only count requests that started after the last change (an epoch number the
 * caller read before starting them), so a decision is judged by requests that ran under
 * the limit being judged — no clocks are compared across hosts.
 */
import { slug } from '../core/hash.ts';
import { type LuaConnection, loadLua, runLua } from '../core/lua.ts';
import type { AdaptiveConcurrency } from '../core/registry.ts';

/** Tuning of the controller. Only min and max are required; the rest have defaults. */
export interface AdaptiveSettings {
  /** Lowest limit (≥ 1). */
  min: number;
  /** Highest limit: the endpoint's capacity or less. */
  max: number;
  /** Back off when a window's mean latency exceeds it (ms). Default: none (relative to the lowest seen). */
  targetLatencyMs?: number;
  /** Without a target: back off when the mean exceeds tolerance × the lowest window mean. Default 1.5. */
  tolerance?: number;
  /** Multiplicative decrease after slow start (the first back-off halves). Default 0.75. */
  decrease?: number;
  /** Additive increase per healthy window (after slow start). Default 1. */
  increase?: number;
  /** Requests per decision window: max(windowMin, limit / 2) (during slow start at least 4). Default 8. */
  windowMin?: number;
  /** Share of failed requests in a window that counts as overload. Default 0.05. */
  errorRate?: number;
  /** How fast the lowest-latency reference forgets (fraction per window). Default 0.01. */
  drift?: number;
  /** First limit when no state exists yet. Default `min` (then slow start). */
  initial?: number;
  /** The state expires after this long without reports (ms). Default one day. */
  ttlMs?: number;
}

/** What the controller needs of the expert's BullMQ queue (public `Queue` methods). */
export interface ConcurrencyTarget {
  setGlobalConcurrency(concurrency: number): Promise<unknown>;
  getActiveCount(): Promise<number>;
}

/** What the controller needs of a connection: scripts and reading its hash. */
export type AdaptiveConnection = LuaConnection & {
  hget(key: string, field: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
};

/** Why a window ended the way it did. */
export type AdaptiveReason = 'hold' | 'grow' | 'latency' | 'errors' | 'congestion' | 'pending' | 'stale';
const REASONS: AdaptiveReason[] = ['hold', 'grow', 'latency', 'errors', 'congestion', 'pending', 'stale'];

export interface AdaptiveDecision {
  /** The limit in force after this report. */
  limit: number;
  /** The epoch after this report (changes whenever the limit changes). */
  epoch: number;
  reason: AdaptiveReason;
  /** The window's mean latency (ms) when a window closed with successes. */
  meanMs?: number;
}

export interface AdaptiveSample {
  /** Epoch seen when the request started (`controller.epoch`). */
  epoch: number;
  /** Latency of the endpoint's own calls (ms); omit for a failed request. */
  latencyMs?: number;
  /** The request failed in a way that can mean overload (timeout, 5xx, 429, reset). */
  error?: boolean;
}

/** Key of the controller hash of an endpoint. */
export function adaptiveStateKey(prefix: string, endpoint: string): string {
  return `${prefix}:adaptive:${slug(endpoint)}`;
}

/** Settings from a registry `adaptive` block; `max` is clamped to the capacity. */
export function adaptiveSettings(capacity: number, block: AdaptiveConcurrency): AdaptiveSettings {
  const max = Math.max(1, Math.min(block.max ?? capacity, capacity));
  return {
    min: Math.min(block.min, max),
    max,
    tolerance: block.tolerance,
    ...(block.targetLatencyMs !== undefined ? { targetLatencyMs: block.targetLatencyMs } : {}),
  };
}

const SCRIPT = loadLua(import.meta.url, './adaptive.lua');

/** The script's reply: limit, epoch, reason index, whether to apply, the window's mean. */
type Reply = [number, number, number, number, string?];

/** Rounds of "write, read back" before giving up on an applier race (each round is one decision behind). */
const APPLY_ROUNDS = 5;

/**
 * One endpoint's controller, as seen from one process. Several processes (and hosts)
 * construct one each on the same keys; they share one limit.
 */
export class AdaptiveController {
  /** The limit in force, as last seen by this process. */
  limit: number;
  /** The epoch last seen: pass it with the reports of requests started now. */
  epoch = 0;
  private congested = false;
  private readonly listeners: Array<(d: AdaptiveDecision) => void> = [];
  private readonly s: Required<Omit<AdaptiveSettings, 'targetLatencyMs'>> & { targetLatencyMs: number };

  constructor(
    private readonly conn: AdaptiveConnection,
    /** The controller's hash (`adaptiveStateKey`). */
    readonly stateKey: string,
    private readonly queue: ConcurrencyTarget,
    settings: AdaptiveSettings,
  ) {
    const max = Math.max(1, Math.floor(settings.max));
    const min = Math.max(1, Math.min(Math.floor(settings.min), max));
    this.s = {
      min,
      max,
      targetLatencyMs: settings.targetLatencyMs ?? 0,
      tolerance: settings.tolerance ?? 1.5,
      decrease: settings.decrease ?? 0.75,
      increase: settings.increase ?? 1,
      windowMin: settings.windowMin ?? 8,
      errorRate: settings.errorRate ?? 0.05,
      drift: settings.drift ?? 0.01,
      initial: Math.max(min, Math.min(settings.initial ?? min, max)),
      ttlMs: settings.ttlMs ?? 86_400_000,
    };
    this.limit = this.s.initial;
  }

  get settings(): Readonly<AdaptiveSettings> {
    return this.s;
  }

  /** Calls `fn` after every report that changed the limit. */
  onChange(fn: (d: AdaptiveDecision) => void): void {
    this.listeners.push(fn);
  }

  /** Creates the state if none exists (or clamps it to the current bounds) and applies the limit. */
  async init(): Promise<number> {
    const reply = (await runLua(
      this.conn,
      SCRIPT,
      [this.stateKey],
      ['init', this.s.min, this.s.max, this.s.ttlMs, Date.now(), this.s.initial],
    )) as Reply;
    this.limit = await this.apply(Number(reply[0]));
    this.epoch = Number(reply[1]);
    return this.limit;
  }

  /**
   * Sets the queue's global concurrency to `limit`, then reads the controller's limit back
   * and writes again while another process has changed it meanwhile. Returns the limit set.
   */
  private async apply(limit: number): Promise<number> {
    let value = limit;
    for (let round = 0; round < APPLY_ROUNDS; round++) {
      await this.queue.setGlobalConcurrency(value);
      const stored = await this.conn.hget(this.stateKey, 'limit');
      const current = stored === null ? value : Math.floor(Number(stored));
      if (current === value) break;
      value = current;
    }
    return value;
  }

  /**
   * Marks the server as queueing requests itself (from its `/metrics`): reports made while
   * set count as congestion.
   */
  setCongested(flag: boolean): void {
    this.congested = flag;
  }

  /** Reports one finished request. */
  async observe(sample: AdaptiveSample): Promise<AdaptiveDecision> {
    const s = this.s;
    const active = await this.queue.getActiveCount();
    const reply = (await runLua(
      this.conn,
      SCRIPT,
      [this.stateKey],
      [
        'sample',
        s.min,
        s.max,
        s.ttlMs,
        Date.now(),
        sample.epoch,
        sample.error ? 0 : Math.max(0, sample.latencyMs ?? 0),
        sample.error ? 1 : 0,
        this.congested ? 1 : 0,
        s.targetLatencyMs,
        s.tolerance,
        s.decrease,
        s.increase,
        s.windowMin,
        s.errorRate,
        s.drift,
        active,
      ],
    )) as Reply;
    const before = this.limit;
    const limit = Number(reply[3]) === 1 ? await this.apply(Number(reply[0])) : Number(reply[0]);
    const decision: AdaptiveDecision = {
      limit,
      epoch: Number(reply[1]),
      reason: REASONS[Number(reply[2])] ?? 'hold',
      ...(reply[4] !== undefined ? { meanMs: Number(reply[4]) } : {}),
    };
    this.limit = decision.limit;
    this.epoch = Math.max(this.epoch, decision.epoch);
    if (decision.limit !== before) for (const fn of this.listeners) fn(decision);
    return decision;
  }

  /** The shared state, for status displays. */
  static async read(conn: AdaptiveConnection, stateKey: string): Promise<AdaptiveState | null> {
    const h = await conn.hgetall(stateKey);
    if (!h.limit) return null;
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    return {
      limit: Math.floor(Number(h.limit)),
      min: num(h.min) ?? 1,
      max: num(h.max) ?? 1,
      epoch: num(h.epoch) ?? 0,
      ...(h.baseline ? { baselineMs: Number(h.baseline) } : {}),
      ...(h.mean ? { lastMeanMs: Number(h.mean) } : {}),
      lastReason: REASONS[Number(h.reason ?? 0)] ?? 'hold',
      updatedAt: num(h.at) ?? 0,
    };
  }
}

export interface AdaptiveState {
  limit: number;
  min: number;
  max: number;
  epoch: number;
  baselineMs?: number;
  lastMeanMs?: number;
  lastReason: AdaptiveReason;
  updatedAt: number;
}

/**
 * Sum of a gauge over all its series in a Prometheus text exposition, e.g.
 * `vllm:num_requests_waiting`. Null when the metric is absent.
 */
export function promGauge(text: string, name: string): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const sample = rest[0] === '{' ? rest.slice(rest.lastIndexOf('}') + 1) : rest;
    const value = Number(sample.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}

/**
 * Polls a vLLM `/metrics` endpoint and marks the controller congested while the server
 * holds requests in its own waiting queue (`vllm:num_requests_waiting` > 0): the batch is
 * full and more concurrency only adds queueing. Returns a stop function. Failures to
 * fetch are ignored (the latency signal still works).
 */
export function watchServerQueue(
  controller: AdaptiveController,
  metricsUrl: string,
  intervalMs = 2_000,
): () => void {
  let stopped = false;
  const tick = async () => {
    try {
      const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(Math.min(intervalMs, 5_000)) });
      if (!res.ok) return;
      const waiting = promGauge(await res.text(), 'vllm:num_requests_waiting');
      if (!stopped && waiting !== null) controller.setCongested(waiting > 0);
    } catch {
      // Unreachable metrics: keep the last reading's effect off.
      controller.setCongested(false);
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  void tick();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** An expert as the pool knows it (the fields adaptive concurrency reads). */
interface AdaptiveExpert {
  name: string;
  capacity: number;
  adaptive?: AdaptiveConcurrency | undefined;
}

/**
 * Starts the shared controller of an expert with an `adaptive` block, driving its BullMQ
 * queue, and the vLLM queue watcher when `metricsUrl` is set. Null when the expert has no
 * `adaptive` block (its global concurrency is its capacity).
 */
export async function startAdaptive(
  conn: AdaptiveConnection,
  prefix: string,
  expert: AdaptiveExpert,
  queue: ConcurrencyTarget,
): Promise<{ controller: AdaptiveController; stop(): void } | null> {
  if (!expert.adaptive) return null;
  const controller = new AdaptiveController(
    conn,
    adaptiveStateKey(prefix, expert.name),
    queue,
    adaptiveSettings(expert.capacity, expert.adaptive),
  );
  await controller.init();
  const stop = expert.adaptive.metricsUrl
    ? watchServerQueue(controller, expert.adaptive.metricsUrl)
    : () => {};
  return { controller, stop };
}
