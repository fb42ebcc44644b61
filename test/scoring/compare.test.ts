import { describe, expect, it } from 'vitest';
import type { ItemRecord } from '../../src/core/items.ts';
import { aggregate } from '../../src/scoring/aggregate.ts';
import { comparePolicies, comparisonMarkdown } from '../../src/scoring/compare.ts';
import { pairedGroupDifference } from '../../src/scoring/paired.ts';
import { catalog, rec, suite } from './helpers.ts';

/**
 * The hand-computed example (suite "mini": in-domain alpha, beta; out-of-domain gamma, delta).
 *
 * d_i = correct_A − correct_B on the items both ran.
 * alpha: A ✓✓, B ✗✓ → d = [1, 0]: accA 1, accB 0.5, difference 0.5
 *        SE = sqrt(mean((d − 0.5)²) / n) = sqrt(0.25 / 2) = 0.35355339
 *        bootstrap means ∈ {0, 0.5, 1} with probabilities {1/4, 1/2, 1/4} → 95 % CI [0, 1]
 *        (each end has 25 % of the mass, far above 2.5 %, so the percentiles are exact).
 *        One more alpha item ran only under A, and one errored under B: neither is paired.
 * beta:  A ✓✗, B ✗✓ → d = [1, −1]: accA 0.5, accB 0.5, difference 0
 *        SE = sqrt(1 / 2) = 0.70710678; bootstrap means ∈ {−1, 0, 1} → CI [−1, 1]
 * In-domain average: accA (1 + 0.5)/2 = 0.75, accB (0.5 + 0.5)/2 = 0.5, difference 0.25
 *        (= aggregate's in-domain averages 0.75 − 0.5)
 *        SE = sqrt(0.35355339² + 0.70710678²) / 2 = sqrt(0.625) / 2 = 0.39528471
 *        bootstrap: (alpha mean + beta mean) / 2; its minimum (0 − 1)/2 = −0.5 and maximum
 *        (1 + 1)/2 = 1 each have probability 1/4 · 1/4 = 6.25 % > 2.5 % → CI [−0.5, 1].
 * gamma: A ✓✓✓, B ✗✗✗ → d = [1, 1, 1]: difference 1, SE 0, CI [1, 1]
 * delta: A ✓, B ✓ → d = [0]: difference 0, SE 0, CI [0, 0]
 * Out-of-domain average: difference 0.5, SE 0, CI [0.5, 0.5].
 */
function example(): ItemRecord[] {
  const rs: ItemRecord[] = [];
  const add = (benchmark: string, a: boolean[], b: boolean[]) => {
    a.forEach((correct, i) => {
      rs.push(rec({ policy: 'A', benchmark, itemId: `${benchmark}${i}`, correct }));
    });
    b.forEach((correct, i) => {
      rs.push(rec({ policy: 'B', benchmark, itemId: `${benchmark}${i}`, correct }));
    });
  };
  add('alpha', [true, true], [false, true]);
  add('beta', [true, false], [false, true]);
  add('gamma', [true, true, true], [false, false, false]);
  add('delta', [true], [true]);
  rs.push(rec({ policy: 'A', benchmark: 'alpha', itemId: 'only-a', correct: true }));
  rs.push(rec({ policy: 'A', benchmark: 'alpha', itemId: 'err', correct: false }));
  rs.push(rec({ policy: 'B', benchmark: 'alpha', itemId: 'err', status: 'error' }));
  return rs;
}

