import { describe, expect, it } from 'vitest';
import { nextPollMs } from '../../src/cli/sweep.ts';

describe('how often sweep --wait looks at the done count', () => {
  it('looks every 300 ms while the end is far, or while nothing has finished since the first look', () => {
    expect(nextPollMs({ doneSinceFirst: 100, left: 900, elapsedMs: 1_000 })).toBe(300);
    expect(nextPollMs({ doneSinceFirst: 0, left: 5, elapsedMs: 10_000 })).toBe(300);
    expect(nextPollMs({ doneSinceFirst: 10, left: 5, elapsedMs: 0 })).toBe(300);
  });

  it('looks when the rate so far says the rest will be done, near the end', () => {
    // 500 done in 1 s since the first look, 50 left: about 100 ms from now.
    expect(nextPollMs({ doneSinceFirst: 500, left: 50, elapsedMs: 1_000 })).toBe(100);
    // Nearly done: no sooner than 20 ms.
    expect(nextPollMs({ doneSinceFirst: 990, left: 1, elapsedMs: 1_000 })).toBe(20);
    // Done (or more than planned counted): the usual interval; the exact check decides.
    expect(nextPollMs({ doneSinceFirst: 1_000, left: 0, elapsedMs: 1_000 })).toBe(300);
  });

  it('keeps a caller’s longer or shorter interval as the ceiling', () => {
    expect(nextPollMs({ doneSinceFirst: 100, left: 900, elapsedMs: 1_000 }, 1_000)).toBe(1_000);
    expect(nextPollMs({ doneSinceFirst: 500, left: 50, elapsedMs: 1_000 }, 50)).toBe(50);
  });
});
