import type { z } from 'zod';

/**
 * A fast accept path for zod schemas on hot paths (records and dataset items read back, the
 * simulator's requests): a check compiled once from the schema's definition that walks
 * the value without building a copy or an issue list. It answers "valid, and zod's output
 * would equal the value itself" or "don't know"; on "don't know" the caller runs zod, which
 * then gives the real result or the error message. So it never accepts what zod refuses, and
 * anything it does not model (transforms, defaults to fill in, unknown keys zod would strip,
 * coercion) simply goes through zod.
 *
 * Modelled: object (strip, or a catch-all of unknown), string, number, boolean, null,
 * literal, enum, optional, nullable, default (when the value is present), array, record of
 * string keys, union and discriminated union, unknown and any. Checks (lengths, bounds,
 * int, formats, refinements) run through zod's own check functions on the value. It reads
 * zod's internal definitions (`_zod.def`): a zod release that changes them makes types it
 * no longer recognises go to zod, and test/core/fast-check.test.ts (fast path against zod
 * on thousands of mutated values) shows any other difference.
 */

/** Pass: zod would accept `value` and return an equal value. */
type Check = (value: unknown) => boolean;

interface ZodInternals {
  def: {
    type: string;
    checks?: Array<{ _zod: CheckInternals }>;
    coerce?: boolean;
    shape?: Record<string, Schema>;
    catchall?: Schema;
    innerType?: Schema;
    element?: Schema;
    options?: Schema[];
    discriminator?: string;
    keyType?: Schema;
    valueType?: Schema;
    values?: unknown[];
  };
  values?: Set<unknown>;
  propValues?: Record<string, Set<unknown>>;
}
interface CheckInternals {
  def: { check: string; when?: (payload: Payload) => boolean };
  check: (payload: Payload) => unknown;
}
interface Payload {
  value: unknown;
  issues: unknown[];
}
type Schema = { _zod: ZodInternals };

const PASS: Check = () => true;

function isPlain(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  // zod's output is an ordinary object: another prototype (null included) would differ.
  return Object.getPrototypeOf(value) === Object.prototype;
}

/** Runs a schema's checks (zod's own functions) on a value already of the right type. */
function withChecks(schema: Schema, base: Check): Check | null {
  const checks = schema._zod.def.checks ?? [];
  if (checks.length === 0) return base;
  // A check that rewrites the value (trim, toLowerCase: `overwrite`) makes zod's output differ.
  if (checks.some((c) => c._zod.def.check === 'overwrite')) return null;
  const runs = checks.map((c) => c._zod);
  return (value) => {
    if (!base(value)) return false;
    const payload: Payload = { value, issues: [] };
    for (const c of runs) {
      if (c.def.when && !c.def.when(payload)) continue;
      const r = c.check(payload);
      if (r instanceof Promise || payload.issues.length > 0) return false;
    }
    return true;
  };
}

/**
 * For a union: whether zod certainly refuses `value` for this option (its kind does not
 * match), so the next option may be tried; otherwise the option's own check decides.
 */
