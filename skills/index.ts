import { chartSkill } from './chart.ts';
import { codeSkill } from './code.ts';
import { countingSkill } from './counting.ts';
import {
  circleContact,
  diagramRouter,
  gridParsing,
  highlightedCharacter,
  intersectionCounting,
  shapeCounting,
} from './diagram.ts';
import { directSkill } from './direct.ts';
import { embodiedSceneQa, erqaRouter, multiView, pointingLocalization, trajectoryOutcome } from './erqa.ts';
import { genericSkill } from './generic.ts';
import { geometricSkill } from './geometric.ts';
import { formulaRecognition, ocrbenchRouter, sceneTextQa, textRecognition } from './ocrbench.ts';
import { perceptionSkill } from './perception.ts';
import { releaseSkills } from './release/index.ts';
import { scienceSkill } from './science.ts';
import type { SkillImplementation } from './types.ts';

/** Every skill implementation. Registry skills name one by id in `implementation:`. */
export const allSkills: readonly SkillImplementation[] = [
  genericSkill,
  directSkill,
  // Level 1, in-domain (the release's five).
  geometricSkill,
  chartSkill,
  scienceSkill,
  countingSkill,
  perceptionSkill,
  // Out-of-domain packs: routers and their Level-2 solvers.
  ocrbenchRouter,
  textRecognition,
  sceneTextQa,
  formulaRecognition,
  diagramRouter,
  circleContact,
  intersectionCounting,
  gridParsing,
  highlightedCharacter,
  shapeCounting,
  erqaRouter,
  trajectoryOutcome,
  pointingLocalization,
  multiView,
  embodiedSceneQa,
  codeSkill,
  // The Maestro release's own skills, call for call (registry/release.yaml).
  ...releaseSkills,
];

/** Implementations by id. */
export const skillImplementations: Record<string, SkillImplementation> = Object.fromEntries(
  allSkills.map((s) => [s.id, s]),
);

export function getSkillImplementation(id: string): SkillImplementation | undefined {
  return skillImplementations[id];
}

export { DIRECT_SKILL } from './direct.ts';
export { statedAnswer } from './evidence.ts';
export type { SkillContext, SkillDefinition, SkillImplementation } from './types.ts';
export { questionWithOptions } from './types.ts';
