/**
 * sharp (native libvips), loaded on first use. It is the one place the project imports the
 * package: processes that never touch an image (the `sweep` client, orchestrators, scorers)
 * do not pay the tens of megabytes its native library takes, and the layer check
 * (scripts/check-layers.mjs) keeps every other folder from importing it directly.
 */
import type { default as SharpFactory } from 'sharp';

export type { Sharp, SharpOptions } from 'sharp';
export type { SharpFactory };

let loading: Promise<typeof SharpFactory> | undefined;

/** The sharp factory: `(await loadSharp())(bytes).png()…`. The package loads once. */
export function loadSharp(): Promise<typeof SharpFactory> {
  loading ??= import('sharp').then((m) => m.default);
  return loading;
}
