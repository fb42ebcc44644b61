import type { SubscoreSpec } from '../core/benchmarks.ts';
import type { ItemRecord } from '../core/items.ts';

/**
 * Sub-scores as papers publish them, from the catalog's `subscores:` of a benchmark (see
 * {@link SubscoreSpec}): records are grouped by a field of their item's `extra`, each group
 * gets its accuracy, and the groups make the benchmark's headline (overall, mean of the
 * groups, or points out of N).
 *
 * Failures follow the tables' convention: every figure is given twice, with failed items
 * counted as wrong (the published convention, the headline) and over the items that ran
 * (the same computation on the records that are not errors). Records whose item lacks the
 * field (or whose item is not in the dataset any more) go to the group "unknown"; a `mean`
 * headline leaves that group out and says so (when no record has the field, the accuracy
 * over all of them stands in for the mean). Each record is one observation: with k
 * samples or several seeds per item, an item weighs k times.
 */

/** The `extra` fields of an item, or undefined when the item is not known. */
export type ItemFields = (benchmark: string, itemId: string) => Readonly<Record<string, unknown>> | undefined;

/** The group of records whose item lacks the grouping field. */
export const UNKNOWN_GROUP = 'unknown';

export interface SubscoreGroup {
  name: string;
  /** Records in the group (ran + failed). */
  total: number;
  /** Records that ran (answered or no answer). */
  ran: number;
  correct: number;
  /** Errors, failed-outright rollouts included. */
  failed: number;
  /** The group's accuracy with failures counted as wrong (with `meanOver`, the mean over its values). */
  accuracy: number | null;
  /** The same over the records that ran. */
  accuracyAnswered: number | null;
}

export interface SubscoreCell {
  field: string;
  headline: SubscoreSpec['headline'];
  meanOver?: string;
  outOf?: number;
  /** Listed groups first (in the catalog's order), then others sorted, then "unknown". */
  groups: SubscoreGroup[];
  /** Records whose item lacks the field. */
  unknown: number;
  /** The headline as a fraction (0–1), failures counted as wrong; `sum`: points / outOf. */
  score: number | null;
  /** The headline over the records that ran. */
  scoreAnswered: number | null;
  /** `sum` only: the score in points out of `outOf` (score × outOf). */
  points?: number | null;
  pointsAnswered?: number | null;
}

const text = (v: unknown): string | null =>
  v === undefined || v === null || (typeof v === 'string' && v.trim() === '') ? null : String(v).trim();

/** The group name of a field value, after `merge` (matched case-insensitively). */
function grouper(spec: SubscoreSpec): (value: unknown) => string {
  const merged = new Map<string, string>();
  for (const [group, values] of Object.entries(spec.merge ?? {})) {
    for (const v of values) merged.set(String(v).toLowerCase(), group);
  }
  return (value) => {
    const t = text(value);
    if (t === null) return UNKNOWN_GROUP;
    return merged.get(t.toLowerCase()) ?? t;
  };
}

const mean = (xs: number[]): number | null =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

interface Scored {
  record: ItemRecord;
  group: string;
  cycle: string;
}

/**
 * Accuracy of a set of records; with cycles, the accuracy within each cycle summed and
 * divided by the number of cycles of the whole cell (VLMEvalKit's report_acc_hrbench).
 */
function accuracyOf(rows: readonly Scored[], cycles: number | null): number | null {
  if (rows.length === 0) return null;
  if (cycles === null) return rows.filter(right).length / rows.length;
  const byCycle = new Map<string, Scored[]>();
  for (const r of rows) byCycle.set(r.cycle, [...(byCycle.get(r.cycle) ?? []), r]);
  let sum = 0;
  for (const list of byCycle.values()) sum += list.filter(right).length / list.length;
  return sum / cycles;
}

/** A right answer: a failed record is wrong whatever its verdict fields say. */
const right = (r: Scored) => r.record.status !== 'error' && r.record.correct;

/** Every group's accuracy and the headline over one set of records. */
function scoreOf(rows: readonly Scored[], names: readonly string[], spec: SubscoreSpec) {
  const cycles = spec.meanOver ? new Set(rows.map((r) => r.cycle)).size : null;
  const groups = new Map(
    names.map((n) => [
      n,
      accuracyOf(
        rows.filter((r) => r.group === n),
        cycles,
      ),
    ]),
  );
  let headline: number | null;
  const known = names.filter((n) => n !== UNKNOWN_GROUP);
  if (spec.headline === 'mean' && known.length > 0) {
    headline = mean(
      known.map((n) => groups.get(n)).filter((a): a is number => a !== null && a !== undefined),
    );
  } else if (spec.headline === 'mean') {
    // No record has the field: the mean of groups cannot be formed, the accuracy stands in.
    headline = accuracyOf(rows, null);
  } else {
    headline = accuracyOf(rows, spec.headline === 'sum' ? null : cycles);
  }
  return { groups, headline };
}

/** Group names in table order: the listed ones present, then the others sorted, then "unknown". */
export function orderGroups(present: ReadonlySet<string>, order: readonly string[] = []): string[] {
  const listed = order.filter((g) => present.has(g));
  const rest = [...present]
    .filter((g) => g !== UNKNOWN_GROUP && !listed.includes(g))
    .sort((a, b) => a.localeCompare(b));
  return [...listed, ...rest, ...(present.has(UNKNOWN_GROUP) ? [UNKNOWN_GROUP] : [])];
}

/** The sub-scores of one policy × benchmark cell (records already de-duplicated). */
export function subscoresOf(
  records: readonly ItemRecord[],
  spec: SubscoreSpec,
  fields: ItemFields | undefined,
): SubscoreCell {
  const groupOf = grouper(spec);
  const rows: Scored[] = records.map((record) => {
    const extra = fields?.(record.benchmark, record.itemId);
    return {
      record,
      group: groupOf(extra?.[spec.field]),
      cycle: spec.meanOver ? (text(extra?.[spec.meanOver]) ?? UNKNOWN_GROUP) : '',
    };
  });
  const names = orderGroups(new Set(rows.map((r) => r.group)), spec.groups);
  const all = scoreOf(rows, names, spec);
  const answered = scoreOf(
    rows.filter((r) => r.record.status !== 'error'),
    names,
    spec,
  );
  const groups = names.map((name): SubscoreGroup => {
    const mine = rows.filter((r) => r.group === name).map((r) => r.record);
    const ran = mine.filter((r) => r.status !== 'error');
    return {
      name,
      total: mine.length,
      ran: ran.length,
      correct: ran.filter((r) => r.correct).length,
      failed: mine.length - ran.length,
      accuracy: all.groups.get(name) ?? null,
      accuracyAnswered: answered.groups.get(name) ?? null,
    };
  });
  const cell: SubscoreCell = {
    field: spec.field,
    headline: spec.headline,
    ...(spec.meanOver ? { meanOver: spec.meanOver } : {}),
    ...(spec.outOf ? { outOf: spec.outOf } : {}),
    groups,
    unknown: rows.filter((r) => r.group === UNKNOWN_GROUP).length,
    score: all.headline,
    scoreAnswered: answered.headline,
  };
  if (spec.headline === 'sum' && spec.outOf) {
    const outOf = spec.outOf;
    cell.points = all.headline === null ? null : all.headline * outOf;
    cell.pointsAnswered = answered.headline === null ? null : answered.headline * outOf;
  }
  return cell;
}
