/**
 * Coalesced writes: commands issued in one turn of the event loop leave in one socket
 * write, with their replies unchanged and in order, also after a reconnection.
 */
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/core/redis.ts';
import { REDIS_URL } from '../helpers/cluster.ts';

const conn = connectRedis(REDIS_URL, 'worker');
afterAll(async () => {
  await conn.quit();
});

/** Counts the socket's flushes to the kernel (one per write, or one per batch when corked). */
function countFlushes(stream: Socket) {
  const s = stream as Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const counter = { n: 0 };
  const write = s._write.bind(s);
  const writev = s._writev.bind(s);
  s._write = (...a: unknown[]) => {
    counter.n++;
    write(...a);
  };
  s._writev = (...a: unknown[]) => {
    counter.n++;
    writev(...a);
  };
  return counter;
}

const streamOf = (c: typeof conn) => (c as unknown as { stream: Socket }).stream;

describe('coalesced Redis writes', () => {
  it('sends one turn’s commands in one write, replies in order; later turns and reconnections too', async () => {
    await conn.ping();
    const key = `coalesce-${process.pid}`;
    const flushes = countFlushes(streamOf(conn));
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => conn.rpush(key, String(i))));
    expect(replies).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(flushes.n).toBeLessThanOrEqual(2);
    // Commands sent from promise continuations of one turn go out together as well.
    flushes.n = 0;
    const chained = await Promise.all(
      Array.from({ length: 20 }, (_, i) => Promise.resolve().then(() => conn.lindex(key, i))),
    );
    expect(chained).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(flushes.n).toBeLessThanOrEqual(2);
    // …and commands sent from separate callbacks of one phase of the loop (timers firing
    // together, like replies read in one poll).
    flushes.n = 0;
    const timed = await Promise.all(
      Array.from({ length: 10 }, (_, i) => new Promise((r) => setTimeout(() => r(conn.lindex(key, i)), 1))),
    );
    expect(timed).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(flushes.n).toBeLessThanOrEqual(2);
    // A new connection (after a drop) is coalesced too.
    conn.disconnect(true);
    await new Promise((r) => conn.once('ready', r));
    const again = countFlushes(streamOf(conn));
    const lens = await Promise.all(Array.from({ length: 50 }, () => conn.llen(key)));
    expect(new Set(lens)).toEqual(new Set([100]));
    expect(again.n).toBeLessThanOrEqual(2);
    await conn.del(key);
  });
});
