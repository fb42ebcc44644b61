import { InvalidArgumentError } from 'commander';

/** Parses a command-line option that must be a positive integer (`--limit 10`). */
export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
