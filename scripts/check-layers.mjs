// Checks the architecture's layering rules on import statements:
// - src/producer, src/workers and src/scoring do not import each other;
// - src/scoring never imports the queue (bullmq, ioredis);
// - src/core imports none of the stages.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const stages = ['src/producer', 'src/workers', 'src/scoring'];
const rules = [
  ...stages.map((from) => ({
    from,
    banned: stages.filter((s) => s !== from),
    why: 'stages do not import each other',
  })),
  { from: 'src/scoring', banned: ['bullmq', 'ioredis'], why: 'scoring never touches the queue' },
  {
    from: 'src/core',
    banned: ['src/producer', 'src/workers', 'src/scoring', 'src/policies', 'src/cli', 'src/sim'],
    why: 'core imports no stage',
  },
];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const problems = [];
for (const rule of rules) {
  for (const file of files(join(root, rule.from))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    )) {
      const spec = m[1] ?? m[2];
      const target = spec.startsWith('.') ? relative(root, resolve(dirname(file), spec)) : spec;
      for (const banned of rule.banned) {
        if (target === banned || target.startsWith(`${banned}/`)) {
          problems.push(`${relative(root, file)} imports ${spec} (${rule.why})`);
        }
      }
    }
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('layers ok: producer, workers and scoring are independent; core imports no stage');
