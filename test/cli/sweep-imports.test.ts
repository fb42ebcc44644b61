import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The `sweep` client (which may wait for hours with `--wait`) must not load the heavy
 * packages at start-up: sharp (native libvips, loaded on first use through src/core/sharp.ts)
 * and the OpenAI SDK (its reachability check is a plain GET). A resolve hook lists every
 * module a fresh process resolves while it imports the command line's modules.
 */
const ROOT = resolve(import.meta.dirname, '../..');

/** A module hook that prints each resolved URL on stderr, one `resolved <url>` line each. */
const HOOK = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  process.stderr.write('resolved ' + r.url + '\\\\n');
  return r;
}\`));`;

/** The URLs a process resolves running `entry` (a source file, through tsx) with `args`. */
function resolvedModules(entry: string, args: string[] = []): string[] {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx/esm',
      '--import',
      `data:text/javascript,${encodeURIComponent(HOOK)}`,
      resolve(ROOT, entry),
      ...args,
    ],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MAESTRO_DEV: '1' } },
  );
  expect(r.status, r.stderr).toBe(0);
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('resolved '))
    .map((l) => l.slice('resolved '.length));
}

/** The npm packages among resolved URLs (`…/node_modules/<name>/…`). */
function packages(urls: string[]): Set<string> {
  const out = new Set<string>();
  for (const url of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m?.[1]) out.add(m[1]);
  }
  return out;
}

describe('the sweep command loads neither sharp nor the OpenAI SDK at start-up', () => {
  it("src/cli/sweep.ts's module graph (planning, submission, waiting)", () => {
    const urls = resolvedModules('src/cli/sweep.ts');
    const pkgs = packages(urls);
    // The hook saw the graph: the packages the client does need are there.
    expect(pkgs).toContain('bullmq');
    expect(urls.some((u) => u.endsWith('/src/producer/plan.ts'))).toBe(true);
    expect(urls.some((u) => u.endsWith('/skills/release/images.ts'))).toBe(true);
    expect(pkgs).not.toContain('sharp');
    expect(pkgs).not.toContain('openai');
  });

  it('the command line itself (every command registered, as for `maestro-eval sweep`)', () => {
    const urls = resolvedModules('src/cli/main.ts', ['--help']);
    const pkgs = packages(urls);
    expect(pkgs).toContain('commander');
    expect(urls.some((u) => u.endsWith('/src/cli/commands.ts'))).toBe(true);
    expect(pkgs).not.toContain('sharp');
    expect(pkgs).not.toContain('openai');
    expect(pkgs).not.toContain('hyparquet');
  });
});
