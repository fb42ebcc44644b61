import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAILED_OUTRIGHT } from '../../src/core/failed.ts';
import { interner } from '../../src/core/intern.ts';
import { type ItemRecord, type Step, slimRecord } from '../../src/core/items.ts';
import { writeReport } from '../../src/scoring/report.ts';
import { catalog, rec, suite } from './helpers.ts';

/**
 * The report of a sweep holds its records without their long texts (slimRecord) and writes
 * items.jsonl from the full records on disk: every file it writes must be the same as from
 * the full records.
 */
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const LONG = 'a long expert answer with reasoning. '.repeat(40);

function step(turn: number, expert: string, skill: string, formatError?: string): Step {
  return {
    turn,
    policyText: `<search> ${expert}@@${skill}: what is shown? </search> ${LONG}`,
    policyLatencyMs: 12 + turn,
    policyPromptTokens: 300 + turn,
    policyCompletionTokens: 40,
    action: { type: 'search', model: expert, skill, input: `what is shown? ${LONG}` },
    expert,
    skill,
    observation: LONG,
    ...(formatError ? { formatError } : {}),
    expertLatencyMs: 80,
    calls: [
      {
        service: 'expert',
        model: expert,
        latencyMs: 75,
        promptTokens: 900,
        completionTokens: 120,
        ok: true,
        output: LONG,
        attempts: 2,
        attemptErrors: ['HTTP 503 Service Unavailable'],
      },
    ],
  } as Step;
}

function records(): ItemRecord[] {
  const out: ItemRecord[] = [];
  for (const [i, benchmark] of ['alpha', 'beta', 'gamma', 'delta'].entries()) {
    for (let k = 0; k < 3; k++) {
      out.push(
        rec({
          policy: 'maestro',
          benchmark,
          itemId: `${benchmark}-${k}`,
          correct: (i + k) % 2 === 0,
          // Text outside ASCII too (a wrong answer's reason, an answer in another script).
          ...((i + k) % 2 === 0 ? {} : { scoreReason: `count ${k} ≠ ${k + 1}` }),
          rawOutput: `${LONG}<answer>${k}</answer> 答案`,
          steps: [
            step(0, k % 2 ? 'gpt-5' : 'Qwen', 'direct'),
            step(1, 'gpt-5', 'ocr', k === 1 ? 'bad tag' : undefined),
          ],
          expertCalls: 2,
        }),
        rec({
          policy: 'oracle',
          benchmark,
          itemId: `${benchmark}-${k}`,
          correct: true,
          candidates: [
            { expert: 'gpt-5', skill: 'direct', extracted: String(k), correct: k > 0 },
            { expert: 'Qwen', skill: 'ocr', extracted: null, correct: false, error: 'timeout' },
          ],
        }),
      );
    }
  }
  return out;
}

async function reportFiles(recs: ItemRecord[], full?: Map<string, ItemRecord | string | Uint8Array>) {
  const dir = await mkdtemp(join(tmpdir(), 'report-slim-'));
  dirs.push(dir);
  await writeReport(dir, recs, {
    catalog,
    suite,
    sweepId: 'sweep-1',
    prices: { 'gpt-5': { input: 1.25, output: 10 } },
    ...(full ? { fullRecord: async (r: ItemRecord) => full.get(r.rolloutId) ?? r } : {}),
  });
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort())
    files[name] = (await readFile(join(dir, name))).toString('base64');
  return files;
}

describe('the report from slim records', () => {
  it('drops the long texts and keeps what the tables count', () => {
    const r = records()[0] as ItemRecord;
    const slim = slimRecord(r);
    expect(JSON.stringify(slim).length).toBeLessThan(JSON.stringify(r).length / 5);
    expect(slim.rawOutput).toBe('');
    expect(slim.steps[0]?.calls[0]?.output).toBeUndefined();
    expect(slim.steps[0]?.calls[0]?.attemptErrors).toBeUndefined();
    expect(slim.steps.map((s) => [s.expert, s.skill, Boolean(s.formatError), s.calls.length])).toEqual(
      r.steps.map((s) => [s.expert, s.skill, Boolean(s.formatError), s.calls.length]),
    );
    expect(slim.steps[0]?.calls[0]?.promptTokens).toBe(900);
    expect(slim.steps[0]?.calls[0]?.attempts).toBe(2);
    // The full record is untouched.
    expect(r.steps[0]?.calls[0]?.output).toBe(LONG);
  });

  it('writes the same files as the full records, items.jsonl included', async () => {
    const full = records();
    const byId = new Map(full.map((r) => [r.rolloutId, r]));
    const fromFull = await reportFiles(full);
    // Slimmed as a store reads a sweep: one interner for all of its records.
    const intern = interner();
    const fromSlim = await reportFiles(
      full.map((r) => slimRecord(r, intern)),
      byId,
    );
    expect(Object.keys(fromSlim)).toEqual(Object.keys(fromFull));
    for (const name of Object.keys(fromFull)) expect(fromSlim[name], name).toBe(fromFull[name]);
    // The full records given as their stored JSON text: written as they are, same bytes.
    const texts = new Map<string, ItemRecord | string>(full.map((r) => [r.rolloutId, JSON.stringify(r)]));
    const fromText = await reportFiles(
      full.map((r) => slimRecord(r)),
      texts,
    );
    for (const name of Object.keys(fromFull)) expect(fromText[name], name).toBe(fromFull[name]);
    // Given as their stored line's bytes (DataStore.recordLine): copied as they are, same bytes.
    const lines = new Map<string, Uint8Array>(
      full.map((r) => [r.rolloutId, Buffer.from(`${JSON.stringify(r)}\n`)]),
    );
    const fromLines = await reportFiles(
      full.map((r) => slimRecord(r)),
      lines,
    );
    for (const name of Object.keys(fromFull)) expect(fromLines[name], name).toBe(fromFull[name]);
    // A record that stands for a failed rollout is rewritten ("failed", its cause), text or not.
    const failed = {
      ...(full[0] as ItemRecord),
      status: 'error' as const,
      scoreReason: FAILED_OUTRIGHT,
      error: `${FAILED_OUTRIGHT}: gone`,
    };
    const failedText = await reportFiles(
      [slimRecord(failed)],
      new Map([[failed.rolloutId, JSON.stringify(failed)]]),
    );
    expect(failedText['items.jsonl']).toBe((await reportFiles([failed]))['items.jsonl']);
    const failedLine = await reportFiles(
      [slimRecord(failed)],
      new Map([[failed.rolloutId, Buffer.from(`${JSON.stringify(failed)}\n`)]]),
    );
    expect(failedLine['items.jsonl']).toBe(failedText['items.jsonl']);
    expect(Buffer.from(failedText['items.jsonl'] ?? '', 'base64').toString()).toContain('"cause":"gone"');
    // Without the full records, items.jsonl would lose the texts: the check above can fail.
    const lossy = await reportFiles(full.map((r) => slimRecord(r)));
    expect(lossy['items.jsonl']).not.toBe(fromFull['items.jsonl']);
    expect(lossy['results.md']).toBe(fromFull['results.md']);
  });
});
