import { describe, expect, it } from 'vitest';
import type { ItemRecord } from '../../src/core/items.ts';
import { aggregate, findCell, percentile, wilson } from '../../src/scoring/aggregate.ts';
import { catalog, rec, suite } from './helpers.ts';

/**
 * The hand-computed example.
 *
 * maestro / alpha: 12 records.
 *   7 answered and correct, 1 answered wrong, 1 answered with nothing extracted (wrong),
 *   1 no_answer, 2 errors (latency 5000 ms: they count as wrong in the accuracy, and nowhere
 *   in the latency, calls or tokens).
 *   total = 12, n = 10, correct = 7: accuracy = 7/12 = 0.5833333 (failures wrong),
 *   accuracyAnswered = 7/10 = 0.7
 *   stderr = sqrt(7/12 · 5/12 / 12) = 0.1423188
 *   Wilson of 7 of 12, z = 1.959964, z² = 3.841459:
 *     denom  = 1 + z²/12                 = 1.3201216
 *     center = (7/12 + z²/24)/denom      = 0.7433941 / 1.3201216 = 0.5631255
 *     half   = z/denom · sqrt(0.0202546 + z²/576) = 1.4846845 · 0.1640848 = 0.2436142
 *     ci95   = [0.3195113, 0.8067397]
 *   latencies of the 10 that ran: 100, 200, …, 1000 ms
 *     mean 550, p50 = 550 (between 500 and 600), p95: rank 9 · 0.95 = 8.55 → 900 + 0.55 · 100 = 955
 *   expert calls: 2 each except the no_answer one (0) → mean 18 / 10 = 1.8
 *   tokens: 10 + 5 = 15 each → 15
 * maestro / beta: 4 answered, 1 correct → 0.25
 * maestro / gamma: 2 answered, both correct → 1.0; maestro / delta: no records.
 *   inDomainAvg = (7/12 + 0.25) / 2 = 0.4166667; outOfDomainAvg = null (delta missing)
 * direct / alpha: 5 of 5 → 1.0; direct / beta: only 2 errors → n = 0, accuracy 0 (both
 *   wrong), accuracyAnswered null; inDomainAvg = (1 + 0) / 2 = 0.5
 * A duplicate of maestro/beta/b0 recorded first as an error and then answered counts once.
 */
function example(): ItemRecord[] {
  const rs: ItemRecord[] = [];
  const p = 'maestro';
  for (let i = 0; i < 7; i++) {
    rs.push(
      rec({
        policy: p,
        benchmark: 'alpha',
        itemId: `a${i}`,
        correct: true,
        latencyMs: (i + 1) * 100,
        expertCalls: 2,
      }),
    );
  }
  rs.push(
    rec({ policy: p, benchmark: 'alpha', itemId: 'a7', correct: false, latencyMs: 800, expertCalls: 2 }),
  );
  rs.push(
    rec({
      policy: p,
      benchmark: 'alpha',
      itemId: 'a8',
      correct: false,
      extracted: null,
      latencyMs: 900,
      expertCalls: 2,
    }),
  );
  rs.push(
    rec({
      policy: p,
      benchmark: 'alpha',
      itemId: 'a9',
      status: 'no_answer',
      latencyMs: 1000,
      expertCalls: 0,
    }),
  );
  rs.push(
    rec({ policy: p, benchmark: 'alpha', itemId: 'a10', status: 'error', latencyMs: 5000, error: 'boom' }),
  );
  rs.push(
    rec({ policy: p, benchmark: 'alpha', itemId: 'a11', status: 'error', latencyMs: 5000, error: 'boom' }),
  );
  rs.push(
    rec({
      policy: p,
      benchmark: 'beta',
      itemId: 'b0',
      status: 'error',
      finishedAt: '2026-01-01T00:00:00.500Z',
    }),
  );
  for (let i = 0; i < 4; i++)
    rs.push(rec({ policy: p, benchmark: 'beta', itemId: `b${i}`, correct: i === 0 }));
  for (let i = 0; i < 2; i++) rs.push(rec({ policy: p, benchmark: 'gamma', itemId: `g${i}`, correct: true }));
  for (let i = 0; i < 5; i++)
    rs.push(rec({ policy: 'direct', benchmark: 'alpha', itemId: `a${i}`, correct: true }));
  for (let i = 0; i < 2; i++)
    rs.push(rec({ policy: 'direct', benchmark: 'beta', itemId: `b${i}`, status: 'error' }));
  rs.push(rec({ policy: 'direct', benchmark: 'zeta', itemId: 'z0', correct: true }));
  rs.push(rec({ policy: 'direct', benchmark: 'extra', itemId: 'e0', correct: false }));
  return rs;
}

