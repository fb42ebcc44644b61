import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SCORING = join(ROOT, 'src/scoring');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

it('keeps src/scoring free of the queue: only src/core, node built-ins, zod and csv-stringify (charts draw with sharp through src/core)', () => {
  const allowedPackages = new Set(['zod', 'csv-stringify/sync']);
  const offenders: string[] = [];
  const files = tsFiles(SCORING);
  expect(files.length).toBeGreaterThan(5);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1] as string;
      if (spec.startsWith('node:') || allowedPackages.has(spec)) continue;
      if (spec.startsWith('.')) {
        const target = relative(ROOT, resolve(file, '..', spec));
        if (target.startsWith('src/scoring/') || target.startsWith('src/core/')) continue;
      }
      offenders.push(`${relative(ROOT, file)} imports ${spec}`);
    }
  }
  expect(offenders).toEqual([]);
});
