/**
 * Exact rationals and Python-float conversion for the math reward's expression evaluator.
 * SymPy keeps Integer/Rational arithmetic exact and evaluates Float arithmetic at 53 bits;
 * these helpers do the same.
 */

export interface Rat {
  kind: 'rat';
  p: bigint;
  q: bigint;
}

export interface Flt {
  kind: 'flt';
  v: number;
}

export type Num = Rat | Flt;

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

function gcd(a: bigint, b: bigint): bigint {
  let [x, y] = [abs(a), abs(b)];
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function rat(p: bigint, q: bigint = 1n): Rat {
  if (q === 0n) throw new RangeError('zero denominator');
  const sign = q < 0n ? -1n : 1n;
  const g = gcd(p, q) || 1n;
  return { kind: 'rat', p: (sign * p) / g, q: (sign * q) / g };
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** The double nearest to p/q (round half to even), or null outside the normal double range. */
export function ratToDouble(r: Rat): number | null {
  if (r.p === 0n) return 0;
  const negative = r.p < 0n;
  const n = abs(r.p);
  const d = r.q;
  let e = bitLength(n) - bitLength(d) - 54;
  const scaled = (shift: number): [bigint, bigint] =>
    shift >= 0 ? [n, d << BigInt(shift)] : [n << BigInt(-shift), d];
  let [num, den] = scaled(e);
  while (num / den >= 1n << 53n) [num, den] = scaled(++e);
  while (num / den < 1n << 52n) [num, den] = scaled(--e);
  let q = num / den;
  const twice = 2n * (num % den);
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  if (e + 52 > 1023 || e + 52 < -1022) return null;
  const value = Number(q) * 2 ** e;
  return negative ? -value : value;
}

export function toDouble(x: Num): number | null {
  return x.kind === 'flt' ? x.v : ratToDouble(x);
}

/** A perfect-square root of a non-negative rational, or null. */
export function exactSqrt(r: Rat): Rat | null {
  const root = (x: bigint): bigint | null => {
    if (x < 2n) return x;
    let y = 1n << BigInt(Math.ceil(bitLength(x) / 2));
    for (;;) {
      const next = (y + x / y) >> 1n;
      if (next >= y) break;
      y = next;
    }
    return y * y === x ? y : null;
  };
  const [p, q] = [root(r.p), root(r.q)];
  return p === null || q === null ? null : rat(p, q);
}

/** Whether a rational's size is small enough to keep exact (SymPy has no limit; we stop early). */
export function ratIsSmall(r: Rat): boolean {
  return bitLength(abs(r.p)) <= 4096 && bitLength(r.q) <= 4096;
}
