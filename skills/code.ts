import { clip, okText, readText, taskText, unavailable } from './evidence.ts';
import type { SkillImplementation } from './types.ts';

/** The last fenced code block of a reply, without its fence. */
export function lastCodeBlock(text: string): string | null {
  const re = /```[a-zA-Z0-9_+-]*\s*\n([\s\S]*?)```/g;
  let found: string | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) found = m[1]?.trim() || found;
  return found;
}

const WRITE =
  'Write a Python function for the programming task shown in the image (a table of examples, a ' +
  'diagram or a statement). Infer the rule from every example, handle edge cases, and reply with one ' +
  '```python code block containing only the function (no tests, no prints).';

const REVIEW =
  'Review Python code against the task in the image: run each example from the image through the code ' +
  'in your head. If every example passes, return the code unchanged; otherwise fix it. Reply with one ' +
  '```python code block.';

/**
 * Code_Problem_Solver: OCR of the task (examples, signature), the expert writes the code,
 * then reviews it against the examples. The output ends with the code block.
 */
export const codeSkill: SkillImplementation = {
  id: 'code',
  name: 'Code_Problem_Solver',
  level: 1,
  description: 'a programming problem given as an image (examples, diagrams); writes and checks Python code',
  services: [{ role: 'ocr' }],
  async run(ctx) {
    const ocr = await readText(ctx, 0, 'ocr of the task');
    const read = okText(ocr);
    const notes: string[] = [];
    if (ocr && !ocr.ok) notes.push(unavailable('ocr', ocr));
    const task = `${read ? `Text read from the image: ${clip(read, 1200)}\n\n` : ''}${taskText(ctx)}`;
    const draft = await ctx.ask({ system: WRITE, text: task, note: 'write code' });
    let code = lastCodeBlock(draft.text);
    if (code && ctx.callsLeft() > 0) {
      const reviewed = await ctx.ask({
        system: REVIEW,
        text: `${task}\n\nCode:\n\`\`\`python\n${code}\n\`\`\``,
        note: 'review against the examples',
      });
      code = lastCodeBlock(reviewed.text) ?? code;
    }
    const header = `[Code_Problem_Solver] ${code ? 'wrote and reviewed the function' : 'no code block in the reply'}.`;
    const body = code ? `\`\`\`python\n${code}\n\`\`\`` : clip(draft.text, 800);
    return { text: [header, ...notes.map((n) => `Note: ${n}`), body].join('\n') };
  },
};
