import { describe, expect, it } from 'vitest';
import { nextPollMs } from '../../src/cli/sweep.ts';

describe('how often sweep --wait looks at the done count', () => {
  it('looks every 300 ms while the end is far, or while nothing has finished since the first look', () => {
    expect(nextPollMs({ doneSinceFirst: 100, left: 900, elapsedMs: 1_000 })).toBe(300);
    // 800 ms left by the rate: half of it is still above the usual interval.
    expect(nextPollMs({ doneSinceFirst: 500, left: 400, elapsedMs: 1_000 })).toBe(300);
    expect(nextPollMs({ doneSinceFirst: 0, left: 5, elapsedMs: 10_000 })).toBe(300);
    expect(nextPollMs({ doneSinceFirst: 10, left: 5, elapsedMs: 0 })).toBe(300);
  });

  it('looks when the rate so far says the rest will be done, near the end', () => {
    // 500 done in 1 s since the first look, 50 left: about 100 ms from now; looks at half that.
    expect(nextPollMs({ doneSinceFirst: 500, left: 50, elapsedMs: 1_000 })).toBe(50);
    // 200 left: 400 ms by the rate; looks in 200.
    expect(nextPollMs({ doneSinceFirst: 500, left: 200, elapsedMs: 1_000 })).toBe(200);
    // Nearly done: no sooner than 5 ms.
    expect(nextPollMs({ doneSinceFirst: 990, left: 1, elapsedMs: 1_000 })).toBe(5);
    // Done (or more than planned counted): the usual interval; the exact check decides.
    expect(nextPollMs({ doneSinceFirst: 1_000, left: 0, elapsedMs: 1_000 })).toBe(300);
  });

  it('backs off while the count stands still (a straggler), back to the usual interval', () => {
    // One left after 999 done in 1 s: by the rate it is due now, but nothing has moved for a while.
    const at = (idleMs: number) =>
      nextPollMs({ doneSinceFirst: 999, left: 1, elapsedMs: 1_000 + idleMs, idleMs });
    expect(at(0)).toBe(5);
    expect(at(40)).toBe(40);
    expect(at(120)).toBe(120);
    expect(at(5_000)).toBe(300);
    // A count that just moved looks by the rate again.
    expect(nextPollMs({ doneSinceFirst: 999, left: 1, elapsedMs: 6_000, idleMs: 2 })).toBe(5);
  });

  it('keeps a caller’s longer or shorter interval as the ceiling', () => {
    expect(nextPollMs({ doneSinceFirst: 100, left: 900, elapsedMs: 1_000 }, 1_000)).toBe(1_000);
    expect(nextPollMs({ doneSinceFirst: 500, left: 50, elapsedMs: 1_000 }, 30)).toBe(30);
  });
});
