import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError } from '../../src/core/errors.ts';
import { loadReleaseNames, RELEASE_NAMES_FILE } from '../../src/core/release-names.ts';
import {
  cutReleaseObservation,
  RELEASE_OBSERVATIONS as OBS,
  parseReleaseSearch,
  RELEASE_MAX_OBS_LENGTH,
  type ReleaseSearch,
  releaseActionText,
  releaseModelName,
  releaseNameResolver,
  releaseSkillName,
} from '../../src/rollout/release-names.ts';
import { actionCases, modelCases, skillCases } from './release-names-cases.ts';

/**
 * The release's name matching and `<search>` handling, proven against its own Python
 * (Maestro/model_skill_orchestrator.py, verl_tool/agent_loop/verltool_agent_loop.py).
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SHARED = [join(ROOT, '..', 'shared'), '/work/shared'].find((d) => existsSync(d)) ?? '/work/shared';
const RELEASE = join(SHARED, 'data/upstream-maestro/release');
const PYTHON = process.env.MAESTRO_PYTHON ?? '/usr/bin/python3';
const DRIVER = join(import.meta.dirname, 'release_names_driver.py');

const names = loadReleaseNames();

interface DriverAnswer {
  models: string[];
  skills: string[];
  actions: { obs: string; valid: boolean; call: [string, string, string] | null }[];
  facts: { aliases: Record<string, string>; factory: string[]; maxObsLength: number };
}

function runRelease(request: { models?: string[]; skills?: string[]; actions?: string[] }): DriverAnswer {
  const run = spawnSync(PYTHON, ['-B', DRIVER, RELEASE], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`release driver failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as DriverAnswer;
}

/** What the agent loop reports for a parsed action (a rejected call is still a call there). */
function asAgentLoop(r: ReleaseSearch): DriverAnswer['actions'][number] {
  if (r.kind === 'no-search') return { obs: '', valid: false, call: null };
  if (r.kind === 'error') return { obs: r.observation, valid: false, call: null };
  // The driver's stand-in skill answers with its input: the observation is the input, cut.
  return { obs: cutReleaseObservation(r.input), valid: true, call: [r.model, r.skill, r.input] };
}

describe('release names: differential against the release Python', () => {
  const models = modelCases(names);
  const skills = skillCases(names);
  const actions = actionCases(names);
  const release = runRelease({ models, skills, actions });

  it('check_llm_name: identical on every generated name', () => {
    expect(models.length).toBeGreaterThanOrEqual(500);
    const ours = models.map((m) => releaseModelName(names, m));
    expect(ours).toEqual(release.models);
    // The cases reach every model and the no-match answer.
    expect(new Set(ours)).toEqual(new Set(['', ...names.models.map((m) => m.name)]));
  });

  it('check_skill_name: identical on every generated name', () => {
    expect(skills.length).toBeGreaterThanOrEqual(500);
    const ours = skills.map((s) => releaseSkillName(names, s));
    expect(ours).toEqual(release.skills);
    expect(new Set(ours)).toEqual(new Set(['', ...names.skills.map((s) => s.name)]));
  });

  it('the agent loop: identical observation, validity and call on every generated action', () => {
    expect(actions.length).toBeGreaterThanOrEqual(300);
    const ours = actions.map((a) => asAgentLoop(parseReleaseSearch(a, names)));
    expect(ours).toEqual(release.actions);
    // Every outcome is reached (the "Missing : separator" branch cannot be).
    const outcomes = new Set(
      actions.map((a) => {
        const r = parseReleaseSearch(a, names);
        return r.kind === 'error' ? r.observation : r.kind;
      }),
    );
    const { modelName, skillName, missingAt, invalidFormat } = OBS;
    expect(outcomes).toEqual(
      new Set(['call', 'rejected', 'no-search', modelName, skillName, missingAt, invalidFormat]),
    );
  });

  it('the alias table is the release one, entry for entry', () => {
    const ours = Object.fromEntries(names.skills.flatMap((s) => s.aliases.map((a) => [a, s.name])));
    expect(ours).toEqual(release.facts.aliases);
  });

  it('runs: false marks exactly the matched names the skill factory has no implementation for', () => {
    const factory = new Set(release.facts.factory);
    for (const s of names.skills)
      expect({ skill: s.name, runs: factory.has(s.name) }).toEqual({ skill: s.name, runs: s.runs });
  });

  it('observations are cut where the release cuts them', () => {
    expect(release.facts.maxObsLength).toBe(RELEASE_MAX_OBS_LENGTH);
  });
});

