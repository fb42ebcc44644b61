/**
 * The package's YAML files are parsed at build time (dist/yaml-cache.json, keyed by the
 * sha256 of their text); readYamlFile uses an entry only for a file with that very text.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { DEFAULT_CATALOG, ROOT } from '../../src/core/paths.ts';
import { readYamlFile } from '../../src/core/yaml-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-yaml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('YAML parsed at build time', () => {
  it('holds the catalog as YAML parses it, and a changed copy is read as changed', () => {
    // The suite's global set-up builds dist/ first.
    const cache = JSON.parse(readFileSync(join(ROOT, 'dist', 'yaml-cache.json'), 'utf8'));
    const text = readFileSync(DEFAULT_CATALOG, 'utf8');
    const hash = createHash('sha256').update(text).digest('hex');
    expect(JSON.parse(cache[hash])).toEqual(parseDocument(text).toJS());
    expect(readYamlFile(DEFAULT_CATALOG)).toEqual(parseDocument(text).toJS());
    // Each read gives a value of its own.
    expect(readYamlFile(DEFAULT_CATALOG)).not.toBe(readYamlFile(DEFAULT_CATALOG));
    const copy = join(dir, 'catalog.yaml');
    writeFileSync(copy, text.replace(/^benchmarks:/m, 'extra: 1\nbenchmarks:'));
    expect(readYamlFile(copy)).toMatchObject({ extra: 1 });
    writeFileSync(copy, 'a: [1, 2\n');
    expect(() => readYamlFile(copy)).toThrow(`${copy} at line`);
  });
});
