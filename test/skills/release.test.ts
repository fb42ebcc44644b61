import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getSkillImplementation } from '../../skills/index.ts';
import { toolCallBox } from '../../skills/release/deepeyes.ts';
import { roundHalfEven } from '../../skills/release/images.ts';
import { releaseSkills } from '../../skills/release/index.ts';
import { keywordRoute } from '../../skills/release/packs.ts';
import { PySource, renderParts } from '../../skills/release/pysource.ts';
import { removeThink } from '../../skills/release/pytext.ts';
import { ReleaseTextError, ReleaseTexts, upstreamDir } from '../../skills/release/upstream.ts';
import { loadRegistry, normalizeName } from '../../src/core/registry.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'maestro-release-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake checkout with one file. */
function checkout(file: string, text: string): ReleaseTexts {
  const dir = mkdtempSync(join(tmp, 'co-'));
  mkdirSync(join(dir, 'skills'));
  writeFileSync(join(dir, file), text);
  return new ReleaseTexts(dir);
}

describe('reading prompt texts from Python source', () => {
  it('reads constants with escapes, raw strings, concatenation and + of other constants', () => {
    const t = checkout(
      'skills/a.py',
      [
        'B = "tail\\tend"',
        "A = '''line1\\nline2\\\\x''' + B",
        "R = r'keep\\n'",
        'P = ("one "\r\n     "two")',
        'A_OLD = "not me"',
      ].join('\n'),
    );
    expect(t.constant('skills/a.py', 'A')).toBe('line1\nline2\\xtail\tend');
    expect(t.constant('skills/a.py', 'R')).toBe('keep\\n');
    expect(t.constant('skills/a.py', 'P')).toBe('one two');
  });

  it('turns f-string fields into named parts and renders them; {{ }} stay literal braces', () => {
    const src = new PySource(
      'def f(x):\n    return (\n        f"Q:\\n{self.question}\\n"\n        "{{not a field}} "\n        f"{index + 1}"\n    )\n',
      'f.py',
    );
    const parts = src.expression(src.after('return'));
    expect(parts.filter((p) => 'expr' in p)).toEqual([{ expr: 'self.question' }, { expr: 'index + 1' }]);
    expect(renderParts(parts, { 'self.question': 'why?', 'index + 1': '2' }, 'f.py')).toBe(
      'Q:\nwhy?\n{{not a field}} 2',
    );
  });

  it('names the file and the constant when the checkout lacks them', () => {
    const t = checkout('skills/a.py', 'X = "x"\n');
    expect(() => t.constant('skills/a.py', 'MISSING')).toThrow(/skills\/a\.py has no constant MISSING/);
    expect(() => t.constant('skills/b.py', 'X')).toThrow(/skills\/b\.py is missing/);
    expect(() => t.template('skills/a.py', ['def nowhere', 'return'])).toThrow(ReleaseTextError);
    expect(() => new ReleaseTexts(join(tmp, 'no-such-dir'))).toThrow(/no skills\/ folder/);
  });

  it('fails a render whose field has no value, naming the field', () => {
    const t = checkout('skills/a.py', 'def g():\n    return f"{step9}"\n');
    expect(() => t.template('skills/a.py', ['def g', 'return']).render({})).toThrow(/\{step9\}/);
  });

  it('finds the checkout: MAESTRO_UPSTREAM first, then the registry key', () => {
    expect(upstreamDir('/from/registry', { MAESTRO_UPSTREAM: '/from/env' })).toBe('/from/env');
    expect(upstreamDir('/from/registry', {})).toBe('/from/registry');
    expect(upstreamDir(undefined, {})).toBeUndefined();
  });

  it('resolves a relative registry `upstream:` against the registry file', () => {
    const file = join(tmp, 'reg.yaml');
    writeFileSync(file, 'version: 1\nupstream: ../checkout\n');
    expect(loadRegistry([file], {}).upstream).toBe(resolve(tmp, '../checkout'));
  });
});

