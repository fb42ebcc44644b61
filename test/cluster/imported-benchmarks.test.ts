import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReport } from '../../src/cli/report.ts';
import { rescoreSweep } from '../../src/cli/score.ts';
import { loadCatalog, loadSuite } from '../../src/core/benchmarks.ts';
import type { ItemRecord } from '../../src/core/items.ts';
import { DataStore, type DatasetManifest } from '../../src/data/store.ts';
import { importFixtureSets } from '../../src/importers/fixtures.ts';
import { CLI_BIN } from '../../src/process/spawn.ts';
import type { SweepPlan } from '../../src/producer/plan.ts';
import { CATALOG, SUITE, TestCluster } from '../helpers/cluster.ts';

const UPSTREAM = '/work/shared/data/upstream-maestro';
const catalog = loadCatalog(CATALOG);
const suite = loadSuite(SUITE, catalog);
const SUITE_IDS = [...suite.inDomain, ...suite.outOfDomain];
const POLICIES = ['maestro', 'direct:gpt-5'];

/** Runs the CLI as a separate process (this process hosts the simulated servers). */
function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    child.on('close', (code) => done({ code, stdout, stderr: stderr.trim() }));
  });
}

const TABLES = ['results.md', 'results.csv', 'results.json', 'details.csv'];
const tables = (files: Record<string, string>) =>
  Object.fromEntries(TABLES.map((t) => [t, readFileSync(files[t] as string, 'utf8')]));

