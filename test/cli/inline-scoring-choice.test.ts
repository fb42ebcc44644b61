import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scoresInline, sweepsHeldBy } from '../../src/cli/worker.ts';
import { readEnv } from '../../src/core/env.ts';
import { DataStore } from '../../src/data/store.ts';

const mode = (value?: string) =>
  readEnv(value === undefined ? {} : { MAESTRO_INLINE_SCORING: value }).MAESTRO_INLINE_SCORING;

describe('which orchestrators score cheap metrics themselves', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('by default: beside the scorer role, or where the records can be written', () => {
    expect(mode()).toBe('auto');
    expect(scoresInline(mode(), true, () => false)).toBe(true);
    expect(scoresInline(mode(), false, () => true)).toBe(true);
    const lines: string[] = [];
    expect(
      scoresInline(
        mode(),
        false,
        () => false,
        (l) => lines.push(l),
      ),
    ).toBe(false);
    expect(lines.join('\n')).toMatch(/not writable.*scoring jobs/);
  });

  it('=1 only beside the scorer role, =always everywhere, =0 nowhere', () => {
    expect(scoresInline(mode('1'), true, () => false)).toBe(true);
    expect(scoresInline(mode('1'), false, () => true)).toBe(false);
    expect(scoresInline(mode('always'), false, () => false)).toBe(true);
    expect(scoresInline(mode('0'), true, () => true)).toBe(false);
    expect(() => mode('yes')).toThrow(/MAESTRO_INLINE_SCORING/);
  });

  it('a data directory is writable when it is there and may be written', () => {
    const root = mkdtempSync(join(tmpdir(), 'maestro-writable-'));
    dirs.push(root);
    expect(new DataStore(root).canWriteRecords()).toBe(true);
    expect(new DataStore(join(root, 'absent')).canWriteRecords()).toBe(false);
  });

  it('knows which sweeps a data directory holds; looks again for one it lacked after a minute', () => {
    const root = mkdtempSync(join(tmpdir(), 'maestro-holds-'));
    dirs.push(root);
    const store = new DataStore(root);
    let now = 0;
    const holds = sweepsHeldBy(store, () => now);
    expect(holds('s1')).toBe(false);
    mkdirSync(store.sweepDir('s1'), { recursive: true });
    writeFileSync(join(store.sweepDir('s1'), 'sweep.json'), '{}');
    expect(store.holdsSweep('s1')).toBe(true);
    // Not looked for again within the minute…
    now = 30_000;
    expect(holds('s1')).toBe(false);
    // …then found, and remembered.
    now = 61_000;
    expect(holds('s1')).toBe(true);
    rmSync(store.sweepDir('s1'), { recursive: true });
    expect(holds('s1')).toBe(true);
  });
});
