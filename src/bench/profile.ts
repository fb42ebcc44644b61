/**
 * Summaries of V8 CPU profiles (`node --cpu-prof`): self time by function and by where the
 * code comes from (BullMQ, ioredis, the openai client, zod, Node internals, this project),
 * to show where a worker's time goes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber?: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the stack a script belongs to. */
export function origin(url: string, functionName: string): string {
  if (!url)
    return functionName === '(garbage collector)' ? 'GC' : functionName === '(idle)' ? 'idle' : 'native/V8';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:')) return 'node internals';
  const local = /\/(src\/[^/]+|skills|benchmarks)\//.exec(url)?.[1];
  return local ? `project ${local}` : 'other';
}

/**
 * Where a frame of the bundle (`dist/cli.cjs`, `npm run build`) comes from: its original file
 * and line through the bundle's source map (`<file>.map`), so that time is told by package
 * and project folder as it is for unbundled code. Other frames are returned unchanged.
 */
export class BundleFrames {
  private readonly maps = new Map<string, SourceMap | null>();

  private map(url: string): SourceMap | null {
    let m = this.maps.get(url);
    if (m !== undefined) return m;
    m = null;
    const file = url.startsWith('file:') ? fileURLToPath(url) : '';
    if (/\.c?js$/.test(file) && existsSync(`${file}.map`)) {
      try {
        m = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
      } catch {
        m = null;
      }
    }
    this.maps.set(url, m);
    return m;
  }

  original(frame: CallFrame): CallFrame {
    const m = this.map(frame.url);
    if (!m) return frame;
    const e = m.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as {
      originalSource?: string;
      originalLine?: number;
    };
    if (!e.originalSource) return frame;
    const source = e.originalSource.startsWith('file:')
      ? e.originalSource
      : pathToFileURL(resolve(dirname(fileURLToPath(frame.url)), e.originalSource)).href;
    return { ...frame, url: source, lineNumber: e.originalLine ?? frame.lineNumber };
  }
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  byOrigin: Array<{ origin: string; ms: number; share: number }>;
  topFunctions: Array<{ fn: string; origin: string; ms: number }>;
}

/** Monotonic clock in µs (CLOCK_MONOTONIC on Linux, the clock V8 stamps profiles with). */
/** A measured phase of a scenario, in monotonic µs (monotonicUs). */
export interface ProfileWindow {
  startUs: number;
  endUs: number;
}

export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Self time by origin and function. With `windows` (monotonic µs, see monotonicUs), only
 * samples inside one of them count: the measured phases (a scenario that measures several
 * versions in turn has one per run), without start-up, warm-up and shutdown.
 */
export async function summarizeProfile(
  file: string,
  top = 12,
  windows?: readonly ProfileWindow[],
): Promise<ProfileSummary> {
  const p = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    const delta = p.timeDeltas[i] ?? 0;
    t += delta;
    if (windows && !windows.some((w) => t >= w.startUs && t <= w.endUs)) return;
    self.set(id, (self.get(id) ?? 0) + delta / 1000);
  });
  const origins = new Map<string, number>();
  const fns = new Map<string, { origin: string; ms: number }>();
  const frames = new BundleFrames();
  let idle = 0;
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const frame = frames.original(n.callFrame);
    const o = origin(frame.url, frame.functionName);
    if (o === 'idle') {
      idle += ms;
      continue;
    }
    total += ms;
    origins.set(o, (origins.get(o) ?? 0) + ms);
    const where = frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|skills)\//, '$1/');
    const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    const f = fns.get(key) ?? { origin: o, ms: 0 };
    f.ms += ms;
    fns.set(key, f);
  }
  return {
    file,
    totalMs: total,
    idleMs: idle,
    byOrigin: [...origins]
      .map(([o, ms]) => ({ origin: o, ms, share: total ? ms / total : 0 }))
      .sort((a, b) => b.ms - a.ms),
    topFunctions: [...fns]
      .map(([fn, v]) => ({ fn, ...v }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
  };
}

/** The main-thread profiles in a directory (`CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile`), with their pid. */
export async function profilesIn(dir: string): Promise<Array<{ file: string; pid: number }>> {
  const out: Array<{ file: string; pid: number }> = [];
  for (const f of await readdir(dir)) {
    const m = /\.(\d+)\.0\.\d+\.cpuprofile$/.exec(f);
    if (m) out.push({ file: join(dir, f), pid: Number(m[1]) });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}
