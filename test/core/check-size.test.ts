import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/check-size.mjs');
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'maestro-size-'));
  roots.push(root);
  const all = {
    'src/rollout/a.ts': '',
    'src/policies/a.ts': '',
    'src/workers/orchestrator.ts': '',
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
const fn = (name: string, bodyLines: number) =>
  `export function ${name}() {\n${Array.from({ length: bodyLines }, (_, i) => `  const v${i} = ${i};`).join('\n')}\n}\n`;
const check = (root: string) => spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });

describe('scripts/check-size.mjs', () => {
  it('passes short functions and a short orchestrator', () => {
    const r = check(tree({ 'src/rollout/a.ts': fn('step', 78) }));
    expect(r.status).toBe(0);
  });

  it('names a function over 80 lines, with its file and line', () => {
    const r = check(tree({ 'src/policies/a.ts': `// x\n${fn('decide', 79)}` }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('src/policies/a.ts:2 decide is 81 lines (max 80)');
  });

  it('names an orchestrator of 150 lines or more', () => {
    const r = check(tree({ 'src/workers/orchestrator.ts': 'x;\n'.repeat(160) }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('src/workers/orchestrator.ts is 160 lines (max 149)');
  });
});
