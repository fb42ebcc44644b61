// Keeps the rollout path readable: no function over 80 lines in the engine, the workers
// and the policies, and the orchestrator (the BullMQ adapter of the engine) under 150 lines.
// Usage: node scripts/check-size.mjs [root]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(process.argv[2] ?? join(import.meta.dirname, '..'));
const FOLDERS = ['src/rollout', 'src/workers', 'src/policies'];
const MAX_FUNCTION_LINES = 80;
/** Files kept under a number of lines (this many at most). */
const FILE_LIMITS = { 'src/workers/orchestrator.ts': 149 };

const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });

const problems = [];
for (const file of FOLDERS.flatMap((f) => files(join(root, f)))) {
  const text = readFileSync(file, 'utf8');
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const line = (pos) => src.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const lines = line(node.getEnd()) - line(node.getStart()) + 1;
      if (lines > MAX_FUNCTION_LINES) {
        const name = node.name ? node.name.getText(src) : '(anonymous)';
        problems.push(
          `${relative(root, file)}:${line(node.getStart())} ${name} is ${lines} lines (max ${MAX_FUNCTION_LINES})`,
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
}
for (const [file, max] of Object.entries(FILE_LIMITS)) {
  const text = readFileSync(join(root, file), 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > max) problems.push(`${file} is ${lines} lines (max ${max})`);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(
  `sizes ok: no function over ${MAX_FUNCTION_LINES} lines in ${FOLDERS.join(', ')}; orchestrator under 150 lines`,
);