describe('comparePolicies: the hand-computed example', () => {
  const c = comparePolicies(example(), 'A', 'B', { catalog, suite, seed: 'sweep-x' });
  const by = (b: string) => c.benchmarks.find((d) => d.benchmark === b);

  it('gives per-benchmark differences, standard errors and exact bootstrap intervals', () => {
    expect(c.benchmarks.map((d) => d.benchmark)).toEqual(['alpha', 'beta', 'gamma', 'delta']);
    expect(by('alpha')).toMatchObject({ n: 2, accuracyA: 1, accuracyB: 0.5, difference: 0.5, ci95: [0, 1] });
    expect(by('alpha')?.stderr).toBeCloseTo(0.35355339, 8);
    expect(by('beta')).toMatchObject({ n: 2, difference: 0, ci95: [-1, 1] });
    expect(by('beta')?.stderr).toBeCloseTo(Math.SQRT1_2, 8); // 0.70710678
    expect(by('gamma')).toMatchObject({ n: 3, difference: 1, stderr: 0, ci95: [1, 1] });
    expect(by('delta')).toMatchObject({ n: 1, difference: 0, stderr: 0, ci95: [0, 0] });
  });

  it('gives the in-domain average difference, its standard error and its bootstrap interval', () => {
    expect(c.inDomain).toMatchObject({ benchmarks: ['alpha', 'beta'], missing: [], n: 4 });
    expect(c.inDomain?.accuracyA).toBeCloseTo(0.75, 12);
    expect(c.inDomain?.accuracyB).toBeCloseTo(0.5, 12);
    expect(c.inDomain?.difference).toBeCloseTo(0.25, 12);
    expect(c.inDomain?.stderr).toBeCloseTo(0.39528471, 8);
    expect(c.inDomain?.ci95).toEqual([-0.5, 1]);
    // On the paired items, the difference of the tables' in-domain averages.
    const paired = example().filter((r) => r.itemId !== 'only-a' && r.itemId !== 'err');
    const summary = aggregate(paired, catalog, suite);
    const avg = (p: string) => summary.byPolicy.find((x) => x.policy === p)?.inDomainAvg ?? Number.NaN;
    expect(c.inDomain?.difference).toBeCloseTo(avg('A') - avg('B'), 12);
  });

  it('gives the out-of-domain average', () => {
    expect(c.outOfDomain).toMatchObject({ n: 4, difference: 0.5, stderr: 0, ci95: [0.5, 0.5] });
  });

  it('prints a table with percentage points and the group rows', () => {
    const md = comparisonMarkdown(c, catalog);
    expect(md).toContain('| Alpha | 2 | 100.0 | 50.0 | +50.0 | 35.4 | 0.0 to +100.0 | 1 | 0 |');
    expect(md).toContain(
      '| **In-domain avg** (2) | 4 | 75.0 | 50.0 | +25.0 | 39.5 | -50.0 to +100.0 |  |  |',
    );
    expect(md).toContain(
      '| **Out-of-domain avg** (2) | 4 | 100.0 | 50.0 | +50.0 | 0.0 | +50.0 to +50.0 |  |  |',
    );
  });

  it('is reproducible and independent of record order', () => {
    const again = comparePolicies([...example()].reverse(), 'A', 'B', { catalog, suite, seed: 'sweep-x' });
    expect(again).toEqual(c);
  });
});

describe('pairedGroupDifference', () => {
  it('has no numbers when a benchmark of the group has no paired item, and says which', () => {
    const rs = example().filter((r) => !(r.benchmark === 'delta' && r.policy === 'B'));
    const g = pairedGroupDifference(rs, 'A', 'B', ['gamma', 'delta']);
    expect(g).toMatchObject({ missing: ['delta'], difference: null, stderr: null, ci95: null, n: 3 });
    expect(pairedGroupDifference(rs, 'A', 'B', [])).toBe(null);
  });

  it('brackets a non-degenerate average with an interval that moves with the data', () => {
    const rs: ItemRecord[] = [];
    for (let i = 0; i < 40; i++) {
      rs.push(rec({ policy: 'A', benchmark: 'alpha', itemId: `a${i}`, correct: i % 4 !== 0 }));
      rs.push(rec({ policy: 'B', benchmark: 'alpha', itemId: `a${i}`, correct: i % 2 === 0 }));
      rs.push(rec({ policy: 'A', benchmark: 'beta', itemId: `b${i}`, correct: i % 5 !== 0 }));
      rs.push(rec({ policy: 'B', benchmark: 'beta', itemId: `b${i}`, correct: i % 3 === 0 }));
    }
    const g = pairedGroupDifference(rs, 'A', 'B', ['alpha', 'beta'], { resamples: 1000 });
    const d = g?.difference ?? Number.NaN;
    // alpha: 0.75 − 0.5; beta: 0.8 − 0.35 → (0.25 + 0.45) / 2 = 0.35
    expect(d).toBeCloseTo(0.35, 12);
    expect(g?.ci95?.[0]).toBeLessThan(d);
    expect(g?.ci95?.[1]).toBeGreaterThan(d);
    // A 95 % interval spans roughly ±2 SE.
    const width = (g?.ci95?.[1] ?? 0) - (g?.ci95?.[0] ?? 0);
    expect(width / (g?.stderr ?? 1)).toBeGreaterThan(3);
    expect(width / (g?.stderr ?? 1)).toBeLessThan(5);
  });
});
