import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { ROOT } from './paths.ts';
import { parseWith, readYamlFile } from './yaml-file.ts';

/**
 * The names the public Maestro release accepts in a `<search>` block (experts, skills,
 * aliases and keyword rules), read from a YAML file (`registry/release-names.yaml`).
 * The matching itself is in `src/rollout/release-names.ts`.
 */

export const RELEASE_NAMES_FILE = join(ROOT, 'registry', 'release-names.yaml');

/** A word matched against a stripped, lower-cased name: it must be lower case itself. */
const word = z
  .string()
  .min(1)
  .refine((w) => w === w.toLowerCase() && w === w.trim(), 'lower case, no surrounding spaces');

const Model = z.strictObject({
  /** The expert name the release calls. */
  name: z.string().min(1),
  /** Substrings that select this model (any one suffices). */
  contains: z.array(word).min(1),
});

const Skill = z.strictObject({
  /** The skill name the release's matching returns. */
  name: z.string().min(1),
  /** Exact names (lower case) that select this skill before any keyword rule. */
  aliases: z.array(word).default([]),
  /** False when the release's skill factory has no implementation for this name. */
  runs: z.boolean().default(true),
});

const KeywordRule = z
  .strictObject({
    skill: z.string().min(1),
    /** Every word must occur in the name. */
    all: z.array(word).default([]),
    /** At least one word must occur (when given). */
    any: z.array(word).optional(),
  })
  .refine((r) => r.all.length > 0 || (r.any?.length ?? 0) > 0, 'a rule needs words in `all` or `any`');

export const ReleaseNamesFile = z.strictObject({
  version: z.literal(1),
  models: z.array(Model).min(1),
  skills: z.array(Skill).min(1),
  keywordRules: z.array(KeywordRule).default([]),
});
export type ReleaseNames = z.infer<typeof ReleaseNamesFile>;
export type ReleaseKeywordRule = ReleaseNames['keywordRules'][number];

/** Cross-field checks: unique names and aliases, rules that name a listed skill. */
function checkConsistency(names: ReleaseNames, file: string): void {
  const skillNames = new Set<string>();
  const aliasOwner = new Map<string, string>();
  names.skills.forEach((s, i) => {
    if (skillNames.has(s.name))
      throw new ConfigError(file, `skills[${i}].name`, `"${s.name}" is listed twice`);
    skillNames.add(s.name);
    s.aliases.forEach((a, j) => {
      const owner = aliasOwner.get(a);
      if (owner !== undefined) {
        throw new ConfigError(file, `skills[${i}].aliases[${j}]`, `alias "${a}" already selects ${owner}`);
      }
      aliasOwner.set(a, s.name);
    });
  });
  names.keywordRules.forEach((r, i) => {
    if (!skillNames.has(r.skill)) {
      throw new ConfigError(file, `keywordRules[${i}].skill`, `"${r.skill}" is not listed under skills`, {
        hint: 'add it under skills (runs: false if the release has no implementation)',
      });
    }
  });
  const modelNames = new Set<string>();
  names.models.forEach((m, i) => {
    if (modelNames.has(m.name))
      throw new ConfigError(file, `models[${i}].name`, `"${m.name}" is listed twice`);
    modelNames.add(m.name);
  });
}

/** Validates parsed release names, or throws a ConfigError naming `file` and the field. */
export function parseReleaseNames(data: unknown, file: string): ReleaseNames {
  const names = parseWith(ReleaseNamesFile, data, file);
  checkConsistency(names, file);
  return names;
}

/** Reads and validates a release-names YAML file (default: the project's own). */
export function loadReleaseNames(file: string = RELEASE_NAMES_FILE): ReleaseNames {
  return parseReleaseNames(readYamlFile(file), file);
}
