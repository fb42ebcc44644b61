/**
 * The floor of the direct-peer scenario: the same calls through a bare BullMQ queue, with
 * nothing of the product around them. A client adds one job per call and waits until they
 * are all completed; a worker (concurrency = the endpoint's capacity) posts each job's prompt
 * to the endpoint and returns the answer. No planning, no registry, no rollout state, no
 * scoring, no records, no report: what any Node.js process pair that sends these calls
 * through BullMQ pays on this machine (start-up, the queue, the HTTP calls). The control
 * plane's cost is what the product's figures add to it.
 */
import { Agent, request } from 'node:http';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

/** The queue of the floor's calls (under the stage's key prefix). */
export const FLOOR_QUEUE = 'floor';
/** Jobs added per addBulk: the worker starts on the first ones while the rest are added. */
const ADD_CHUNK = 64;
/** How often the client checks whether every call is completed (ms). */
const POLL_MS = 5;

export interface FloorConnection {
  redisUrl: string;
  prefix: string;
}

/** POSTs a JSON body and returns the parsed JSON reply (any status but 200 is an error). */
function postJson(url: URL, agent: Agent, body: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) reject(new Error(`${url.href} answered ${res.statusCode}: ${text}`));
          else
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new Error(`${url.href} answered with text that is not JSON: ${text.slice(0, 200)}`));
            }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The answer of an OpenAI-compatible chat completion (`choices[0].message.content`). */
export function answerOf(reply: unknown): string {
  const content = (reply as { choices?: Array<{ message?: { content?: unknown } }> } | null)?.choices?.[0]
    ?.message?.content;
  if (typeof content !== 'string')
    throw new Error('the endpoint answered without choices[0].message.content');
  return content;
}

/**
 * Serves the floor's queue until SIGTERM or SIGINT: each job's `prompt` goes to
 * `{baseUrl}/chat/completions` as one user message, the answer is the job's result.
 * Prints `ready: floor worker` once it takes jobs.
 */
export async function runFloorWorker(
  o: FloorConnection & { baseUrl: string; model: string; concurrency: number },
): Promise<void> {
  const url = new URL(`${o.baseUrl.replace(/\/+$/, '')}/chat/completions`);
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker(
    FLOOR_QUEUE,
    async (job) => {
      const prompt = (job.data as { prompt?: unknown }).prompt;
      if (typeof prompt !== 'string') throw new Error(`job ${job.id}: data.prompt is not a string`);
      const body = JSON.stringify({ model: o.model, messages: [{ role: 'user', content: prompt }] });
      return answerOf(await postJson(url, agent, body));
    },
    { connection, prefix: o.prefix, concurrency: o.concurrency },
  );
  await worker.waitUntilReady();
  console.log(`ready: floor worker (${o.concurrency} at once, ${url.href})`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  await worker.close();
  agent.destroy();
  connection.disconnect();
  console.log(`floor worker: stopped (${signal})`);
}

/**
 * Adds `calls` jobs (ids `{tag}-{i}`) and returns once the queue has completed that many more
 * than before; a job that fails ends the wait with its reason. Prints the lines the bench
 * reads: `floor {tag}: {calls} calls added`, then `floor {tag}: {calls}/{calls} completed`.
 */
export async function runFloorClient(o: FloorConnection & { calls: number; tag: string }): Promise<void> {
  const conn = new Redis(o.redisUrl, { maxRetriesPerRequest: 1 });
  const queue = new Queue(FLOOR_QUEUE, { connection: conn, prefix: o.prefix });
  try {
    const completed = queue.toKey('completed');
    const failed = queue.toKey('failed');
    const [done0, failed0] = await Promise.all([conn.zcard(completed), conn.zcard(failed)]);
    for (let i = 0; i < o.calls; i += ADD_CHUNK) {
      const jobs = [];
      for (let k = i; k < Math.min(o.calls, i + ADD_CHUNK); k++)
        jobs.push({
          name: 'call',
          data: { prompt: `How many objects are there? (${o.tag} ${k})` },
          opts: { jobId: `${o.tag}-${k}` },
        });
      await queue.addBulk(jobs);
    }
    console.log(`floor ${o.tag}: ${o.calls} calls added`);
    for (;;) {
      const [done, fails] = await Promise.all([conn.zcard(completed), conn.zcard(failed)]);
      if (fails > failed0) {
        const [id] = await conn.zrevrange(failed, 0, 0);
        const reason = id ? await conn.hget(`${queue.toKey(id)}`, 'failedReason') : null;
        throw new Error(`floor ${o.tag}: job ${id ?? '?'} failed: ${reason ?? 'no reason stored'}`);
      }
      if (done - done0 >= o.calls) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    console.log(`floor ${o.tag}: ${o.calls}/${o.calls} completed`);
  } finally {
    await queue.close();
    conn.disconnect();
  }
}
