/**
 * Meters of a client process and of the Redis server for one measured run: CPU and peak
 * resident memory of a process read from /proc until it exits, and Redis CPU, commands and
 * network bytes from INFO before and after.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { SpawnedWorker } from '../../process/spawn.ts';
import { commandDelta, commandStats, cpuMs } from './common.ts';

/** Peak and current resident memory of a process (bytes; 0 when unknown). */
export function sampleProcess(pid: number): { rss: number; peakRss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
  } catch {
    return { rss: 0, peakRss: 0 };
  }
}

export interface ClientSample {
  exitCode: number | null;
  /** CPU (user + system) at the last sample before the process exited. */
  cpuMs: number;
  peakRss: number;
}

/** Samples a process's CPU and peak RSS every `everyMs` until it exits. */
export async function watchProcess(p: SpawnedWorker, everyMs: number): Promise<ClientSample> {
  const pid = p.child.pid ?? 0;
  let cpu = 0;
  let peak = 0;
  const tick = () => {
    const c = cpuMs(pid);
    if (c !== null) cpu = c;
    peak = Math.max(peak, sampleProcess(pid).peakRss);
  };
  const timer = setInterval(tick, everyMs);
  try {
    const exitCode = await p.exited;
    return { exitCode, cpuMs: cpu, peakRss: peak };
  } finally {
    clearInterval(timer);
  }
}

/** Times (Date.now()) of a `sweep --wait` client: spawned, printed that all is scored, exited. */
export interface ClientMarks {
  spawnedAt: number;
  /** 0 when the line was not seen. */
  scoredAt: number;
  exitedAt: number;
  sweepId: string;
}

/**
 * Where the wall of one sweep went, from the client's spawn: to the first rollout started
 * (the client's start-up, planning and first submissions), the rollouts (first started to
 * last finished, by their records), the end seen by the client, then its report and exit.
 * The endpoint's mean requests in flight is its busy time (sum of request durations) ÷ the
 * rollouts' span. Null without records or without the client's "scored" line.
 */
export function wallPhases(
  records: ReadonlyArray<{ startedAt: string; finishedAt: string }>,
  marks: ClientMarks,
  endpointBusyMs: number,
) {
  if (!records.length || !marks.scoredAt) return null;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const r of records) {
    first = Math.min(first, Date.parse(r.startedAt));
    last = Math.max(last, Date.parse(r.finishedAt));
  }
  const spanMs = last - first;
  return {
    startMs: first - marks.spawnedAt,
    spanMs,
    inFlight: spanMs > 0 ? endpointBusyMs / spanMs : 0,
    endSeenMs: marks.scoredAt - last,
    reportMs: marks.exitedAt - marks.scoredAt,
  };
}

export interface RedisSnapshot {
  cpuMs: number;
  bytesIn: number;
  bytesOut: number;
  /** Socket reads Redis processed (total_reads_processed): about one per client write. */
  reads: number;
  commands: Map<string, { calls: number; usec: number }>;
}

const field = (text: string, name: string) =>
  Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);

export async function redisSnapshot(conn: Redis): Promise<RedisSnapshot> {
  const [cpu, stats] = await Promise.all([conn.info('cpu'), conn.info('stats')]);
  const commands = await commandStats(conn);
  return {
    cpuMs: (field(cpu, 'used_cpu_sys') + field(cpu, 'used_cpu_user')) * 1000,
    bytesIn: field(stats, 'total_net_input_bytes'),
    bytesOut: field(stats, 'total_net_output_bytes'),
    reads: field(stats, 'total_reads_processed'),
    commands,
  };
}

/** What Redis did between two snapshots (the snapshots' own INFO calls included: 4 commands). */
export function redisDelta(a: RedisSnapshot, b: RedisSnapshot) {
  const byCommand = commandDelta(a.commands, b.commands);
  return {
    cpuMs: b.cpuMs - a.cpuMs,
    bytesIn: b.bytesIn - a.bytesIn,
    bytesOut: b.bytesOut - a.bytesOut,
    reads: b.reads - a.reads,
    commands: byCommand.reduce((s, c) => s + c.calls, 0),
    byCommand,
  };
}

/**
 * CPU (ms) this process spends creating one small file (3 KB written, no fsync) in a fresh
 * folder under `dir`, over `n` files: a record costs one such file, and the cost depends on
 * the file system and where on it the folder lands (0.02 to 0.3 ms seen on one ext4 disk).
 */
export function fileCreationCpuMs(dir: string, n = 2_000): number {
  const folder = mkdtempSync(join(dir, 'file-cost-'));
  const records = join(folder, 'records');
  mkdirSync(records);
  const body = 'x'.repeat(3_000);
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const fd = openSync(join(records, `${i}.json`), 'w');
    writeFileSync(fd, body);
    closeSync(fd);
  }
  const used = process.cpuUsage(before);
  rmSync(folder, { recursive: true, force: true });
  return (used.user + used.system) / 1000 / n;
}
