#!/usr/bin/env node
// Entry point. Runs the bundled JavaScript in dist/ (`npm run build`, which `npm ci` runs)
// when it is there and up to date; otherwise the TypeScript sources through tsx.
//
//   MAESTRO_DEV=1   always the sources (tsx): development and tests
//   MAESTRO_DEV=0   dist/ without the freshness check (tsx only when dist/ was never built)
//   unset           dist/ when dist/.stamp is newer than every .ts file under src/, skills/
//                   and benchmarks/ (one stat per file), else the sources
//
// The choice is passed on in MAESTRO_DEV, so worker processes this one starts run the same way.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// `sweep` (with --wait, a client that may wait for hours) holds little live data: V8's young
// generation stays at its starting size instead of growing to 32 MB under the allocations of
// start-up and planning (about 20 MB less resident), and V8 favours memory over speed
// (--optimize-for-size: smaller heap growth steps, code flushed sooner; about 12 MB less at
// the report's peak, no CPU cost measured on a 1,000-rollout sweep). Workers keep V8's
// defaults (throughput).
if (process.argv.slice(2).find((a) => !a.startsWith('-')) === 'sweep')
  setFlagsFromString('--semi-space-growth-factor=1 --optimize-for-size');

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

if (distIsUsable()) {
  process.env.MAESTRO_DEV = '0';
  await import('../dist/cli.js');
} else {
  process.env.MAESTRO_DEV = '1';
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
