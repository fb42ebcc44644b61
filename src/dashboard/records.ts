/**
 * The dashboard's view of a sweep's durable records (`<data>/sweeps/<id>/records/`): a
 * cache keyed by the records' version (the folder and its journals' sizes), the item
 * browser's filters, the item-by-item comparison of two policies, and progress counted from
 * records when Redis no longer (or not yet) has the sweep.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { FAILED_OUTRIGHT } from '../core/failed.ts';
import type { ItemRecord } from '../core/items.ts';
import type { SweepMeta } from '../core/sweep.ts';
import type { DataStore } from '../data/store.ts';
import type { CellProgress, SweepProgress } from '../producer/progress.ts';
import { failedRecord } from '../scoring/failed.ts';

/**
 * Reads a sweep's records once per change of its records and failures folders. Rollouts
 * that failed outright (no record; a note in `failed/`) are included as the error records
 * the reports count, so their cause shows wherever items are listed.
 */
export class RecordCache {
  private readonly cache = new Map<string, { key: string; records: ItemRecord[] }>();
  constructor(private readonly store: DataStore) {}

  async records(sweepId: string): Promise<ItemRecord[]> {
    const dir = this.store.sweepDir(sweepId);
    const [info, failed] = await Promise.all([
      this.store.recordsVersion(sweepId),
      stat(join(dir, 'failed')).catch(() => null),
    ]);
    if (!info && !failed) return [];
    const key = `${info}:${failed?.mtimeMs}:${failed?.size}`;
    const hit = this.cache.get(sweepId);
    if (hit && hit.key === key) return hit.records;
    const records = [
      ...(info ? await this.store.readRecords(sweepId) : []),
      ...(await this.store.readFailures(sweepId)).map(failedRecord),
    ];
    this.cache.set(sweepId, { key, records });
    return records;
  }
}

/** True for the record of a rollout that failed outright (never scored). */
export const failedOutright = (r: Pick<ItemRecord, 'status' | 'scoreReason'>) =>
  r.status === 'error' && r.scoreReason === FAILED_OUTRIGHT;

/** Policy turns that counted (resampled generations left out). */
export function turnsOf(r: ItemRecord): number {
  return r.steps.filter((s) => !s.resampled).length;
}

/** The item browser's query string: every field optional, unknown ones ignored. */
export const ItemFilter = z.object({
  wrong: z.enum(['1']).optional(),
  errors: z.enum(['1']).optional(),
  expert: z.string().max(200).optional(),
  skill: z.string().max(200).optional(),
  turns: z.coerce.number().int().nonnegative().max(1000).optional(),
  q: z.string().max(500).optional(),
});
export type ItemFilter = z.infer<typeof ItemFilter>;

/** Parses a query object, dropping empty and malformed fields one by one. */
export function parseItemFilter(query: Record<string, unknown>): ItemFilter {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) {
    if (typeof v !== 'string' || v === '') continue;
    const one = ItemFilter.safeParse({ [k]: v });
    if (one.success) Object.assign(out, one.data);
  }
  return out as ItemFilter;
}

/** True when the text search finds `q` in the item id, a policy turn, an observation or the answer. */
function matchesText(r: ItemRecord, q: string): boolean {
  const needle = q.toLowerCase();
  const hay = [
    r.itemId,
    r.rawOutput,
    r.extracted ?? '',
    r.error ?? '',
    r.scoreReason,
    ...r.steps.flatMap((s) => [s.policyText, s.observation ?? '', s.formatError ?? '']),
  ];
  return hay.some((t) => t.toLowerCase().includes(needle));
}

export function filterRecords(records: readonly ItemRecord[], f: ItemFilter): ItemRecord[] {
  return records.filter((r) => {
    if (f.wrong && (r.correct || r.status === 'error')) return false;
    if (f.errors && r.status !== 'error') return false;
    if (f.expert && !r.steps.some((s) => s.expert === f.expert)) return false;
    if (f.skill && !r.steps.some((s) => s.skill === f.skill)) return false;
    if (f.turns !== undefined && turnsOf(r) !== f.turns) return false;
    if (f.q && !matchesText(r, f.q)) return false;
    return true;
  });
}

