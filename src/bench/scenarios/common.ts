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

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); null elsewhere. */
export function cpuMs(pid: number): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / 100) * 1000;
  } catch {
    return null;
  }
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

/** CPU time of each process between two snapshots. */
export class CpuMeter {
  private readonly start = new Map<string, number>();
  constructor(private readonly procs: Array<{ label: string; pid: number }>) {
    for (const p of procs) {
      const v = cpuMs(p.pid);
      if (v !== null) this.start.set(`${p.label}#${p.pid}`, v);
    }
  }

  /** CPU ms used per labelled process since construction. */
  read(): Array<{ label: string; cpuMs: number }> {
    const out: Array<{ label: string; cpuMs: number }> = [];
    for (const p of this.procs) {
      const before = this.start.get(`${p.label}#${p.pid}`);
      const now = cpuMs(p.pid);
      if (before !== undefined && now !== null) out.push({ label: p.label, cpuMs: now - before });
    }
    return out;
  }
}

export const elapsedS = (startedMs: number) => (performance.now() - startedMs) / 1000;

/** Seeds so that plans over the bench items hold at least `n` rollouts. */
export function seedsFor(n: number, itemsPerSeed: number): number[] {
  return Array.from({ length: Math.max(1, Math.ceil(n / itemsPerSeed)) }, (_, i) => i);
}
