/**
 * Adaptive per-endpoint concurrency, shared by every process of the cluster.
 *
 * An AIMD controller (additive increase, multiplicative decrease, with a TCP-like slow
 * start) per expert endpoint. Its state is one Redis hash; every pool process on every
 * host reports finished requests to it, and one Lua script folds each report in and, once
 * a window of reports is complete, decides: back off (×`decrease`) when the window's
 * latency rose past the target or past `tolerance` × the lowest latency seen, when too
 * many requests failed, or when the server reported requests waiting in its own queue;
 * otherwise grow, but only when the limit was actually used. The decision is applied in
 * the same script by writing the BullMQ queue's global concurrency (what
 * `Queue.setGlobalConcurrency` writes), so one limit holds for every worker of the queue.
 * It never leaves [min, max], and max never exceeds the registry's capacity.
 *
 * Windows only count requests that started after the last change (an epoch number the
 * caller read before starting them), so a decision is judged by requests that ran under
 * the limit being judged — no clocks are compared across hosts.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { slug } from '../core/hash.ts';
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

/** Redis keys the script touches. All share the prefix's hash tag (one Redis Cluster slot). */
export interface AdaptiveKeys {
  /** The controller's hash. */
  state: string;
  /** The BullMQ queue's meta hash (its `concurrency` field is the global concurrency). */
  meta: string;
  /** The BullMQ queue's marker (wakes blocked workers when the limit grows). */
  marker: string;
  /** The BullMQ queue's active list (what the global concurrency counts). */
  active: string;
}

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

const SCRIPT = `
local state, meta, marker, active = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op = ARGV[1]
local min = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local now = ARGV[5]
local function clamp(x)
  if x < min then return min end
  if x > max then return max end
  return x
end
local function apply(limit, grew)
  local n = math.floor(limit)
  redis.call('HSET', meta, 'concurrency', n)
  if grew then redis.call('ZADD', marker, 0, '0') end
  return n
end
local function fresh(limit)
  redis.call('HSET', state, 'limit', limit, 'epoch', 1, 'ssthresh', max, 'n', 0, 'ok', 0, 'errs', 0,
    'sum', 0, 'cong', 0, 'peak', 0, 'min', min, 'max', max, 'at', now)
  redis.call('PEXPIRE', state, ttl)
  return {apply(limit, true), 1, 0}
end

local s = redis.call('HMGET', state, 'limit', 'epoch', 'n', 'ok', 'errs', 'sum', 'cong', 'peak', 'baseline', 'ssthresh')
local limit = tonumber(s[1])
if op == 'init' then
  if not limit then return fresh(clamp(tonumber(ARGV[6]))) end
  -- Another process runs it already: keep its state, apply the current bounds.
  limit = clamp(limit)
  redis.call('HSET', state, 'limit', limit, 'min', min, 'max', max)
  redis.call('PEXPIRE', state, ttl)
  return {apply(limit, true), tonumber(s[2]), 0}
end
if not limit then return fresh(min) end

local epoch = tonumber(s[2])
if tonumber(ARGV[6]) < epoch then return {math.floor(limit), epoch, 6} end
local latency, isErr, congested = tonumber(ARGV[7]), ARGV[8] == '1', ARGV[9] == '1'
local target, tol, beta, alpha = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local windowMin, errRate, drift = tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16])
local n, ok, errs, sum = tonumber(s[3]) + 1, tonumber(s[4]), tonumber(s[5]), tonumber(s[6])
local cong, peak = tonumber(s[7]), tonumber(s[8])
if isErr then errs = errs + 1 else ok = ok + 1; sum = sum + latency end
if congested then cong = cong + 1 end
local act = redis.call('LLEN', active)
if act > peak then peak = act end
local ssthresh = tonumber(s[10]) or max
-- Slow start judges smaller windows (it only looks for the region); afterwards windowMin.
local need = math.max(windowMin, math.ceil(limit / 2))
if limit < ssthresh then need = math.max(math.min(4, windowMin), math.ceil(limit / 2)) end
if n < need then
  redis.call('HSET', state, 'n', n, 'ok', ok, 'errs', errs, 'sum', sum, 'cong', cong, 'peak', peak)
  redis.call('PEXPIRE', state, ttl)
  return {math.floor(limit), epoch, 5}
end

-- The window is complete: decide.
local baseline = tonumber(s[9])
local mean = nil
if ok > 0 then mean = sum / ok end
local reason = 0
if errs / n > errRate then reason = 3
elseif cong * 2 > n then reason = 4
elseif mean and target > 0 and mean > target then reason = 2
elseif mean and target <= 0 and baseline and mean > baseline * tol then reason = 2
end
if mean then
  if (not baseline) or mean < baseline then baseline = mean else baseline = baseline * (1 + drift) end
end
local old = math.floor(limit)
if reason > 0 then
  -- Leaving slow start: the limit before the last doubling was healthy, so go back to it
  -- (halve) rather than creep down from an overshoot; afterwards decrease by beta.
  if ssthresh >= max and limit > min then limit = clamp(limit * 0.5) else limit = clamp(limit * beta) end
  ssthresh = limit
elseif peak >= math.ceil(0.9 * old) then
  -- Grow only a limit that was used: an idle endpoint's limit says nothing about load.
  if limit < ssthresh then limit = clamp(math.min(limit * 2, ssthresh)) else limit = clamp(limit + alpha) end
  if math.floor(limit) > old then reason = 1 end
end
local new = math.floor(limit)
if new ~= old then epoch = epoch + 1 end
redis.call('HSET', state, 'limit', limit, 'epoch', epoch, 'ssthresh', ssthresh, 'n', 0, 'ok', 0, 'errs', 0,
  'sum', 0, 'cong', 0, 'peak', 0, 'at', now, 'reason', reason)
if baseline then redis.call('HSET', state, 'baseline', baseline) end
if mean then redis.call('HSET', state, 'mean', mean) end
redis.call('PEXPIRE', state, ttl)
if new ~= old then apply(limit, new > old) end
if mean then return {new, epoch, reason, tostring(mean)} end
return {new, epoch, reason}
`;

