/**
 * The compiled CLI (dist/) holds only JavaScript: a data file that sits beside a module
 * (a Python helper, a Lua script) must be found in the source tree (`besideSource`, or
 * `loadLua` which uses it), never next to the running module, or it is missing when the CLI
 * runs from dist/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { besideSource, DIST, ROOT } from '../../src/core/paths.ts';

const REPO = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.ts$/.test(e.name) ? [path] : [];
  });
}

/** `new URL('./x.py', import.meta.url)`-style references to files that are not code. */
const BESIDE_MODULE = /new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g;

describe('data files beside modules', () => {
  it('are located in the source tree, not beside the running (maybe compiled) module', () => {
    const offenders: string[] = [];
    for (const file of ['src', 'skills', 'benchmarks'].flatMap((d) => sources(join(REPO, d)))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(BESIDE_MODULE)) {
        const target = m[1] ?? '';
        if (/\.(ts|js)$/.test(target) || target === '.' || target.endsWith('/')) continue;
        offenders.push(`${relative(REPO, file)}: ${m[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('resolve from a compiled module to the file in the source tree', () => {
    const compiled = `file://${join(DIST, 'src/scoring/official/humanevalv/run.js')}`;
    expect(besideSource(compiled, './driver.py')).toBe(
      join(ROOT, 'src/scoring/official/humanevalv/driver.py'),
    );
  });
});
