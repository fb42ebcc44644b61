import { expect, it } from 'vitest';
import type { Item } from '../../../src/core/items.ts';
import type { OfficialScorer } from '../../../src/scoring/official/types.ts';

/**
 * One case of a scorer of record: the reply as the benchmark's harness records it, the
 * item fields the rule reads, the verdict the upstream rule gives, and where that rule is.
 */
export interface OfficialCase {
  name: string;
  /** Upstream file (and function or lines) and the rule the case checks. */
  cite: string;
  answers: string[];
  reply: string;
  correct: boolean;
  options?: Item['options'];
  extra?: Record<string, unknown>;
  question?: string;
  answerType?: Item['answerType'];
}

export function caseItem(c: OfficialCase, benchmark: string): Item {
  return {
    id: `${benchmark}-case`,
    benchmark,
    question: c.question ?? 'What is shown?',
    images: [],
    answers: c.answers,
    answerType: c.answerType ?? (c.options ? 'choice' : 'text'),
    extra: c.extra ?? {},
    ...(c.options ? { options: c.options } : {}),
  };
}

/** One test per case: the scorer's verdict is the upstream rule's, and says it is official. */
export function checkCases(scorer: OfficialScorer, cases: OfficialCase[], minimum = 20): void {
  it(`has at least ${minimum} cases, each citing its upstream rule`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(minimum);
    for (const c of cases) expect(c.cite, c.name).toMatch(/\.py\b/);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });
  for (const c of cases) {
    it(`${c.correct ? 'accepts' : 'rejects'}: ${c.name} [${c.cite}]`, async () => {
      const r = await scorer.score(caseItem(c, scorer.name), c.reply);
      expect(r.correct, r.reason).toBe(c.correct);
      expect(r.score).toBe(c.correct ? 1 : 0);
      expect(r.mode).toBe('official');
      expect(r.reason.length).toBeGreaterThan(5);
    });
  }
}
