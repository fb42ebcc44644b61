import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReport } from '../../src/cli/report.ts';
import { readEnv } from '../../src/core/env.ts';
import type { ItemRecord } from '../../src/core/items.ts';
import { expertQueueName, ROLLOUT_QUEUE, SCORE_QUEUE } from '../../src/core/queues.ts';
import { loadRegistry } from '../../src/core/registry.ts';
import type { SweepMeta } from '../../src/core/sweep.ts';
import { type Dashboard, startDashboard } from '../../src/dashboard/server.ts';
import { TestCluster } from '../helpers/cluster.ts';

declare module 'vitest' {
  interface TaskMeta {
    screenshot?: string;
  }
}

const OUT = join(process.env.MAESTRO_TEST_OUTPUT ?? join(tmpdir(), 'maestro-eval-test-output'), 'dashboard');
const AUTH = { user: 'ops', password: `pw-${process.pid}-${Date.now()}` };
const EVIL = '<img src=x onerror="window.__pwned=1">';

describe('the dashboard, in headless Chromium, over a finished sweep', () => {
  const cluster = new TestCluster({ items: 2, benchmarks: ['chartqa', 'mathvista', 'slake'] });
  let dashboard: Dashboard;
  let browser: Browser;
  let page: Page;
  let sweepId = '';
  let records: ItemRecord[] = [];
  let reportFiles: string[] = [];
  const queueNames: string[] = [];

  beforeAll(async () => {
    await cluster.start();
    await cluster.worker(['--role', 'all']);
    const plan = await cluster.plan(cluster.sweepFile('dash', ['maestro', 'random']));
    await cluster.submit(plan);
    await cluster.wait(plan);
    sweepId = plan.meta.id;
    process.env.MAESTRO_REGISTRY = cluster.registryFiles.join(',');
    const report = await runReport(cluster.store, sweepId);
    records = report.records;
    reportFiles = Object.keys(report.files);

    // A sweep whose user-controlled text (name, policy key, report cells, links) is hostile.
    const evilMeta: SweepMeta = {
      v: 1,
      id: 'evil-sweep',
      name: EVIL,
      fingerprint: 'f',
      createdAt: '2000-01-01T00:00:00.000Z',
      registryFingerprint: 'r',
      policies: [{ key: `random${EVIL}`, kind: 'random' }],
      benchmarks: [{ id: 'chartqa', version: 'v', count: 1 }],
      seeds: [0],
      maxTurns: 4,
    };
    const evilDir = cluster.store.sweepDir('evil-sweep');
    mkdirSync(join(evilDir, 'report'), { recursive: true });
    writeFileSync(join(evilDir, 'sweep.json'), JSON.stringify(evilMeta));
    writeFileSync(
      join(evilDir, 'report', 'results.md'),
      `# ${EVIL}\n\n| Policy | ChartQA |\n| :--- | ---: |\n| a \\| b ${EVIL} | <script>window.__pwned=2</script> |\n\n[click](javascript:window.__pwned=3) ![x](https://example.com/x.png)\n`,
    );

    const registry = loadRegistry(cluster.registryFiles, { MAESTRO_SIM_URL: cluster.sim.url });
    queueNames.push(ROLLOUT_QUEUE, SCORE_QUEUE, ...registry.experts.map((e) => expertQueueName(e.name)));
    dashboard = await startDashboard({
      env: {
        ...readEnv({}),
        REDIS_URL: cluster.redisUrl,
        MAESTRO_PREFIX: cluster.prefix,
        MAESTRO_DATA_DIR: cluster.dataDir,
      },
      registry,
      store: cluster.store,
      host: '127.0.0.1',
      port: 0,
      auth: AUTH,
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({
      httpCredentials: { username: AUTH.user, password: AUTH.password },
      viewport: { width: 1500, height: 1000 },
    });
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await cluster.cleanup();
  });

  it('rejects requests without credentials or with wrong ones, and answers its health check', async () => {
    const none = await fetch(`${dashboard.url}/`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="maestro-eval"/);
    for (const path of [`/sweeps/${sweepId}`, '/queues', `/sweeps/${sweepId}/report/accuracy.png`]) {
      expect((await fetch(`${dashboard.url}${path}`)).status, path).toBe(401);
    }
    const wrong = Buffer.from(`${AUTH.user}:not-the-password`).toString('base64');
    expect((await fetch(`${dashboard.url}/`, { headers: { authorization: `Basic ${wrong}` } })).status).toBe(
      401,
    );
    const right = Buffer.from(`${AUTH.user}:${AUTH.password}`).toString('base64');
    expect((await fetch(`${dashboard.url}/`, { headers: { authorization: `Basic ${right}` } })).status).toBe(
      200,
    );
    const health = await fetch(`${dashboard.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');
  });

  it('shows the sweep’s progress, its results table and its charts', async ({ task }) => {
    const res = await page.goto(`${dashboard.url}/sweeps/${sweepId}`);
    expect(res?.status()).toBe(200);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete));

    // Progress per benchmark and policy: every cell finished.
    const progress = await page.$$eval('#progress tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.childNodes[0]?.textContent?.trim() ?? '')),
    );
    expect(progress).toEqual([
      ['chartqa', '2/2', '2/2'],
      ['mathvista', '2/2', '2/2'],
      ['slake', '2/2', '2/2'],
    ]);

    // The results table (results.md rendered as HTML): each policy's accuracy per benchmark.
    const table = await page.$$eval('#results-table table', (tables) => {
      const t = tables[0];
      if (!t) return null;
      return {
        head: [...t.querySelectorAll('thead th')].map((th) => th.textContent?.trim() ?? ''),
        rows: [...t.querySelectorAll('tbody tr')].map((tr) =>
          [...tr.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? ''),
        ),
      };
    });
    expect(table?.head.slice(0, 1)).toEqual(['Policy']);
    expect(table?.head).toEqual(expect.arrayContaining(['ChartQA', 'MathVista', 'SLAKE', 'In-domain avg']));
    expect(table?.rows.map((r) => r[0])).toEqual(['maestro', 'random']);
    const names: Record<string, string> = { chartqa: 'ChartQA', mathvista: 'MathVista', slake: 'SLAKE' };
    for (const policy of ['maestro', 'random']) {
      for (const [bench, name] of Object.entries(names)) {
        const rs = records.filter((r) => r.policy === policy && r.benchmark === bench);
        const expected = ((100 * rs.filter((r) => r.correct).length) / rs.length).toFixed(1);
        const row = table?.rows.find((r) => r[0] === policy);
        expect(row?.[table?.head.indexOf(name) ?? -1], `${policy} ${bench}`).toBe(expected);
      }
    }

    // The charts of the report, served from the sweep's report directory, loaded by the browser.
    const images = await page.$$eval('figure img', (imgs) =>
      imgs.map((img) => ({
        src: img.getAttribute('src') ?? '',
        width: (img as HTMLImageElement).naturalWidth,
      })),
    );
    const charts = reportFiles.filter((f) => f === 'accuracy.png' || f.startsWith('routing-')).sort();
    expect(charts).toContain('accuracy.png');
    expect(images.map((i) => i.src.split('/').pop()).sort()).toEqual(charts);
    for (const img of images) expect(img.width, img.src).toBeGreaterThan(0);

    // A finished sweep's page does not reload itself; the index (live) does.
    expect(await page.$('meta[http-equiv="refresh"]')).toBeNull();

    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, 'sweep.png');
    await page.screenshot({ path: shot, fullPage: true });
    task.meta.screenshot = shot;
    console.log(`dashboard screenshot: ${shot}`);
    if (process.env.MAESTRO_DOCS_SCREENSHOT) copyFileSync(shot, process.env.MAESTRO_DOCS_SCREENSHOT);
  });

  it('lists the sweeps with live progress and links every queue of the registry to bull-board', async () => {
    const res = await page.goto(`${dashboard.url}/`);
    expect(res?.status()).toBe(200);
    expect(await page.getAttribute('meta[http-equiv="refresh"]', 'content')).toBe('5');
    const sweepRow = await page.$$eval('main table:first-of-type tbody tr', (rows) =>
      rows.map((r) => r.textContent ?? ''),
    );
    expect(sweepRow.find((t) => t.includes(sweepId))).toContain('12/12');
    const queueLinks = await page.$$eval('a[href^="/queues/queue/"]', (as) =>
      as.map((a) => a.textContent ?? ''),
    );
    expect(queueLinks.sort()).toEqual([...queueNames].sort());
  });

  it('serves bull-board on /queues for every queue of the registry', async () => {
    const res = await page.goto(`${dashboard.url}/queues`);
    expect(res?.status()).toBe(200);
    const api = await page.evaluate(async () => {
      const r = await fetch('/queues/api/queues?activeQueue=rollouts&status=completed');
      return {
        status: r.status,
        body: (await r.json()) as { queues: Array<{ name: string; counts: Record<string, number> }> },
      };
    });
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q) => q.name).sort()).toEqual([...queueNames].sort());
    expect(api.body.queues.find((q) => q.name === ROLLOUT_QUEUE)?.counts.completed).toBe(12);
    // The single-page app renders the queue names.
    await page.getByText(`expert.${'Chart-R1'}`).first().waitFor();
  });

  it('escapes user-controlled text and links only to the report’s own files', async () => {
    await page.goto(`${dashboard.url}/`);
    await page.goto(`${dashboard.url}/sweeps/evil-sweep`);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.$$('img[src="x"]')).toHaveLength(0);
    expect(await page.$$('script')).toHaveLength(0);
    expect(await page.$$('a[href^="javascript:"]')).toHaveLength(0);
    expect(await page.$$('img[src^="https:"]')).toHaveLength(0);
    const text = (await page.textContent('main')) ?? '';
    expect(text).toContain(EVIL);
    expect(text).toContain('a | b');
    expect(text).toContain('<script>window.__pwned=2</script>');
    const bad = await fetch(`${dashboard.url}/sweeps/${sweepId}/report/..%2Fsweep.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${AUTH.user}:${AUTH.password}`).toString('base64')}` },
    });
    expect(bad.status).toBe(404);
  });
});
