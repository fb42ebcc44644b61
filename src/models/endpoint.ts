import { z } from 'zod';
import { PermanentError, RetryableError } from '../core/errors.ts';
import { redactError, registerSecrets } from '../core/redact.ts';
import { getJson, statusError } from './http.ts';

/** What a model client needs to know about an endpoint (experts, services and policies all fit). */
export interface EndpointConfig {
  name: string;
  model: string;
  baseUrl: string;
  apiKeyEnv?: string | undefined;
  timeoutMs: number;
}

/**
 * The API key of an endpoint (undefined when it needs none), registered as a secret of this
 * process: `redact` removes it from any text from now on. Fails when its variable is unset.
 */
export function endpointApiKey(
  endpoint: EndpointConfig,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const apiKey = endpoint.apiKeyEnv ? env[endpoint.apiKeyEnv] : undefined;
  if (endpoint.apiKeyEnv && !apiKey) {
    throw new PermanentError(`${endpoint.name}: environment variable ${endpoint.apiKeyEnv} is not set`, {
      hint: `export ${endpoint.apiKeyEnv}=… on every host that runs this endpoint's workers`,
    });
  }
  registerSecrets([apiKey]);
  return apiKey;
}

/** The headers that authenticate a request to an endpoint (as the OpenAI clients send them). */
export function authHeaders(apiKey: string | undefined): Record<string, string> {
  return { authorization: `Bearer ${apiKey ?? 'EMPTY'}` };
}

/** `GET /models` of an OpenAI-compatible server (the entries' other fields are ignored). */
const ModelsPage = z.object({ data: z.array(z.object({ id: z.string() })).default([]) });

/**
 * The models an endpoint serves (`GET {baseUrl}/models`, one request, no retries, the
 * endpoint's timeout): a cheap reachability check, on node:http alone (no SDK to load).
 * Fails typed, as the chat calls do: RetryableError (connection, timeout, 5xx, 429) or
 * PermanentError (other 4xx, an unset key variable).
 */
export async function listModels(
  endpoint: EndpointConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const apiKey = endpointApiKey(endpoint, env);
  try {
    const reply = await getJson(
      endpoint.name,
      endpoint.baseUrl,
      '/models',
      authHeaders(apiKey),
      endpoint.timeoutMs,
    );
    if (reply.status < 200 || reply.status >= 300) throw statusError(endpoint.name, reply, parseRetryAfter);
    const page = ModelsPage.safeParse(reply.body);
    if (!page.success) {
      const issue = page.error.issues[0];
      throw new RetryableError(
        `${endpoint.name}: unexpected /models response (${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'})`,
      );
    }
    return page.data.data.map((m) => m.id);
  } catch (err) {
    throw redactError(
      err instanceof RetryableError || err instanceof PermanentError
        ? err
        : new RetryableError(`${endpoint.name}: ${String(err)}`, { cause: err }),
    );
  }
}

/** Parses `retry-after` (seconds or HTTP date) and `retry-after-ms` into milliseconds. */
export function parseRetryAfter(headers: Headers | Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const get = (k: string) => (headers instanceof Headers ? headers.get(k) : headers[k]) ?? undefined;
  const ms = get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = get('retry-after');
  if (!ra) return undefined;
  if (Number.isFinite(Number(ra))) return Math.max(0, Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
