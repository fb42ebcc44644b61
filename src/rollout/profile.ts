import { RELEASE_OBSERVATIONS, releaseSkillErrorObservation } from './release-names.ts';
import type { ChatProfile, ReleaseProfile } from './types.ts';

interface ProfileOptions {
  maxTurns: number;
  budgetMs?: number | undefined;
}

const budget = (opts: ProfileOptions) => (opts.budgetMs !== undefined ? { budgetMs: opts.budgetMs } : {});

/**
 * The `chat` profile: a malformed turn or an unknown name costs a turn and the policy is
 * told what went wrong; an answer may come at any turn; `maxTurns` generations in all.
 */
export function chatProfile(opts: ProfileOptions): ChatProfile {
  return {
    name: 'chat',
    maxTurns: opts.maxTurns,
    ...budget(opts),
    malformed: (reason) =>
      `error: ${reason}. Use <search> MODEL@@SKILL: input </search> or <answer> ... </answer>.`,
    unknownModel: (name, offered) =>
      `error: unknown model "${name}". Available models: ${offered.join(', ')}.`,
    unknownSkill: (name, offered) =>
      `error: unknown skill "${name}". Available skills: ${offered.join(', ')}.`,
  };
}

/**
 * The `release` profile, as the public release's agent loop evaluates: steps 0..maxTurns
 * (maxTurns = 4: five generations, four calls at most), observations of at most 1,000
 * characters (the end of the skill's output), and the release's observation texts for
 * unknown names and failed calls.
 */
export function releaseProfile(opts: ProfileOptions): ReleaseProfile {
  return {
    name: 'release',
    maxTurns: opts.maxTurns,
    ...budget(opts),
    observationChars: 1_000,
    unknownModel: RELEASE_OBSERVATIONS.modelName,
    unknownSkill: RELEASE_OBSERVATIONS.skillName,
    callFailed: releaseSkillErrorObservation,
  };
}

/** The profile a policy's rollouts follow. */
export function protocolProfile(name: 'chat' | 'release' | undefined, opts: ProfileOptions) {
  return name === 'release' ? releaseProfile(opts) : chatProfile(opts);
}
