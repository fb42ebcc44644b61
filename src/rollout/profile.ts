import type { ProtocolProfile } from './types.ts';

/**
 * The `chat` profile: a malformed turn or an unknown name costs a turn and the policy is
 * told what went wrong; an answer may come at any turn; `maxTurns` generations in all.
 */
export function chatProfile(opts: { maxTurns: number; budgetMs?: number | undefined }): ProtocolProfile {
  return {
    name: 'chat',
    maxTurns: opts.maxTurns,
    ...(opts.budgetMs !== undefined ? { budgetMs: opts.budgetMs } : {}),
    malformed: (reason) =>
      `error: ${reason}. Use <search> MODEL@@SKILL: input </search> or <answer> ... </answer>.`,
    unknownModel: (name, offered) =>
      `error: unknown model "${name}". Available models: ${offered.join(', ')}.`,
    unknownSkill: (name, offered) =>
      `error: unknown skill "${name}". Available skills: ${offered.join(', ')}.`,
  };
}
