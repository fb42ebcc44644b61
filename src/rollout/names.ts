import type { Registry } from '../core/registry.ts';
import type { NameResolver } from './types.ts';

/**
 * Name resolution against a registry: experts and skills matched as the registry matches
 * them (case-insensitive, `_`/`-`/no separator alike), plus the reserved direct skill.
 */
export function namesFromRegistry(registry: Registry, directSkill: string): NameResolver {
  return {
    expert: (name) => registry.findExpert(name)?.name,
    skill: (name) => (name.toLowerCase() === directSkill ? directSkill : registry.findSkill(name)?.name),
    offeredExperts: () => registry.offeredExperts().map((e) => e.name),
    offeredSkills: () => registry.offeredSkills().map((s) => s.name),
  };
}
