#!/usr/bin/env node
// Entry point. Runs the bundled JavaScript in dist/ (`npm run build`, which `npm ci` runs)
// when it is there and up to date; otherwise the TypeScript sources through tsx.
//
// The bundle (one CommonJS file) is compiled with V8's code cache: the first run of a command
// (`sweep`, `worker`, …) under a set of V8 flags that succeeds saves the code it compiled in
// dist/code-cache/ as it exits (not a run that only printed help or failed: it compiled
// little of what the command needs), and later runs of that command start from it instead of
// parsing and compiling again. A cache V8 rejects (another Node.js version) is replaced; a
// dist/ that cannot be written runs without one; MAESTRO_CODE_CACHE=0 neither reads nor
// writes one.
//
//   MAESTRO_DEV=1   always the sources (tsx): development and tests
//   MAESTRO_DEV=0   dist/ without the freshness check (tsx only when dist/ was never built)
//   unset           dist/ when dist/.stamp is newer than every .ts file under src/, skills/
//                   and benchmarks/ (one stat per file), else the sources
//
// The choice is passed on in MAESTRO_DEV, so worker processes this one starts run the same way.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';

// `sweep` (with --wait, a client that may wait for hours) holds little live data: V8's young
// generation stays at its starting size instead of growing to 32 MB under the allocations of
// start-up and planning (about 20 MB less resident). It runs most of its code a few hundred
// times at most (planning, submitting, reading records), so V8's optimizing compiler waits
// for 8 times its default interrupt budget before it compiles a function: on a 1,000-rollout
// sweep that is 15-20 % less client CPU (the compiles run on other threads and rarely paid
// back), and the report of a 20,000-record sweep takes the same time. (--optimize-for-size
// was dropped: with the code cache it cost 45 ms of start-up and 0.1 ms of client CPU per
// rollout, for 5 MB less at the report's peak.)
//
// A worker lets its old generation grow by half over what a full collection left live (V8
// lets it grow by up to several times that when collections are quick): over thousands of
// rollouts its peak stays near 135 MiB instead of climbing to 160 MiB and more between full
// collections, for no CPU the bench can see. Otherwise workers keep V8's defaults.
//
// `sweep` does the same once its old generation has passed 64 MB: its start-up, planning
// and a 1,000-rollout sweep stay under that, so they run without full collections as
// before; a 10,000-rollout sweep's client (records read ahead while it waits, then the
// report) peaks near 133 MiB instead of 160-167 MiB, for ~10 % more client CPU there.
// Without the 64 MB floor, growing by half from start-up on cost a 1,000-rollout sweep's
// client ~20 % more CPU in repeated full collections while its modules load.
const command = process.argv.slice(2).find((a) => !a.startsWith('-')) ?? '';
const CLIENT_FLAGS =
  '--semi-space-growth-factor=1 --interrupt-budget=540672 --heap-growing-percent=50 --initial-old-space-size=64';
const WORKER_FLAGS = '--heap-growing-percent=50';
// The bench's floor (a bare BullMQ client and worker, see src/bench/floor.ts) starts as its
// counterparts do.
const commandFlags =
  command === 'sweep' || command === 'bench-floor-client'
    ? CLIENT_FLAGS
    : command === 'worker' || command === 'bench-floor-worker'
      ? WORKER_FLAGS
      : undefined;
if (commandFlags) setFlagsFromString(commandFlags);

const root = fileURLToPath(new URL('../', import.meta.url));
const stamp = join(root, 'dist', '.stamp');

/** True when some .ts file under `dir` changed after `time` (ms). */
function changedSince(dir, time) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (changedSince(path, time)) return true;
    } else if (entry.name.endsWith('.ts') && statSync(path).mtimeMs > time) return true;
  }
  return false;
}

function distIsUsable() {
  const mode = process.env.MAESTRO_DEV;
  if (mode === '1' || !existsSync(stamp)) return false;
  if (mode === '0') return true;
  const built = statSync(stamp).mtimeMs;
  return !['src', 'skills', 'benchmarks'].some((d) => changedSince(join(root, d), built));
}

/** A short hash of a string (FNV-1a, 32 bits, hex): names a code cache file. */
function fnv(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The bundle's exports, compiled from the code cache of this command and these V8 flags when
 * there is one; otherwise the cache is written as the process exits.
 */
function loadBundle(file) {
  // V8 accepts a cache only under the flags it was made with.
  const flags = [process.version, process.arch, ...process.execArgv, process.env.NODE_OPTIONS ?? ''];
  if (commandFlags) flags.push(commandFlags);
  const name = /^[a-z][a-z-]{0,30}$/.test(command) ? command : 'cli';
  const cacheFile = join(root, 'dist', 'code-cache', `${name}-${fnv(flags.join('\n'))}.bin`);
  const useCache = process.env.MAESTRO_CODE_CACHE !== '0';
  let cachedData;
  try {
    cachedData = useCache ? readFileSync(cacheFile) : undefined;
  } catch {
    cachedData = undefined;
  }
  // The file is a function expression taking CommonJS's module arguments (scripts/build.mjs).
  // Its text is ASCII (the build escapes every other character), so it is read as Latin-1:
  // the same string, made without UTF-8 decoding (about 10 ms less for its 3.4 MB here).
  const script = new vm.Script(readFileSync(file, 'latin1'), {
    filename: file,
    cachedData,
    // import() inside the bundle loads as in any module only on a run without the code cache:
    // Node 20 drops this callback from a script compiled from cached data (the import fails
    // with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). So the bundle has no import() of its own:
    // packages left out of it are required (src/core/sharp.ts), and the one import() in it,
    // BullMQ's loader of sandboxed processor files, is not used here.
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((s) => import(s)),
  });
  const helpOnly = process.argv.includes('--help') || process.argv.includes('-h') || !command;
  if (useCache && (!cachedData || script.cachedDataRejected) && !helpOnly) {
    process.once('exit', (code) => {
      if (code !== 0) return;
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        mkdirSync(dirname(cacheFile), { recursive: true });
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // A read-only or full dist/: the next run compiles again.
        try {
          unlinkSync(tmp);
        } catch {}
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

if (distIsUsable()) {
  process.env.MAESTRO_DEV = '0';
  await loadBundle(join(root, 'dist', 'cli.cjs')).main();
} else {
  process.env.MAESTRO_DEV = '1';
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
