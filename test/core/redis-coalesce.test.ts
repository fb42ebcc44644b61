import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/core/redis.ts';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const key = `{test-coalesce-${randomBytes(4).toString('hex')}}`;
let conn: Redis;

/** Counts the socket's system-call level writes (one per _write or _writev). */
function countWrites(stream: Socket): () => number {
  let n = 0;
  const s = stream as unknown as { _write: (...a: unknown[]) => void; _writev?: (...a: unknown[]) => void };
  const w = s._write;
  s._write = function (this: unknown, ...a: unknown[]) {
    n++;
    return w.apply(this, a);
  };
  const wv = s._writev;
  if (wv)
    s._writev = function (this: unknown, ...a: unknown[]) {
      n++;
      return wv.apply(this, a);
    };
  return () => n;
}

beforeAll(async () => {
  conn = connectRedis(url, 'worker');
  await conn.ping();
});

afterAll(async () => {
  await conn.del(`${key}:n`, `${key}:h`);
  conn.disconnect();
});

describe('worker connections batch the writes of one event-loop turn', () => {
  it('sends 200 commands of one turn in a few writes, replies in order and correct', async () => {
    const stream = (conn as unknown as { stream: Socket }).stream;
    const writes = countWrites(stream);
    const replies = await Promise.all(Array.from({ length: 200 }, () => conn.incr(`${key}:n`)));
    expect(replies).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(writes()).toBeGreaterThan(0);
    expect(writes()).toBeLessThan(10);
  });

  it('keeps scripts, transactions and commands of later turns working', async () => {
    const res = await conn.multi().hset(`${key}:h`, 'f', 'v').hget(`${key}:h`, 'f').exec();
    expect(res?.map(([, v]) => v)).toEqual([1, 'v']);
    expect(await conn.eval('return redis.call("GET", KEYS[1])', 1, `${key}:n`)).toBe('200');
    for (let i = 0; i < 3; i++) expect(await conn.incr(`${key}:n`)).toBe(201 + i);
  });
});
