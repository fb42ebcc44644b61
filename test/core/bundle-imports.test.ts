/**
 * The bundle (dist/cli.cjs) runs from V8's code cache, and Node 20 gives a script compiled
 * from cached data no dynamic-import callback: an import() left in it fails on every run but
 * the first (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). esbuild bundles import() of project
 * files; an import() of a built-in module or of a package left out of the bundle would stay,
 * so the sources have none (such modules are required; see src/core/sharp.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Dynamic imports whose specifier is not a relative path: `file:line: text`. */
function outsideImports(file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '');
    for (const m of code.matchAll(/(?<![\w.])import\(\s*([^)]*)\)/g)) {
      const spec = (m[1] ?? '').trim();
      if (!/^['"`]\.\.?\//.test(spec)) found.push(`${file}:${i + 1}: ${line.trim()}`);
    }
  });
  return found;
}

describe('the bundle has no dynamic import of its own', () => {
  it('finds a dynamic import of a built-in or a package, and none of a project file', () => {
    expect(outsideImports('a.ts', "const fs = await import('node:fs');")).toHaveLength(1);
    expect(outsideImports('a.ts', 'const s = await import(name);')).toHaveLength(1);
    expect(outsideImports('a.ts', "const { run } = await import('./sweep.ts');")).toEqual([]);
    expect(outsideImports('a.ts', "type T = typeof import('../core/x.ts');")).toEqual([]);
    expect(outsideImports('a.ts', "// await import('node:fs')")).toEqual([]);
  });

  it('the sources under src/, skills/ and benchmarks/ import only project files dynamically', () => {
    const found = ['src', 'skills', 'benchmarks'].flatMap((d) =>
      tsFiles(join(REPO, d)).flatMap((f) =>
        outsideImports(f.slice(REPO.length + 1), readFileSync(f, 'utf8')),
      ),
    );
    expect(found).toEqual([]);
  });
});

describe("the bundle's text", () => {
  it('is ASCII, so bin/maestro-eval.js can read it as Latin-1 (the build escapes other characters)', () => {
    // Built by the test setup from the current sources (test/global-setup.ts).
    const bytes = readFileSync(join(REPO, 'dist', 'cli.cjs'));
    const at = bytes.findIndex((b) => b > 0x7f);
    const context = at < 0 ? '' : bytes.subarray(Math.max(0, at - 40), at + 40).toString('utf8');
    expect(at < 0 ? 'all ASCII' : `byte ${at} is not ASCII: …${context}…`).toBe('all ASCII');
    expect(readFileSync(join(REPO, 'bin', 'maestro-eval.js'), 'utf8')).toContain(
      "readFileSync(file, 'latin1')",
    );
  });
});

describe('parts of packages left out of the bundle (scripts/build.mjs UNUSED)', () => {
  it("holds neither BullMQ's PostgreSQL backend nor zod's translations, and still zod's English messages", () => {
    const text = readFileSync(join(REPO, 'dist', 'cli.cjs'), 'latin1');
    // esbuild names each wrapped module by its path: present means bundled.
    expect(text).not.toContain('node_modules/bullmq/dist/cjs/postgres/');
    expect(text).not.toContain('node_modules/zod/v4/locales/he.js');
    expect(text).toContain('node_modules/zod/v4/locales/en.js');
    // The same packages from node_modules (the sources' view) still have them: a test of the stubs, not of the packages.
    expect(readdirSync(join(REPO, 'node_modules/bullmq/dist/cjs/postgres'))).toContain('sql-scripts.js');
  });
});
