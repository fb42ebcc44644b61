import type { Item } from '../core/items.ts';

/** Headers that let servers (and the simulators) correlate a request with its item. */
export function traceHeaders(item: Item, skill: string, seed: number): Record<string, string> {
  return {
    'x-maestro-item': `${encodeURIComponent(item.benchmark)}/${encodeURIComponent(item.id)}`,
    'x-maestro-skill': skill,
    'x-maestro-seed': String(seed),
  };
}
