/**
 * One redaction function for every text that leaves a worker: error messages stored with
 * failed jobs, rollout traces, records, logs. It removes the values of the API keys the
 * process was configured with (registered when a model client reads its `apiKeyEnv`
 * variable) and any `Bearer …` token, whatever the endpoint echoed back.
 */

const MASK = '***';
/** Values shorter than this are not treated as secrets (they would mask ordinary words). */
const MIN_SECRET_LENGTH = 6;
const secrets = new Set<string>();
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;

/** Marks values as secret in this process (e.g. API keys read from the environment). */
export function registerSecrets(values: Iterable<string | undefined>): void {
  for (const v of values) if (v && v.length >= MIN_SECRET_LENGTH && v !== 'EMPTY') secrets.add(v);
}

/** Secret values named by `apiKeyEnv` entries, read from an environment. */
export function secretsFromEnv(names: Iterable<string | undefined>, env: NodeJS.ProcessEnv = process.env) {
  const out: string[] = [];
  for (const n of names) {
    const v = n ? env[n] : undefined;
    if (v) out.push(v);
  }
  return out;
}

/** `text` with every registered secret and every bearer token replaced by `***`. */
export function redact(text: string): string {
  // Shorter than any secret and than "Bearer" with a token: nothing to look for.
  if (text.length < MIN_SECRET_LENGTH) return text;
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out.replace(BEARER, `$1 ${MASK}`);
}

/** A bearer token inside JSON text: whitespace before it may be written as an escape. */
const JSON_BEARER = /(Bearer)(?:\s|\\[nrtf]|\\u000[bB])+[A-Za-z0-9._~+/=-]+/gi;

/**
 * The JSON text of a value with every string in it redacted, as `JSON.stringify(redactDeep(v))`
 * gives, in one pass over the text instead of a walk and a copy of the value. Secrets are
 * looked for as JSON writes them; a bearer token after an escaped line break or tab too,
 * and without a word boundary before "Bearer" (a line break before it is `\n` in JSON).
 * Should a replacement leave text that is not JSON (a secret that spans JSON syntax), the
 * value is walked instead.
 */
export function redactJson(value: unknown): string {
  const text = JSON.stringify(value);
  let out = text;
  for (const s of secrets) {
    const escaped = JSON.stringify(s).slice(1, -1);
    if (out.includes(escaped)) out = out.split(escaped).join(MASK);
  }
  // Looked for first: a replace that finds nothing still copies the text (a record a rollout).
  JSON_BEARER.lastIndex = 0;
  if (JSON_BEARER.test(out)) out = out.replace(JSON_BEARER, `$1 ${MASK}`);
  if (out === text) return text;
  try {
    JSON.parse(out);
    return out;
  } catch {
    return JSON.stringify(redactDeep(value));
  }
}

/**
 * A copy of a JSON-like value with every string redacted (objects and arrays walked). Always
 * a copy, sharing no object or array with the value: callers keep it (a rollout's saved
 * state becomes its job's data) while the rollout engine goes on with the value. (Returning
 * untouched parts as they were cost a lost and a double-counted item in the Redis-restart
 * chaos test under load.)
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}

/** Redacts an error in place (message and stack, and its causes): BullMQ stores both. */
export function redactError<E>(err: E): E {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    e.message = redact(e.message);
    if (e.stack) e.stack = redact(e.stack);
    e = e.cause;
  }
  return err;
}

/**
 * Passes everything this process writes to stdout and stderr through `redact` (worker
 * processes install it at start-up, so no log line carries a key).
 */
export function redactProcessOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const tagged = stream as typeof stream & { __redacting?: boolean };
    if (tagged.__redacting) continue;
    tagged.__redacting = true;
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text =
        typeof chunk === 'string'
          ? chunk
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk).toString()
            : null;
      return write(text === null ? chunk : redact(text), ...rest);
    }) as typeof stream.write;
  }
}

/** Only for tests: forgets every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
}
