/**
 * The release commit and contents of a checkout or prompt file: from git HEAD in a release
 * repository, else the commit recorded beside the copy; the registry's fingerprint changes
 * with the checkout's contents and the prompt file, and not with its path.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/core/registry.ts';
import { checkoutSource, dataSource, releaseCommit } from '../../src/core/release-source.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SHARED = existsSync(join(ROOT, '../shared')) ? join(ROOT, '../shared') : '/work/shared';
const UPSTREAM = join(SHARED, 'data/upstream-maestro');
const tmp = mkdtempSync(join(tmpdir(), 'maestro-release-source-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fakeCheckout(name: string, skillText: string): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'skills'), { recursive: true });
  writeFileSync(join(dir, 'skills/none.py'), skillText);
  return dir;
}

describe('release commit', () => {
  it('reads the commit recorded beside the shared copy (5b8257c)', () => {
    const c = releaseCommit(join(UPSTREAM, 'release'));
    expect(c).toMatchObject({ commit: '5b8257c94a060fb0134acaf5f5853480ff0695ce', from: 'record' });
    expect(releaseCommit(join(UPSTREAM, 'val_data_example.parquet'))?.commit).toBe(c?.commit);
  });

  it("reads a git checkout's HEAD, and ignores a repository that is not the release", () => {
    const dir = fakeCheckout('git-co', 'X = "a"\n');
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', dir, ...args], {
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        },
      }).trim();
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'x');
    expect(releaseCommit(dir)).toEqual({ commit: git('rev-parse', 'HEAD'), from: 'git' });
    const other = join(dir, 'unrelated');
    mkdirSync(join(other, 'inner'), { recursive: true });
    // A folder inside it still finds the release repository's HEAD (the data/ case).
    expect(releaseCommit(join(other, 'inner'))?.from).toBe('git');
  });

  it('says nothing when no commit is known', () => {
    expect(releaseCommit(fakeCheckout('plain', 'X = 1\n'))).toBeUndefined();
  });
});

describe('registry fingerprint and the release texts', () => {
  const registryFile = join(tmp, 'reg.yaml');
  writeFileSync(registryFile, 'version: 1\nskills:\n  - { name: none, implementation: "release:none" }\n');
  const plainFile = join(tmp, 'plain.yaml');
  writeFileSync(plainFile, 'version: 1\nskills:\n  - { name: x, implementation: generic }\n');
  const fp = (file: string, env: NodeJS.ProcessEnv) => loadRegistry([file], env).fingerprint();

  it('changes with the checkout contents and the prompt file, not with the path', () => {
    const a = fakeCheckout('co-a', 'X = "one"\n');
    const b = fakeCheckout('co-b', 'X = "two"\n');
    const a2 = join(tmp, 'co-a-copy');
    cpSync(a, a2, { recursive: true });
    expect(fp(registryFile, { MAESTRO_UPSTREAM: a })).not.toBe(fp(registryFile, { MAESTRO_UPSTREAM: b }));
    expect(fp(registryFile, { MAESTRO_UPSTREAM: a })).toBe(fp(registryFile, { MAESTRO_UPSTREAM: a2 }));
    expect(fp(registryFile, { MAESTRO_UPSTREAM: a })).not.toBe(fp(registryFile, {}));
    const p1 = join(tmp, 'p1.parquet');
    const p2 = join(tmp, 'p2.parquet');
    writeFileSync(p1, 'one');
    writeFileSync(p2, 'two');
    expect(fp(registryFile, { MAESTRO_POLICY_PROMPT: p1 })).not.toBe(
      fp(registryFile, { MAESTRO_POLICY_PROMPT: p2 }),
    );
  });

  it('leaves registries without release parts alone', () => {
    const a = fakeCheckout('co-c', 'X = "c"\n');
    expect(fp(plainFile, { MAESTRO_UPSTREAM: a })).toBe(fp(plainFile, {}));
  });

  it('hashes what the skills read and the prompt file the loader picks', () => {
    const shared = checkoutSource(join(UPSTREAM, 'release'));
    expect(shared.contents).toMatch(/^[0-9a-f]{64}$/);
    expect(shared.commit?.commit.startsWith('5b8257c')).toBe(true);
    const data = dataSource(UPSTREAM);
    expect(data.path.endsWith('.parquet')).toBe(true);
    expect(checkoutSource(join(tmp, 'nowhere')).contents).toBe('missing');
  });
});