/** Unit cases derived from verltool_agent_loop.py (line numbers at release commit 5b8257c). */
describe('parseReleaseSearch: cases from the agent loop code', () => {
  const call = (model: string, skill: string, input: string) => ({ kind: 'call', model, skill, input });
  const error = (observation: string) => ({ kind: 'error', observation });
  const cases: [string, string, unknown][] = [
    [
      'l.485-490: first <search> block only',
      '<search>chart-r1@@chart_problem_solver: a</search><search>step3@@ocr: b</search>',
      call('Chart-R1', 'Chart_Problem_Solver', 'a'),
    ],
    [
      'l.485: non-greedy, across lines',
      '<search>\nchart-r1\n@@\nchart_problem_solver\n:\nq\n</search>',
      call('Chart-R1', 'Chart_Problem_Solver', 'q'),
    ],
    [
      'l.485: a nested <search> stays in the model name (a substring still selects)',
      '<search><search>chart-r1@@chart_problem_solver: q</search>',
      call('Chart-R1', 'Chart_Problem_Solver', 'q'),
    ],
    [
      'l.494-506: no complete block, no call',
      '<search>chart-r1@@chart_problem_solver: q',
      { kind: 'no-search' },
    ],
    ['l.394: no @@ at all', '<search>chart-r1 chart_problem_solver: q</search>', error(OBS.invalidFormat)],
    ['l.394: no colon at all', '<search>chart-r1@@chart_problem_solver q</search>', error(OBS.invalidFormat)],
    [
      'l.395+400: @@ only after the first colon',
      '<search>chart-r1: chart_problem_solver@@q</search>',
      error(OBS.missingAt),
    ],
    [
      'l.395+398: the input keeps later colons, stripped',
      '<search>chart-r1@@chart_problem_solver:  a: b: c  </search>',
      call('Chart-R1', 'Chart_Problem_Solver', 'a: b: c'),
    ],
    [
      'l.401: split at the first @@, the rest is the skill',
      '<search>chart-r1@@chart@@solver: q</search>',
      call('Chart-R1', 'Chart_Problem_Solver', 'q'),
    ],
    [
      'l.402-403: names stripped (Python whitespace)',
      '<search>\u0085Chart-R1\u3000@@\u001cOCRBench_Master_Router_Skill\u0085: q</search>',
      call('Chart-R1', 'OCRBench_Master_Router_Skill', 'q'),
    ],
    [
      'l.402: U+FEFF is not Python whitespace: still a substring match',
      '<search>\ufeffchart-r1@@chart_problem_solver: q</search>',
      call('Chart-R1', 'Chart_Problem_Solver', 'q'),
    ],
    [
      'l.403+388: U+FEFF defeats an exact alias, keywords still match',
      '<search>chart-r1@@\ufeffcountingproblemsolver: q</search>',
      call('Chart-R1', 'Counting_Problem_Solver', 'q'),
    ],
    ['l.414-415: model checked first', '<search>gpt-4o@@nothing: q</search>', error(OBS.modelName)],
    ['l.418-419: then the skill', '<search>chart-r1@@nothing: q</search>', error(OBS.skillName)],
    ['l.418: empty skill name', '<search>chart-r1@@: q</search>', error(OBS.skillName)],
    [
      'l.418 (orchestrator l.390): "geometric" without "solver" matches no rule',
      '<search>glm-4.6v@@geometric: </search>',
      error(OBS.skillName),
    ],
    [
      'l.423-431: a call with an empty input',
      '<search>glm-4.6v-flash@@geometric_solver:</search>',
      call('GLM-4.6V-Flash', 'Geometric_Problem_Solver', ''),
    ],
  ];
  it.each(cases)('%s', (_label, action, expected) => {
    expect(parseReleaseSearch(action, names)).toEqual(expected);
  });

  it('factory.py l.175 + orchestrator l.622: a matched name with no implementation', () => {
    expect(parseReleaseSearch('<search>step3@@OCR: read it</search>', names)).toEqual({
      kind: 'rejected',
      model: 'Step3-VL-10B',
      skill: 'ocr',
      input: 'read it',
      observation: 'Skill execution error: Invalid skill: ocr',
    });
  });

  it('l.464: the observation keeps its first 100,000 code points', () => {
    const text = `${'😀'.repeat(99_999)}ab`;
    const cut = cutReleaseObservation(text);
    expect([...cut].length).toBe(RELEASE_MAX_OBS_LENGTH);
    expect(cut.endsWith('😀a')).toBe(true);
    expect(cutReleaseObservation('short')).toBe('short');
  });

  it('l.830-832: the action is the turn up to the first </search>, only without <answer>', () => {
    expect(releaseActionText('think <search>a@@b: c</search> more <search>d</search>')).toBe(
      'think <search>a@@b: c</search>',
    );
    expect(releaseActionText('<search>a@@b: c</search><answer>x</answer>')).toBeUndefined();
    expect(releaseActionText('no call')).toBeUndefined();
    expect(releaseActionText('</search> <search>late</search>')).toBe('</search>');
    expect(parseReleaseSearch(releaseActionText('</search> <search>late</search>')!, names)).toEqual({
      kind: 'no-search',
    });
  });
});

