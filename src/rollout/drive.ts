import type { ExpertCall, RolloutState, ScoreJobResult } from '../core/jobs.ts';
import { advance } from './engine.ts';
import type { EngineConfig, RolloutEvent } from './types.ts';

/**
 * What a driver does for the engine. Each method carries out one kind of `next` and
 * returns the event it produced; a driver that must wait (a queue) throws instead, and
 * the rollout is driven again later from its saved state.
 */
export interface RolloutIO {
  save(state: RolloutState): Promise<void>;
  decide(state: RolloutState, first: boolean): Promise<RolloutEvent>;
  call(state: RolloutState, calls: ExpertCall[]): Promise<RolloutEvent>;
  resolve(state: RolloutState): Promise<RolloutEvent>;
  score(state: RolloutState): Promise<RolloutEvent>;
  /** The rollout is scored (called before `drive` returns; at least once per rollout). */
  finish(result: ScoreJobResult): Promise<void>;
}

export class RolloutFailed extends Error {}

/**
 * Drives a rollout from `event` until it finishes (returns its result) or the driver
 * suspends it (throws). Each step is bounded: the engine ends a rollout after its turn
 * limit, so a rollout that keeps going is a bug, reported as one.
 */
export async function drive(
  start: RolloutState,
  event: RolloutEvent,
  cfg: EngineConfig,
  io: RolloutIO,
): Promise<{ state: RolloutState; result: ScoreJobResult }> {
  let t = advance(start, event, cfg);
  for (let guard = 0; guard < cfg.profile.maxTurns * 4 + 8; guard++) {
    if (t.save) await io.save(t.state);
    const { state, next } = t;
    switch (next.type) {
      case 'finish':
        await io.finish(next.result);
        return { state, result: next.result };
      case 'fail':
        throw new RolloutFailed(next.error);
      case 'decide':
        t = advance(state, await io.decide(state, next.first), cfg);
        break;
      case 'call':
        t = advance(state, await io.call(state, next.calls), cfg);
        break;
      case 'resolve':
        t = advance(state, await io.resolve(state), cfg);
        break;
      case 'score':
        t = advance(state, await io.score(state), cfg);
        break;
    }
  }
  throw new RolloutFailed('the rollout did not settle (internal loop guard)');
}
