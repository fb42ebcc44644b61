import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SweepMeta } from '../../src/core/sweep.ts';
import { CLI_BIN } from '../../src/process/spawn.ts';
import { TestCluster } from '../helpers/cluster.ts';

/** Runs the CLI without blocking this process (it hosts the simulated servers). */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
    });
    child.stderr.on('data', (b) => {
      out += b;
    });
    child.on('close', (code) => done({ code, out }));
  });
}

/**
 * A sweep with its own catalog, in a folder outside sweeps/, on workers started with the
 * package's catalog only: the sweep carries its benchmark definitions, so the workers score
 * the custom benchmark with no restart and no flag.
 */
describe('a sweep carries its catalog, suite and mapping', () => {
  const cluster = new TestCluster({ items: 2, benchmarks: ['chartqa'] });
  let own: string;
  let sweepFile: string;

  beforeAll(async () => {
    await cluster.start();
    // Workers first: they never see the custom catalog file.
    await cluster.worker(['--role', 'all']);
    own = join(cluster.dir, 'elsewhere', 'project');
    mkdirSync(own, { recursive: true });
    writeFileSync(
      join(own, 'catalog.yaml'),
      [
        'benchmarks:',
        '  - id: shopqa',
        '    name: Shop QA',
        '    group: out-of-domain',
        '    domain: chart',
        '    source: local',
        '    split: test',
        '    answerType: number',
        '    metric: exact',
        '    import:',
        '      format: hf',
        '      distribution: local JSONL',
        '      mapping: shopqa-mapping.yaml',
      ].join('\n'),
    );
    // Text-only items: no image column, and no `images: []` in the mapping.
    writeFileSync(join(own, 'shopqa-mapping.yaml'), 'mapping:\n  id: qid\n');
    writeFileSync(
      join(own, 'shopqa.jsonl'),
      [
        '{"qid": "s1", "question": "What is 2 + 3?", "answer": "5"}',
        '{"qid": "s2", "question": "What is 4 * 2?", "answer": "8"}',
      ].join('\n'),
    );
    sweepFile = join(own, 'shop.yaml');
    writeFileSync(
      sweepFile,
      [
        'name: shop',
        `registry: [${cluster.registryFiles.map((f) => JSON.stringify(f)).join(', ')}]`,
        'catalog: catalog.yaml',
        'policies: [maestro, "direct:gpt-5"]',
      ].join('\n'),
    );
  }, 300_000);

  afterAll(async () => {
    await cluster.cleanup();
  });

  it('imports the text-only benchmark with the catalog beside the sweep file', async () => {
    const r = await cli(
      [
        'data',
        'import',
        join(own, 'shopqa.jsonl'),
        '--benchmark',
        'shopqa',
        '--catalog',
        join(own, 'catalog.yaml'),
      ],
      cluster.env(),
    );
    expect(r.code, r.out).toBe(0);
    const ds = await cluster.store.loadDataset('shopqa');
    expect(ds.items.map((i) => [i.id, i.images.length])).toEqual([
      ['s1', 0],
      ['s2', 0],
    ]);
  }, 300_000);

  it('sweeps it on workers that never loaded that catalog: every item scored, none an error', async () => {
    const r = await cli(['sweep', sweepFile, '--wait'], cluster.env());
    expect(r.code, r.out).toBe(0);
    const id = /sweep (shop-[0-9a-f]{12})/.exec(r.out)?.[1];
    expect(id, r.out).toBeDefined();
    const records = await cluster.store.readRecords(id!);
    expect(records).toHaveLength(4);
    expect(records.filter((x) => x.status === 'error').map((x) => x.error)).toEqual([]);
    expect(records.every((x) => x.benchmark === 'shopqa' && x.scoreReason.length > 0)).toBe(true);
    // The definitions travel with the sweep, in Redis and in sweep.json.
    const stored = SweepMeta.parse(
      JSON.parse(readFileSync(join(cluster.store.sweepDir(id!), 'sweep.json'), 'utf8')),
    );
    expect(stored.catalog?.map((b) => [b.id, b.metric, b.import?.mapping])).toEqual([
      ['shopqa', 'exact', { id: 'qid' }],
    ]);
    expect(stored.suite).toEqual({ name: 'catalog.yaml', inDomain: [], outOfDomain: ['shopqa'] });
    const rep = await cli(['report', id!], cluster.env());
    expect(rep.code, rep.out).toBe(0);
    const table = readFileSync(join(cluster.store.sweepDir(id!), 'report', 'results.md'), 'utf8');
    expect(table).toContain('Shop QA');
  }, 400_000);

  it('--benchmarks X demands only X’s dataset', async () => {
    // The sweep names shopqa and chartqa; a fresh data dir holds neither, then only shopqa.
    const both = join(own, 'both.yaml');
    writeFileSync(
      both,
      [
        'name: both',
        `registry: [${cluster.registryFiles.map((f) => JSON.stringify(f)).join(', ')}]`,
        'catalog: catalog.yaml',
        'benchmarks: [shopqa, chartqa]',
        'policies: [random]',
      ].join('\n'),
    );
    writeFileSync(
      join(own, 'catalog.yaml'),
      `${readFileSync(join(own, 'catalog.yaml'), 'utf8')}\n${[
        '  - id: chartqa',
        '    name: ChartQA',
        '    group: in-domain',
        '    domain: chart',
        '    source: x',
        '    split: test',
        '    answerType: number',
        '    metric: relaxed',
      ].join('\n')}\n`,
    );
    const all = await cli(['sweep', both, '--dry-run'], {
      ...cluster.env(),
      MAESTRO_DATA_DIR: join(own, 'data'),
    });
    expect(all.code).not.toBe(0);
    expect(all.out).toMatch(/no dataset for benchmark "shopqa"/);
    // Only shopqa is imported in this data dir; chartqa is filtered out and not demanded.
    const dataDir = join(own, 'data');
    const imp = await cli(
      [
        'data',
        'import',
        join(own, 'shopqa.jsonl'),
        '--benchmark',
        'shopqa',
        '--catalog',
        join(own, 'catalog.yaml'),
      ],
      { ...cluster.env(), MAESTRO_DATA_DIR: dataDir },
    );
    expect(imp.code, imp.out).toBe(0);
    const one = await cli(['sweep', both, '--dry-run', '--benchmarks', 'shopqa'], {
      ...cluster.env(),
      MAESTRO_DATA_DIR: dataDir,
    });
    expect(one.code, one.out).toBe(0);
    expect(one.out).toMatch(/2 rollouts planned/);
    expect(one.out).toMatch(/not imported here, left out of this sweep: chartqa/);
  }, 300_000);
});
