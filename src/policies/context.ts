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
  // Written out (not `...f`): one object shape for every rollout, built without a copy loop.
  return (state) => ({
    spec: f.spec,
    registry: f.registry,
    item: f.item,
    domain: f.domain,
    steps: state.steps,
    turn: state.turn,
    seed: f.seed,
    sweepId: f.sweepId,
    rolloutId: f.rolloutId,
    images: f.images,
    clients: f.clients,
    headers,
  });
}
