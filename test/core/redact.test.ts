import { afterEach, describe, expect, it } from 'vitest';
import {
  clearSecrets,
  redact,
  redactDeep,
  redactError,
  redactJson,
  registerSecrets,
  secretsFromEnv,
} from '../../src/core/redact.ts';
import { classifyError } from '../../src/models/client.ts';

describe('redact', () => {
  afterEach(() => clearSecrets());

  it('removes registered key values and any bearer token', () => {
    registerSecrets(secretsFromEnv(['MY_KEY', 'UNSET_KEY'], { MY_KEY: 'sk-abcdef123456' }));
    const text = 'Incorrect API key provided: sk-abcdef123456; header Bearer tok.en-99/x= sent';
    const out = redact(text);
    expect(out).not.toContain('sk-abcdef123456');
    expect(out).not.toContain('tok.en-99');
    expect(out).toBe('Incorrect API key provided: ***; header Bearer *** sent');
  });

  it('leaves short values and ordinary text alone', () => {
    registerSecrets(['abc', 'EMPTY']);
    expect(redact('abc EMPTY bearer-less text')).toBe('abc EMPTY bearer-less text');
  });

  it('walks JSON values and errors (message, stack, cause)', () => {
    registerSecrets(['secret-value-1']);
    const value = { a: ['x secret-value-1'], b: { c: 'Bearer q1', n: 3 } };
    expect(redactDeep(value)).toEqual({ a: ['x ***'], b: { c: 'Bearer ***', n: 3 } });
    const err = redactError(new Error('outer secret-value-1', { cause: new Error('inner secret-value-1') }));
    expect(err.message).toBe('outer ***');
    expect(err.stack).not.toContain('secret-value-1');
    expect((err.cause as Error).message).toBe('inner ***');
  });

  it('always copies: the result shares no object or array with the value', () => {
    registerSecrets(['secret-value-1']);
    const value = { keep: { deep: ['a', 'b'] }, hit: ['ok', { c: 'Bearer q1' }], n: 1 };
    const before = structuredClone(value);
    const out = redactDeep(value);
    expect(value).toEqual(before);
    expect(out).toEqual({ ...before, hit: ['ok', { c: 'Bearer ***' }] });
    expect(out).not.toBe(value);
    expect(out.keep).not.toBe(value.keep);
    expect(out.keep.deep).not.toBe(value.keep.deep);
    // Nothing to redact: still a copy, so a later change to the value does not reach it.
    const clean = { a: [{ b: 'x' }] };
    const copy = redactDeep(clean);
    clean.a[0]!.b = 'changed';
    expect(copy).toEqual({ a: [{ b: 'x' }] });
  });

  it('redacts JSON text as the walked value would be, escapes and all', () => {
    registerSecrets(['secret-value-1', 'quote"and\\slash-key']);
    const cases: unknown[] = [
      { a: ['x secret-value-1'], b: { c: 'Bearer q1', n: 3 } },
      { line: 'header:\nBearer tok.en-1\tafter', tab: 'Bearer\tabc', cr: 'BEARER\r\nxyz' },
      { odd: 'key quote"and\\slash-key end', plain: 'nothing here', k: [1, null, true] },
      'secret-value-1 alone',
    ];
    for (const value of cases) {
      const text = redactJson(value);
      expect(JSON.parse(text)).toEqual(redactDeep(value));
      expect(text).not.toContain('secret-value-1');
    }
    // Nothing to redact: the text is JSON.stringify's.
    const clean = { a: 'b', c: [1, 2] };
    expect(redactJson(clean)).toBe(JSON.stringify(clean));
  });

  it('redacts a model error that echoes the key', async () => {
    const OpenAI = (await import('openai')).default;
    const echoed = new OpenAI.APIError(
      401,
      { message: 'Incorrect API key provided: Bearer sk-live-0123456789' },
      undefined,
      new Headers(),
    );
    const err = classifyError('Keyed', echoed);
    expect(err.message).toContain('401');
    expect(err.message).not.toContain('sk-live-0123456789');
  });
});
