import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JudgeContexts } from '../../src/cli/judge.ts';
import { loadRegistry } from '../../src/core/registry.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'maestro-judge-ctx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const registry = loadRegistry([join(ROOT, 'registry/simulated.yaml')], {});

describe("a process's judge contexts", () => {
  it('refuses a judge whose model differs from the one the sweep was planned with', async () => {
    const ctx = new JudgeContexts({ registry, dataDir: dir });
    await expect(ctx.get({ name: 'sim-judge', model: 'another-model' })).rejects.toThrow(
      /judges\.sim-judge\.model: is "judge-sim" here but the sweep was planned with "another-model"/,
    );
    await expect(ctx.get({ name: 'nobody', model: 'x' })).rejects.toThrow(/unknown judge "nobody"/);
    await ctx.close();
  });

  it("gives CharXiv's instruction texts from a checkout when one is named", async () => {
    const checkout = join(dir, 'CharXiv');
    mkdirSync(join(checkout, 'src'), { recursive: true });
    writeFileSync(
      join(checkout, 'src', 'constants.py'),
      [
        'REASONING_GRADING_PREFIX = """P"""',
        'REASONING_GRADING_INST = {1: """a""", 2: """b""", 3: """c""", 4: """d"""}',
        'DESCRIPTIVE_GRADING_PREFIX = """D"""',
        'DESCRIPTIVE_GRADING_QMAP = {1: "q"}',
        'DESCRIPTIVE_GRADING_ICL = {\'title\': """t"""}',
      ].join('\n'),
    );
    const ctx = new JudgeContexts({ registry, dataDir: dir, charxivDir: checkout });
    const c = await ctx.get({ name: 'sim-judge', model: 'judge-sim' });
    expect(c.charxiv?.reasoning).toEqual({ 1: 'a', 2: 'b', 3: 'c', 4: 'd' });
    expect(c.charxiv?.source).toBe(join(checkout, 'src', 'constants.py'));
    const plain = await new JudgeContexts({ registry, dataDir: dir }).get({
      name: 'sim-judge',
      model: 'judge-sim',
    });
    expect(plain.charxiv).toBeUndefined();
    await ctx.close();
  });
});
