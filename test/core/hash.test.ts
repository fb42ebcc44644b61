import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashLognormal, hashPick, hashUnit, sha256 } from '../../src/core/hash.ts';

/** The definitions the project's draws were made with: sha256 through a Hash object, 48 bits read big-endian. */
const reference = {
  sha256: (s: string) => createHash('sha256').update(s).digest('hex'),
  unit: (...parts: Array<string | number>) =>
    createHash('sha256').update(parts.join('\u241f')).digest().readUIntBE(0, 6) / 2 ** 48,
  lognormal(median: number, sigma: number, ...parts: Array<string | number>) {
    const u1 = Math.max(this.unit(...parts, 'u1'), 1e-12);
    const u2 = this.unit(...parts, 'u2');
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return median * Math.exp(sigma * z);
  },
};

describe('hash draws', () => {
  const inputs = Array.from(
    { length: 500 },
    (_, i) => [`item-${i}`, i, 'Solo', i % 7 === 0 ? 'é✓' : ''] as const,
  );

  it('sha256 and hashUnit give the values of the reference definitions', () => {
    for (const parts of inputs) {
      expect(sha256(parts.join('|'))).toBe(reference.sha256(parts.join('|')));
      expect(hashUnit(...parts)).toBe(reference.unit(...parts));
    }
    expect(sha256(new Uint8Array([1, 2, 3]))).toBe(
      createHash('sha256')
        .update(new Uint8Array([1, 2, 3]))
        .digest('hex'),
    );
  });

  it('hashLognormal equals the reference draw, with and without spread', () => {
    for (const [i, parts] of inputs.entries()) {
      const sigma = i % 3 === 0 ? 0 : 0.3 * (i % 5);
      expect(hashLognormal(50, sigma, ...parts)).toBe(reference.lognormal(50, sigma, ...parts));
    }
  });

  it('hashUnit stays in [0, 1) and spreads over it', () => {
    const us = inputs.map((p) => hashUnit(...p));
    expect(Math.min(...us)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...us)).toBeLessThan(1);
    expect(us.filter((u) => u < 0.5).length).toBeGreaterThan(200);
    expect(us.filter((u) => u < 0.5).length).toBeLessThan(300);
    expect(hashPick(['a', 'b', 'c'], 'x', 1)).toBe(['a', 'b', 'c'][Math.floor(reference.unit('x', 1) * 3)]);
  });
});
