import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MachineInfo } from './stats.ts';

/** A small table in a scenario's result. */
export interface Table {
  columns: string[];
  rows: Array<Array<string | number>>;
}

/** What one scenario reports. */
export interface ScenarioResult {
  id: string;
  title: string;
  /** The target, in words (e.g. "p50 ≤ 3 ms per policy step"). */
  target: string;
  /** Met, missed, or null when the scenario has no pass/fail target. */
  pass: boolean | null;
  /** The figure against the target, in one line. */
  headline: string;
  /** Every measured figure (machine-readable). */
  figures: Record<string, unknown>;
  tables: Array<{ title: string } & Table>;
  /** How it was measured, what the reference was, and caveats. */
  notes: string[];
  durationS: number;
}

export interface BenchReport {
  kind: 'full' | 'quick' | 'custom';
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: MachineInfo;
  redis: { version: string; ownServer: boolean; maxmemoryPolicy: string };
  /** What else ran on the machine meanwhile (other engineers' tests share the 2 cores). */
  environmentNote: string;
  scenarios: ScenarioResult[];
}

const cell = (v: string | number) => (typeof v === 'number' ? String(v) : v);

/** A plain-text table for the console. */
export function textTable(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => cell(r[i] ?? '').length)));
  const line = (cells: Array<string | number>) =>
    cells
      .map((c, i) =>
        typeof c === 'number' ? cell(c).padStart(widths[i] ?? 0) : cell(c).padEnd(widths[i] ?? 0),
      )
      .join('  ');
  return [line(t.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export function markdownTable(t: Table): string {
  const esc = (v: string | number) => cell(v).replace(/\|/g, '\\|');
  return [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `| ${t.columns.map((_, i) => (typeof t.rows[0]?.[i] === 'number' ? '---:' : '---')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

const verdict = (pass: boolean | null) => (pass === null ? '—' : pass ? 'met' : 'MISSED');

/** The summary table: one row per scenario. */
export function summaryTable(scenarios: ScenarioResult[]): Table {
  return {
    columns: ['scenario', 'result', 'target', 'verdict', 'time (s)'],
    rows: scenarios.map((s) => [s.title, s.headline, s.target, verdict(s.pass), Math.round(s.durationS)]),
  };
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const out: string[] = [
    `# maestro-eval benchmark (${r.kind})`,
    '',
    `Run \`${r.command}\` from ${r.startedAt} to ${r.finishedAt}.`,
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpuModel}, ${m.cpus} cores; memory ${m.memoryGiB} GiB; ${m.os} ${m.kernel}; Node ${m.node}`,
    `- Redis ${r.redis.version} on loopback (${r.redis.ownServer ? 'a private redis-server started by the bench' : 'an existing server'}; maxmemory-policy ${r.redis.maxmemoryPolicy})`,
    `- Load average (1/5/15 min) at start ${m.loadAtStart.join(' / ')}${m.loadAtEnd ? `, at end ${m.loadAtEnd.join(' / ')}` : ''}`,
    `- ${r.environmentNote}`,
    '',
    '## Summary',
    '',
    markdownTable(summaryTable(r.scenarios)),
    '',
    'Every figure is a ratio or a difference against a reference measured in the same run (see each scenario).',
  ];
  for (const s of r.scenarios) {
    out.push('', `## ${s.title}`, '', `**${s.headline}** — target: ${s.target} (${verdict(s.pass)})`, '');
    for (const n of s.notes) out.push(`- ${n}`);
    for (const t of s.tables) out.push('', `${t.title}:`, '', markdownTable(t));
  }
  out.push('');
  return out.join('\n');
}

/** Writes `<name>.json` and `<name>.md` into `dir`; returns their paths. */
export async function writeBenchReport(dir: string, name: string, r: BenchReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, `${name}.json`);
  const md = join(dir, `${name}.md`);
  await writeFile(json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(md, renderMarkdown(r));
  return [json, md];
}
