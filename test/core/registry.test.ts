import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.ts';
import { loadRegistry, normalizeName } from '../../src/core/registry.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-registry-'));
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('registry', () => {
  it('loads the release registry with its names and ports', () => {
    const r = loadRegistry(['registry/default.yaml'], {});
    expect(r.offeredExperts().map((e) => e.name)).toEqual([
      'Intern-S1-mini',
      'GLM-4.6V-Flash',
      'qwen3-vl-8b-instruct',
      'Chart-R1',
      'medgemma-1.5-4b-it',
    ]);
    const ports = Object.fromEntries(r.experts.map((e) => [e.name, new URL(e.baseUrl).port]));
    expect(ports).toEqual({
      'Intern-S1-mini': '2368',
      'GLM-4.6V-Flash': '2376',
      'qwen3-vl-8b-instruct': '2362',
      'Chart-R1': '2364',
      'medgemma-1.5-4b-it': '2369',
    });
    expect(r.expert('qwen3-vl-8b-instruct').model).toBe('qwen3-VL-8B-Instruct');
    expect(r.services.map((s) => new URL(s.baseUrl).port).slice(0, 3)).toEqual(['2370', '2388', '2389']);
    expect(r.offeredSkills()).toHaveLength(5);
  });

  it('finds names case-insensitively and across _ / - / no separator', () => {
    const r = loadRegistry(['registry/simulated.yaml'], {});
    expect(r.findSkill('chart_problem_solver')?.name).toBe('Chart_Problem_Solver');
    expect(r.findSkill('chart-problem-solver')?.name).toBe('Chart_Problem_Solver');
    expect(r.findSkill('ChartProblemSolver')?.name).toBe('Chart_Problem_Solver');
    expect(r.findExpert('glm-4.6v-flash')?.name).toBe('GLM-4.6V-Flash');
    expect(r.findExpert('GLM_4.6V_Flash')?.name).toBe('GLM-4.6V-Flash');
    expect(r.findExpert('nonexistent')).toBeUndefined();
    expect(normalizeName('Qwen3-VL 8B_instruct')).toBe('qwen3vl8binstruct');
  });

  it('substitutes environment variables with defaults', () => {
    const r = loadRegistry(['registry/simulated.yaml'], { MAESTRO_SIM_URL: 'http://127.0.0.1:4242' });
    expect(r.expert('Chart-R1').baseUrl).toBe('http://127.0.0.1:4242/Chart-R1/v1');
  });

  it('names the file, line and problem for invalid YAML', () => {
    const f = write('bad.yaml', 'experts:\n  - name: x\n    capacity: [1\n');
    expect(() => loadRegistry([f], {})).toThrow(ConfigError);
    expect(() => loadRegistry([f], {})).toThrow(/bad\.yaml at line \d+: invalid YAML/);
  });

  it('names the path inside the file and what was expected', () => {
    const f = write(
      'cap.yaml',
      'experts:\n  - name: A\n    model: a\n    baseUrl: http://127.0.0.1:1/v1\n    capacity: -3\n',
    );
    expect(() => loadRegistry([f], {})).toThrow(
      /cap\.yaml at experts\[0\]\.capacity: .*(>0|positive|greater)/i,
    );
  });

  it('rejects a bad URL with its path', () => {
    const f = write('url.yaml', 'experts:\n  - name: A\n    model: a\n    baseUrl: not a url\n');
    expect(() => loadRegistry([f], {})).toThrow(/experts\[0\]\.baseUrl/);
  });

  it('names an unset environment variable and where it is used', () => {
    const placeholder = ['$', '{GPU_HOST_UNSET}'].join('');
    const f = write(
      'env.yaml',
      `experts:\n  - name: A\n    model: a\n    baseUrl: http://${placeholder}/v1\n`,
    );
    expect(() => loadRegistry([f], {})).toThrow(
      /experts\[0\]\.baseUrl: environment variable GPU_HOST_UNSET is not set/,
    );
  });

  it('merges files and reports a name defined in two files, naming both', () => {
    const a = write('a.yaml', 'experts:\n  - { name: A, model: a, baseUrl: "http://127.0.0.1:1/v1" }\n');
    const b = write('b.yaml', 'experts:\n  - { name: B, model: b, baseUrl: "http://127.0.0.1:2/v1" }\n');
    const c = write('c.yaml', 'experts:\n  - { name: a, model: a2, baseUrl: "http://127.0.0.1:3/v1" }\n');
    expect(loadRegistry([a, b], {}).experts.map((e) => e.name)).toEqual(['A', 'B']);
    expect(() => loadRegistry([a, c], {})).toThrow(
      /c\.yaml at experts\[0\]\.name: expert "a" is already defined in .*a\.yaml/,
    );
  });

  it('rejects a router whose solver is not defined', () => {
    const f = write('solver.yaml', 'skills:\n  - { name: Router, solvers: [Missing_Solver] }\n');
    expect(() => loadRegistry([f], {})).toThrow(/solver "Missing_Solver" of Router is not defined/);
  });

  it('keeps the fingerprint when only endpoints move, and changes it when a model changes', () => {
    const base = loadRegistry(['registry/simulated.yaml'], { MAESTRO_SIM_URL: 'http://127.0.0.1:1' });
    const moved = loadRegistry(['registry/simulated.yaml'], { MAESTRO_SIM_URL: 'http://10.0.0.9:2' });
    expect(moved.fingerprint()).toBe(base.fingerprint());
    const extra = write(
      'extra.yaml',
      'experts:\n  - { name: New-Expert, model: n, baseUrl: "http://127.0.0.1:9/v1" }\n',
    );
    expect(loadRegistry(['registry/simulated.yaml', extra], {}).fingerprint()).not.toBe(base.fingerprint());
  });

  it('takes the three dispatches, each its own fingerprint, and names a bad one', () => {
    const env = { MAESTRO_SIM_URL: 'http://127.0.0.1:1' };
    const prints = (['queue', 'await', 'inline'] as const).map((mode) => {
      const r = loadRegistry(
        ['registry/simulated.yaml', write(`d-${mode}.yaml`, `dispatch: ${mode}\n`)],
        env,
      );
      expect(r.dispatch).toBe(mode);
      return r.fingerprint();
    });
    expect(new Set(prints).size).toBe(3);
    // The default is the queue, and the same registry as one that says so.
    expect(prints[0]).toBe(loadRegistry(['registry/simulated.yaml'], env).fingerprint());
    const bad = write('d-bad.yaml', 'dispatch: pool\n');
    expect(() => loadRegistry([bad], env)).toThrow(/d-bad\.yaml.*dispatch/s);
    // Adaptive concurrency needs the queue: refused with inline only.
    const adaptive = write(
      'd-adaptive.yaml',
      'dispatch: await\nexperts:\n  - { name: A-X, model: x, baseUrl: "http://127.0.0.1:1/v1", adaptive: { min: 1 } }\n',
    );
    expect(loadRegistry([adaptive], env).experts[0]?.adaptive).toBeDefined();
  });
});
