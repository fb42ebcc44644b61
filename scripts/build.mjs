// `npm run build` (also run by `npm ci` through `prepare`): compiles src/, skills/ and
// benchmarks/ to dist/ with tsc (tsconfig.build.json), then writes dist/.stamp. The stamp
// tells bin/maestro-eval.js that dist/ is complete and when it was built. Data files
// (YAML, Lua, fixture files) are not copied: the code finds them in the source tree
// (src/core/paths.ts).
//
// Without TypeScript (a production install, `npm ci --omit=dev`) there is nothing to build
// with: it says so and succeeds, and the CLI runs the sources through tsx.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.log(
    'build: TypeScript is not installed (production install); the CLI will run the sources through tsx',
  );
  process.exit(0);
}

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) {
  // A partial dist/ without a stamp is never run; remove it so nothing stale lingers.
  rmSync(dist, { recursive: true, force: true });
  console.error('build: tsc failed; the CLI will run the sources through tsx until `npm run build` succeeds');
  process.exit(result.status ?? 1);
}
writeFileSync(join(dist, '.stamp'), `${new Date().toISOString()}\n`);
console.log(`build: dist/ compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