describe('every benchmark of the default suite, imported from its release format, scores a sweep', () => {
  let root: string;
  let cluster: TestCluster;
  let plan: SweepPlan;
  let manifests: Record<string, DatasetManifest>;
  let records: ItemRecord[];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'imported-e2e-'));
    const dataDir = join(root, 'data');
    manifests = await importFixtureSets(new DataStore(dataDir), catalog, SUITE_IDS);
    cluster = new TestCluster({ dataDir, latencyScale: 0.05 });
    await cluster.start();
    await cluster.worker(['--role', 'all']);
    plan = await cluster.plan(cluster.sweepFile('imported', POLICIES));
    await cluster.submit(plan);
    await cluster.wait(plan);
    records = await cluster.store.readRecords(plan.meta.id);
  }, 400_000);

  afterAll(async () => {
    await cluster?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('runs every imported item of the 14 benchmarks under each policy, without errors', () => {
    expect(plan.meta.benchmarks.map((b) => [b.id, b.version, b.count])).toEqual(
      SUITE_IDS.map((id) => [id, manifests[id]?.version, 4]),
    );
    expect(records).toHaveLength(SUITE_IDS.length * 4 * POLICIES.length);
    expect(records.filter((r) => r.status === 'error').map((r) => `${r.rolloutId}: ${r.error}`)).toEqual([]);
    for (const policy of POLICIES) {
      for (const id of SUITE_IDS) {
        const mine = records.filter((r) => r.policy === policy && r.benchmark === id);
        expect(mine.map((r) => r.itemId).sort(), `${policy} ${id}`).toEqual(
          [1, 2, 3, 4].map((i) => `${id}-000${i}`),
        );
      }
    }
  });

  it('scores them with each benchmark’s scorer of record (official mode)', () => {
    const answered = records.filter((r) => r.status === 'answered');
    expect(answered.length).toBeGreaterThan(records.length * 0.8);
    expect(new Set(answered.map((r) => r.scoreMode))).toEqual(new Set(['official']));
    // The official rules read fewer of the simulated replies than the lenient metrics do
    // (e.g. "The answer is X." is not relaxed_correctness's number), and two fixture sets
    // are not yet in the formats their official parsers read (MicroVQA's numbered options,
    // VLMs Are Blind's task names): a third right, and right answers on most benchmarks.
    expect(records.filter((r) => r.correct).length).toBeGreaterThan(records.length / 3);
    expect(new Set(records.filter((r) => r.correct).map((r) => r.benchmark)).size).toBeGreaterThanOrEqual(10);
    // Verdicts come from the metrics: a right one has a reason, a wrong one too.
    for (const r of answered) expect(r.scoreReason.length).toBeGreaterThan(0);
    // HumanEval-V items ran their tests (code_pass) rather than string matching.
    const code = answered.filter((r) => r.benchmark === 'humanevalv' && r.correct);
    expect(code.length).toBeGreaterThan(0);
    expect(code[0]?.scoreReason).toMatch(/pass|test/i);
  });

  let rescored: Awaited<ReturnType<typeof rescoreSweep>>;

  it('re-scores without re-running: identical tables when nothing changed', async () => {
    const before = await runReport(cluster.store, plan.meta.id, join(root, 'report-0'));
    rescored = await rescoreSweep(cluster.store, plan.meta.id, { out: join(root, 'report-1') });
    expect(rescored.rewritten).toBe(0);
    expect(rescored.changes).toEqual([]);
    expect(rescored.failures).toEqual([]);
    expect(rescored.datasetChanged).toEqual([]);
    expect(rescored.rescored + rescored.kept).toBe(records.length);
    expect(rescored.rescored).toBeGreaterThan(0);
    expect(await cluster.store.readRecords(plan.meta.id)).toEqual(records);
    expect(tables(rescored.report.files)).toEqual(tables(before.files));
  });

  it('re-scores an edited raw output and changes that verdict and the table', async () => {
    const target = records.find((r) => r.policy === 'maestro' && r.benchmark === 'chartqa' && r.correct);
    if (!target) throw new Error('no correct maestro chartqa record to edit');
    await cluster.store.writeRecord({ ...target, rawOutput: '<answer>100000</answer>' });
    const after = await rescoreSweep(cluster.store, plan.meta.id, { out: join(root, 'report-2') });
    expect(after.rewritten).toBe(1);
    expect(after.changes).toEqual([
      {
        policy: 'maestro',
        benchmark: 'chartqa',
        itemId: target.itemId,
        seed: target.seed,
        before: { correct: true, extracted: target.extracted },
        after: { correct: false, extracted: '100000' },
      },
    ]);
    const stored = await cluster.store.readRecord(plan.meta.id, target.rolloutId);
    expect(stored).toMatchObject({ correct: false, score: 0, extracted: '100000', status: 'answered' });
    // Only the verdict fields changed: the trace is kept.
    expect(stored?.steps).toEqual(target.steps);
    expect(stored?.latencyMs).toBe(target.latencyMs);
    const was = tables(rescored.report.files)['results.csv'];
    const now = tables(after.report.files)['results.csv'];
    expect(now).not.toBe(was);
    const cell = (csv: string | undefined) => {
      const [header, ...rows] = (csv ?? '').trim().split('\n');
      const col = (header ?? '').split(',').indexOf('chartqa');
      const row = rows.find((r) => r.startsWith('maestro,'));
      return Number(row?.split(',')[col]);
    };
    expect(cell(now)).toBeCloseTo(cell(was) - 25, 6); // one of 4 chartqa items: −25 points
  });

  it('`score` and `compare` work from the command line', async () => {
    const score = await cli(['score', plan.meta.id], cluster.env());
    expect(score.code, score.stderr).toBe(0);
    expect(score.stdout).toMatch(new RegExp(`^sweep ${plan.meta.id}: re-scored \\d+ records`));
    expect(score.stdout).toContain('| Policy |');

    const cmp = await cli(['compare', 'maestro', 'direct:gpt-5', plan.meta.id], cluster.env());
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(cmp.stdout).toContain('# maestro − direct:gpt-5');
    for (const id of SUITE_IDS)
      expect(cmp.stdout).toContain(`| ${catalog.get(id).name.replace(/\|/g, '\\|')} | 4 |`);
    expect(cmp.stdout).toMatch(
      /\| \*\*In-domain avg\*\* \(10\) \| 40 \| \d+\.\d \| \d+\.\d \| [-+]?\d+\.\d \| \d+\.\d \| [-+]?\d+\.\d to [-+]?\d+\.\d \|/,
    );
    expect(cmp.stdout).toMatch(/\| \*\*Out-of-domain avg\*\* \(4\) \| 16 \|/);

    const unknown = await cli(['compare', 'maestro', 'nosuch', plan.meta.id], cluster.env());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      `error: policy "nosuch" has no records in sweep ${plan.meta.id} (policies in this sweep: direct:gpt-5, maestro)`,
    );
  });
});