describe('release helpers', () => {
  it("rounds like Python's round()", () => {
    expect([0.5, 1.5, 2.5, -0.5, 10.4, 10.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, 10, 11]);
  });

  it('reads a DeepEyes box as the release does', () => {
    expect(
      toolCallBox('<tool_call>{"name": "z", "arguments": {"bbox_2d": [1, 2, 3, 4]}}</tool_call>'),
    ).toEqual([1, 2, 3, 4]);
    expect(toolCallBox("<tool_call>{'arguments': {'bbox_2d': (5, 6, 7, 8)}}")).toEqual([5, 6, 7, 8]);
    expect(toolCallBox('<tool_call>{"arguments": {bbox')).toBeUndefined();
    expect(toolCallBox('no call')).toBeUndefined();
  });

  it('removes think blocks and strips like Python', () => {
    expect(removeThink('<THINK>a\nb</think>\x1c answer \x85')).toBe('answer');
    expect(removeThink('')).toBe('');
    expect(removeThink(null)).toBeNull();
  });
});

const RELEASE_REGISTRIES = [join(ROOT, 'registry/release.yaml'), join(ROOT, 'registry/release-ood.yaml')];

describe('registry/release.yaml + release-ood.yaml', () => {
  it('names release implementations for every skill, with their services declared', () => {
    const registry = loadRegistry(RELEASE_REGISTRIES, {});
    expect(registry.skills.length).toBeGreaterThanOrEqual(4);
    for (const skill of registry.skills) {
      const impl = getSkillImplementation(skill.implementation);
      expect(impl?.profile, skill.name).toBe('release');
      expect(normalizeName(impl!.name)).toBe(normalizeName(skill.name));
      const roles = skill.services.map((s) => registry.service(s)?.role);
      for (const need of impl!.services)
        expect(roles, `${skill.name} calls ${need.role}`).toContain(need.role);
    }
  });

  it("accepts the release factory's aliases for each skill", () => {
    const registry = loadRegistry(RELEASE_REGISTRIES, {});
    for (const impl of releaseSkills) {
      if (!registry.findSkill(impl.name)) continue;
      for (const alias of impl.aliases) expect(registry.findSkill(alias)?.name, alias).toBe(impl.name);
    }
  });
});

describe('the OCRBench router (keyword rules read from the release checkout)', () => {
  const shared = existsSync(join(ROOT, '../shared')) ? join(ROOT, '../shared') : '/work/shared';
  const texts = new ReleaseTexts(join(shared, 'data/upstream-maestro/release'));

  it.each([
    ['What is written in the image?', 'text_recognition'],
    ['What is the total amount on this receipt?', 'key_information_extraction'],
    ['Write the expression of the formula in the image in LaTeX format.', 'formula_recognition'],
    ['What does the sign on the store say?', 'scene_text_qa'],
    ['Who is the author of this book?', 'document_chart_qa'],
    ['Hmm?', 'scene_text_qa'],
  ])('%s → %s', (question, route) => {
    expect(keywordRoute(texts, 'skills/OCRBench_Master_Router_Skill.py', question)).toBe(route);
  });
});

describe('the VLMsAreBlind router', () => {
  const shared = existsSync(join(ROOT, '../shared')) ? join(ROOT, '../shared') : '/work/shared';
  const texts = new ReleaseTexts(join(shared, 'data/upstream-maestro/release'));

  it.each([
    ['Which letter is being circled in red?', 'highlighted_character_recognition'],
    ['Count the number of rows and columns in the table.', 'grid_structure_parsing'],
    ['Are the two circles overlapping? Answer with Yes or No.', 'contact_overlap'],
    ['How many single-color paths go from A to C?', 'intersection_route_counting'],
    ['How many squares are in the image?', 'geometric_shape_counting'],
    ['Answer this.', 'geometric_shape_counting'],
  ])('%s → %s', (question, route) => {
    expect(keywordRoute(texts, 'skills/VLMsAreBlind_Master_Router_Skill.py', question)).toBe(route);
  });
});

describe('the ERQA router (image count counts too)', () => {
  const shared = existsSync(join(ROOT, '../shared')) ? join(ROOT, '../shared') : '/work/shared';
  const texts = new ReleaseTexts(join(shared, 'data/upstream-maestro/release'));

  it.each([
    ['If the robot follows the colored trajectory, where does the object land?', 1, 'trajectory'],
    ['What is the next action: move left or rotate clockwise?', 1, 'action'],
    ['Which labeled point is on the same part of the drawer?', 1, 'pointing'],
    ['Do these match?', 2, 'multi_view'],
    ['Do these match?', 1, 'spatial'],
  ] as const)('%s (%i images) → %s', (question, images, route) => {
    expect(keywordRoute(texts, 'skills/ERQA_Embodied_Scene_QA_Skill.py', question, images)).toBe(route);
  });
});