function kindGuard(schema: Schema): ((value: unknown) => boolean) | null {
  const def = schema._zod.def;
  switch (def.type) {
    case 'string':
      return (v) => typeof v === 'string';
    case 'number':
      return (v) => typeof v === 'number';
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'null':
      return (v) => v === null;
    case 'array':
      return Array.isArray;
    case 'object':
    case 'record':
      return (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'literal':
    case 'enum': {
      const values = schema._zod.values;
      return values ? (v) => values.has(v) : null;
    }
    default:
      return null;
  }
}

function compileObject(schema: Schema): Check | null {
  const def = schema._zod.def;
  const catchall = def.catchall?._zod.def.type;
  if (catchall !== undefined && catchall !== 'unknown' && catchall !== 'any') return null;
  const loose = catchall !== undefined;
  const fields: Array<{ key: string; check: Check; optional: boolean }> = [];
  if (Object.getOwnPropertySymbols(def.shape ?? {}).length > 0) return null;
  for (const [key, field] of Object.entries(def.shape ?? {})) {
    if (key === '__proto__') return null;
    const check = compile(field);
    if (!check) return null;
    fields.push({ key, check, optional: field._zod.def.type === 'optional' });
  }
  return withChecks(schema, (value) => {
    if (!isPlain(value)) return false;
    let present = 0;
    for (const f of fields) {
      const v = value[f.key];
      if (v === undefined) {
        // Absent and optional: zod leaves it out too. Anything else (a default to fill in,
        // a missing required key, an explicit undefined or an inherited key) goes to zod.
        if (!f.optional || f.key in value) return false;
        continue;
      }
      if (!f.check(v)) return false;
      present++;
    }
    // zod strips keys it does not know: the value would then differ from zod's output.
    return loose || Object.keys(value).length === present;
  });
}

function compileUnion(schema: Schema): Check | null {
  const def = schema._zod.def;
  const options = def.options ?? [];
  if (def.discriminator !== undefined) {
    const key = def.discriminator;
    const byValue = new Map<unknown, Check>();
    for (const option of options) {
      const check = compile(option);
      const values = option._zod.propValues?.[key];
      if (!check || !values) return null;
      for (const v of values) {
        if (byValue.has(v)) return null;
        byValue.set(v, check);
      }
    }
    return withChecks(schema, (value) => {
      if (!isPlain(value)) return false;
      const check = byValue.get(value[key]);
      return check?.(value) === true;
    });
  }
  const compiled: Array<{ guard: (v: unknown) => boolean; check: Check }> = [];
  for (const option of options) {
    const guard = kindGuard(option);
    const check = compile(option);
    if (!guard || !check) return null;
    compiled.push({ guard, check });
  }
  // zod returns the first option that accepts: an option of another kind certainly refuses,
  // so it is skipped; the first of the right kind must pass here, or zod decides.
  return withChecks(schema, (value) => {
    for (const o of compiled) if (o.guard(value)) return o.check(value);
    return false;
  });
}

const compiledChecks = new WeakMap<object, Check | null>();

function compile(schema: Schema): Check | null {
  if (compiledChecks.has(schema)) return compiledChecks.get(schema) ?? null;
  compiledChecks.set(schema, null); // a recursive schema (z.lazy) is not modelled anyway
  const check = compileUncached(schema);
  compiledChecks.set(schema, check);
  return check;
}

function compileUncached(schema: Schema): Check | null {
  const def = schema._zod.def;
  if (def.coerce) return null;
  switch (def.type) {
    case 'string':
      return withChecks(schema, (v) => typeof v === 'string');
    case 'number':
      return withChecks(schema, (v) => typeof v === 'number' && Number.isFinite(v));
    case 'boolean':
      return withChecks(schema, (v) => typeof v === 'boolean');
    case 'null':
      return (v) => v === null;
    case 'unknown':
    case 'any':
      return withChecks(schema, PASS);
    case 'literal':
    case 'enum': {
      const values = schema._zod.values;
      return values ? withChecks(schema, (v) => values.has(v)) : null;
    }
    case 'optional':
    case 'default': {
      // Present values only: an absent one is left out, or filled in, by zod (see compileObject).
      const inner = def.innerType && compile(def.innerType);
      return inner ? (v) => v !== undefined && inner(v) : null;
    }
    case 'nullable': {
      const inner = def.innerType && compile(def.innerType);
      return inner ? withChecks(schema, (v) => v === null || inner(v)) : null;
    }
    case 'array': {
      const element = def.element && compile(def.element);
      if (!element) return null;
      return withChecks(schema, (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!element(v[i])) return false;
        return true;
      });
    }
    case 'record': {
      // String keys without checks; enum or literal keys make zod list them, not modelled.
      const key = def.keyType?._zod;
      if (key?.def.type !== 'string' || key.def.checks?.length || key.values) return null;
      const valueCheck = def.valueType && compile(def.valueType);
      if (!valueCheck) return null;
      return withChecks(schema, (v) => {
        if (!isPlain(v)) return false;
        for (const k of Object.keys(v)) if (k === '__proto__' || !valueCheck(v[k])) return false;
        return true;
      });
    }
    case 'object':
      return compileObject(schema);
    case 'union':
      return compileUnion(schema);
    default:
      return null;
  }
}

/** Whether the schema is modelled (else `fastParse` always runs zod). */
export function hasFastCheck(schema: z.ZodType): boolean {
  return compile(schema as unknown as Schema) !== null;
}

/**
 * `schema.safeParse(value)`, through the fast check first: a value it accepts is returned as
 * it is (zod would have returned an equal copy); any other goes through zod.
 */
export function fastParse<T extends z.ZodType>(schema: T, value: unknown): z.ZodSafeParseResult<z.output<T>> {
  const check = compile(schema as unknown as Schema);
  if (check?.(value)) return { success: true, data: value as z.output<T> };
  return schema.safeParse(value);
}
