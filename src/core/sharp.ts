/**
 * sharp (native libvips), loaded on first use. It is the one place the project imports the
 * package: processes that never touch an image (the `sweep` client, orchestrators, scorers)
 * do not pay the tens of megabytes its native library takes, and the layer check
 * (scripts/check-layers.mjs) keeps every other folder from importing it directly.
 */
import { createRequire } from 'node:module';
import type { default as SharpFactory } from 'sharp';

export type { Sharp, SharpOptions } from 'sharp';
export type { SharpFactory };

let loading: Promise<typeof SharpFactory> | undefined;
// sharp is a CommonJS package: required, not imported, so the bundle (dist/cli.cjs, a script
// compiled with a code cache) makes no dynamic import(), which Node 20 flags as experimental
// in scripts.
const requireHere = createRequire(import.meta.url);

/** The sharp factory: `(await loadSharp())(bytes).png()…`. The package loads once. */
export function loadSharp(): Promise<typeof SharpFactory> {
  loading ??= Promise.resolve().then(() => requireHere('sharp') as typeof SharpFactory);
  return loading;
}