/** The experts, skills and turn counts that occur in a set of records (the filter's choices). */
export function filterChoices(records: readonly ItemRecord[]) {
  const experts = new Set<string>();
  const skills = new Set<string>();
  const turns = new Set<number>();
  for (const r of records) {
    turns.add(turnsOf(r));
    for (const s of r.steps) {
      if (s.expert) experts.add(s.expert);
      if (s.skill) skills.add(s.skill);
    }
  }
  return {
    experts: [...experts].sort(),
    skills: [...skills].sort(),
    turns: [...turns].sort((a, b) => a - b),
  };
}

export interface ComparedItem {
  benchmark: string;
  itemId: string;
  seed: number;
  sample: number;
  a: ItemRecord | undefined;
  b: ItemRecord | undefined;
  /** Exactly one of the two is right. */
  discordant: boolean;
}

const itemKey = (r: ItemRecord) => `${r.benchmark}\u0000${r.itemId}\u0000${r.seed}\u0000${r.sample}`;

/** Two policies item by item (same benchmark, item, seed, sample): discordant items first. */
export function comparePolicies(
  records: readonly ItemRecord[],
  a: string,
  b: string,
  benchmark?: string,
): ComparedItem[] {
  const rows = new Map<string, ComparedItem>();
  for (const r of records) {
    if (r.policy !== a && r.policy !== b) continue;
    if (benchmark && r.benchmark !== benchmark) continue;
    const key = itemKey(r);
    const row = rows.get(key) ?? {
      benchmark: r.benchmark,
      itemId: r.itemId,
      seed: r.seed,
      sample: r.sample,
      a: undefined,
      b: undefined,
      discordant: false,
    };
    if (r.policy === a) row.a = r;
    else row.b = r;
    rows.set(key, row);
  }
  const out = [...rows.values()];
  for (const row of out) row.discordant = Boolean(row.a?.correct) !== Boolean(row.b?.correct);
  return out.sort(
    (x, y) =>
      Number(y.discordant) - Number(x.discordant) ||
      x.benchmark.localeCompare(y.benchmark) ||
      x.itemId.localeCompare(y.itemId) ||
      x.seed - y.seed ||
      x.sample - y.sample,
  );
}

/** Progress counted from the records on disk, in the shape Redis progress has. */
export function progressFromRecords(meta: SweepMeta, records: readonly ItemRecord[]): SweepProgress {
  const cells = new Map<string, CellProgress>();
  for (const b of meta.benchmarks) {
    for (const p of meta.policies) {
      const total = b.count * meta.seeds.length * (p.samples ?? 1);
      cells.set(`${b.id}|${p.key}`, {
        benchmark: b.id,
        policy: p.key,
        total,
        done: 0,
        correct: 0,
        errors: 0,
      });
    }
  }
  let failed = 0;
  for (const r of records) {
    const c = cells.get(`${r.benchmark}|${r.policy}`);
    if (!c) continue;
    // As in Redis progress: a rollout that failed outright is counted apart, not as scored.
    if (failedOutright(r)) {
      failed++;
      continue;
    }
    c.done++;
    if (r.correct) c.correct++;
    if (r.status === 'error') c.errors++;
  }
  const list = [...cells.values()];
  const benchmarks = meta.benchmarks.map((b) => {
    const mine = list.filter((c) => c.benchmark === b.id);
    const sum = (f: (c: CellProgress) => number) => mine.reduce((a, c) => a + f(c), 0);
    return {
      benchmark: b.id,
      total: sum((c) => c.total),
      done: sum((c) => c.done),
      correct: sum((c) => c.correct),
      errors: sum((c) => c.errors),
    };
  });
  return {
    sweepId: meta.id,
    total: list.reduce((a, c) => a + c.total, 0),
    done: list.reduce((a, c) => a + c.done, 0),
    errors: list.reduce((a, c) => a + c.errors, 0),
    failed,
    benchmarks,
    cells: list,
  };
}
