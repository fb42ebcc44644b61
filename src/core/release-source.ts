/**
 * Where the release's texts come from: the user's checkout (skill prompt texts) and the
 * release's verl parquet data (the policy prompt). For each: the release commit it is at,
 * and a hash of the contents the project reads, so tables can name the commit and a sweep's
 * identity changes with the checkout (results are never reused across checkouts).
 *
 * The commit is the checkout's git HEAD when it is in a git repository of the release (one
 * holding `Maestro/` or `skills/`); otherwise a commit recorded next to the copy: a README
 * or COMMIT file in its folder or up to two folders above that says `commit <hex>`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { sha256 } from './hash.ts';

export interface ReleaseCommit {
  /** The commit id as found (full or abbreviated hex). */
  commit: string;
  /** `git`: the repository's HEAD; `record`: written in the file named by `file`. */
  from: 'git' | 'record';
  file?: string;
}

export interface ReleaseSource {
  /** The checkout folder or data file. */
  path: string;
  commit: ReleaseCommit | undefined;
  /** sha256 of what the project reads there ("missing" when it is not there). */
  contents: string;
}

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

function gitHead(dir: string): ReleaseCommit | undefined {
  const run = (...args: string[]) =>
    spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', timeout: 10_000 });
  const top = run('rev-parse', '--show-toplevel');
  if (top.status !== 0) return undefined;
  const root = top.stdout.trim();
  // Only a repository of the release itself: not a project the copy happens to sit in.
  if (!existsSync(join(root, 'Maestro')) && !existsSync(join(root, 'skills'))) return undefined;
  const head = run('rev-parse', 'HEAD');
  return head.status === 0 ? { commit: head.stdout.trim(), from: 'git' } : undefined;
}

const RECORD = /\bcommit\s+`?([0-9a-f]{7,40})\b/i;

function recordedCommit(dir: string): ReleaseCommit | undefined {
  let at = dir;
  for (let level = 0; level < 3; level++) {
    let names: string[] = [];
    try {
      names = readdirSync(at)
        .filter((n) => /^(readme(\.[a-z]+)?|commit|revision)$/i.test(n))
        .sort();
    } catch {
      names = [];
    }
    for (const name of names) {
      const file = join(at, name);
      const m = RECORD.exec(readFileSync(file, 'utf8').slice(0, 20_000));
      if (m) return { commit: m[1]!.toLowerCase(), from: 'record', file };
    }
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  return undefined;
}

/** The release commit of a checkout folder or of a data file in one; undefined when none is known. */
export function releaseCommit(path: string): ReleaseCommit | undefined {
  const dir = isDir(path) ? path : dirname(path);
  if (!existsSync(dir)) return undefined;
  return gitHead(dir) ?? recordedCommit(dir);
}

/** `.py` files under a folder, sorted, with paths relative to `root`. */
function pyFiles(root: string, dir: string, out: string[] = []): string[] {
  if (!isDir(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name === '__pycache__') continue;
    const p = join(dir, name);
    if (isDir(p)) pyFiles(root, p, out);
    else if (name.endsWith('.py')) out.push(relative(root, p));
  }
  return out;
}

/** A checkout: its commit and the hash of the Python sources the release skills read texts from. */
export function checkoutSource(dir: string): ReleaseSource {
  if (!isDir(dir)) return { path: dir, commit: undefined, contents: 'missing' };
  const files = [...pyFiles(dir, join(dir, 'skills')), ...pyFiles(dir, join(dir, 'Maestro'))];
  const h = files.map((f) => `${f}\n${sha256(readFileSync(join(dir, f)))}`).join('\n');
  return { path: dir, commit: releaseCommit(dir), contents: sha256(h) };
}

/** A data file (or the first `.parquet` under a folder, as the prompt loader picks it). */
export function dataSource(path: string): ReleaseSource {
  const file = isDir(path) ? firstParquetSync(path) : existsSync(path) ? path : undefined;
  if (!file) return { path, commit: undefined, contents: 'missing' };
  return { path: file, commit: releaseCommit(file), contents: sha256(readFileSync(file)) };
}

/** The first `.parquet` file under `dir`: sorted names, files before folders, a few levels deep. */
export function firstParquetSync(dir: string, depth = 3): string | undefined {
  const names = readdirSync(dir).sort();
  const here = names.find((n) => n.endsWith('.parquet'));
  if (here) return join(dir, here);
  if (depth === 0) return undefined;
  for (const name of names) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const p = join(dir, name);
    if (isDir(p)) {
      const found = firstParquetSync(p, depth - 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** "commit 5b8257c" (abbreviated), or undefined. */
export function shortCommit(c: ReleaseCommit | undefined): string | undefined {
  return c ? c.commit.slice(0, 7) : undefined;
}
