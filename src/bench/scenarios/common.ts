import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { BenchContext } from '../harness.ts';
import type { ScenarioResult } from '../report.ts';

export interface ScenarioSettings {
  quick: boolean;
}

export interface Scenario {
  id: string;
  title: string;
  /** Rough duration (s) full / quick, for the plan printed at start. */
  estimateS: { full: number; quick: number };
  run(ctx: BenchContext, settings: ScenarioSettings): Promise<ScenarioResult>;
}

/** Domains of the bench benchmarks (BENCH_BENCHMARKS), each once. */
export const ALL_DOMAINS = [
  'math',
  'geometry',
  'counting',
  'chart',
  'perception',
  'medical',
  'microscopy',
  'earth-science',
  'ocr',
  'low-level-vision',
  'embodied',
];

/** Per-command call counts and server time of a Redis server (INFO commandstats). */
export async function commandStats(conn: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const text = await conn.info('commandstats');
  const out = new Map<string, { calls: number; usec: number }>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out.set(m[1] ?? '', { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** Difference of two commandstats snapshots, largest server time first. */
export function commandDelta(
  before: Map<string, { calls: number; usec: number }>,
  after: Map<string, { calls: number; usec: number }>,
): Array<{ command: string; calls: number; usec: number }> {
  const rows: Array<{ command: string; calls: number; usec: number }> = [];
  for (const [command, a] of after) {
    const b = before.get(command) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) rows.push({ command, calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  return rows.sort((x, y) => y.usec - x.usec);
}

/** CPU time (user + system, ms) in a /proc stat file; null when it cannot be read. */
function statCpuMs(path: string): number | null {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / 100) * 1000;
  } catch {
    return null;
  }
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); null elsewhere. */
export function cpuMs(pid: number): number | null {
  return pid ? statCpuMs(`/proc/${pid}/stat`) : null;
}

/**
 * CPU time (ms) of a process's main thread alone: in Node.js, the JavaScript. The rest of
 * `cpuMs` ran on its other threads: V8's compiler and garbage collector helpers, and
 * libuv's pool (file writes, fsync, DNS).
 */
export function mainThreadCpuMs(pid: number): number | null {
  return pid ? statCpuMs(`/proc/${pid}/task/${pid}/stat`) : null;
}

/** Resident set size (bytes) of a process, from /proc (Linux); null elsewhere. */
export function rssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time of each process between two snapshots, and of its main thread. */
export class CpuMeter {
  private readonly start = new Map<string, { all: number; main: number | null }>();
  constructor(private readonly procs: Array<{ label: string; pid: number }>) {
    for (const p of procs) {
      const all = cpuMs(p.pid);
      if (all !== null) this.start.set(`${p.label}#${p.pid}`, { all, main: mainThreadCpuMs(p.pid) });
    }
  }

  /** CPU ms used per labelled process since construction; `mainMs`: by its main thread. */
  read(): Array<{ label: string; cpuMs: number; mainMs: number | null }> {
    const out: Array<{ label: string; cpuMs: number; mainMs: number | null }> = [];
    for (const p of this.procs) {
      const before = this.start.get(`${p.label}#${p.pid}`);
      const now = cpuMs(p.pid);
      const main = mainThreadCpuMs(p.pid);
      if (before === undefined || now === null) continue;
      const mainMs = main !== null && before.main !== null ? main - before.main : null;
      out.push({ label: p.label, cpuMs: now - before.all, mainMs });
    }
    return out;
  }
}

export const elapsedS = (startedMs: number) => (performance.now() - startedMs) / 1000;

/** Seeds so that plans over the bench items hold at least `n` rollouts. */
export function seedsFor(n: number, itemsPerSeed: number): number[] {
  return Array.from({ length: Math.max(1, Math.ceil(n / itemsPerSeed)) }, (_, i) => i);
}
