import type { ItemRecord } from '../core/items.ts';

/** An (expert, skill) pair as shown in tables: `Chart-R1@@Chart_Problem_Solver`. */
export const pairKey = (expert: string, skill: string) => `${expert}@@${skill}`;

export interface RoutingCell {
  policy: string;
  benchmark: string;
  items: number;
  /** Skill calls made (steps that reached an expert). */
  skillCalls: number;
  /** Model calls inside skills (expert + auxiliary services). */
  modelCalls: number;
  /** Policy turns taken. */
  turns: number;
  /** Turns whose action was malformed or named an unknown model/skill. */
  formatErrors: number;
  /** Pair → how many times the policy chose it. */
  choices: Record<string, number>;
  /** Pair → items where it was chosen, and how many of them were answered correctly. */
  pairAccuracy: Record<string, { n: number; correct: number }>;
}

/**
 * Routing statistics per (policy, benchmark): which (expert, skill) pairs were chosen,
 * how often, with what accuracy, and how many calls, turns and format errors it took.
 * Fan-out policies (oracle) count each pair with its own verdict.
 */
export function routingAnalytics(records: readonly ItemRecord[]): RoutingCell[] {
  const cells = new Map<string, RoutingCell>();
  for (const r of records) {
    if (r.status === 'error') continue;
    const key = `${r.policy}\u0000${r.benchmark}`;
    let cell = cells.get(key);
    if (!cell) {
      cell = {
        policy: r.policy,
        benchmark: r.benchmark,
        items: 0,
        skillCalls: 0,
        modelCalls: 0,
        turns: 0,
        formatErrors: 0,
        choices: {},
        pairAccuracy: {},
      };
      cells.set(key, cell);
    }
    cell.items++;
    cell.turns += r.candidates ? 1 : r.steps.length;
    const chosen = new Set<string>();
    for (const s of r.steps) {
      cell.modelCalls += s.calls.length;
      if (s.formatError) cell.formatErrors++;
      if (s.expert && s.skill) {
        cell.skillCalls++;
        const k = pairKey(s.expert, s.skill);
        cell.choices[k] = (cell.choices[k] ?? 0) + 1;
        chosen.add(k);
      }
    }
    if (r.candidates) {
      for (const c of r.candidates) {
        const k = pairKey(c.expert, c.skill);
        const acc = cell.pairAccuracy[k] ?? { n: 0, correct: 0 };
        cell.pairAccuracy[k] = acc;
        acc.n++;
        if (c.correct) acc.correct++;
      }
    } else {
      for (const k of chosen) {
        const acc = cell.pairAccuracy[k] ?? { n: 0, correct: 0 };
        cell.pairAccuracy[k] = acc;
        acc.n++;
        if (r.correct) acc.correct++;
      }
    }
  }
  return [...cells.values()].sort((a, b) =>
    a.policy === b.policy ? (a.benchmark < b.benchmark ? -1 : 1) : a.policy < b.policy ? -1 : 1,
  );
}

export interface Price {
  /** USD per million prompt tokens. */
  input: number;
  /** USD per million completion tokens. */
  output: number;
}

export interface CostRow {
  policy: string;
  items: number;
  meanPolicyLatencyMs: number;
  meanExpertLatencyMs: number;
  meanPolicyTokens: number;
  meanExpertTokens: number;
  meanExpertCalls: number;
  /** Total USD for the calls whose model has a price; null when none has. */
  costUsd: number | null;
}

/**
 * Cost per policy: latency and tokens per item split into the policy's share and the
 * experts' share, and money where the registry gives prices (by served model name).
 */
export function costAnalytics(records: readonly ItemRecord[], prices: Record<string, Price> = {}): CostRow[] {
  const rows = new Map<string, CostRow & { priced: boolean }>();
  for (const r of records) {
    if (r.status === 'error') continue;
    let row = rows.get(r.policy);
    if (!row) {
      row = {
        policy: r.policy,
        items: 0,
        meanPolicyLatencyMs: 0,
        meanExpertLatencyMs: 0,
        meanPolicyTokens: 0,
        meanExpertTokens: 0,
        meanExpertCalls: 0,
        costUsd: 0,
        priced: false,
      };
      rows.set(r.policy, row);
    }
    row.items++;
    row.meanPolicyLatencyMs += r.policyLatencyMs;
    row.meanExpertLatencyMs += r.expertLatencyMs;
    row.meanExpertCalls += r.expertCalls;
    for (const s of r.steps) {
      row.meanPolicyTokens += s.policyPromptTokens + s.policyCompletionTokens;
      for (const c of s.calls) {
        row.meanExpertTokens += c.promptTokens + c.completionTokens;
        const price = prices[c.model];
        if (price) {
          row.priced = true;
          row.costUsd =
            (row.costUsd ?? 0) + (c.promptTokens * price.input + c.completionTokens * price.output) / 1e6;
        }
      }
    }
  }
  return [...rows.values()]
    .map(({ priced, ...row }) => {
      const n = Math.max(1, row.items);
      return {
        ...row,
        meanPolicyLatencyMs: row.meanPolicyLatencyMs / n,
        meanExpertLatencyMs: row.meanExpertLatencyMs / n,
        meanPolicyTokens: row.meanPolicyTokens / n,
        meanExpertTokens: row.meanExpertTokens / n,
        meanExpertCalls: row.meanExpertCalls / n,
        costUsd: priced ? row.costUsd : null,
      };
    })
    .sort((a, b) => (a.policy < b.policy ? -1 : 1));
}

export interface CurvePoint {
  /** Decisions `from`..`to` (1-based, in the order the policy made them). */
  from: number;
  to: number;
  n: number;
  accuracy: number;
}

/**
 * The learning curve of an online policy (bandit): accuracy over consecutive blocks of
 * its decisions, in the order it made them (`policyMeta.order`).
 */
export function learningCurve(records: readonly ItemRecord[], policy: string, blocks = 4): CurvePoint[] {
  const ordered = records
    .filter((r) => r.policy === policy && r.status !== 'error' && typeof r.policyMeta?.order === 'number')
    .sort((a, b) => Number(a.policyMeta?.order) - Number(b.policyMeta?.order));
  if (ordered.length === 0) return [];
  const size = Math.ceil(ordered.length / blocks);
  const out: CurvePoint[] = [];
  for (let i = 0; i < ordered.length; i += size) {
    const chunk = ordered.slice(i, i + size);
    out.push({
      from: i + 1,
      to: i + chunk.length,
      n: chunk.length,
      accuracy: chunk.filter((r) => r.correct).length / chunk.length,
    });
  }
  return out;
}
