import type { ItemRecord } from '../core/items.ts';

/**
 * Tables of per-item means over samples (mean@k, as the release evaluates: 8 samples an
 * item at temperature 1) with their standard error over items, for the official verdict
 * and for the release's own reward (`release-reward`), benchmarks without a release
 * function marked so rather than scored 0.
 */

export interface MeanAtK {
  /** Mean over items of the item's mean over its samples, in percent. */
  mean: number;
  /** Standard error of that mean over items, in percent (0 with one item). */
  se: number;
  items: number;
  /** Samples per item (the largest seen). */
  k: number;
}

/** mean@k and its standard error from per-rollout values grouped by item. */
export function meanAtK(values: Map<string, number[]>): MeanAtK | undefined {
  const perItem = [...values.values()]
    .filter((v) => v.length > 0)
    .map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  if (perItem.length === 0) return undefined;
  const mean = perItem.reduce((a, b) => a + b, 0) / perItem.length;
  const variance =
    perItem.length > 1 ? perItem.reduce((a, x) => a + (x - mean) ** 2, 0) / (perItem.length - 1) : 0;
  // A loop, not Math.max(...): a spread of hundreds of thousands of items overflows the stack.
  let k = 0;
  for (const v of values.values()) k = Math.max(k, v.length);
  return { mean: mean * 100, se: Math.sqrt(variance / perItem.length) * 100, items: perItem.length, k };
}

type Cell = {
  official: Map<string, number[]>;
  reward: Map<string, number[]>;
  /** Item keys of the failed samples (one entry per failed sample). */
  failed: string[];
  unsupported?: string;
};

const push = (m: Map<string, number[]>, key: string, v: number) => {
  const values = m.get(key);
  if (values) values.push(v);
  else m.set(key, [v]);
};

/**
 * Per policy and benchmark, each item's per-sample values. A failed sample (an error or a
 * rollout that failed outright) is a wrong one: 0 for the official verdict, and 0 for the
 * release reward where the benchmark has one, as the results tables count it.
 */
function cells(records: ItemRecord[]): Map<string, Map<string, Cell>> {
  const out = new Map<string, Map<string, Cell>>();
  for (const r of records) {
    const row = out.get(r.policy) ?? new Map<string, Cell>();
    out.set(r.policy, row);
    const cell: Cell = row.get(r.benchmark) ?? { official: new Map(), reward: new Map(), failed: [] };
    row.set(r.benchmark, cell);
    const key = `${r.itemId}|${r.seed}`;
    push(cell.official, key, r.status !== 'error' && r.correct ? 1 : 0);
    if (r.status === 'error') cell.failed.push(key);
    else if (r.releaseReward?.kind === 'scored') push(cell.reward, key, r.releaseReward.score > 0 ? 1 : 0);
    else if (r.releaseReward?.kind === 'unsupported') cell.unsupported ??= r.releaseReward.reason;
  }
  for (const row of out.values()) {
    for (const cell of row.values()) {
      if (cell.reward.size > 0) for (const key of cell.failed) push(cell.reward, key, 0);
    }
  }
  return out;
}

const fmt = (m: MeanAtK | undefined) => (m ? `${m.mean.toFixed(1)} ± ${m.se.toFixed(1)}` : '—');

/** The Markdown of both tables (policies × benchmarks), with the reasons for unmarked cells. */
export function samplesMarkdown(
  records: ItemRecord[],
  benchmarks: string[],
  name: (id: string) => string,
): string {
  const table = cells(records);
  const head = `| Policy | ${benchmarks.map(name).join(' | ')} |\n| :--- |${benchmarks.map(() => ' ---: |').join('')}\n`;
  const rows = (pick: (c: Cell | undefined) => string) =>
    [...table.keys()]
      .sort()
      .map((p) => `| ${p} | ${benchmarks.map((b) => pick(table.get(p)?.get(b))).join(' | ')} |`)
      .join('\n');
  const reasons = new Set<string>();
  const reward = rows((c) => {
    const m = c && meanAtK(c.reward);
    if (m) return fmt(m);
    if (!c?.unsupported) return '—';
    reasons.add(c.unsupported);
    return 'n/a';
  });
  const k = Math.max(
    0,
    ...[...table.values()].flatMap((row) => [...row.values()].map((c) => meanAtK(c.official)?.k ?? 0)),
  );
  return [
    `# Accuracy over samples (mean@k ± standard error over items; k up to ${k})\n`,
    `Failed samples count as wrong (0), as in results.md${failedNote(table)}.\n`,
    '## Official metric\n',
    head + rows((c) => fmt(c && meanAtK(c.official))),
    "\n## Release reward (the release's own reward functions on the whole trajectory)\n",
    head + reward,
    '',
    ...[...reasons].map((r) => `- n/a: ${r}`),
    '',
  ].join('\n');
}

function failedNote(table: Map<string, Map<string, Cell>>): string {
  const n = [...table.values()].flatMap((row) => [...row.values()]).reduce((a, c) => a + c.failed.length, 0);
  return n === 0 ? '' : ` (${n} failed sample${n === 1 ? '' : 's'} here)`;
}

/**
 * Where each `release`-profile policy's prompt texts came from, said under the results:
 * the user's release data (the file and the release commit it is at), the items' own
 * prompts, or the project's own texts; and the release checkout (and commit) the skills'
 * prompt texts were read from.
 */
export function promptSources(records: ItemRecord[]): string {
  const by = new Map<string, Set<string>>();
  const skills = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, k: string, v: string) => m.set(k, (m.get(k) ?? new Set()).add(v));
  for (const r of records) {
    const source = r.policyMeta?.prompt;
    if (typeof source !== 'string') continue;
    const commit = r.policyMeta?.promptCommit;
    add(by, r.policy, typeof commit === 'string' ? `${source}\u0000${commit}` : source);
    const checkout = r.policyMeta?.skillTexts;
    if (typeof checkout === 'string') add(skills, r.policy, checkout);
  }
  const say = (s: string) => {
    if (s === 'project') return "the project's own texts (no release data given: not the training prompt)";
    if (s === 'item') return "the items' own prompts (release-format rows)";
    const [file, commit] = s.split('\u0000');
    return commit
      ? `the release data in ${file} (release commit ${commit.slice(0, 7)})`
      : `the release data in ${file} (release commit unknown)`;
  };
  const sayCheckout = (s: string) => {
    const [dir, commit] = s.split(' @ ');
    return commit
      ? `the release checkout ${dir} (commit ${commit.slice(0, 7)})`
      : `the release checkout ${dir} (commit unknown)`;
  };
  const lines = [...by]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([policy, sources]) => `Policy prompt of ${policy}: ${[...sources].sort().map(say).join('; ')}.`);
  for (const [policy, dirs] of [...skills].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`Skill prompt texts of ${policy}: ${[...dirs].sort().map(sayCheckout).join('; ')}.`);
  }
  return lines.join('\n');
}