describe('aggregate', () => {
  const summary = aggregate(example(), catalog, suite);

  it('computes n, correct, accuracy, stderr and the Wilson interval of a cell', () => {
    const c = findCell(summary, 'maestro', 'alpha');
    expect(c).toBeDefined();
    expect(c?.n).toBe(10);
    expect(c?.correct).toBe(7);
    expect(c?.accuracy).toBeCloseTo(7 / 12, 12);
    expect(c?.accuracyAnswered).toBeCloseTo(0.7, 12);
    expect(c?.headline).toBe(c?.accuracy);
    expect(c?.headlineAnswered).toBe(c?.accuracyAnswered);
    expect(c?.stderr).toBeCloseTo(0.1423188, 6);
    expect(c?.ci95?.[0]).toBeCloseTo(0.3195113, 6);
    expect(c?.ci95?.[1]).toBeCloseTo(0.8067397, 6);
  });

  it('keeps errors out of n and counts no-answers and extraction failures', () => {
    const c = findCell(summary, 'maestro', 'alpha');
    expect(c).toMatchObject({ errors: 2, failedOutright: 0, noAnswer: 1, extractionFailures: 1, total: 12 });
  });

  it('computes latency, expert calls and tokens over the items that ran', () => {
    const c = findCell(summary, 'maestro', 'alpha');
    expect(c?.latencyMs?.mean).toBeCloseTo(550, 9);
    expect(c?.latencyMs?.p50).toBeCloseTo(550, 9);
    expect(c?.latencyMs?.p95).toBeCloseTo(955, 9);
    expect(c?.expertCalls).toBeCloseTo(1.8, 12);
    expect(c?.tokens).toBe(15);
  });

  it('averages per-benchmark accuracies over each suite group, unweighted', () => {
    const m = summary.byPolicy.find((p) => p.policy === 'maestro');
    expect(m?.inDomainAvg).toBeCloseTo((7 / 12 + 0.25) / 2, 12);
    // Over the items that ran: (0.7 + 0.25) / 2; the two alpha errors are the group's failures.
    expect(m?.inDomainAvgAnswered).toBeCloseTo(0.475, 12);
    expect(m?.failedInDomain).toBe(2);
    expect(m?.outOfDomainAvg).toBe(null);
    expect(m?.missingOutOfDomain).toEqual(['delta']);
    expect(m?.missingInDomain).toEqual([]);
  });

  it('counts a benchmark whose items all failed as 0 in the average, with no answered accuracy', () => {
    const d = summary.byPolicy.find((p) => p.policy === 'direct');
    const beta = findCell(summary, 'direct', 'beta');
    expect(beta).toMatchObject({
      n: 0,
      errors: 2,
      accuracy: 0,
      accuracyAnswered: null,
      headlineAnswered: null,
    });
    expect(beta?.ci95?.[0]).toBe(0);
    expect(beta?.ci95?.[1]).toBeCloseTo(0.6576198, 6); // Wilson of 0 of 2
    expect(d?.inDomainAvg).toBeCloseTo(0.5, 12);
    expect(d?.inDomainAvgAnswered).toBeNull(); // beta has no item that ran
    expect(d?.missingInDomain).toEqual([]);
    expect(d?.missingOutOfDomain).toEqual(['gamma', 'delta']);
  });

  it('counts a retried item once, preferring the finished record over the error', () => {
    const c = findCell(summary, 'maestro', 'beta');
    expect(c).toMatchObject({ n: 4, correct: 1, errors: 0 });
    expect(summary.duplicatesDropped).toBe(1);
  });

  it('orders policies by key and benchmarks by suite, then catalog, then unknown ids', () => {
    expect(summary.policies).toEqual(['direct', 'maestro']);
    expect(summary.benchmarks).toEqual(['alpha', 'beta', 'gamma', 'delta', 'extra', 'zeta']);
    expect(summary.cells.map((c) => `${c.policy}/${c.benchmark}`)).toEqual([
      'direct/alpha',
      'direct/beta',
      'direct/extra',
      'direct/zeta',
      'maestro/alpha',
      'maestro/beta',
      'maestro/gamma',
    ]);
  });

  it('does not depend on the order records arrive in', () => {
    const reversed = aggregate([...example()].reverse(), catalog, suite);
    expect(JSON.stringify(reversed.byPolicy)).toBe(JSON.stringify(summary.byPolicy));
    expect(reversed.cells.map((c) => [c.n, c.correct, c.errors])).toEqual(
      summary.cells.map((c) => [c.n, c.correct, c.errors]),
    );
  });
});

describe('statistics helpers', () => {
  it('Wilson interval of 0/10 and 10/10 stays inside [0, 1] and is not degenerate', () => {
    const [lo0, hi0] = wilson(0, 10) ?? [Number.NaN, Number.NaN];
    expect(lo0).toBe(0);
    expect(hi0).toBeCloseTo(0.2775328, 6);
    const [lo1, hi1] = wilson(10, 10) ?? [Number.NaN, Number.NaN];
    expect(lo1).toBeCloseTo(0.7224672, 6);
    expect(hi1).toBe(1);
    expect(wilson(0, 0)).toBe(null);
  });

  it('percentile interpolates between order statistics', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([10], 0.95)).toBe(10);
    expect(percentile([0, 100], 0.95)).toBeCloseTo(95, 9);
  });
});
