import type { BenchmarkCatalog } from '../core/benchmarks.ts';
import type { ItemRecord } from '../core/items.ts';
import type { Summary } from './aggregate.ts';
import { costAnalytics, learningCurve, type Price, type RoutingCell } from './analytics.ts';
import { DASH, md, mdTable, nameOf, pct } from './report-format.ts';

/** routing.md: routing analytics per policy and benchmark, learning curves and cost per item. */

/**
 * Policies that chose between several (expert, skill) pairs, with their heatmap file names
 * (`fanout-…` for fan-out policies, which send every item to every pair).
 */
export function routedPolicies(routing: RoutingCell[], fanout: ReadonlySet<string>): Map<string, string> {
  const pairs = new Map<string, Set<string>>();
  for (const c of routing) {
    const set = pairs.get(c.policy) ?? new Set<string>();
    for (const k of Object.keys(c.choices)) set.add(k);
    pairs.set(c.policy, set);
  }
  const out = new Map<string, string>();
  for (const [policy, set] of pairs) {
    const stem = fanout.has(policy) ? 'fanout' : 'routing';
    if (set.size > 1) out.set(policy, `${stem}-${policy.replace(/[^A-Za-z0-9_.-]+/g, '_')}.svg`);
  }
  return out;
}

function num(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : DASH;
}

export function routingMarkdown(
  summary: Summary,
  routing: RoutingCell[],
  heatmaps: Map<string, string>,
  records: readonly ItemRecord[],
  opts: { catalog: BenchmarkCatalog; prices?: Record<string, Price> | undefined },
): string {
  const parts: string[] = [
    '# Routing analytics',
    '',
    'Per policy and benchmark: the (expert, skill) pairs chosen (share of skill calls), the accuracy of the items where each pair was chosen, calls and turns per item, and the format-error rate (malformed calls or unknown names, per turn).',
    '',
  ];
  for (const policy of summary.policies) {
    const cells = routing.filter((c) => c.policy === policy);
    if (cells.length === 0) continue;
    parts.push(`## ${md(policy)}`, '');
    const heatmap = heatmaps.get(policy);
    if (heatmap) {
      const kind = heatmap.startsWith('fanout-') ? 'fan-out accuracy per pair' : 'routing heatmap';
      parts.push(`![${kind} of ${md(policy)}](${heatmap})`, '');
    }
    const rows = cells.map((c) => {
      const total = Object.values(c.choices).reduce((a, b) => a + b, 0);
      const top = Object.entries(c.choices)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 3)
        .map(([k, n]) => {
          const acc = c.pairAccuracy[k];
          const accText = acc ? ` acc ${pct(acc.correct / acc.n)}` : '';
          return `${md(k.replace('@@', ' @ '))} ${Math.round((100 * n) / Math.max(1, total))}%${accText}`;
        })
        .join('; ');
      return [
        md(nameOf(opts.catalog, c.benchmark)),
        String(c.items),
        num(c.skillCalls / c.items, 2),
        num(c.modelCalls / c.items, 2),
        num(c.turns / c.items, 2),
        `${num((100 * c.formatErrors) / Math.max(1, c.turns))}%`,
        top || DASH,
      ];
    });
    parts.push(
      mdTable(
        [
          'Benchmark',
          'Items',
          'Skill calls/item',
          'Model calls/item',
          'Turns/item',
          'Format errors',
          'Top pairs (share, accuracy)',
        ],
        ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
        rows,
      ),
      '',
    );
    const curve = learningCurve(records, policy);
    if (curve.length > 0) {
      parts.push(
        'Learning curve (accuracy over consecutive blocks of decisions, in decision order):',
        '',
        mdTable(
          ['Decisions', 'n', 'Accuracy'],
          ['l', 'r', 'r'],
          curve.map((p) => [`${p.from}–${p.to}`, String(p.n), pct(p.accuracy) ?? DASH]),
        ),
        '',
      );
    }
  }
  const cost = costAnalytics(records, opts.prices);
  parts.push(
    '## Cost per item',
    '',
    "Means per item that ran. Policy time is the policy endpoint's; expert time is the skill calls' (queueing excluded). Cost counts calls to models with a price in the registry.",
    '',
    mdTable(
      [
        'Policy',
        'Items',
        'Policy ms',
        'Expert ms',
        'Policy tokens',
        'Expert tokens',
        'Expert calls',
        'Cost (USD)',
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      cost.map((c) => [
        md(c.policy),
        String(c.items),
        num(c.meanPolicyLatencyMs, 0),
        num(c.meanExpertLatencyMs, 0),
        num(c.meanPolicyTokens, 0),
        num(c.meanExpertTokens, 0),
        num(c.meanExpertCalls, 2),
        c.costUsd === null ? DASH : c.costUsd.toFixed(4),
      ]),
    ),
  );
  return `${parts.join('\n')}\n`;
}
