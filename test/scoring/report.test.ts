import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchmarkCatalog } from '../../src/core/benchmarks.ts';
import { FAILED_OUTRIGHT } from '../../src/core/failed.ts';
import type { ItemRecord } from '../../src/core/items.ts';
import { writeReport } from '../../src/scoring/report.ts';
import { bench, catalog, rec, suite } from './helpers.ts';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'scoring-report-test-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/**
 * maestro: alpha 2 right of 4 with 1 error: 50.0 with failures as wrong, 66.7 over the 3
 *   that ran; beta 1/2 (50.0), gamma 1/1, delta 0/1
 *   → in-domain (50 + 50) / 2 = 50.0, out-of-domain (100 + 0) / 2 = 50.0
 * direct: alpha 1/1, no other benchmark → averages "—".
 */
function records(): ItemRecord[] {
  return [
    rec({ policy: 'maestro', benchmark: 'alpha', itemId: 'a0', correct: true }),
    rec({ policy: 'maestro', benchmark: 'alpha', itemId: 'a1', correct: true }),
    rec({ policy: 'maestro', benchmark: 'alpha', itemId: 'a2', correct: false }),
    rec({ policy: 'maestro', benchmark: 'alpha', itemId: 'a3', status: 'error', error: 'expert down' }),
    rec({ policy: 'maestro', benchmark: 'beta', itemId: 'b0', correct: true }),
    rec({ policy: 'maestro', benchmark: 'beta', itemId: 'b1', status: 'no_answer' }),
    rec({ policy: 'maestro', benchmark: 'gamma', itemId: 'g0', correct: true }),
    rec({ policy: 'maestro', benchmark: 'delta', itemId: 'd0', correct: false }),
    rec({ policy: 'direct', benchmark: 'alpha', itemId: 'a0', correct: true }),
  ];
}

const FILES = [
  'results.md',
  'results.csv',
  'results.json',
  'details.csv',
  'details.md',
  'summary.json',
  'items.jsonl',
  'subscores.csv',
  'routing.md',
  'samples.md',
  'results.tex',
  'details.tex',
  'subscores.tex',
  'accuracy.svg',
  'accuracy.pdf',
];

