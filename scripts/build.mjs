// `npm run build` (also run by `npm ci` through `prepare`): bundles the CLI with esbuild into
// one CommonJS file, dist/cli.cjs (and the memory bench's child, dist/rss-child.js), then
// writes dist/.stamp. The stamp tells bin/maestro-eval.js that dist/ is complete and when it
// was built. Type checking is `npm run typecheck` (tsc); this step only transpiles.
//
// Why a bundle: every process of the cluster (workers, the `sweep --wait` client, the CLI)
// otherwise resolves, reads and links hundreds of modules at start-up, and Node lexes each
// CommonJS dependency imported from ESM for its exports. One bundle halves start-up CPU.
// Why one CommonJS file: bin/maestro-eval.js compiles it with V8's code cache (node:vm's
// cachedData, which Node 20 offers for scripts but not for ES modules), so a process skips
// parsing and compiling the code an earlier run of the same command compiled. Modules stay
// lazily evaluated: esbuild wraps each one in an initializer run on its first import.
//
// What stays out of the bundle: native or very large packages loaded on demand (sharp,
// OpenCV's WebAssembly build), the dashboard's web server (express, bull-board) and
// development tools. Data files (YAML, Lua, Python, fixture files) are not copied: each
// module's `import.meta.url` is rewritten to its source file's URL, relative to the bundle,
// so the code finds them in the source tree.
//
// Without esbuild, or without the sources (the image's stage that installs the dependencies
// alone), there is nothing to build: it says so and succeeds, and the CLI runs the sources
// through tsx.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

/** Loaded on demand, from node_modules, by the code that needs them. */
const EXTERNAL = ['sharp', '@techstark/opencv-js', 'playwright-core', 'tsx', 'tsx/*', 'esbuild', 'vitest'];
/** Only the dashboard serves web pages: its server's packages (CommonJS) load from node_modules. */
const DASHBOARD_ONLY = ['express', '@bull-board/api', '@bull-board/api/*', '@bull-board/express'];

/**
 * Parts of packages that nothing here uses, left out of the bundle (an empty module in their
 * place): BullMQ's PostgreSQL backend (326 KB; its index re-exports it, nothing else refers
 * to it) and zod's translated error messages (303 KB; `z.locales`, never set: the English
 * ones are imported on their own). Each is text every process would read, and modules it
 * would initialize, at every start. `importer` and `path` are matched as the package writes
 * them.
 */
const UNUSED = [
  { importer: /[\\/]node_modules[\\/]bullmq[\\/]dist[\\/]cjs[\\/]index\.js$/, path: /^\.\/postgres$/ },
  {
    importer: /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|mini|core)[\\/][^\\/]+\.js$/,
    path: /^\.\.?\/locales\/index\.js$/,
  },
];

const unusedParts = {
  name: 'unused-parts',
  setup(build) {
    build.onResolve({ filter: /(postgres|locales\/index\.js)$/ }, (args) => {
      const hit = UNUSED.some((u) => u.importer.test(args.importer) && u.path.test(args.path));
      return hit ? { path: `${args.importer}:${args.path}`, namespace: 'unused' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'unused' }, () => ({ contents: '', loader: 'js' }));
  },
};

if (!existsSync(join(root, 'src', 'cli', 'main.ts'))) {
  console.log('build: no sources here (an install of the dependencies alone); nothing to bundle');
  process.exit(0);
}

let esbuild;
try {
  esbuild = await import(createRequire(join(root, 'package.json')).resolve('esbuild'));
} catch {
  console.log(
    'build: esbuild is not installed (production install); the CLI will run the sources through tsx',
  );
  process.exit(0);
}

/**
 * Each project module's `import.meta.url` becomes its source file's URL (see above), from
 * `base`, the bundle's own URL. In the CommonJS bundle `import.meta.filename` is the bundle's
 * file.
 */
const sourceUrls = (base, filename) => ({
  name: 'source-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (args.path.includes(`${sep}node_modules${sep}`) || !text.includes('import.meta.')) return undefined;
      const fromDist = relative(dist, args.path).split(sep).join('/');
      const url = `new URL(${JSON.stringify(fromDist)}, ${base}).href`;
      return {
        contents: text.replaceAll('import.meta.url', url).replaceAll('import.meta.filename', filename),
        loader: 'ts',
      };
    });
  },
});

