import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleFrames, origin } from '../../src/bench/profile.ts';

/**
 * CPU profiles of the bundled CLI name `dist/cli.cjs`; the bench maps each frame back through
 * the bundle's source map so that time is still told by package and project folder.
 */
describe('profile frames of a bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-frames-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps a bundled frame to its original file and line, and leaves other frames alone', async () => {
    const src = join(dir, 'src', 'models');
    writeFileSync(join(dir, 'package.json'), '{}');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.ts'), 'export function first(x: number) {\n  return x + 1;\n}\n');
    writeFileSync(
      join(src, 'b.ts'),
      "import { first } from './a.ts';\n\n\nexport function second(y: number) {\n  return first(y) * 2;\n}\nconsole.log(second(1));\n",
    );
    // As npm run build makes it: CommonJS, inside the module wrapper's function expression.
    const out = join(dir, 'dist', 'cli.cjs');
    await build({
      entryPoints: [join(src, 'b.ts')],
      bundle: true,
      format: 'cjs',
      banner: { js: '(function (exports, require, module, __filename, __dirname) {' },
      footer: { js: '})' },
      platform: 'node',
      outfile: out,
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'silent',
    });
    const text = readFileSync(out, 'utf8').split('\n');
    const line = text.findIndex((l) => l.includes('y) * 2'));
    expect(line).toBeGreaterThan(-1);
    const frames = new BundleFrames();
    const url = pathToFileURL(out).href;
    const mapped = frames.original({
      functionName: 'second',
      url,
      lineNumber: line,
      columnNumber: text[line]!.indexOf('first'),
    });
    expect(mapped.url).toBe(pathToFileURL(join(src, 'b.ts')).href);
    expect(mapped.lineNumber).toBe(4); // 0-based: `return first(y) * 2;` is line 5 of b.ts
    expect(origin(mapped.url, mapped.functionName)).toBe('project src/models');
    // Frames of unbundled code and of Node are returned as they are.
    const plain = { functionName: 'f', url: 'node:internal/timers', lineNumber: 3 };
    expect(frames.original(plain)).toBe(plain);
    expect(origin(url, 'second')).toBe('other');
  });
});
