/**
 * The user's checkout of the Maestro release, where the `release` skills read their prompt
 * texts at run time (this repository does not carry them).
 *
 * Where it is, first match wins: the `--upstream DIR` option (the CLI puts it in
 * MAESTRO_UPSTREAM), the MAESTRO_UPSTREAM environment variable, the registry's `upstream:` key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PermanentError } from '../../src/core/errors.ts';
import { type Part, PySource, PySourceError, renderParts } from './pysource.ts';

export class ReleaseTextError extends PermanentError {}

const HINT =
  'point --upstream DIR, MAESTRO_UPSTREAM or the registry key `upstream:` at a checkout of the Maestro release (the folder holding Maestro/ and skills/)';

/** The checkout directory, or undefined when none is configured. */
export function upstreamDir(
  registryValue: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const fromEnv = env.MAESTRO_UPSTREAM?.trim();
  if (fromEnv) return resolve(fromEnv);
  return registryValue ? resolve(registryValue) : undefined;
}

const opened = new Map<string, ReleaseTexts>();

/** The texts of a checkout, opened once per process. */
export function releaseTexts(dir: string): ReleaseTexts {
  let t = opened.get(dir);
  if (!t) {
    t = new ReleaseTexts(dir);
    opened.set(dir, t);
  }
  return t;
}

/** Where the release's texts come from, for errors when none is configured. */
export const UPSTREAM_HINT = HINT;

/** Prompt texts read from a release checkout; files are read once. */
export class ReleaseTexts {
  private readonly files = new Map<string, PySource>();

  constructor(readonly dir: string) {
    if (!existsSync(join(dir, 'skills'))) {
      throw new ReleaseTextError(`release checkout ${dir}: no skills/ folder there`, { hint: HINT });
    }
  }

  source(file: string): PySource {
    let src = this.files.get(file);
    if (!src) {
      const path = join(this.dir, file);
      if (!existsSync(path)) {
        throw new ReleaseTextError(`release checkout ${this.dir}: ${file} is missing`, { hint: HINT });
      }
      // Python reads source with universal newlines: CRLF inside a literal is LF.
      src = new PySource(readFileSync(path, 'utf8').replace(/\r\n?/g, '\n'), file);
      this.files.set(file, src);
    }
    return src;
  }

  private fail(file: string, what: string, err: unknown): never {
    const why = err instanceof Error ? err.message : String(err);
    throw new ReleaseTextError(`release checkout ${this.dir}: ${file}: cannot read ${what} (${why})`, {
      hint: 'the checkout may be of another release version than the one these skills follow (5b8257c)',
    });
  }

  /** A module-level string constant, with other constants it adds (`A = """…""" + B`) filled in. */
  constant(file: string, name: string): string {
    const src = this.source(file);
    const at = src.assignment(name);
    if (at === undefined) {
      throw new ReleaseTextError(`release checkout ${this.dir}: ${file} has no constant ${name}`, {
        hint: HINT,
      });
    }
    try {
      const parts = src.expression(at);
      const values: Record<string, string> = {};
      for (const p of parts) if ('expr' in p) values[p.expr] = this.constant(file, p.expr);
      return renderParts(parts, values, `${file} ${name}`);
    } catch (err) {
      if (err instanceof ReleaseTextError) throw err;
      return this.fail(file, `constant ${name}`, err);
    }
  }

  /** The string expression after a chain of anchors (e.g. `def _build_x`, then `return`). */
  template(file: string, anchors: readonly string[]): Template {
    const src = this.source(file);
    const where = `${file} ${anchors.join(' … ')}`;
    try {
      let pos = 0;
      for (const a of anchors) pos = src.after(a, pos);
      return new Template(src.expression(pos), where);
    } catch (err) {
      return this.fail(file, `the string at ${anchors.join(' … ')}`, err);
    }
  }

  /** The next `count` string groups after a chain of anchors. */
  literals(file: string, anchors: readonly string[], count: number): Template[] {
    const src = this.source(file);
    const where = `${file} ${anchors.join(' … ')}`;
    try {
      let pos = 0;
      for (const a of anchors) pos = src.after(a, pos);
      return src.literalsAfter(pos, count).map((parts, i) => new Template(parts, `${where} #${i + 1}`));
    } catch (err) {
      return this.fail(file, `${count} string(s) at ${anchors.join(' … ')}`, err);
    }
  }

  /** The string list after a chain of anchors (`requirements=[…]`, a module-level list). */
  list(file: string, anchors: readonly string[]): string[] {
    const src = this.source(file);
    try {
      let pos = 0;
      for (const a of anchors) pos = src.after(a, pos);
      return src.stringList(pos).items;
    } catch (err) {
      return this.fail(file, `the list at ${anchors.join(' … ')}`, err);
    }
  }

  /** A module-level dict of string lists (`NAME = {"k": [...]}`). */
  listDict(file: string, name: string): Record<string, string[]> {
    const src = this.source(file);
    const at = src.assignment(name);
    if (at === undefined) {
      throw new ReleaseTextError(`release checkout ${this.dir}: ${file} has no constant ${name}`, {
        hint: HINT,
      });
    }
    try {
      return src.stringListDict(at);
    } catch (err) {
      return this.fail(file, `constant ${name}`, err);
    }
  }

  /** A module-level list constant of strings. */
  listConstant(file: string, name: string): string[] {
    const src = this.source(file);
    const at = src.assignment(name);
    if (at === undefined) {
      throw new ReleaseTextError(`release checkout ${this.dir}: ${file} has no constant ${name}`, {
        hint: HINT,
      });
    }
    try {
      return src.stringList(at).items;
    } catch (err) {
      return this.fail(file, `constant ${name}`, err);
    }
  }

  /** A keyword argument's literal value in the source (`use_ocr=True` → "True"). */
  keyword(file: string, name: string): string {
    const m = new RegExp(`\\b${name}\\s*=\\s*([A-Za-z0-9_.]+)`).exec(this.source(file).text);
    if (!m)
      throw new ReleaseTextError(`release checkout ${this.dir}: ${file} sets no ${name}=`, { hint: HINT });
    return m[1]!;
  }

  /** The one literal (without fields) after a chain of anchors. */
  literal(file: string, anchors: readonly string[]): string {
    return this.literals(file, anchors, 1)[0]!.render({});
  }
}

/** A string expression with named fields, rendered with values the skill supplies. */
export class Template {
  constructor(
    readonly parts: Part[],
    readonly where: string,
  ) {}

  /** The field names it needs. */
  fields(): string[] {
    return this.parts.flatMap((p) => ('expr' in p ? [p.expr] : []));
  }

  render(values: Record<string, string>): string {
    try {
      return renderParts(this.parts, values, this.where);
    } catch (err) {
      if (err instanceof PySourceError) {
        throw new ReleaseTextError(err.message, {
          hint: 'the checkout may be of another release version than the one these skills follow (5b8257c)',
        });
      }
      throw err;
    }
  }
}