const SHA = createHash('sha1').update(SCRIPT).digest('hex');

/** Runs the script by hash, loading it once per server (EVALSHA, then EVAL on NOSCRIPT). */
async function runScript(conn: Redis, keys: AdaptiveKeys, args: Array<string | number>): Promise<unknown> {
  const k = [keys.state, keys.meta, keys.marker, keys.active];
  try {
    return await conn.evalsha(SHA, k.length, ...k, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
    return conn.eval(SCRIPT, k.length, ...k, ...args);
  }
}

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
    private readonly conn: Redis,
    readonly keys: AdaptiveKeys,
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
    const reply = (await runScript(this.conn, this.keys, [
      'init',
      this.s.min,
      this.s.max,
      this.s.ttlMs,
      Date.now(),
      this.s.initial,
    ])) as [number, number, number];
    this.limit = Number(reply[0]);
    this.epoch = Number(reply[1]);
    return this.limit;
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
    const reply = (await runScript(this.conn, this.keys, [
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
    ])) as [number, number, number, string?];
    const before = this.limit;
    const decision: AdaptiveDecision = {
      limit: Number(reply[0]),
      epoch: Number(reply[1]),
      reason: REASONS[Number(reply[2])] ?? 'hold',
      ...(reply[3] !== undefined ? { meanMs: Number(reply[3]) } : {}),
    };
    this.limit = decision.limit;
    this.epoch = Math.max(this.epoch, decision.epoch);
    if (decision.limit !== before) for (const fn of this.listeners) fn(decision);
    return decision;
  }

  /** The shared state, for status displays. */
  static async read(conn: Redis, stateKey: string): Promise<AdaptiveState | null> {
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
 * Starts the shared controller of an expert with an `adaptive` block, on its BullMQ queue's
 * keys (`queue.keys`), and the vLLM queue watcher when `metricsUrl` is set. Null when the
 * expert has no `adaptive` block (its global concurrency is its capacity).
 */
export async function startAdaptive(
  conn: Redis,
  prefix: string,
  expert: AdaptiveExpert,
  queueKeys: Record<string, string>,
): Promise<{ controller: AdaptiveController; stop(): void } | null> {
  if (!expert.adaptive) return null;
  const { meta, marker, active } = queueKeys;
  if (!meta || !marker || !active) throw new Error(`queue keys of ${expert.name} lack meta/marker/active`);
  const controller = new AdaptiveController(
    conn,
    { state: adaptiveStateKey(prefix, expert.name), meta, marker, active },
    adaptiveSettings(expert.capacity, expert.adaptive),
  );
  await controller.init();
  const stop = expert.adaptive.metricsUrl
    ? watchServerQueue(controller, expert.adaptive.metricsUrl)
    : () => {};
  return { controller, stop };
}
