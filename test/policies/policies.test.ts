import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/core/registry.ts';
import { parsePolicyKey } from '../../src/core/sweep.ts';
import { type Arm, linearThompsonPick } from '../../src/policies/bandit.ts';
import { createPolicy, policyDefinitions } from '../../src/policies/index.ts';
import { buildSystemPrompt } from '../../src/policies/prompt.ts';
import { chooseRule, RULES } from '../../src/policies/rules.ts';

describe('policy specs in sweep files', () => {
  it('parses kinds with arguments and settings in YAML flow style', () => {
    expect(parsePolicyKey('maestro')).toEqual({ key: 'maestro', kind: 'maestro', endpoint: 'maestro' });
    expect(parsePolicyKey('maestro{endpoint: policy, temperature: 0}')).toEqual({
      key: 'maestro{endpoint: policy, temperature: 0}',
      kind: 'maestro',
      endpoint: 'policy',
      temperature: 0,
    });
    expect(parsePolicyKey('direct:gpt-5{endpoint: openai}')).toMatchObject({
      kind: 'direct',
      model: 'gpt-5',
      endpoint: 'openai',
    });
    expect(parsePolicyKey('bandit{window: 4, prior: 0.5}')).toMatchObject({
      kind: 'bandit',
      window: 4,
      prior: 0.5,
    });
    expect(parsePolicyKey('maestro{samples: 8, temperature: 1.0}')).toMatchObject({
      samples: 8,
      temperature: 1,
    });
  });

  it('rejects unknown kinds, unknown settings and bad values with the policy named', () => {
    expect(() => parsePolicyKey('magic')).toThrow(/unknown policy "magic"/);
    expect(() => parsePolicyKey('maestro{temprature: 0}')).toThrow(/maestro\{temprature: 0\}/);
    expect(() => parsePolicyKey('maestro{temperature: 9}')).toThrow(/temperature/);
    expect(() => parsePolicyKey('direct')).toThrow(/direct needs a model/);
    expect(() => parsePolicyKey('random:x')).toThrow(/takes no ":" argument/);
    expect(() => parsePolicyKey('maestro{temperature: 0')).toThrow(/must end with "}"/);
  });

  it('has a definition for every kind', () => {
    for (const kind of ['maestro', 'direct', 'random', 'rules', 'bandit', 'oracle'] as const) {
      expect(policyDefinitions[kind].kind).toBe(kind);
    }
  });

  it('resolves direct through another endpoint with a served model name', () => {
    const registry = loadRegistry(['registry/simulated.yaml'], {});
    expect(() => createPolicy(parsePolicyKey('direct:nope'), registry)).toThrow(/unknown expert "nope"/);
    expect(() =>
      createPolicy(parsePolicyKey('direct:gemini-2.5-pro{endpoint: gpt-5}'), registry),
    ).not.toThrow();
  });
});

describe('the policy prompt', () => {
  it('lists exactly the offered experts and Level-1 skills of the registry', () => {
    const prompt = buildSystemPrompt(loadRegistry(['registry/simulated.yaml'], {}));
    for (const name of [
      'Intern-S1-mini',
      'GLM-4.6V-Flash',
      'qwen3-vl-8b-instruct',
      'Chart-R1',
      'medgemma-1.5-4b-it',
    ]) {
      expect(prompt).toContain(`- ${name}:`);
    }
    expect(prompt).not.toContain('gpt-5');
    expect(prompt).toContain('- Chart_Problem_Solver:');
    expect(prompt).toMatch(/<search> MODEL-NAME@@SKILL-NAME: .* <\/search>/);
    expect(prompt).toContain('at most 4 turns');
  });
});

describe('the rules router', () => {
  it('follows its table: keywords first, then the benchmark domain, then the default', () => {
    expect(chooseRule('How many red circles are there?', 'chart').name).toBe('counting');
    expect(chooseRule('What is the value of the tallest bar?', 'counting').name).toBe('chart');
    expect(chooseRule('Is there a lesion in the liver?', 'medical').name).toBe('medical');
    expect(chooseRule('Find x.', 'geometry').name).toBe('geometry');
    expect(chooseRule('Which option fits best?', 'microscopy').name).toBe('science');
    expect(chooseRule('Which option fits best?', 'ocr').name).toBe('default');
  });

  it('matches short keywords as whole words only', () => {
    // "ct" inside "object" or "correct" is not a CT scan.
    expect(chooseRule('Which object is correct?', 'perception').name).toBe('perception');
    expect(chooseRule('What does the CT show?', 'x').name).toBe('medical');
  });

  it('names only experts and skills of the release registry', () => {
    const registry = loadRegistry(['registry/default.yaml'], {});
    for (const r of RULES) {
      expect(registry.findExpert(r.expert), r.name).toBeDefined();
      expect(registry.findSkill(r.skill), r.name).toBeDefined();
    }
  });
});

describe('linear Thompson sampling', () => {
  const seq = (seed: number) => {
    let x = seed;
    return () => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x / 2 ** 31;
    };
  };
  const arms: Arm[] = ['E1', 'E2'].flatMap((expert) =>
    ['S1', 'S2'].map((skill) => ({ key: `${expert}@@${skill}`, expert, skill })),
  );
  /** Sufficient statistics after `n` pulls of an arm with `s` successes. */
  const pulls = (stats: Record<string, string>, ctx: string, e: string, sk: string, n: number, s: number) => {
    const add = (k: string, v: number) => {
      stats[k] = String(Number(stats[k] ?? 0) + v);
    };
    for (const f of [`e:${e}`, `s:${sk}`]) {
      for (const g of [`e:${e}`, `s:${sk}`]) add(`${ctx}|A|${f}|${g}`, n);
      add(`${ctx}|b|${f}`, s);
    }
    return stats;
  };
  const share = (stats: Record<string, string>, ctx: string, key: string, trials = 400) => {
    const rand = seq(11);
    let hits = 0;
    for (let i = 0; i < trials; i++) if (linearThompsonPick(arms, stats, ctx, rand).key === key) hits++;
    return hits / trials;
  };

  it('prefers the arm with the better record, in that context only', () => {
    const stats = pulls(pulls({}, 'chart', 'E1', 'S1', 40, 36), 'chart', 'E2', 'S2', 40, 6);
    expect(share(stats, 'chart', 'E1@@S1')).toBeGreaterThan(0.4);
    expect(share(stats, 'chart', 'E2@@S2')).toBeLessThan(0.02);
    // No data for 'math': no arm dominates.
    expect(share(stats, 'math', 'E1@@S1')).toBeLessThan(0.5);
    expect(share(stats, 'math', 'E2@@S2')).toBeGreaterThan(0.1);
  });

  it('generalises across arms that share an expert or a skill', () => {
    // Only E1@@S2 and E2@@S1 were tried: E1 and S1 did well. E1@@S1 was never pulled.
    const stats = pulls(pulls({}, 'chart', 'E1', 'S2', 30, 21), 'chart', 'E2', 'S1', 30, 21);
    pulls(stats, 'chart', 'E2', 'S2', 30, 3);
    expect(share(stats, 'chart', 'E1@@S1')).toBeGreaterThan(0.5);
    expect(share(stats, 'chart', 'E2@@S2')).toBeLessThan(0.05);
  });
});
