import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem, type } from 'node:os';

/** The q-quantile (0..1) of values, by linear interpolation between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = Math.min(1, Math.max(0, q)) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (pos - lo);
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, v) => a + v, 0) / values.length : Number.NaN;
}

/** Rounds for reports: 3 significant figures, at most `decimals` decimals. */
export function round(v: number, decimals = 3): number {
  if (!Number.isFinite(v)) return v;
  const p = 10 ** decimals;
  return Math.round(v * p) / p;
}

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the run started and ended. */
  loadAtStart: number[];
  loadAtEnd?: number[];
}

export function machineInfo(): MachineInfo {
  let kernel = '';
  try {
    kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    kernel = 'unknown';
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    os: type(),
    kernel,
    node: process.version,
    loadAtStart: loadavg().map((v) => round(v, 2)),
  };
}
