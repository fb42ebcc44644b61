import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRedisReachable } from '../../src/core/redis.ts';
import { metricsAddress } from '../../src/metrics/server.ts';
import { freePort } from '../../src/process/redis-server.ts';
import { spawnCli } from '../../src/process/spawn.ts';
import { startSimServer } from '../../src/sim/server.ts';
import { audit, ChaosCluster, cli, recordChaos, sleep, until } from './harness.ts';

const API_KEY = `sk-chaos-${randomBytes(12).toString('hex')}`;
const REDIS_PASSWORD = `pw-${randomBytes(10).toString('hex')}`;

/** Endpoints that need an API key, reached through a proxy that records what it is sent. */
const KEYED_REGISTRY = `
experts:
  - name: Keyed
    model: keyed-sim
    baseUrl: \${MAESTRO_KEYED_URL:-http://127.0.0.1:9}/Keyed/v1
    apiKeyEnv: MAESTRO_CHAOS_API_KEY
    offered: false
    sim: { defaultAccuracy: 0.8, latencyMs: { median: 5 } }
policies:
  - name: keyed-policy
    model: keyed-policy-sim
    baseUrl: \${MAESTRO_KEYED_URL:-http://127.0.0.1:9}/keyed-policy/v1
    apiKeyEnv: MAESTRO_CHAOS_API_KEY
    sim: { routingQuality: 1, latencyMs: { median: 5 } }
`;

/** A redis-server of our own (password or TLS), on a free loopback port. */
async function privateRedis(args: string[], url: string, env: NodeJS.ProcessEnv = process.env) {
  const child: ChildProcess = spawn('redis-server', [...args, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const started = Date.now();
  for (;;) {
    try {
      if (env === process.env) await assertRedisReachable(url, 500);
      else execFileSync(process.execPath, ['-e', PING, url], { env, stdio: 'ignore', timeout: 5_000 });
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() - started > 10_000) throw err;
      await sleep(100);
    }
  }
  return {
    child,
    stop: async () => {
      child.kill('SIGKILL');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}
const PING = `const {Redis}=require('ioredis');const r=new Redis(process.argv[1],{lazyConnect:true,maxRetriesPerRequest:0,retryStrategy:()=>null});r.on('error',()=>{});r.connect().then(()=>r.ping()).then(()=>process.exit(0),()=>process.exit(1));`;

/** Records the Authorization header of every request and forwards it to the simulator. */
async function recordingProxy(target: string) {
  const auth: string[] = [];
  const server = createServer((req, res) => {
    auth.push(String(req.headers.authorization ?? ''));
    const up = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    auth,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Every key under the prefix with its value, whatever its type. */
async function dumpRedis(conn: Redis, prefix: string): Promise<{ keys: number; text: string }> {
  let cursor = '0';
  let text = '';
  let count = 0;
  do {
    const [next, found] = await conn.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of found) {
      count++;
      const type = await conn.type(key);
      const value =
        type === 'string'
          ? await conn.get(key)
          : type === 'hash'
            ? await conn.hgetall(key)
            : type === 'list'
              ? await conn.lrange(key, 0, -1)
              : type === 'set'
                ? await conn.smembers(key)
                : type === 'zset'
                  ? await conn.zrange(key, 0, -1, 'WITHSCORES')
                  : type === 'stream'
                    ? await conn.xrange(key, '-', '+')
                    : `(${type})`;
      text += `${key}\n${JSON.stringify(value)}\n`;
    }
  } while (cursor !== '0');
  return { keys: count, text };
}

/** The text of every file under a directory (records, reports, sweep.json, datasets…). */
function readTree(dir: string): { files: number; text: string } {
  let files = 0;
  let text = '';
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        files++;
        text += `${p}\n${readFileSync(p).toString('latin1')}\n`;
      }
    }
  };
  walk(dir);
  return { files, text };
}

/** Local address of a listening TCP socket on this port, from /proc/net/tcp (Linux). */
function listenAddress(port: number): string | null {
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [addr, portHex] = (cols[1] ?? '').split(':');
      if (cols[3] !== '0A' || Number.parseInt(portHex ?? '', 16) !== port) continue;
      if (addr === '0100007F') return '127.0.0.1';
      if (addr === '00000000') return '0.0.0.0';
      return addr ?? null;
    }
  }
  return null;
}