describe('writeReport', () => {
  it('writes every file and returns results.md as markdown', async () => {
    const dir = await freshDir();
    const r = await writeReport(dir, records(), { catalog, suite, sweepId: 'sw-1' });
    expect(Object.keys(r.files).sort()).toEqual([...FILES].sort());
    for (const name of FILES) expect(r.files[name]).toBe(join(dir, name));
    expect(await readFile(join(dir, 'results.md'), 'utf8')).toBe(r.markdown);
    expect(r.markdown).toContain(
      '| Policy | Alpha | Beta | Gamma | Delta | In-domain avg | Out-of-domain avg |',
    );
    expect(r.markdown).toContain('| direct | 100.0 | — | — | — | — | — |');
    expect(r.markdown).toContain(
      '| maestro | 50.0 (66.7 answered; 1 failed) | 50.0 | 100.0 | 0.0 | 50.0 (58.3 answered) | 50.0 |',
    );
    // No benchmark of this catalog has sub-scores: no section.
    expect(r.markdown).not.toContain('## Sub-scores');
    expect(r.markdown).toContain('- direct: no in-domain average; missing beta.');
    expect(r.markdown).not.toMatch(/latency/i);
  });

  it('keeps numbers in their own CSV columns and JSON fields', async () => {
    const dir = await freshDir();
    await writeReport(dir, records(), { catalog, suite, sweepId: 'sw-1' });
    const csv = (await readFile(join(dir, 'results.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe(
      'policy,alpha,beta,gamma,delta,in_domain_avg,out_of_domain_avg,n_alpha,n_beta,n_gamma,n_delta,' +
        'errors_alpha,errors_beta,errors_gamma,errors_delta,answered_alpha,answered_beta,answered_gamma,' +
        'answered_delta,failed_outright_alpha,failed_outright_beta,failed_outright_gamma,failed_outright_delta,' +
        'in_domain_avg_answered,out_of_domain_avg_answered',
    );
    expect(csv[1]).toBe('direct,100.0,,,,,,1,,,,0,,,,100.0,,,,0,,,,,');
    expect(csv[2]).toBe(
      'maestro,50.0,50.0,100.0,0.0,50.0,50.0,3,2,1,1,1,0,0,0,66.7,50.0,100.0,0.0,0,0,0,0,58.3,50.0',
    );
    const json = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    const maestro = json.rows.find((x: { policy: string }) => x.policy === 'maestro');
    expect(json.failures).toBe('wrong');
    expect(maestro).toMatchObject({
      inDomainAvg: 50,
      outOfDomainAvg: 50,
      accuracy: { alpha: 50 },
      accuracyAnswered: { alpha: 66.7 },
      inDomainAvgAnswered: 58.3,
      outOfDomainAvgAnswered: 50,
      errors: { alpha: 1 },
      failedOutright: { alpha: 0 },
    });
    expect(json.subscores).toEqual([]);
  });

  it('writes details with n, interval, errors and latency per cell', async () => {
    const dir = await freshDir();
    await writeReport(dir, records(), { catalog, suite, sweepId: 'sw-1' });
    const details = (await readFile(join(dir, 'details.csv'), 'utf8')).trim().split('\n');
    expect(details[0]).toBe(
      'policy,benchmark,n,correct,accuracy,stderr,ci95_lo,ci95_hi,errors,accuracy_answered,failed_outright,no_answer,extraction_failures,latency_mean_ms,latency_p50_ms,latency_p95_ms,expert_calls_mean,tokens_mean',
    );
    const beta = details.find((l) => l.startsWith('maestro,beta,'));
    // 1 of 2: accuracy 0.5, stderr sqrt(0.25/2) = 0.3536, Wilson [0.0945, 0.9055]; 1 no-answer.
    expect(beta).toMatch(/^maestro,beta,2,1,0\.5000,0\.3536,0\.0945,0\.9055,0,0\.5000,0,1,0,/);
    // alpha: 2 right of 4 (one failed): 0.5, stderr sqrt(0.25/4) = 0.25, Wilson of 2 of 4
    // [0.1500, 0.8500]; 0.6667 over the 3 that ran.
    const alpha = details.find((l) => l.startsWith('maestro,alpha,'));
    expect(alpha).toMatch(/^maestro,alpha,3,2,0\.5000,0\.2500,0\.1500,0\.8500,1,0\.6667,0,0,/);
    const md = await readFile(join(dir, 'details.md'), 'utf8');
    expect(md).toContain('| maestro | Alpha | 3 | 2 | 50.0 | 25.0 | 15.0–85.0 | 1 (0) | 66.7 |');
  });

  it('writes items.jsonl sorted by policy, benchmark, item and seed', async () => {
    const dir = await freshDir();
    await writeReport(dir, [...records()].reverse(), { catalog, suite, sweepId: 'sw-1' });
    const lines = (await readFile(join(dir, 'items.jsonl'), 'utf8')).trim().split('\n');
    const keys = lines.map((l) => {
      const r = JSON.parse(l) as ItemRecord;
      return `${r.policy}/${r.benchmark}/${r.itemId}`;
    });
    expect(keys).toEqual([
      'direct/alpha/a0',
      'maestro/alpha/a0',
      'maestro/alpha/a1',
      'maestro/alpha/a2',
      'maestro/alpha/a3',
      'maestro/beta/b0',
      'maestro/beta/b1',
      'maestro/delta/d0',
      'maestro/gamma/g0',
    ]);
  });

  it('writes byte-identical main tables for records that differ only in latency, tokens, order and sweep id', async () => {
    const a = records();
    const b = records()
      .map((r, i) => ({ ...r, latencyMs: 10_000 + i * 37, promptTokens: 999 + i, expertCalls: i % 3 }))
      .reverse();
    const [da, db] = [await freshDir(), await freshDir()];
    await writeReport(da, a, { catalog, suite, sweepId: 'sw-1' });
    await writeReport(db, b, { catalog, suite, sweepId: 'sw-2' });
    for (const name of ['results.md', 'results.csv', 'results.json']) {
      expect(await readFile(join(db, name), 'utf8')).toBe(await readFile(join(da, name), 'utf8'));
    }
    // …while the details do change (so the check above is not vacuous).
    expect(await readFile(join(db, 'details.csv'), 'utf8')).not.toBe(
      await readFile(join(da, 'details.csv'), 'utf8'),
    );
  });

  it('changes the main table when one item flips', async () => {
    const flipped = records().map((r) =>
      r.itemId === 'a2' && r.policy === 'maestro' ? { ...r, correct: true } : r,
    );
    const r = await writeReport(await freshDir(), flipped, { catalog, suite, sweepId: 'sw-1' });
    expect(r.markdown).toContain(
      '| maestro | 75.0 (100.0 answered; 1 failed) | 50.0 | 100.0 | 0.0 | 62.5 (75.0 answered) | 50.0 |',
    );
  });

  it('leaves no temporary files behind and uses the given title', async () => {
    const dir = await freshDir();
    const r = await writeReport(dir, records(), { catalog, suite, sweepId: 'sw-1', title: 'Table 1 | main' });
    expect(r.markdown.startsWith('# Table 1 \\| main\n')).toBe(true);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).sort()).toEqual([...FILES].sort());
  });

  it('adds the sub-score tables of the benchmarks whose catalog entry has subscores', async () => {
    const subCatalog = new BenchmarkCatalog([
      ...catalog.benchmarks,
      {
        ...bench('hr', 'choice'),
        name: 'HR',
        subscores: { field: 'category', groups: ['single', 'cross'], meanOver: 'cycle', headline: 'overall' },
      },
      {
        ...bench('ocr', 'exact', 'out-of-domain'),
        name: 'OCR',
        subscores: { field: 'category', headline: 'sum', outOf: 1000 },
      },
    ]);
    const subSuite = { name: 'sub', inDomain: ['hr'], outOfDomain: ['ocr'] };
    // HR: cycle c0 single 1/1, cross 0/1; cycle c1 single 1/2 (one failed outright), cross 1/1;
    //   single = (1 + 0.5) / 2 = 75.0 (answered (1 + 1) / 2 = 100.0); cross = (0 + 1) / 2 = 50.0;
    //   overall = (1/2 + 2/3) / 2 = 58.3 (answered (1/2 + 2/2) / 2 = 75.0). One item has no fields.
    const fields: Record<string, Record<string, unknown>> = {
      h1: { category: 'single', cycle: 'c0' },
      h2: { category: 'cross', cycle: 'c0' },
      h3: { category: 'single', cycle: 'c1' },
      h4: { category: 'single', cycle: 'c1' },
      h5: { category: 'cross', cycle: 'c1' },
      o1: { category: 'KIE' },
      o2: { category: 'KIE' },
      o3: { category: 'VQA' },
    };
    const rs = [
      rec({ policy: 'm', benchmark: 'hr', itemId: 'h1', correct: true }),
      rec({ policy: 'm', benchmark: 'hr', itemId: 'h2', correct: false }),
      rec({ policy: 'm', benchmark: 'hr', itemId: 'h3', correct: true }),
      rec({ policy: 'm', benchmark: 'hr', itemId: 'h4', status: 'error', scoreReason: FAILED_OUTRIGHT }),
      rec({ policy: 'm', benchmark: 'hr', itemId: 'h5', correct: true }),
      rec({ policy: 'm', benchmark: 'ocr', itemId: 'o1', correct: true }),
      rec({ policy: 'm', benchmark: 'ocr', itemId: 'o2', correct: false }),
      rec({ policy: 'm', benchmark: 'ocr', itemId: 'o3', correct: true }),
      rec({ policy: 'm', benchmark: 'ocr', itemId: 'o4', correct: true }),
    ];
    const dir = await freshDir();
    const r = await writeReport(dir, rs, {
      catalog: subCatalog,
      suite: subSuite,
      sweepId: 'sw-sub',
      itemFields: (_b, id) => fields[id],
    });
    // The main table shows the published headlines: HR's cycle mean, OCR's points as percent (3/4).
    expect(r.markdown).toContain(
      '| m | 58.3 (75.0 answered; 1 failed, 1 outright) | 75.0 | 58.3 (75.0 answered) | 75.0 |',
    );
    expect(r.markdown).toContain('## Sub-scores');
    expect(r.markdown).toContain('| Policy | Overall (mean over cycle) | single | cross |');
    expect(r.markdown).toContain('| m | 58.3 (75.0 answered) | 75.0 (100.0 answered) | 50.0 |');
    expect(r.markdown).toContain('| Policy | Score (of 1000) | KIE | VQA | unknown |');
    expect(r.markdown).toContain('| m | 750 (3 right of 4, scaled) | 1 / 2 | 1 / 1 | 1 / 1 |');
    expect(r.markdown).toMatch(/- m: 1 record\(s\) whose item has no `category`/);
    const csv = (await readFile(join(dir, 'subscores.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('policy,benchmark,group,items,ran,correct,failed,accuracy,accuracy_answered');
    expect(csv).toContain('m,hr,single,3,2,2,1,0.7500,1.0000');
    expect(csv).toContain('m,ocr,(headline),4,4,3,0,0.7500,0.7500');
    const json = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    const ocr = json.subscores.find((b: { benchmark: string }) => b.benchmark === 'ocr');
    expect(ocr).toMatchObject({ headline: 'sum', outOf: 1000, groups: ['KIE', 'VQA', 'unknown'] });
    expect(ocr.rows[0]).toMatchObject({ policy: 'm', points: 750, unknown: 1 });
    const tex = await readFile(join(dir, 'subscores.tex'), 'utf8');
    expect(tex).toContain('Policy & Overall (mean over cycle) & single & cross \\\\');
    expect(tex).toContain('m & 58.3 & 75.0 & 50.0 \\\\');
    expect(tex).toContain('m & 750 & 1/2 & 1/1 & 1/1 \\\\');
    // The summary (report --json) carries them too.
    const hr = r.summary.cells.find((c) => c.benchmark === 'hr');
    expect(hr?.subscores?.groups.map((g) => g.name)).toEqual(['single', 'cross']);
  });

  it('says when no record has the field a mean of groups needs, and shows the accuracy instead', async () => {
    const blindCatalog = new BenchmarkCatalog([
      { ...bench('blind', 'exact'), name: 'Blind', subscores: { field: 'task', headline: 'mean' } },
    ]);
    const rs = [
      rec({ policy: 'm', benchmark: 'blind', itemId: 'b1', correct: true }),
      rec({ policy: 'm', benchmark: 'blind', itemId: 'b2', correct: false }),
    ];
    const r = await writeReport(await freshDir(), rs, {
      catalog: blindCatalog,
      suite: { name: 'b', inDomain: ['blind'], outOfDomain: [] },
      sweepId: 'sw-b',
    });
    expect(r.markdown).toContain('| m | 50.0 | 50.0 |');
    expect(r.markdown).toContain(
      '- m: 2 record(s) whose item has no `task` (or is no longer in the dataset) are in the group "unknown": with no group known, the headline is the accuracy over all of them.',
    );
  });
});
