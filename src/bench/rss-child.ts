/**
 * Child process of the memory scenario: runs rollouts in-process (the same policy, skill,
 * scoring and record code the workers run) and prints its memory after each checkpoint,
 * after a full garbage collection. Started as
 *   node --expose-gc --import tsx src/bench/rss-child.ts '<json>'
 */
import { Redis } from 'ioredis';
import { loadCatalog, loadSuite } from '../core/benchmarks.ts';
import { loadRegistry } from '../core/registry.ts';
import { DataStore } from '../data/store.ts';
import { loadSweepFile } from '../producer/config.ts';
import { planSweep } from '../producer/plan.ts';
import { InProcessRunner } from './inprocess.ts';

interface ChildArgs {
  dataDir: string;
  sweepFile: string;
  catalog: string;
  suite: string;
  redisUrl: string;
  prefix: string;
  checkpoints: number[];
  concurrency: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const gc = (globalThis as { gc?: () => void }).gc;
const store = new DataStore(args.dataDir);
const catalog = loadCatalog(args.catalog);
const config = loadSweepFile(args.sweepFile);
const registry = loadRegistry(config.registry, {});
const plan = await planSweep(config, { registry, catalog, suite: loadSuite(args.suite, catalog), store });
const redis = new Redis(args.redisUrl, { maxRetriesPerRequest: null });
const runner = new InProcessRunner({ registry, store, catalog, redis, prefix: args.prefix });
let done = 0;
for (const checkpoint of args.checkpoints) {
  const batch = plan.rollouts.slice(done, checkpoint);
  await runner.runMany(plan.meta, batch, args.concurrency);
  done = checkpoint;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  console.log(
    `mem ${JSON.stringify({ items: done, rss: m.rss, heapUsed: m.heapUsed, external: m.external, gc: Boolean(gc) })}`,
  );
}
redis.disconnect();