/**
 * The package's own YAML files (catalog, formats, suites, registries) parsed once here, by
 * the sha256 of their text: every process reads them at start-up, and parsing YAML there
 * costs tens of milliseconds of cold code (src/core/yaml-file.ts uses an entry only when the
 * file's text has that hash). Files whose values JSON cannot hold (.inf, .nan) are left out.
 */
async function parsedYaml() {
  const { parseDocument } = await import('yaml');
  const { createHash } = await import('node:crypto');
  const { readdir } = await import('node:fs/promises');
  const { isDeepStrictEqual } = await import('node:util');
  const cache = {};
  const walk = async (dir) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.ya?ml$/.test(entry.name)) {
        const text = await readFile(path, 'utf8');
        const doc = parseDocument(text, { prettyErrors: true });
        if (doc.errors.length) continue;
        const value = doc.toJS();
        const json = JSON.stringify(value);
        if (json === undefined || !isDeepStrictEqual(JSON.parse(json), value)) continue;
        cache[createHash('sha256').update(text).digest('hex')] = json;
      }
    }
  };
  for (const dir of ['benchmarks', 'registry', 'sweeps'])
    if (existsSync(join(root, dir))) await walk(join(root, dir));
  return cache;
}

const started = Date.now();
await rm(dist, { recursive: true, force: true });
try {
  const common = {
    outdir: dist,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // Smaller files to read and parse. Identifiers are not minified, so names stay readable in
    // stack traces and profiles (esbuild's keepNames is off: it wraps every named closure in a
    // call, measurable in the workers' hot paths; error classes set their names themselves).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    // Maps to the original files (not loaded at run time; `node --enable-source-maps` uses
    // them for stack traces, and the bench's profile summaries for where time went).
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  };
  await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: { cli: join(root, 'src/cli/program.ts') },
      outExtension: { '.js': '.cjs' },
      format: 'cjs',
      external: [...EXTERNAL, ...DASHBOARD_ONLY],
      // The file is CommonJS's module wrapper, a function expression (see bin/maestro-eval.js):
      // compiled as it is, no second copy of its text is made to wrap it.
      banner: { js: '(function (exports, require, module, __filename, __dirname) {' },
      footer: { js: '})' },
      plugins: [sourceUrls("require('node:url').pathToFileURL(__filename)", '__filename'), unusedParts],
    }),
    // The memory bench's child process (an ES module: it awaits at its top level).
    esbuild.build({
      ...common,
      entryPoints: { 'rss-child': join(root, 'src/bench/rss-child.ts') },
      format: 'esm',
      external: EXTERNAL,
      // CommonJS dependencies inside an ESM bundle still call require().
      banner: {
        js: "import{createRequire as __maestroRequire}from'node:module';const require=__maestroRequire(import.meta.url);",
      },
      plugins: [sourceUrls('import.meta.url', 'import.meta.filename'), unusedParts],
    }),
  ]);
} catch {
  // A partial dist/ without a stamp is never run; remove it so nothing stale lingers.
  await rm(dist, { recursive: true, force: true });
  console.error(
    'build: esbuild failed; the CLI will run the sources through tsx until `npm run build` succeeds',
  );
  process.exit(1);
}
// V8 keeps a script's text as one-byte characters only if all of them are: esbuild escapes
// strings but leaves some regular expressions as written (`[×·]`), and one such character
// would double the bundle's 3.4 MB in every process. \uXXXX means the same in strings, regular
// expressions and templates (the bundle has no String.raw of such text).
{
  const file = join(dist, 'cli.cjs');
  const text = await readFile(file, 'utf8');
  const ascii = text.replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) await writeFile(file, ascii);
}
// Error classes name themselves after their class (`new.target.name`): a class esbuild renamed
// to avoid a clash between two modules (`ConfigError2`) would change what users read.
const renamed = /\bclass (\w*Error\d+)\b/.exec(await readFile(join(dist, 'cli.cjs'), 'utf8'));
if (renamed) {
  await rm(dist, { recursive: true, force: true });
  console.error(`build: the bundle renamed the class ${renamed[1]} (two modules define it); rename one`);
  process.exit(1);
}
await writeFile(join(dist, 'yaml-cache.json'), JSON.stringify(await parsedYaml()));
await writeFile(join(dist, '.stamp'), `${new Date().toISOString()}\n`);
console.log(`build: dist/ bundled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
