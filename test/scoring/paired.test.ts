import { describe, expect, it } from 'vitest';
import type { ItemRecord } from '../../src/core/items.ts';
import { pairedDifference } from '../../src/scoring/paired.ts';
import { rec } from './helpers.ts';

function pair(pattern: Array<[boolean, boolean]>): ItemRecord[] {
  return pattern.flatMap(([a, b], i) => [
    rec({ policy: 'A', benchmark: 'alpha', itemId: `i${i}`, correct: a }),
    rec({ policy: 'B', benchmark: 'alpha', itemId: `i${i}`, correct: b }),
  ]);
}

describe('pairedDifference', () => {
  it('is exactly 0 with a zero-width interval when both policies agree on every item', () => {
    const d = pairedDifference(
      pair([
        [true, true],
        [false, false],
        [true, true],
      ]),
      'A',
      'B',
      'alpha',
    );
    expect(d).toMatchObject({ n: 3, difference: 0, ci95: [0, 0], onlyA: 0, onlyB: 0 });
  });

  it('computes the difference on paired items only and brackets it', () => {
    // 10 items: A right on 7, B right on 4; A-only 4, B-only 1 → difference 0.3.
    const pattern: Array<[boolean, boolean]> = [
      [true, false],
      [true, false],
      [true, false],
      [true, false],
      [false, true],
      [true, true],
      [true, true],
      [true, true],
      [false, false],
      [false, false],
    ];
    const records = [
      ...pair(pattern),
      rec({ policy: 'A', benchmark: 'alpha', itemId: 'only-A', correct: true }),
    ];
    const d = pairedDifference(records, 'A', 'B', 'alpha', { resamples: 500 });
    expect(d?.n).toBe(10);
    expect(d?.difference).toBeCloseTo(0.3, 12);
    expect(d?.onlyA).toBe(4);
    expect(d?.onlyB).toBe(1);
    expect(d?.ci95[0]).toBeLessThan(0.3);
    expect(d?.ci95[1]).toBeGreaterThan(0.3);
    // The paired differences have sd ≈ 0.64, so se ≈ 0.2 and the interval spans about ±0.4.
    expect(d?.ci95[0]).toBeGreaterThanOrEqual(-0.2);
    expect(d?.ci95[0]).toBeLessThanOrEqual(0.1);
    expect(d?.ci95[1]).toBeGreaterThanOrEqual(0.5);
    expect(d?.ci95[1]).toBeLessThanOrEqual(0.8);
    // Seeded: the same records give the same interval, in any order.
    expect(pairedDifference([...records].reverse(), 'A', 'B', 'alpha', { resamples: 500 })?.ci95).toEqual(
      d?.ci95,
    );
  });

  it('ignores errors and returns null without paired items', () => {
    const records = [
      rec({ policy: 'A', benchmark: 'alpha', itemId: 'x', correct: true }),
      rec({ policy: 'B', benchmark: 'alpha', itemId: 'x', status: 'error' }),
    ];
    expect(pairedDifference(records, 'A', 'B', 'alpha')).toBe(null);
  });
});
