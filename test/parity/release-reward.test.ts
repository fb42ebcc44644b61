import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  RELEASE_FUNCTION_BY_DATA_SOURCE,
  type ReleaseFunctionName,
  releaseFormatReward,
  releaseLatexToFloat,
  releaseModelName,
  releaseSkillName,
  scoreMath,
  scoreTagged,
} from '../../src/scoring/release-reward/index.ts';
import { pyRound2 } from '../../src/scoring/release-reward/py.ts';
import { generateCases, generateLatex, type ParityCase } from './release-reward-cases.ts';

/**
 * Differential test: the release's own reward code (Python, run from the shared release
 * checkout by release_reward_driver.py) and release-reward (TypeScript) on the same seeded
 * trajectories must give identical verdicts: score and extracted answer per function, and the
 * reward manager's format reward on every trajectory.
 * Set RELEASE_REWARD_REPORT=1 to print the per-function table that docs/release-reward.md shows.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = [join(REPO, '../shared'), '/work/shared'].find((dir) =>
  existsSync(join(dir, 'data/upstream-maestro/release')),
);
const RELEASE = join(SHARED ?? '/work/shared', 'data/upstream-maestro/release');
const PYTHON = process.env.RELEASE_PARITY_PYTHON ?? '/usr/bin/python3';
const DRIVER = join(REPO, 'test/parity/release_reward_driver.py');
const CASES_PER_FUNCTION = Number(process.env.RELEASE_REWARD_CASES ?? 300);
const SEED = Number(process.env.RELEASE_REWARD_SEED ?? 1000);

interface PyVerdict {
  id: string;
  score: number;
  extracted: string | null;
  format: number;
}

interface DriverReply {
  map: Record<string, string>;
  verdicts: PyVerdict[];
  models: string[];
  skills: string[];
  latex: Array<number | string | null>;
}

function runRelease(request: object): DriverReply {
  const run = spawnSync(PYTHON, [DRIVER, RELEASE], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`release driver failed (${run.status}): ${run.stderr || run.error}`);
  return JSON.parse(run.stdout) as DriverReply;
}

type TsVerdict = { score: number; extracted: string | null } | { undecided: string };

function runOurs(c: ParityCase): TsVerdict {
  if (c.fn !== 'math_compute_score') return scoreTagged(c.fn, c.response, c.groundTruth);
  const v = scoreMath(c.response, c.groundTruth);
  return v.kind === 'scored' ? { score: v.score, extracted: v.extracted } : { undecided: v.why };
}

const FUNCTIONS = [...new Set(Object.values(RELEASE_FUNCTION_BY_DATA_SOURCE))] as ReleaseFunctionName[];
const ALL_CASES = FUNCTIONS.flatMap((fn, i) => generateCases(fn, CASES_PER_FUNCTION, SEED + i));
const LATEX = generateLatex(400, 77);
const MODEL_NAMES = [
  'Chart-R1',
  ' chart-r1-7b ',
  'GLM-4.6V-Flash',
  'Qwen3-VL-8B',
  'qwen35-9b',
  'Intern-S1-mini',
  'medgemma-1.5-4b-it',
  'Step3-VL',
  'gpt-4o',
  '',
  'İntern-s1-mini',
];
const SKILL_NAMES = [
  'Chart_Problem_Solver',
  'chart-problem-solver',
  'chartproblemsolver',
  'Perception Solver Eval',
  'count solver',
  'python helper',
  'ERQA_Multi_View_Task_Solver',
  'task',
  'ocrbench formula',
  'ocr',
  'OCRBench_Master_Router_Skill',
  'diagram_reasoning_router_skill',
  'vlmsareblind router',
  'clevr problem solver',
  'clevr router',
  'unknown',
  '',
  'Embodied skill',
  'spatial',
  'pointing',
  'ocrbench key',
  'ocrbench scene',
  'ocrbench document',
  'ocrbench text',
  'compositional reasoning skill',
  'science solver',
  'geometric solver',
  'trajectory',
  'action',
];

describe('release-reward against the release’s own Python reward code', () => {
  const reply = runRelease({
    cases: ALL_CASES,
    names: { models: MODEL_NAMES, skills: SKILL_NAMES },
    latex: LATEX,
  });
  const byId = new Map(reply.verdicts.map((v) => [v.id, v]));
  const table: string[] = [];

  it('uses the release reward manager’s data_source → function map', () => {
    expect(reply.map).toEqual(RELEASE_FUNCTION_BY_DATA_SOURCE);
  });

  for (const fn of FUNCTIONS) {
    it(`${fn}: identical verdicts on ${CASES_PER_FUNCTION} generated trajectories`, () => {
      const cases = ALL_CASES.filter((c) => c.fn === fn);
      let identical = 0;
      let undecided = 0;
      let correct = 0;
      const mismatches: object[] = [];
      for (const c of cases) {
        const ours = runOurs(c);
        const theirs = byId.get(c.id)!;
        if ('undecided' in ours) {
          undecided++;
          continue;
        }
        const same = ours.score === theirs.score && ours.extracted === theirs.extracted;
        if (same) identical++;
        else mismatches.push({ case: c, ours, theirs });
        if (theirs.score > 0) correct++;
      }
      table.push(`| ${fn} | ${cases.length} | ${identical} | ${undecided} | ${correct} |`);
      expect(mismatches.slice(0, 3)).toEqual([]);
      expect(identical).toBeGreaterThanOrEqual(200);
      // Both verdicts must occur, or the cases would not test the comparison.
      expect(correct).toBeGreaterThan(20);
      expect(identical - correct).toBeGreaterThan(20);
    });
  }

  it('compute_format_reward: identical on every generated trajectory', () => {
    const mismatches = ALL_CASES.filter((c) => releaseFormatReward(c.response) !== byId.get(c.id)!.format);
    const wellFormed = ALL_CASES.filter((c) => byId.get(c.id)!.format === 0).length;
    table.push(
      `| compute_format_reward | ${ALL_CASES.length} | ${ALL_CASES.length - mismatches.length} | 0 | ${wellFormed} well-formed |`,
    );
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(wellFormed).toBeGreaterThan(50);
    expect(ALL_CASES.length - wellFormed).toBeGreaterThan(50);
  });

  it('latex_to_float: the same number after round(x, 2) wherever release-reward decides', () => {
    // is_equiv only ever compares round(x, 2), so that is the verdict. Irrational values can
    // differ from SymPy's in the last bit (we evaluate sqrt in doubles); counted as "bit-exact".
    let decided = 0;
    let bitExact = 0;
    const mismatches: object[] = [];
    LATEX.forEach((s, i) => {
      const ours = releaseLatexToFloat(s);
      if (ours.kind === 'undecided') return;
      decided++;
      const theirs = reply.latex[i];
      const theirsValue = typeof theirs === 'string' ? Number(theirs.replace('inf', 'Infinity')) : theirs;
      if (ours.kind === 'none' ? theirs === null : Object.is(ours.value, theirsValue)) bitExact++;
      const same =
        ours.kind === 'none'
          ? theirs === null
          : typeof theirsValue === 'number' && Object.is(pyRound2(ours.value), pyRound2(theirsValue));
      if (!same) mismatches.push({ s, ours, theirs });
    });
    table.push(
      `| latex_to_float | ${LATEX.length} | ${decided} (${bitExact} bit-exact) | ${LATEX.length - decided} | – |`,
    );
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(decided).toBeGreaterThanOrEqual(300);
  });

  it('model and skill names resolve as the release resolves them', () => {
    expect(MODEL_NAMES.map(releaseModelName)).toEqual(reply.models);
    expect(SKILL_NAMES.map(releaseSkillName)).toEqual(reply.skills);
    table.push(`| check_llm_name | ${MODEL_NAMES.length} | ${MODEL_NAMES.length} | 0 | – |`);
    table.push(`| check_skill_name | ${SKILL_NAMES.length} | ${SKILL_NAMES.length} | 0 | – |`);
    if (process.env.RELEASE_REWARD_REPORT) {
      console.log(
        ['| function | cases | identical | undecided | correct |', '|---|---|---|---|---|', ...table].join(
          '\n',
        ),
      );
    }
  });
});