describe('releaseNameResolver', () => {
  const resolver = releaseNameResolver(names);
  it('resolves as check_llm_name / check_skill_name, undefined for no match', () => {
    expect(resolver.expert('  QWEN3-VL-8b ')).toBe('qwen3-VL-8B-Instruct');
    expect(resolver.expert('qwen2.5')).toBeUndefined();
    expect(resolver.skill('vlmsareblind-master-router-skill')).toBe('Diagram_Reasoning_Skill');
    expect(resolver.skill('ocr stuff')).toBe('ocr');
    expect(resolver.skill('chart')).toBeUndefined();
  });
  it('offers every model, and only the skills the release can run', () => {
    expect(resolver.offeredExperts()).toEqual(names.models.map((m) => m.name));
    expect(resolver.offeredSkills()).toContain('OCRBench_Master_Router_Skill');
    expect(resolver.offeredSkills()).not.toContain('ocr');
    expect(resolver.offeredSkills()).not.toContain('Perception_Problem_Solver_Eval');
  });
});

describe('release names file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'release-names-'));
  const base = parse(readFileSync(RELEASE_NAMES_FILE, 'utf8')) as Record<string, unknown[]>;
  const write = (name: string, data: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, stringify(data));
    return file;
  };

  it('a new skill and keyword rule is data only', () => {
    const file = write('augmented.yaml', {
      ...base,
      skills: [...base.skills!, { name: 'MathVerse_Router_Skill', aliases: ['mathverse_router_skill'] }],
      keywordRules: [{ skill: 'MathVerse_Router_Skill', all: ['mathverse'] }, ...base.keywordRules!],
    });
    const augmented = loadReleaseNames(file);
    expect(releaseSkillName(augmented, 'MathVerse_Router_Skill')).toBe('MathVerse_Router_Skill');
    expect(releaseSkillName(augmented, 'mathverse chart solver')).toBe('MathVerse_Router_Skill');
    expect(releaseSkillName(names, 'mathverse chart solver')).toBe('Chart_Problem_Solver');
  });

  const bad: [string, (d: Record<string, unknown[]>) => unknown, RegExp][] = [
    [
      'an upper-case alias',
      (d) => ({ ...d, skills: [{ name: 'X', aliases: ['Chart'] }] }),
      /skills\[0\]\.aliases\[0\]: lower case/,
    ],
    [
      'a rule naming an unlisted skill',
      (d) => ({ ...d, keywordRules: [{ skill: 'Nope', all: ['x'] }] }),
      /keywordRules\[0\]\.skill: "Nope" is not listed/,
    ],
    [
      'an alias selecting two skills',
      (d) => ({
        ...d,
        skills: [
          { name: 'A', aliases: ['a'] },
          { name: 'B', aliases: ['a'] },
        ],
        keywordRules: [],
      }),
      /skills\[1\]\.aliases\[0\]: alias "a" already selects A/,
    ],
    [
      'a rule with no words',
      (d) => ({ ...d, keywordRules: [{ skill: 'ocr' }] }),
      /keywordRules\[0\]: a rule needs words/,
    ],
    [
      'a model without substrings',
      (d) => ({ ...d, models: [{ name: 'M', contains: [] }] }),
      /models\[0\]\.contains/,
    ],
    [
      'an unknown field (a port)',
      (d) => ({ ...d, models: [{ name: 'M', contains: ['m'], port: 2364 }] }),
      /models\[0\]/,
    ],
  ];
  it.each(bad)('rejects %s, naming the file and the field', (_label, edit, message) => {
    const file = write('bad.yaml', edit(base));
    expect(() => loadReleaseNames(file)).toThrow(ConfigError);
    expect(() => loadReleaseNames(file)).toThrow(message);
    expect(() => loadReleaseNames(file)).toThrow(file);
  });
});
