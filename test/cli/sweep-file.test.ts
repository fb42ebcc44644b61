import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBenchmarks } from '../../src/cli/context.ts';
import { DEFAULT_CATALOG, DEFAULT_REGISTRY } from '../../src/core/paths.ts';
import { loadSweepFile } from '../../src/producer/config.ts';

describe('a sweep file anywhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-sweepfile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the package registry, catalog and default suite when it names none', () => {
    const file = join(dir, 'plain.yaml');
    writeFileSync(file, 'name: plain\npolicies: [random]\n');
    const config = loadSweepFile(file);
    expect(config.registry).toEqual([DEFAULT_REGISTRY]);
    expect(config.catalog).toBe(DEFAULT_CATALOG);
    expect(config.suite).toBeUndefined();
    const { suite } = loadBenchmarks(config.catalog, config.suite);
    expect(suite.inDomain.length + suite.outOfDomain.length).toBe(14);
  });

  it('resolves its own catalog from its folder; without a suite, the catalog’s groups', () => {
    writeFileSync(
      join(dir, 'mine.yaml'),
      [
        'benchmarks:',
        '  - {id: a1, name: A, group: in-domain, domain: chart, source: s, split: t, answerType: number, metric: exact}',
        '  - {id: b1, name: B, group: out-of-domain, domain: math, source: s, split: t, answerType: text, metric: exact}',
      ].join('\n'),
    );
    const file = join(dir, 'custom.yaml');
    writeFileSync(file, 'name: custom\ncatalog: mine.yaml\npolicies: [random]\n');
    const config = loadSweepFile(file);
    expect(config.catalog).toBe(join(dir, 'mine.yaml'));
    const { suite } = loadBenchmarks(config.catalog, config.suite);
    expect(suite).toEqual({ name: 'mine.yaml', inDomain: ['a1'], outOfDomain: ['b1'] });
  });
});
