import * as crypto from 'node:crypto';

/** JSON with object keys sorted, so equal values always serialise to the same text. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** One-shot hashing (`crypto.hash`, Node 20.12+: no Hash object per call), else createHash. */
const oneShot: ((algorithm: string, data: string | Uint8Array, encoding: 'hex') => string) | undefined = (
  crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }
).hash;

export function sha256(data: string | Uint8Array): string {
  return oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}

/** Hash of a value's canonical JSON. */
export function fingerprint(value: unknown): string {
  return sha256(stableStringify(value));
}

/**
 * A uniform number in [0, 1) determined only by the parts given: the basis of every
 * "random" choice in the project, so results never depend on order or timing.
 */
export function hashUnit(...parts: Array<string | number>): number {
  // The first 48 bits (12 hex digits) are plenty and stay exact in a double.
  return Number.parseInt(sha256(parts.join('\u241f')).slice(0, 12), 16) / 2 ** 48;
}

/** Deterministic pick from a non-empty list. */
export function hashPick<T>(items: readonly T[], ...parts: Array<string | number>): T {
  if (items.length === 0) throw new Error('hashPick: empty list');
  return items[Math.floor(hashUnit(...parts) * items.length)] as T;
}

/** A sample from a lognormal distribution with the given median, driven by two hash units. */
export function hashLognormal(median: number, sigma: number, ...parts: Array<string | number>): number {
  // exp(0 × z) is exactly 1 for the finite z below: no draw needed.
  if (sigma === 0) return median;
  const u1 = Math.max(hashUnit(...parts, 'u1'), 1e-12);
  const u2 = hashUnit(...parts, 'u2');
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return median * Math.exp(sigma * z);
}

/** Keeps [A-Za-z0-9_.-]; anything else becomes `_` and a short hash keeps names distinct. */
export function slug(value: string, maxLength = 48): string {
  const clean = value.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (clean === value && clean.length <= maxLength) return clean;
  return `${clean.slice(0, maxLength - 9)}_${sha256(value).slice(0, 8)}`;
}

/**
 * A small seedable PRNG (mulberry32): uniform numbers in [0, 1), the same sequence for the
 * same seed on every host. Ample for bandit sampling, bootstrap indices and test schedules.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
