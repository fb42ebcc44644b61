import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findSweep } from '../../src/cli/context.ts';
import { DataStore } from '../../src/data/store.ts';

/** A data directory with sweeps written as `sweep` submission writes them. */
const root = mkdtempSync(join(tmpdir(), 'maestro-find-sweep-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const store = new DataStore(root);

function writeSweep(id: string, name: string, createdAt: string): void {
  mkdirSync(store.sweepDir(id), { recursive: true });
  const meta = {
    v: 1,
    id,
    name,
    fingerprint: 'f',
    createdAt,
    registryFingerprint: 'r',
    policies: [{ key: 'direct:Solo', kind: 'direct', model: 'Solo' }],
    benchmarks: [{ id: 'tallyqa', version: '1', count: 3 }],
    seeds: [0],
    maxTurns: 4,
  };
  writeFileSync(join(store.sweepDir(id), 'sweep.json'), JSON.stringify(meta));
}

describe('findSweep', () => {
  writeSweep('demo-aaa', 'demo', '2026-01-01T00:00:00Z');
  writeSweep('demo-bbb', 'demo', '2026-01-02T00:00:00Z');
  writeSweep('other-ccc', 'other', '2026-01-03T00:00:00Z');

  it('finds a sweep by id, by name (the latest of that name), or the latest of all', () => {
    expect(findSweep(store, 'demo-aaa').id).toBe('demo-aaa');
    expect(findSweep(store, 'demo').id).toBe('demo-bbb');
    expect(findSweep(store, undefined).id).toBe('other-ccc');
    expect(() => findSweep(store, 'nope')).toThrow(/no sweep "nope".*/);
  });

  it('leaves out a sweep.json that is not JSON, instead of failing every lookup', () => {
    mkdirSync(join(root, 'sweeps', 'broken'), { recursive: true });
    writeFileSync(join(root, 'sweeps', 'broken', 'sweep.json'), '{"v":1,');
    expect(findSweep(store, 'demo-bbb').name).toBe('demo');
    expect(findSweep(store, 'demo').id).toBe('demo-bbb');
    expect(() => findSweep(store, 'broken')).toThrow(/no sweep "broken"/);
  });
});
