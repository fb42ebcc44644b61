import type { RolloutJobData } from '../../src/core/jobs.ts';

/** A rollout's job data for tests that drive workers' code directly: not started, one item of tallyqa. */
export function testRollout(rolloutId: string): RolloutJobData {
  return {
    v: 1,
    sweepId: 's',
    rolloutId,
    policy: 'maestro',
    benchmark: 'tallyqa',
    itemId: 'i1',
    seed: 0,
    sample: 0,
    state: { phase: 'policy', turn: 0, steps: [], pending: [] },
  };
}
