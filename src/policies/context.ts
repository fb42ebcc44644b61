import type { Item } from '../core/items.ts';
import type { RolloutState } from '../core/jobs.ts';
import type { Registry } from '../core/registry.ts';
import type { PolicySpec } from '../core/sweep.ts';
import type { ClientCache } from '../models/client.ts';
import { traceHeaders } from '../models/headers.ts';
import type { PolicyContext } from './types.ts';

export interface RolloutFacts {
  spec: PolicySpec;
  registry: Registry;
  item: Item;
  domain: string;
  seed: number;
  sweepId: string;
  rolloutId: string;
  images: () => Promise<string[]>;
  clients: ClientCache;
}

/** The context a policy decides in, for a rollout's current state. */
export function contextFor(f: RolloutFacts): (state: RolloutState) => PolicyContext {
  const headers = traceHeaders(f.item, 'policy', f.seed);
  return (state) => ({ ...f, steps: state.steps, turn: state.turn, headers });
}
