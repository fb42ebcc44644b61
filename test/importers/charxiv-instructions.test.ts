import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCharxivInstructions, readPyString } from '../../src/importers/charxiv-instructions.ts';

// A constants.py of the same shape as CharXiv's (written for this test: triple-quoted strings
// after `\` continuations, `\n` and unknown escapes, int and string keys, comments).
const CONSTANTS = String.raw`# instruction texts
OTHER = "not read"

REASONING_GRADING_PREFIX = """
Grade it.\nRules follow:\n"""

REASONING_GRADING_INST = {
    1: \
    """
    Text rule with \lambda and "quotes".
    * Question: <|question|>
    """,
    2: \
    """General rule.""",
    3: """Number rule.""", # a comment
    4: \
    """Number rule 4 \
continued."""
}

DESCRIPTIVE_GRADING_PREFIX ="""
You get <|NUM_TRIPLETS|> pairs; keys [<|JSON_KEYS|>]:\n
Question: <|OVERARCHING_QUESTION|>
"""

DESCRIPTIVE_GRADING_QMAP = {
    1: "What is the title?",
    18: 'What is the layout?',
}

DESCRIPTIVE_GRADING_ICL = {
    'title': """
Rubric: titles. It's fine.
""",
    'layout': """Rubric: layout \t tab""",
}
`;

const dir = mkdtempSync(join(tmpdir(), 'maestro-charxiv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("CharXiv's instruction texts from a user's checkout", () => {
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'constants.py'), CONSTANTS);

  it('reads the string literals and dicts of src/constants.py', async () => {
    const t = await loadCharxivInstructions(dir);
    expect(t.source).toBe(join(dir, 'src', 'constants.py'));
    expect(t.reasoningPrefix).toBe('\nGrade it.\nRules follow:\n');
    expect(Object.keys(t.reasoning)).toEqual(['1', '2', '3', '4']);
    expect(t.reasoning[1]).toContain('Text rule with \\lambda and "quotes".');
    expect(t.reasoning[4]).toBe('Number rule 4 continued.');
    expect(t.descriptiveQuestions).toEqual({ 1: 'What is the title?', 18: 'What is the layout?' });
    expect(Object.keys(t.rubrics)).toEqual(['title', 'layout']);
    expect(t.rubrics.layout).toBe('Rubric: layout \t tab');
  });

  it('reads the same texts Python does', async () => {
    if (!existsSync('/usr/bin/python3')) throw new Error('Debian python3 is needed for this comparison');
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(join(dir, 'src'))})`,
      'import constants as c',
      'print(json.dumps({"p": c.REASONING_GRADING_PREFIX, "r": {str(k): v for k, v in c.REASONING_GRADING_INST.items()},',
      ' "dp": c.DESCRIPTIVE_GRADING_PREFIX, "q": {str(k): v for k, v in c.DESCRIPTIVE_GRADING_QMAP.items()},',
      ' "i": c.DESCRIPTIVE_GRADING_ICL}))',
    ].join('\n');
    const py = JSON.parse(execFileSync('/usr/bin/python3', ['-B', '-c', script], { encoding: 'utf8' }));
    const t = await loadCharxivInstructions(join(dir, 'src', 'constants.py'));
    expect(t.reasoningPrefix).toBe(py.p);
    expect(t.reasoning).toEqual(py.r);
    expect(t.descriptivePrefix).toBe(py.dp);
    expect(t.descriptiveQuestions).toEqual(py.q);
    expect(t.rubrics).toEqual(py.i);
  });

  it('names the file and the missing name when a text is absent', async () => {
    const other = join(dir, 'partial.py');
    writeFileSync(other, 'REASONING_GRADING_PREFIX = "x"\n');
    await expect(loadCharxivInstructions(other)).rejects.toThrow(/partial\.py at REASONING_GRADING_INST/);
    await expect(loadCharxivInstructions(join(dir, 'nowhere'))).rejects.toThrow();
  });

  it('reads single-quoted, raw and unterminated literals as Python would', () => {
    expect(readPyString(String.raw`'a\'b' rest`, 0)).toEqual({ value: "a'b", end: 6 });
    expect(readPyString(String.raw`r"a\nb"`, 0)?.value).toBe('a\\nb');
    expect(readPyString('"open\nline"', 0)).toBeNull();
    expect(readPyString('x = 1', 0)).toBeNull();
  });
});
