import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBenchmarks } from '../../src/cli/context.ts';
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
  const reportsBuilt: string[] = [];

  beforeAll(async () => {
    await cluster.start();
    // Some expert requests fail (500, deterministic per request): the queue retries those
    // skill runs and the traces count the attempts.
    const experts = loadRegistry(cluster.registryFiles, { MAESTRO_SIM_URL: cluster.sim.url }).experts;
    cluster.sim.setFaults(Object.fromEntries(experts.map((e) => [e.name, { error500Rate: 0.3 }])));
    await cluster.worker(['--role', 'all']);
    const plan = await cluster.plan(cluster.sweepFile('dash', ['maestro', 'random']));
    await cluster.submit(plan);
    await cluster.wait(plan);
    cluster.sim.setFaults({});
    // The live test below starts its own worker for a sweep submitted while none runs.
    await cluster.stopWorkers();
    sweepId = plan.meta.id;
    process.env.MAESTRO_REGISTRY = cluster.registryFiles.join(',');
    const report = await runReport(cluster.store, sweepId);
    // The report holds its records without their long texts; the tests read them whole.
    records = await cluster.store.readRecords(sweepId);
    expect(records).toHaveLength(report.records.length);
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
    const evilRecord: ItemRecord = {
      ...(records[0] as ItemRecord),
      sweepId: 'evil-sweep',
      rolloutId: `evil${EVIL}`,
      policy: `random${EVIL}`,
      benchmark: 'chartqa',
      rawOutput: `<answer>${EVIL}</answer>`,
      extracted: EVIL,
      steps: [
        {
          turn: 0,
          policyText: EVIL,
          policyLatencyMs: 1,
          policyPromptTokens: 1,
          policyCompletionTokens: 1,
          action: { type: 'search', model: EVIL, skill: EVIL, input: EVIL },
          observation: EVIL,
          calls: [
            { service: EVIL, model: EVIL, latencyMs: 1, promptTokens: 1, completionTokens: 1, ok: true },
          ],
        },
      ],
    };
    mkdirSync(join(evilDir, 'records'), { recursive: true });
    writeFileSync(join(evilDir, 'records', 'evil.json'), JSON.stringify(evilRecord));
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
      refreshSeconds: 1,
      benchmarks: loadBenchmarks(),
      buildReport: async (id) => {
        reportsBuilt.push(id);
        return runReport(cluster.store, id);
      },
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
    const itemPaths = [
      `/sweeps/${sweepId}/cells/maestro/chartqa`,
      `/sweeps/${sweepId}/items/${encodeURIComponent(records[0]?.rolloutId ?? '')}`,
      `/sweeps/${sweepId}/compare`,
      `/sweeps/${sweepId}/events`,
      `/sweeps/${sweepId}/results`,
      '/events',
      '/assets/live.js',
      `/images/${'0'.repeat(64)}.png`,
    ];
    for (const path of [
      `/sweeps/${sweepId}`,
      '/queues',
      `/sweeps/${sweepId}/report/accuracy.svg`,
      ...itemPaths,
    ]) {
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

    // Progress per policy and benchmark: every cell finished; laid out like the results table.
    const progress = await page.$$eval('#progress tbody tr', (rows) =>
      rows.map((r) => [
        r.querySelector('th')?.textContent?.trim() ?? '',
        ...[...r.querySelectorAll('td .count')].map((c) => c.textContent?.trim() ?? ''),
      ]),
    );
    expect(progress).toEqual([
      ['maestro', '2/2', '2/2', '2/2', '6/6'],
      ['random', '2/2', '2/2', '2/2', '6/6'],
    ]);
    const progressHead = await page.$$eval('#progress thead th', (ths) =>
      ths.map((th) => th.textContent?.trim() ?? ''),
    );

    // The results table (results.md rendered as HTML): each policy's accuracy per benchmark.
    const names: Record<string, string> = { chartqa: 'ChartQA', mathvista: 'MathVista', slake: 'SLAKE' };
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
    // Same orientation and order as the progress grid; nothing clipped (the last column is in view).
    expect(progressHead.slice(1, -1)).toEqual(table?.head.filter((h) => Object.values(names).includes(h)));
    expect(table?.head.at(-1)).toBe('Out-of-domain avg');
    const lastCell = await page.$eval('#results-table table thead th:last-child', (th) => {
      const r = th.getBoundingClientRect();
      return { right: r.right, width: window.innerWidth };
    });
    expect(lastCell.right).toBeLessThanOrEqual(lastCell.width);
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
    const charts = reportFiles
      .filter((f) => f.endsWith('.svg') && (f === 'accuracy.svg' || /^(routing|fanout)-/.test(f)))
      .sort();
    expect(charts).toContain('accuracy.svg');
    expect(images.map((i) => i.src.split('/').pop()).sort()).toEqual(charts);
    for (const img of images) expect(img.width, img.src).toBeGreaterThan(0);

    // Each result links to its cell's items (both tables: accuracy and n).
    const resultLinks = await page.$$eval('#results-table table tbody a', (as) =>
      as.map((a) => a.getAttribute('href') ?? ''),
    );
    expect(resultLinks).toContain(`/sweeps/${sweepId}/cells/maestro/chartqa`);
    expect(resultLinks.filter((h) => h.endsWith('/cells/random/slake'))).toHaveLength(2);
    // SVG and PDF beside each chart.
    const downloads = await page.$$eval('figcaption a', (as) => as.map((a) => a.getAttribute('href') ?? ''));
    expect(downloads).toContain(`/sweeps/${sweepId}/report/accuracy.svg`);
    expect(downloads).toContain(`/sweeps/${sweepId}/report/accuracy.pdf`);
    // No page reloads itself; a finished sweep's page does not even listen for updates.
    expect(await page.$('meta[http-equiv="refresh"]')).toBeNull();
    expect(await page.getAttribute('main', 'data-events')).toBeNull();

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
    expect(await page.$('meta[http-equiv="refresh"]')).toBeNull();
    expect(await page.getAttribute('main', 'data-events')).toBe('/events');
    const sweepRow = await page.$$eval('#sweeps tbody tr', (rows) => rows.map((r) => r.textContent ?? ''));
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

  it('follows a cell to its items, filters them, and opens one item’s full trace', async ({ task }) => {
    await page.goto(`${dashboard.url}/sweeps/${sweepId}`);
    await page.click(`#progress a[href="/sweeps/${sweepId}/cells/maestro/chartqa"]`);
    await page.waitForURL(`**/cells/maestro/chartqa`);
    const cell = records.filter((r) => r.policy === 'maestro' && r.benchmark === 'chartqa');
    const listed = await page.$$eval('#items tbody tr', (rows) =>
      rows.map((r) => ({
        item: r.getAttribute('data-item') ?? '',
        verdict: r.querySelector('.verdict')?.getAttribute('data-verdict') ?? '',
      })),
    );
    expect(listed).toEqual(
      cell.map((r) => ({
        item: r.itemId,
        verdict: r.status === 'error' ? 'error' : r.correct ? 'correct' : 'wrong',
      })),
    );

    // Filters: by the expert of the first step, then a text search that only one item matches.
    const expert = cell.flatMap((r) => r.steps.map((st) => st.expert)).find(Boolean) as string;
    await page.selectOption('select[name="expert"]', expert);
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/expert=/);
    const withExpert = await page.$$eval('#items tbody tr', (rows) =>
      rows.map((r) => r.getAttribute('data-item')),
    );
    expect(withExpert).toEqual(
      cell.filter((r) => r.steps.some((st) => st.expert === expert)).map((r) => r.itemId),
    );
    const target = cell.find((r) => r.steps.length > 0) as ItemRecord;
    await page.goto(
      `${dashboard.url}/sweeps/${sweepId}/cells/maestro/chartqa?q=${encodeURIComponent(target.itemId)}`,
    );
    expect(
      await page.$$eval('#items tbody tr', (rows) => rows.map((r) => r.getAttribute('data-item'))),
    ).toEqual([target.itemId]);

    // The trace: verdict, extracted and gold answers, every turn with its action, calls and observation.
    await page.click(`#items a:text-is("${target.itemId}")`);
    await page.waitForURL(`**/items/**`);
    const item = await cluster.store.item(target.benchmark, target.itemId);
    expect(await page.textContent('#extracted')).toBe(target.extracted ?? '∅ (nothing extracted)');
    expect(await page.$$eval('#gold code', (cs) => cs.map((c) => c.textContent))).toEqual(item.answers);
    expect(await page.getAttribute('#verdict .verdict', 'data-verdict')).toBe(
      target.correct ? 'correct' : 'wrong',
    );
    expect(await page.textContent('#reason')).toBe(target.scoreReason);
    const steps = await page.$$eval('section.step', (secs) =>
      secs.map((sec) => ({
        text: sec.querySelector('.policy-text')?.textContent ?? '',
        action: sec.querySelector('.action .tag')?.textContent ?? '',
        calls: sec.querySelectorAll('table.calls tbody tr').length,
        observation: sec.querySelector('.observation')?.textContent ?? null,
      })),
    );
    expect(steps).toEqual(
      target.steps.map((st) => ({
        text: st.policyText,
        action: st.action.type,
        calls: st.calls.length,
        observation: st.observation ?? null,
      })),
    );
    // Every call: model, what it returned, the stored images it saw.
    const calls = target.steps.flatMap((st) => st.calls);
    expect(calls.length).toBeGreaterThan(0);
    const shown = await page.$$eval('table.calls tbody tr', (trs) =>
      trs.map((tr) => ({
        model: tr.querySelector('td:nth-child(2)')?.textContent ?? '',
        output: tr.querySelector('pre.call-output')?.textContent ?? null,
        images: tr.querySelectorAll('img.mini').length,
        attempts: tr.querySelector('td.attempts .count')?.textContent ?? '',
      })),
    );
    expect(shown).toEqual(
      calls.map((c) => ({
        model: c.model,
        output: c.output ?? null,
        images: c.images?.length ?? 0,
        attempts: String(c.attempts ?? (c.cached ? 0 : 1)),
      })),
    );
    expect(calls.some((c) => c.output)).toBe(true);
    expect(calls.some((c) => c.images?.length)).toBe(true);
    expect(await page.textContent('#raw-output')).toBe(target.rawOutput);
    // The item's images as thumbnails, served from the data directory.
    expect(item.images.length).toBeGreaterThan(0);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete));
    const thumbs = await page.$$eval('img.thumb', (imgs) =>
      imgs.map((i) => (i as HTMLImageElement).naturalWidth),
    );
    expect(thumbs).toHaveLength(item.images.length);
    for (const w of thumbs) expect(w).toBeGreaterThan(0);
    // The neighbours in the cell, one click away.
    const at = cell.indexOf(target);
    const next = cell[at + 1];
    if (next) {
      await Promise.all([
        page.waitForURL(`**/items/${encodeURIComponent(next.rolloutId)}`),
        page.click('a[rel="next"]'),
      ]);
      expect(await page.textContent('#extracted')).toBe(next.extracted ?? '∅ (nothing extracted)');
      await Promise.all([
        page.waitForURL(`**/items/${encodeURIComponent(target.rolloutId)}`),
        page.click('a[rel="prev"]'),
      ]);
    }
    // The same item under the other policy, one click away.
    expect(await page.$$eval('main a', (as) => as.map((a) => a.textContent))).toContain('random');

    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, 'item.png');
    await page.screenshot({ path: shot, fullPage: true });
    task.meta.screenshot = shot;
  });

  it('shows the crops and drawn boxes a skill sent as thumbnails, and each call’s attempts', async ({
    task,
  }) => {
    const calls = (r: ItemRecord) => r.steps.flatMap((st) => st.calls);
    const itemImages = async (r: ItemRecord) =>
      new Set((await cluster.store.item(r.benchmark, r.itemId)).images.map((i) => i.sha256));
    // Records whose skill sent a derived image (a crop or boxes drawn on the item's image).
    const withCrops: ItemRecord[] = [];
    for (const r of records) {
      const own = await itemImages(r);
      if (calls(r).some((c) => c.images?.some((ref) => !own.has(ref.sha256)))) withCrops.push(r);
    }
    const wasRetried = (r: ItemRecord) => calls(r).some((c) => (c.attempts ?? 1) > 1);
    const cropped = withCrops.find(wasRetried) ?? withCrops[0];
    expect(cropped, 'a skill of the demo sweep sent a crop').toBeDefined();
    const target = cropped as ItemRecord;
    const own = await itemImages(target);
    await page.goto(`${dashboard.url}/sweeps/${sweepId}/items/${encodeURIComponent(target.rolloutId)}`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete));
    const derived = await page.$$eval('table.calls img.mini[data-derived]', (imgs) =>
      imgs.map((i) => ({
        src: i.getAttribute('src') ?? '',
        href: i.closest('a')?.getAttribute('href') ?? '',
        width: (i as HTMLImageElement).naturalWidth,
      })),
    );
    const expected = calls(target).flatMap((c) => (c.images ?? []).filter((ref) => !own.has(ref.sha256)));
    expect(derived.map((d) => d.src.slice('/images/'.length, '/images/'.length + 64))).toEqual(
      expected.map((ref) => ref.sha256),
    );
    for (const d of derived) {
      expect(d.width, d.src).toBeGreaterThan(0); // the browser decoded the stored crop
      expect(d.href).toBe(d.src); // a click opens the full image
    }
    // The full image is the stored bytes the call sent.
    const first = expected[0] as NonNullable<(typeof expected)[0]>;
    const full = await page.evaluate(async (src) => {
      const r = await fetch(src);
      return {
        status: r.status,
        type: r.headers.get('content-type'),
        bytes: (await r.arrayBuffer()).byteLength,
      };
    }, derived[0]?.src ?? '');
    expect(full.status).toBe(200);
    expect(full.type).toBe(first.mime);
    expect(full.bytes).toBe((await cluster.store.readImage(first)).length);

    // Retries: a call that took more than one attempt shows the count and each failed one's error.
    const retried = records.find(wasRetried);
    expect(retried, 'a call of the demo sweep was retried').toBeDefined();
    const r = retried as ItemRecord;
    await page.goto(`${dashboard.url}/sweeps/${sweepId}/items/${encodeURIComponent(r.rolloutId)}`);
    const rows = await page.$$eval('table.calls tbody tr', (trs) =>
      trs.map((tr) => ({
        attempts: Number(tr.querySelector('td.attempts')?.getAttribute('data-attempts')),
        errors: [...tr.querySelectorAll('td.attempts .attempt-errors li')].map((li) => li.textContent ?? ''),
      })),
    );
    expect(rows).toEqual(
      calls(r).map((c) => ({ attempts: c.attempts ?? (c.cached ? 0 : 1), errors: c.attemptErrors ?? [] })),
    );
    expect(rows.some((row) => row.attempts > 1 && row.errors.some((e) => /500/.test(e)))).toBe(true);

    // The page to keep: the crop item's trace (retried too, where one is).
    await page.goto(`${dashboard.url}/sweeps/${sweepId}/items/${encodeURIComponent(target.rolloutId)}`);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete));
    await page.$$eval('td.attempts details', (ds) => {
      for (const d of ds) d.setAttribute('open', '');
    });
    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, 'item-crops.png');
    await page.screenshot({ path: shot, fullPage: true });
    task.meta.screenshot = shot;
    if (process.env.MAESTRO_DOCS_ITEM_SCREENSHOT)
      copyFileSync(shot, process.env.MAESTRO_DOCS_ITEM_SCREENSHOT);
  });

  it('compares two policies item by item, discordant items first', async () => {
    await page.goto(`${dashboard.url}/sweeps/${sweepId}/compare?a=maestro&b=random`);
    const rows = await page.$$eval('#compare tbody tr', (trs) =>
      trs.map((tr) => ({
        discordant: tr.classList.contains('discordant'),
        cells: [...tr.querySelectorAll('td')].map((td) =>
          td.querySelector('.verdict')?.getAttribute('data-verdict'),
        ),
      })),
    );
    const verdictOf = (r: ItemRecord | undefined) =>
      r?.status === 'error' ? 'error' : r?.correct ? 'correct' : 'wrong';
    const pairs = records
      .filter((r) => r.policy === 'maestro')
      .map((a) => ({
        a,
        b: records.find((r) => r.policy === 'random' && r.benchmark === a.benchmark && r.itemId === a.itemId),
      }));
    const discordant = pairs.filter((p) => Boolean(p.a.correct) !== Boolean(p.b?.correct)).length;
    expect(rows).toHaveLength(pairs.length);
    expect(rows.filter((r) => r.discordant)).toHaveLength(discordant);
    expect(rows.slice(0, discordant).every((r) => r.discordant)).toBe(true);
    for (const r of rows) {
      const [, , a, b] = r.cells;
      expect(r.discordant).toBe((a === 'correct') !== (b === 'correct'));
    }
    expect(new Set(rows.map((r) => r.cells[2]))).toEqual(new Set(pairs.map((p) => verdictOf(p.a))));
  });

  it('pushes progress to an open sweep page without reloading it, then shows the report built when it finishes', async ({
    task,
  }) => {
    const plan = await cluster.plan(cluster.sweepFile('live', ['rules']));
    await cluster.submit(plan);
    const id = plan.meta.id;
    await page.goto(`${dashboard.url}/sweeps/${id}`);
    expect(await page.getAttribute('main', 'data-events')).toBe(`/sweeps/${id}/events`);
    expect(await page.textContent('[data-cell="rules|*"] .count')).toBe('0/6');
    await page.waitForFunction(() =>
      document.getElementById('live-status')?.textContent?.includes('updated'),
    );
    await page.evaluate(() => {
      (window as unknown as { __samePage?: boolean }).__samePage = true;
    });
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });

    // The index, open in a second tab, follows the same sweep.
    const index = await page.context().newPage();
    await index.goto(`${dashboard.url}/`);
    expect(await index.isVisible(`[data-report-of="${id}"] a`)).toBe(false);

    await cluster.worker(['--role', 'all']);
    await page.waitForFunction(
      () => document.querySelector('[data-cell="rules|*"] .count')?.textContent === '6/6',
      undefined,
      { timeout: 120_000 },
    );
    for (const b of ['chartqa', 'mathvista', 'slake']) {
      expect(await page.textContent(`[data-cell="rules|${b}"] .count`)).toBe('2/2');
    }
    // The finished sweep's report is built by the dashboard and swapped into the page.
    await page.waitForSelector('#results-table table', { timeout: 120_000 });
    expect(reportsBuilt).toContain(id);
    expect(await page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage)).toBe(true);
    expect(navigations).toBe(0);
    await index.waitForFunction(
      (sid) => document.querySelector(`[data-sweep="${sid}"] .bar-text`)?.textContent === '6/6',
      id,
      { timeout: 60_000 },
    );
    await index.waitForSelector(`[data-report-of="${id}"] a:not([hidden])`, { timeout: 60_000 });
    await index.close();
    const live = await cluster.store.readRecords(id);
    const acc = ((100 * live.filter((r) => r.correct).length) / live.length).toFixed(1);
    expect(await page.textContent('[data-cell="rules|*"] .acc')).toBe(`${acc}%`);
    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, 'live.png');
    await page.screenshot({ path: shot, fullPage: true });
    task.meta.screenshot = shot;
    await cluster.stopWorkers();
  }, 240_000);

  it('escapes user-controlled text and links only to the report’s own files', async () => {
    await page.goto(`${dashboard.url}/`);
    await page.goto(`${dashboard.url}/sweeps/evil-sweep`);
    const clean = async () => {
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.$$('img[src="x"]')).toHaveLength(0);
      expect(await page.$$('script')).toHaveLength(0);
      expect(await page.$$('a[href^="javascript:"]')).toHaveLength(0);
      expect(await page.$$('img[src^="https:"]')).toHaveLength(0);
    };
    await clean();
    const text = (await page.textContent('main')) ?? '';
    expect(text).toContain(EVIL);
    expect(text).toContain('a | b');
    expect(text).toContain('<script>window.__pwned=2</script>');
    expect(await page.textContent('#progress tbody tr td:last-child .count')).toBe('1/1');
    expect(await page.textContent('#progress tbody tr th')).toBe(`random${EVIL}`);
    // Model text in the item browser: the trace and the cell's list, filtered by that text.
    await page.goto(`${dashboard.url}/sweeps/evil-sweep/items/${encodeURIComponent(`evil${EVIL}`)}`);
    await clean();
    expect(await page.textContent('.policy-text')).toBe(EVIL);
    expect(await page.textContent('.observation')).toBe(EVIL);
    expect(await page.textContent('#raw-output')).toBe(`<answer>${EVIL}</answer>`);
    await page.goto(
      `${dashboard.url}/sweeps/evil-sweep/cells/${encodeURIComponent(`random${EVIL}`)}/chartqa?q=${encodeURIComponent(EVIL)}`,
    );
    await clean();
    expect(await page.$$eval('#items tbody tr', (rows) => rows.length)).toBe(1);
    expect(await page.inputValue('input[name="q"]')).toBe(EVIL);
    const bad = await fetch(`${dashboard.url}/sweeps/${sweepId}/report/..%2Fsweep.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${AUTH.user}:${AUTH.password}`).toString('base64')}` },
    });
    expect(bad.status).toBe(404);
  });
});
