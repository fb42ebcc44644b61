import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allSkills, getSkillImplementation, skillImplementations } from '../../skills/index.ts';
import type { SkillImplementation } from '../../skills/types.ts';
import { loadRegistry, normalizeName, type Skill } from '../../src/core/registry.ts';
import { readYamlFile } from '../../src/core/yaml-file.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SKILLS = join(ROOT, 'skills');
const REG = (f: string) => join(ROOT, 'registry', f);
/** Files of skills/ that hold shared code, not skills. */
const SUPPORT = new Set(['index.ts', 'types.ts', 'evidence.ts', 'router.ts']);

function isSkill(v: unknown): v is SkillImplementation {
  const s = v as Partial<SkillImplementation> | null;
  return (
    !!s &&
    typeof s === 'object' &&
    typeof s.id === 'string' &&
    typeof s.run === 'function' &&
    (s.level === 1 || s.level === 2)
  );
}

describe('the skill index', () => {
  it('lists exactly the skills exported by the files in skills/', async () => {
    const release = readdirSync(join(SKILLS, 'release')).filter((f) => f.endsWith('.ts'));
    const files = [
      ...readdirSync(SKILLS).filter((f) => f.endsWith('.ts') && !SUPPORT.has(f)),
      // The release profile's skills are gathered in release/index.ts; its other files are support.
      'release/index.ts',
    ];
    for (const f of release) if (f !== 'index.ts') SUPPORT.add(`release/${f}`);
    expect(files.length).toBeGreaterThan(5);
    const exported: SkillImplementation[] = [];
    for (const f of files) {
      const mod = (await import(pathToFileURL(join(SKILLS, f)).href)) as Record<string, unknown>;
      const found = Object.values(mod).filter(isSkill);
      expect(found.length, `${f} exports no skill`).toBeGreaterThan(0);
      exported.push(...found);
    }
    expect(new Set(exported)).toEqual(new Set(allSkills));
    // Support files export no skills (otherwise they belong in the list above).
    for (const f of SUPPORT) {
      const mod = (await import(pathToFileURL(join(SKILLS, f)).href)) as Record<string, unknown>;
      if (f !== 'index.ts') expect(Object.values(mod).filter(isSkill), f).toEqual([]);
    }
  });

  it('gives every skill a unique id, a description and a definition', () => {
    const ids = allSkills.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of allSkills) {
      expect(s.description.length, s.id).toBeGreaterThan(10);
      expect(getSkillImplementation(s.id)).toBe(s);
      expect(skillImplementations[s.id]).toBe(s);
      for (const need of s.services) expect(['zoom', 'ocr', 'detection', 'caption']).toContain(need.role);
    }
    // Names are unique within a profile (the release profile reuses the release's names).
    for (const profile of [undefined, 'release'] as const) {
      const names = allSkills
        .filter((s) => s.profile === profile)
        .map((s) => s.name)
        .filter(Boolean);
      expect(names.length, String(profile)).toBeGreaterThan(0);
      expect(new Set(names).size).toBe(names.length);
    }
  });
});

describe('the registry files and the skills they name', () => {
  const pairs = [
    ['default.yaml', 'ood.yaml'],
    ['simulated.yaml', 'ood-simulated.yaml'],
  ] as const;

  it.each(pairs)('%s + %s: every skill has its implementation, level and services', (base, ood) => {
    const registry = loadRegistry([REG(base), REG(ood)], {});
    for (const skill of registry.skills) {
      const impl = getSkillImplementation(skill.implementation);
      expect(impl, `${skill.name} → ${skill.implementation}`).toBeDefined();
      if (!impl || impl.id === 'generic') continue;
      expect(skill.level, skill.name).toBe(impl.level);
      expect(normalizeName(skill.name)).toBe(normalizeName(impl.name));
      // What the code calls is declared in the registry (and resolves to a service).
      const roles = skill.services.map((s) => registry.service(s)?.role);
      for (const need of impl.services)
        expect(roles, `${skill.name} calls ${need.role}`).toContain(need.role);
      // A router's registry solvers are Level-2 skills.
      for (const solver of skill.solvers) expect(registry.findSkill(solver)?.level).toBe(2);
    }
  });

  it('keeps the five in-domain skills pointed at their implementations', () => {
    const registry = loadRegistry([REG('simulated.yaml')], {});
    const impl = Object.fromEntries(registry.skills.map((s) => [s.name, s.implementation]));
    expect(impl).toEqual({
      Geometric_Problem_Solver: 'geometric',
      Chart_Problem_Solver: 'chart',
      Science_Problem_Solver: 'science',
      Counting_Problem_Solver: 'counting',
      Perception_Problem_Solver: 'perception',
    });
  });

  it('has the same skills in the real and the simulated file of each pair', () => {
    const skillsOf = (f: string) => (readYamlFile(REG(f)) as { skills: Skill[] }).skills;
    expect(skillsOf('simulated.yaml')).toEqual(skillsOf('default.yaml'));
    expect(skillsOf('ood-simulated.yaml')).toEqual(skillsOf('ood.yaml'));
  });

  it('adds the two out-of-domain experts on their ports, and four Level-1 skills', () => {
    const base = loadRegistry([REG('default.yaml')], {});
    const merged = loadRegistry([REG('default.yaml'), REG('ood.yaml')], { MAESTRO_OOD_HOST: 'gpu-9' });
    expect(merged.expert('Qwen3.5-9B').baseUrl).toBe('http://gpu-9:2381/v1');
    expect(merged.expert('Step3-VL-10B').baseUrl).toBe('http://gpu-9:2382/v1');
    const added = merged
      .offeredSkills()
      .filter((s) => !base.findSkill(s.name))
      .map((s) => s.name);
    expect(added).toEqual([
      'OCRBench_Router',
      'Diagram_Reasoning',
      'Embodied_Reasoning',
      'Code_Problem_Solver',
    ]);
    expect(merged.skills.filter((s) => s.level === 2)).toHaveLength(16);
  });
});