describe('secrets stay secret; Redis with a password and TLS; loopback by default', () => {
  let redis: Awaited<ReturnType<typeof privateRedis>>;
  let redisPort: number;
  let cluster: ChaosCluster;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  const logs: string[] = [];
  const secretEnv = () => ({ MAESTRO_CHAOS_API_KEY: API_KEY, MAESTRO_KEYED_URL: proxy.url });

  beforeAll(async () => {
    redisPort = await freePort();
    const url = `redis://:${REDIS_PASSWORD}@127.0.0.1:${redisPort}`;
    redis = await privateRedis(
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--requirepass', REDIS_PASSWORD],
      url,
    );
    cluster = new ChaosCluster({
      items: 2,
      benchmarks: ['chartqa', 'tallyqa'],
      registryYaml: KEYED_REGISTRY,
      redisUrl: url,
      // Some failures, so that error paths write logs too.
      faults: { Keyed: { error500Rate: 0.3 } },
    });
    await cluster.start();
    proxy = await recordingProxy(cluster.sim.url);
  }, 300_000);

  afterAll(async () => {
    await cluster?.cleanup();
    await proxy?.close();
    await redis?.stop();
  });

  it('uses API keys from the environment only: no key in Redis, logs, records or reports', async () => {
    const w = await cluster.worker(['--role', 'all'], secretEnv());
    const capture = (b: Buffer) => logs.push(b.toString());
    w.child.stdout?.on('data', capture);
    w.child.stderr?.on('data', capture);
    const file = cluster.sweepFile('secrets', ['maestro:keyed-policy', 'direct:Keyed']);
    const sweep = await cli(['sweep', file, '--wait'], cluster.env(secretEnv()));
    logs.push(sweep.stdout, sweep.stderr);
    expect(sweep.code, sweep.stderr).toBe(0);
    const report = await cli(['report'], cluster.env(secretEnv()));
    logs.push(report.stdout, report.stderr);
    expect(report.code, report.stderr).toBe(0);
    const status = await cli(['status'], cluster.env(secretEnv()));
    logs.push(status.stdout, status.stderr);
    logs.push(...w.output);

    // The key was really used: every request through the proxy carried it.
    expect(proxy.auth.length).toBeGreaterThan(0);
    expect(proxy.auth.every((a) => a === `Bearer ${API_KEY}`)).toBe(true);

    const dump = await dumpRedis(cluster.conn, cluster.prefix);
    const tree = readTree(cluster.dir);
    const logText = logs.join('\n');
    expect(dump.keys).toBeGreaterThan(10);
    expect(tree.files).toBeGreaterThan(10);
    expect(logText).toContain('ready:');
    for (const secret of [API_KEY, REDIS_PASSWORD]) {
      expect(dump.text.includes(secret), 'secret in Redis').toBe(false);
      expect(tree.text.includes(secret), 'secret in a file').toBe(false);
      expect(logText.includes(secret), 'secret in a log').toBe(false);
    }
    // The worker names its Redis with the password masked.
    expect(logText).toContain(`redis://:***@127.0.0.1:${redisPort}`);
    const plan = await cluster.plan(file);
    const a = await audit(cluster, plan);
    await recordChaos('secrets', {
      faultsInjected: cluster.sim.stats().Keyed?.errorsInjected ?? 0,
      items: a.items,
      itemsLost: a.lost,
      itemsDoubleCounted: a.doubleCounted,
      redisKeysScanned: dump.keys,
      filesScanned: tree.files,
    });
    expect(a).toMatchObject({ lost: 0, doubleCounted: 0, mismatched: 0 });
  }, 300_000);

  it('refuses a wrong Redis password with an error that does not repeat it', async () => {
    const wrong = `pw-wrong-${randomBytes(6).toString('hex')}`;
    const r = await cli(
      ['status'],
      cluster.env({ REDIS_URL: `redis://:${wrong}@127.0.0.1:${redisPort}` }),
      120_000,
    );
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/WRONGPASS|NOAUTH|invalid (username-)?password/i);
    expect(`${r.stdout}${r.stderr}`.includes(wrong)).toBe(false);
  }, 300_000);

  it('runs a sweep over rediss:// (TLS, certificate verified) and refuses an unknown certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-tls-'));
    let tls: Awaited<ReturnType<typeof privateRedis>> | undefined;
    try {
      const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
      ossl(
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          'ca.key',
          '-out',
          'ca.pem',
        ].concat(['-days', '2', '-subj', '/CN=maestro-chaos-ca']),
      );
      ossl(
        [
          'req',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          'server.key',
          '-out',
          'server.csr',
        ].concat(['-subj', '/CN=127.0.0.1']),
      );
      writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      ossl(
        ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
          '-out',
          'server.pem',
          '-days',
          '2',
          '-extfile',
          'ext.cnf',
        ]),
      );
      const port = await freePort();
      const url = `rediss://127.0.0.1:${port}`;
      const tlsEnv = { REDIS_URL: url, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') };
      tls = await privateRedis(
        ['--port', '0', '--bind', '127.0.0.1', '--tls-port', String(port)]
          .concat(['--tls-cert-file', join(dir, 'server.pem'), '--tls-key-file', join(dir, 'server.key')])
          .concat(['--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no']),
        url,
        { ...process.env, ...tlsEnv },
      );
      const w = await cluster.worker(['--role', 'all'], tlsEnv);
      expect(w.output.join('\n')).toContain(`redis=${url}`);
      const file = cluster.sweepFile('tls', ['direct:Chart-R1']);
      const sweep = await cli(['sweep', file, '--wait'], cluster.env(tlsEnv));
      expect(sweep.code, sweep.stderr).toBe(0);
      expect(sweep.stdout).toMatch(/(\d+)\/\1 scored, 0 errors/);
      const plan = await cluster.plan(file);
      expect(await cluster.store.readRecords(plan.meta.id)).toHaveLength(plan.rollouts.length);
      const trusted = await cli(['status', plan.meta.id], cluster.env(tlsEnv), 30_000);
      expect(trusted.code, trusted.stderr).toBe(0);
      expect(trusted.stdout).toContain(`${plan.rollouts.length}/${plan.rollouts.length} scored`);
      // Without the CA the server's certificate is not trusted: no silent downgrade.
      const untrusted = await cli(
        ['status'],
        cluster.env({ REDIS_URL: url, NODE_EXTRA_CA_CERTS: '' }),
        120_000,
      );
      expect(untrusted.code).not.toBe(0);
      expect(untrusted.stdout).not.toContain('scored');
      w.child.kill('SIGKILL');
      await w.exited;
    } finally {
      await tls?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('binds the metrics endpoint, the dashboard and the simulators to 127.0.0.1 unless told otherwise', async () => {
    expect(metricsAddress({ MAESTRO_METRICS_PORT: '9464' }).host).toBe('127.0.0.1');
    const port = await freePort();
    const w = await cluster.worker(['--role', 'scorer'], {
      MAESTRO_METRICS_PORT: String(port),
      MAESTRO_METRICS_HOST: '',
    });
    await until('the metrics endpoint', () => w.output.some((l) => l.startsWith('metrics: ')));
    expect(w.output.find((l) => l.startsWith('metrics: '))).toBe(`metrics: http://127.0.0.1:${port}/metrics`);
    if (existsSync('/proc/net/tcp')) expect(listenAddress(port)).toBe('127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    w.child.kill('SIGKILL');
    await w.exited;
    // The web dashboard, started without --host.
    const dashPort = await freePort();
    const dash = spawnCli(['dashboard', '--port', String(dashPort)], cluster.env(), { label: 'dashboard' });
    try {
      await until(
        'the dashboard',
        () => dash.output.some((l) => l.startsWith('ready: dashboard on')),
        120_000,
      );
      expect(dash.output.find((l) => l.startsWith('ready: dashboard on'))).toContain(`127.0.0.1:${dashPort}`);
      if (existsSync('/proc/net/tcp')) expect(listenAddress(dashPort)).toBe('127.0.0.1');
    } finally {
      dash.child.kill('SIGKILL');
      await dash.exited;
    }
    expect(cluster.sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const sim = await startSimServer({
      registry: (await import('../../src/core/registry.ts')).loadRegistry(cluster.registryFiles),
      catalog: (await import('../../src/core/benchmarks.ts')).loadCatalog(
        (await import('../helpers/cluster.ts')).CATALOG,
      ),
      dataDir: cluster.dataDir,
    });
    try {
      const simPort = Number(new URL(sim.url).port);
      expect(sim.url.startsWith('http://127.0.0.1:')).toBe(true);
      if (existsSync('/proc/net/tcp')) expect(listenAddress(simPort)).toBe('127.0.0.1');
    } finally {
      await sim.close();
    }
  }, 300_000);
});
