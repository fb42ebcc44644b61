/**
 * What the command line prints below an error's message: the stack of an error that means a
 * bug, of any error with MAESTRO_DEBUG=1, and nothing more for the project's own errors.
 */
import { describe, expect, it } from 'vitest';
import { bugStack, ConfigError, MaestroError } from '../../src/core/errors.ts';

describe('bugStack', () => {
  it("gives the stack of a RangeError, TypeError or ReferenceError (a bug's)", () => {
    let overflow: unknown;
    const deep = (n: number): number => (n === 0 ? 0 : 1 + deep(n - 1));
    try {
      deep(1e7);
    } catch (err) {
      overflow = err;
    }
    expect(overflow).toBeInstanceOf(RangeError);
    expect(bugStack(overflow)).toMatch(/^RangeError: Maximum call stack size exceeded\n\s+at deep /);
    expect(bugStack(new TypeError('x is not a function'))).toMatch(/^TypeError: x is not a function\n\s+at /);
    expect(bugStack(new ReferenceError('y is not defined'))).toMatch(/^ReferenceError/);
  });

  it("gives none for the project's errors or a plain one, unless debugging", () => {
    const config = new ConfigError('sweep.yaml', 'policies[0]', 'unknown key "x"');
    expect(bugStack(config)).toBeNull();
    expect(bugStack(new MaestroError('Redis is down'))).toBeNull();
    expect(bugStack(new Error('the endpoint answered 500'))).toBeNull();
    expect(bugStack(config, true)).toMatch(
      /^ConfigError: sweep.yaml at policies\[0\]: unknown key "x"\n\s+at /,
    );
    expect(bugStack(new Error('plain'), true)).toMatch(/^Error: plain\n/);
    expect(bugStack('a string', true)).toBeNull();
  });
});
