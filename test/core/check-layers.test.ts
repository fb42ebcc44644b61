import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayers } from '../../scripts/check-layers.mjs';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/check-layers.mjs');
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A fake repository with these files (path -> content) and a package.json declaring `deps`. */
function tree(files: Record<string, string>, deps: string[] = ['zod', 'bullmq', 'ioredis']): string {
  const root = mkdtempSync(join(tmpdir(), 'maestro-layers-'));
  roots.push(root);
  const dependencies = Object.fromEntries(deps.map((d) => [d, '1.0.0']));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'fake', dependencies }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** Runs the check in this process: code 1 when it finds problems, as the script exits. */
function check(root: string): { code: number; out: string } {
  const problems = checkLayers(root);
  return { code: problems.length ? 1 : 0, out: problems.join('\n') };
}

const CLEAN = {
  'src/core/ids.ts':
    "import { z } from 'zod';\nimport { readFileSync } from 'node:fs';\nexport const Id = z.string();\n",
  'src/workers/pool.ts':
    "import { Worker } from 'bullmq';\nimport { Id } from '../core/ids.ts';\nexport { Worker, Id };\n",
  'src/scoring/metric.ts': "import type { Id } from '../core/ids.ts';\nexport type M = Id;\n",
  'src/cli/main.ts': "import '../workers/pool.ts';\nimport { Id } from '../core/ids.ts';\n",
};

describe('the layer check (allow-list per folder)', () => {
  it('as a command: passes a tree that follows the rules, fails on a violation with a clear message', () => {
    const run = (root: string) => spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });
    const ok = run(tree(CLEAN));
    expect(ok.stdout).toMatch(/layers ok/);
    expect(ok.status).toBe(0);
    const bad = run(tree({ ...CLEAN, 'src/core/bad.ts': "import { Worker } from '../workers/pool.ts';\n" }));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('layer check failed (1)');
    expect(bad.stderr).toContain(
      'src/core/bad.ts imports ../workers/pool.ts (src/workers), but src/core may import',
    );
  });

  it('passes a tree that follows the rules', () => {
    expect(check(tree(CLEAN))).toEqual({ code: 0, out: '' });
  });

  it('fails when core imports another folder, naming the file and what core may import', () => {
    const r = check(tree({ ...CLEAN, 'src/core/bad.ts': "import { Worker } from '../workers/pool.ts';\n" }));
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'src/core/bad.ts imports ../workers/pool.ts (src/workers), but src/core may import',
    );
  });

  it('fails when one stage imports another, also through a type-only or dynamic import', () => {
    const r = check(
      tree({
        ...CLEAN,
        'src/scoring/peek.ts': "import type { Worker } from '../workers/pool.ts';\n",
        'src/workers/late.ts': "export const load = () => import('../scoring/metric.ts');\n",
      }),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/scoring/peek.ts imports ../workers/pool.ts (src/workers)');
    expect(r.out).toContain('src/workers/late.ts imports ../scoring/metric.ts (src/scoring)');
  });

  it('fails when scoring touches the queue', () => {
    const r = check(tree({ ...CLEAN, 'src/scoring/queue.ts': "import { Queue } from 'bullmq';\n" }));
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/scoring/queue.ts imports the package bullmq, but src/scoring may import');
  });

  it('fails on a package that package.json does not declare, even where any package is allowed', () => {
    const r = check(tree({ ...CLEAN, 'src/cli/extra.ts': "import _ from 'lodash/fp';\n" }));
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/cli/extra.ts imports lodash/fp, which is not a dependency in package.json');
  });

  it('fails on a folder that has no rule', () => {
    const r = check(tree({ ...CLEAN, 'src/misc/util.ts': 'export const x = 1;\n' }));
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/misc has no layer rule');
  });

  it('lets the bench import anything but the command line', () => {
    const ok = check(
      tree({ ...CLEAN, 'src/bench/run.ts': "import '../workers/pool.ts';\nimport 'bullmq';\n" }),
    );
    expect(ok.code).toBe(0);
    const bad = check(tree({ ...CLEAN, 'src/bench/run.ts': "import '../cli/main.ts';\n" }));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('src/bench/run.ts imports ../cli/main.ts (src/cli)');
  });

  it('allows a single file where the rule names one (policies may use skills/index.ts only)', () => {
    const files = {
      ...CLEAN,
      'skills/index.ts': 'export const DIRECT = 1;\n',
      'skills/chart.ts': 'export {};\n',
    };
    expect(
      check(tree({ ...files, 'src/policies/p.ts': "import { DIRECT } from '../../skills/index.ts';\n" }))
        .code,
    ).toBe(0);
    const bad = check(tree({ ...files, 'src/policies/p.ts': "import '../../skills/chart.ts';\n" }));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('src/policies/p.ts imports ../../skills/chart.ts (skills)');
  });
});