describe('the upstream verl parquet rows', () => {
  let root: string;
  let cluster: TestCluster;
  let plan: SweepPlan;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'verl-e2e-'));
    const dataDir = join(root, 'data');
    const imported = await cli(
      [
        '--data-dir',
        dataDir,
        'data',
        'import',
        join(UPSTREAM, 'train_data_example.parquet'),
        join(UPSTREAM, 'val_data_example.parquet'),
        '--format',
        'verl-parquet',
      ],
      process.env,
    );
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^imported 2 items into chartqa \(version [0-9a-f]{12}\)/);
    cluster = new TestCluster({ dataDir, benchmarks: ['chartqa'], latencyScale: 0.05 });
    await cluster.start();
    await cluster.worker(['--role', 'all']);
    plan = await cluster.plan(cluster.sweepFile('upstream', POLICIES));
    await cluster.submit(plan);
    await cluster.wait(plan);
  }, 300_000);

  afterAll(async () => {
    await cluster?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('import with their question, image, ground truth and own prompt', async () => {
    const { items } = await cluster.store.loadDataset('chartqa');
    expect(items).toHaveLength(2);
    for (const item of items) {
      const file = join(UPSTREAM, `${item.id}.jpg`);
      const meta = await sharp(file).metadata();
      const [image] = item.images;
      expect(image).toMatchObject({ mime: 'image/jpeg', width: meta.width, height: meta.height });
      expect((await cluster.store.readImage(image as NonNullable<typeof image>)).length).toBeGreaterThan(
        1000,
      );
      expect(item.question.length).toBeGreaterThan(10);
      expect(item.question).not.toContain('<image>');
      expect(item.answers.length).toBeGreaterThan(0);
      expect(item.answers.every((a) => a.trim().length > 0)).toBe(true);
      expect(item.prompt?.map((m) => m.role)).toEqual(['system', 'user']);
      // The user turn of the row's own prompt asks this very question.
      expect(item.prompt?.[1]?.content).toContain(item.question);
      expect(item.prompt?.[0]?.content).toContain('<search>');
      expect(item.extra).toMatchObject({ data_source: 'chartqa', reward_style: 'rule' });
    }
  });

  it('run through a sweep: the simulated policy and experts answer them and they are scored', async () => {
    const records = await cluster.store.readRecords(plan.meta.id);
    expect(records).toHaveLength(4);
    for (const r of records) {
      expect(r.status, `${r.rolloutId}: ${r.error ?? ''}`).toBe('answered');
      expect(r.extracted).not.toBe(null);
      expect(r.scoreReason.length).toBeGreaterThan(0);
    }
    const maestro = records.filter((r) => r.policy === 'maestro');
    expect(maestro.every((r) => r.steps.length >= 1)).toBe(true);
    // The policy routed each item to an expert through a skill, as its own prompt asks.
    expect(maestro.some((r) => r.steps.some((s) => s.action.type === 'search' && s.expert))).toBe(true);
    const { items } = await cluster.store.loadDataset('chartqa');
    const gold = new Map(items.map((i) => [i.id, i.answers]));
    for (const r of records.filter((x) => x.correct)) expect(gold.get(r.itemId)).toContain(r.extracted);
  });

  it('are listed by `data list` with their count and version', async () => {
    const list = await cli(['data', 'list'], cluster.env());
    expect(list.code, list.stderr).toBe(0);
    const { manifest } = await cluster.store.loadDataset('chartqa');
    expect(list.stdout.split('\n')[0]).toMatch(/^benchmark\s+items\s+version\s+created\s+source$/);
    expect(list.stdout).toContain(`chartqa        2  ${manifest.version.slice(0, 12)}`);
  });
});
