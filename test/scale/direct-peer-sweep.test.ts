/**
 * direct-peer's sweep files: a baseline (an older built checkout) reads the benchmark
 * catalog and suite of its own checkout, since an older checkout may reject keys that this
 * one's files have; this checkout reads its own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Stage } from '../../src/bench/harness.ts';
import { sweepFile } from '../../src/bench/scenarios/direct-peer.ts';
import { DEFAULT_CATALOG, DEFAULT_SUITE } from '../../src/core/paths.ts';

describe("direct-peer's sweep file", () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-peer-sweep-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const stage = (bin?: string) =>
    ({ dir, registryFile: join(dir, 'registry.yaml'), opts: bin ? { bin } : {} }) as unknown as Stage;
  const read = (file: string) =>
    JSON.parse(readFileSync(file, 'utf8')) as { catalog: string; suite: string; seeds: number[] };

  it("names a baseline's own catalog and suite", () => {
    const doc = read(sweepFile(stage('/opt/before/bin/maestro-eval.js'), 'old', [100]));
    expect(doc.catalog).toBe('/opt/before/benchmarks/catalog.yaml');
    expect(doc.suite).toBe('/opt/before/benchmarks/suites/default.yaml');
    expect(doc.seeds).toEqual([100]);
  });

  it("names this checkout's for this checkout's runs", () => {
    const doc = read(sweepFile(stage(), 'this', [1, 2]));
    expect(doc.catalog).toBe(DEFAULT_CATALOG);
    expect(doc.suite).toBe(DEFAULT_SUITE);
  });
});
