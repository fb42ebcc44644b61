import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the package's files live, the same whether the code runs from the TypeScript
 * sources (tsx) or from the compiled JavaScript in `dist/` (`npm run build`).
 */

/** The first folder at or above `dir` that holds a package.json. */
function packageRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) throw new Error(`no package.json above ${dir}`);
  }
}

/** The project's root (where package.json, registry/, benchmarks/ and sweeps/ live). */
export const ROOT = packageRoot(fileURLToPath(new URL('.', import.meta.url)));
/** The compiled JavaScript (`npm run build`); it mirrors the source tree. */
export const DIST = join(ROOT, 'dist');

export const DEFAULT_REGISTRY = join(ROOT, 'registry', 'simulated.yaml');
export const DEFAULT_CATALOG = join(ROOT, 'benchmarks', 'catalog.yaml');
export const DEFAULT_SUITE = join(ROOT, 'benchmarks', 'suites', 'default.yaml');
export const DEMO_SWEEP = join(ROOT, 'sweeps', 'demo.yaml');

/**
 * A file next to a module, in the source tree: `besideSource(import.meta.url, './x.lua')`.
 * From `dist/src/models/a.js` it gives `src/models/x.lua`, so data files that sit beside the
 * code (Lua scripts, fixture files) need no copy into dist/.
 */
export function besideSource(moduleUrl: string, file: string): string {
  const path = fileURLToPath(new URL(file, moduleUrl));
  const inDist = relative(DIST, path);
  return inDist.startsWith('..') || isAbsolute(inDist) ? path : join(ROOT, inDist);
}
