import type { Registry } from '../core/registry.ts';
import { answerWithLastObservation, callDecision } from './baselines.ts';
import type { PolicyDefinition } from './types.ts';

/**
 * The hand-written router. The first rule whose keywords appear in the question (or its
 * options) wins; when none does, the benchmark's domain picks the rule; else the default.
 *
 * | rule        | question keywords (case-insensitive)                                   | domains                         | expert               | skill                     |
 * |-------------|-------------------------------------------------------------------------|---------------------------------|----------------------|---------------------------|
 * | counting    | how many, count, number of                                             | counting                        | qwen3-vl-8b-instruct | Counting_Problem_Solver   |
 * | chart       | chart, graph, plot, bar, pie, axis, legend, series                     | chart                           | Chart-R1             | Chart_Problem_Solver      |
 * | medical     | ct, mri, x-ray, scan, organ, lesion, liver, kidney, lung, tumor        | medical                         | medgemma-1.5-4b-it   | Science_Problem_Solver    |
 * | science     | cell, microscop, nucleus, stain, contour, map, elevation, lake, north  | microscopy, earth-science       | Intern-S1-mini       | Science_Problem_Solver    |
 * | geometry    | angle, triangle, find x, area, perimeter, degree, hypotenuse, f(       | math, geometry                  | GLM-4.6V-Flash       | Geometric_Problem_Solver  |
 * | perception  | colour, color, left, right, small, tiny, sign                          | perception                      | GLM-4.6V-Flash       | Perception_Problem_Solver |
 * | default     | —                                                                       | —                               | GLM-4.6V-Flash       | Perception_Problem_Solver |
 *
 * Names missing from the registry fall back to the first offered expert or skill.
 */
export const RULES: ReadonlyArray<{
  name: string;
  keywords: string[];
  domains: string[];
  expert: string;
  skill: string;
}> = [
  {
    name: 'counting',
    keywords: ['how many', 'count', 'number of'],
    domains: ['counting'],
    expert: 'qwen3-vl-8b-instruct',
    skill: 'Counting_Problem_Solver',
  },
  {
    name: 'chart',
    keywords: ['chart', 'graph', 'plot', 'bar', 'pie', 'axis', 'legend', 'series'],
    domains: ['chart'],
    expert: 'Chart-R1',
    skill: 'Chart_Problem_Solver',
  },
  {
    name: 'medical',
    keywords: ['ct', 'mri', 'x-ray', 'scan', 'organ', 'lesion', 'liver', 'kidney', 'lung', 'tumor'],
    domains: ['medical'],
    expert: 'medgemma-1.5-4b-it',
    skill: 'Science_Problem_Solver',
  },
  {
    name: 'science',
    keywords: ['cell', 'microscop', 'nucleus', 'stain', 'contour', 'map', 'elevation', 'lake', 'north'],
    domains: ['microscopy', 'earth-science'],
    expert: 'Intern-S1-mini',
    skill: 'Science_Problem_Solver',
  },
  {
    name: 'geometry',
    keywords: ['angle', 'triangle', 'find x', 'area', 'perimeter', 'degree', 'hypotenuse', 'f('],
    domains: ['math', 'geometry'],
    expert: 'GLM-4.6V-Flash',
    skill: 'Geometric_Problem_Solver',
  },
  {
    name: 'perception',
    keywords: ['colour', 'color', 'left', 'right', 'small', 'tiny', 'sign'],
    domains: ['perception'],
    expert: 'GLM-4.6V-Flash',
    skill: 'Perception_Problem_Solver',
  },
];
const DEFAULT_RULE = { name: 'default', expert: 'GLM-4.6V-Flash', skill: 'Perception_Problem_Solver' };

function hasKeyword(text: string, keyword: string): boolean {
  // Whole words for short keywords ("ct" must not match "object").
  if (keyword.length <= 3 && /^[a-z]+$/.test(keyword)) return new RegExp(`\\b${keyword}\\b`).test(text);
  return text.includes(keyword);
}

/** The rule a question falls under. Exported for tests and docs. */
export function chooseRule(question: string, domain: string) {
  const text = question.toLowerCase();
  return (
    RULES.find((r) => r.keywords.some((k) => hasKeyword(text, k))) ??
    RULES.find((r) => r.domains.includes(domain)) ??
    DEFAULT_RULE
  );
}

function resolve(registry: Registry, expert: string, skill: string): [string, string] {
  const e = registry.findExpert(expert)?.name ?? registry.offeredExperts()[0]?.name;
  const s = registry.findSkill(skill)?.name ?? registry.offeredSkills()[0]?.name;
  if (!e || !s) throw new Error('rules policy: the registry offers no expert or no skill');
  return [e, s];
}

export const rulesPolicy: PolicyDefinition = {
  kind: 'rules',
  description: 'a hand-written router from question keywords and benchmark domain to (expert, skill)',
  usesEndpoint: false,
  create(_spec, registry) {
    resolve(registry, DEFAULT_RULE.expert, DEFAULT_RULE.skill);
    return {
      async decide(ctx) {
        if (ctx.steps.length > 0) return answerWithLastObservation(ctx);
        const options = ctx.item.options?.map((o) => o.text).join(' ') ?? '';
        const rule = chooseRule(`${ctx.item.question} ${options}`, ctx.domain);
        const [expert, skill] = resolve(ctx.registry, rule.expert, rule.skill);
        return callDecision(expert, skill, ctx.item.question, { meta: { rule: rule.name } });
      },
    };
  },
};
