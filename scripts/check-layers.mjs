// Checks the architecture's layering on import statements, as an allow-list: every folder
// under src/, and skills/ and benchmarks/, names the folders (or single files) and npm
// packages it may import. Anything else fails, and so does a folder with no rule.
//
//   node scripts/check-layers.mjs [root]     (root defaults to this repository)
//
// The stages (src/producer, src/workers, src/scoring) never import each other; src/core
// imports no other folder; src/scoring never touches the queue (no bullmq or ioredis).
// sharp (native libvips) is imported by src/core/sharp.ts alone, which loads it on first use:
// every other folder goes through it, so no process pays for it before it draws an image.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Any package declared in package.json (dependencies or devDependencies). */
const ANY_PACKAGE = '*';

/** What each folder may import, besides itself and node:* built-ins. */
const RULES = {
  'src/core': { folders: [], packages: ['ioredis', 'sharp', 'yaml', 'zod'] },
  'src/data': { folders: ['src/core'], packages: ['zod'] },
  'src/deploy': { folders: ['src/core'], packages: ['yaml', 'zod'] },
  'src/importers': {
    folders: ['src/core', 'src/data'],
    packages: ['hyparquet', 'hyparquet-compressors', 'yaml', 'zod'],
  },
  'src/models': { folders: ['src/core'], packages: ['ioredis', 'openai', 'zod'] },
  'src/metrics': {
    folders: ['src/core', 'src/models'],
    packages: ['bullmq', 'ioredis', 'prom-client', 'zod'],
  },
  'src/process': { folders: ['src/core'], packages: [] },
  'src/rollout': { folders: ['src/core'], packages: ['zod'] },
  'src/policies': {
    folders: ['src/core', 'src/models', 'src/rollout', 'skills/index.ts'],
    packages: ['ioredis', 'openai', 'zod'],
  },
  'src/skills-runtime': { folders: ['src/core', 'src/data', 'src/models', 'skills'], packages: ['zod'] },
  'src/sim': { folders: ['src/core', 'src/data'], packages: ['zod'] },
  // The three stages.
  'src/producer': {
    folders: ['src/core', 'src/data', 'src/policies'],
    packages: ['bullmq', 'ioredis', 'zod'],
  },
  'src/workers': {
    folders: [
      'src/core',
      'src/data',
      'src/metrics',
      'src/models',
      'src/policies',
      'src/rollout',
      'src/skills-runtime',
      'skills',
    ],
    packages: ['bullmq', 'ioredis', 'zod'],
  },
  'src/scoring': { folders: ['src/core'], packages: ['csv-stringify', 'zod'] },
  'src/dashboard': {
    folders: ['src/core', 'src/data', 'src/producer', 'src/scoring'],
    packages: ['@bull-board/api', '@bull-board/express', 'bullmq', 'express', 'ioredis', 'zod'],
  },
  // The bench measures everything but the command line.
  'src/bench': { folders: ['src/*', 'skills', 'benchmarks'], except: ['src/cli'], packages: [ANY_PACKAGE] },
  // The command line composes everything.
  'src/cli': { folders: ['src/*', 'skills', 'benchmarks'], packages: [ANY_PACKAGE] },
  // The release skills (skills/release) send their exact request bodies through the model
  // client (src/models) and draw images as the release does (sharp through src/core/sharp.ts,
  // OpenCV's WebAssembly build).
  skills: {
    folders: ['src/core', 'src/data', 'src/models'],
    packages: ['zod', '@techstark/opencv-js'],
  },
  benchmarks: {
    folders: ['src/core', 'src/data', 'src/importers'],
    packages: ['hyparquet-writer', 'yaml', 'zod'],
  },
};

/** `import … from 'x'`, `export … from 'x'`, `import('x')` and the side-effect `import 'x'`. */
const IMPORT =
  /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The rule's unit a repository path belongs to: `src/<folder>`, `skills` or `benchmarks`. */
function unitOf(path) {
  const parts = path.split(sep);
  return parts[0] === 'src' ? parts.slice(0, 2).join('/') : parts[0];
}

function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function allowedFolder(rule, target, path) {
  if (rule.except?.includes(target)) return false;
  return rule.folders.some(
    (f) => f === target || f === path || (f === 'src/*' && target.startsWith('src/') && target !== 'src'),
  );
}

/** Problems with one import of `file` (a repository path in unit `from`). */
function checkImport(root, file, from, spec, declared) {
  const rule = RULES[from];
  const allowed = `${from} may import ${[...rule.folders, ...rule.packages].join(', ') || 'nothing'} (and node:*)`;
  if (spec.startsWith('node:')) return null;
  if (spec.startsWith('.')) {
    const path = relative(root, resolve(root, dirname(file), spec));
    const target = unitOf(path);
    if (target === from || allowedFolder(rule, target, path.split(sep).join('/'))) return null;
    return `${file} imports ${spec} (${target}), but ${allowed}`;
  }
  const name = packageName(spec);
  if (!declared.has(name)) return `${file} imports ${spec}, which is not a dependency in package.json`;
  if (rule.packages.includes(ANY_PACKAGE) || rule.packages.includes(name)) return null;
  return `${file} imports the package ${name}, but ${allowed}`;
}

/** All layering problems under `root` (an empty list when the tree follows the rules). */
export function checkLayers(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const declared = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.devDependencies ?? {}),
  ]);
  const problems = [];
  for (const top of ['src', 'skills', 'benchmarks']) {
    if (!existsSync(join(root, top))) continue;
    for (const abs of tsFiles(join(root, top))) {
      const file = relative(root, abs);
      const from = unitOf(file);
      if (!RULES[from]) {
        problems.push(`${file}: ${from} has no layer rule; add one to scripts/check-layers.mjs`);
        continue;
      }
      for (const m of readFileSync(abs, 'utf8').matchAll(IMPORT)) {
        const problem = checkImport(root, file, from, m[1] ?? m[2] ?? m[3], declared);
        if (problem) problems.push(problem);
      }
    }
  }
  return [...new Set(problems)];
}

const isMain = process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const root = resolve(process.argv[2] ?? join(import.meta.dirname, '..'));
  const problems = checkLayers(root);
  if (problems.length) {
    console.error(`layer check failed (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log(`layers ok: ${Object.keys(RULES).length} folders import only what their rule allows`);
}
