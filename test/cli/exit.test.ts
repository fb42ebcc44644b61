import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** A process that writes 1 MiB and a last line to stdout, then exits through exitWhenFlushed. */
const dir = mkdtempSync(join(tmpdir(), 'maestro-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = join(dir, 'writer.mts');
writeFileSync(
  script,
  `import { exitWhenFlushed } from ${JSON.stringify(join(import.meta.dirname, '../../src/cli/exit.ts'))};
process.stdout.write('x'.repeat(1 << 20) + '\\nEND\\n');
await exitWhenFlushed(3, Number(process.argv[2]));
`,
);

function run(maxWaitMs: number, readAfterMs: number | null) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(maxWaitMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let bytes = 0;
  let text = '';
  child.stdout.pause();
  child.stdout.on('data', (b: Buffer) => {
    bytes += b.length;
    text = (text + b.toString()).slice(-7);
  });
  if (readAfterMs !== null) setTimeout(() => child.stdout.resume(), readAfterMs);
  // What is left in the pipe is read once the process has exited ('close': exited, pipe drained).
  child.once('exit', () => child.stdout.resume());
  return new Promise<{ code: number | null; bytes: number; tail: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, bytes, tail: text })),
  );
}

describe('exitWhenFlushed', () => {
  it("exits with the code once a slow pipe reader has taken all the output (process.exit alone keeps only the pipe's 64 KiB)", async () => {
    const r = await run(20_000, 400);
    expect(r.code).toBe(3);
    expect(r.bytes).toBe((1 << 20) + 5);
    expect(r.tail).toBe('xx\nEND\n');
  });

  it('exits after its longest wait when nobody reads the pipe', async () => {
    const r = await run(300, null);
    expect(r.code).toBe(3);
    expect(r.bytes).toBeLessThan((1 << 20) + 5);
  });
});
