import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors.ts';
import { ROOT } from './paths.ts';

/** The package's YAML files parsed at build time, by the sha256 of their text (scripts/build.mjs). */
let parsedAtBuild: Map<string, string> | undefined;

function builtYaml(text: string): unknown {
  if (!parsedAtBuild) {
    parsedAtBuild = new Map();
    try {
      const file = join(ROOT, 'dist', 'yaml-cache.json');
      parsedAtBuild = new Map(
        Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>),
      );
    } catch {
      // No build (the sources run through tsx) or an unreadable cache: files are parsed.
    }
  }
  if (!parsedAtBuild.size) return undefined;
  const json = parsedAtBuild.get(createHash('sha256').update(text).digest('hex'));
  return json === undefined ? undefined : JSON.parse(json);
}

/** Reads a YAML (or JSON) file, or throws a ConfigError naming the file and line. */
export function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(file, '', 'cannot read the file', { cause, hint: 'check the path' });
  }
  const built = builtYaml(text);
  if (built !== undefined) return built;
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    throw new ConfigError(file, line ? `line ${line}` : '', `invalid YAML: ${first.message.split('\n')[0]}`, {
      cause: first,
    });
  }
  return doc.toJS();
}

/** Formats a zod issue path like `experts[2].capacity`. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Validates parsed data, or throws a ConfigError naming the file, the path inside it and what was expected. */
export function parseWith<T extends z.ZodType>(schema: T, data: unknown, file: string): z.infer<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ConfigError(file, '', 'invalid content');
  throw new ConfigError(file, issuePath(issue.path) || '(top level)', issue.message, { cause: result.error });
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML value.
 * A variable that is unset and has no default is an error naming where it was used.
 */
export function interpolateEnv(
  value: unknown,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (_m, name: string, def?: string) => {
        const v = env[name];
        if (v !== undefined && v !== '') return v;
        if (def !== undefined) return def;
        throw new ConfigError(file, issuePath(path), `environment variable ${name} is not set`, {
          hint: `export ${name}=… or give a default as \${${name}:-value}`,
        });
      },
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, file, env, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, file, env, [...path, k])]),
    );
  }
  return value;
}
