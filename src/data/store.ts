import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsync,
  linkSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { ConfigError, NotFoundError } from '../core/errors.ts';
import { FailedItem } from '../core/failed.ts';
import { writeFileAtomic } from '../core/files.ts';
import { slug } from '../core/hash.ts';
import { type ImageRef, Item, ItemRecord, slimRecord } from '../core/items.ts';
import { issuePath } from '../core/yaml-file.ts';

const EXT: Record<ImageRef['mime'], string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

export const DatasetManifest = z.object({
  benchmark: z.string(),
  /** sha256 of items.jsonl: part of a sweep's fingerprint. */
  version: z.string(),
  count: z.number().int().nonnegative(),
  source: z.string(),
  createdAt: z.string(),
});
export type DatasetManifest = z.infer<typeof DatasetManifest>;

export interface Dataset {
  manifest: DatasetManifest;
  items: Item[];
  byId: Map<string, Item>;
}

export { writeFileAtomic };

/** JSON.parse with an error that names the file (and line) instead of a bare SyntaxError. */
function parseJson(text: string, file: string, where = ''): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(file, where, `not valid JSON (${cause instanceof Error ? cause.message : cause})`, {
      cause,
      hint: 'the file was changed by hand or written by something else; re-import or remove it',
    });
  }
}

/** How long a loaded dataset is used without looking at its manifest again (ms). */
const DATASET_RECHECK_MS = 1_000;

/**
 * The data directory every host reads: content-addressed images, canonical datasets and
 * per-item sweep records. Job payloads carry references into it, never bytes.
 */
/**
 * Names a record's temporary file apart from any other writer's: this process's id and a
 * random tag drawn once (processes on other hosts sharing the folder may have the same id),
 * then a count.
 */
const TEMP_TAG = `${process.pid}-${randomBytes(4).toString('hex')}`;
let tempCount = 0;

export class DataStore {
  readonly root: string;
  /** Record directories known to exist (created once per process). */
  private readonly recordDirs = new Set<string>();
  private readonly datasetCache = new Map<string, { mtimeMs: number; checkedAt: number; dataset: Dataset }>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  // ---- images -------------------------------------------------------------------------

  imagePath(ref: Pick<ImageRef, 'sha256' | 'mime'>): string {
    if (!/^[0-9a-f]{64}$/.test(ref.sha256))
      throw new ConfigError('(image ref)', 'sha256', 'not a sha256 hex digest');
    return join(this.root, 'images', ref.sha256.slice(0, 2), `${ref.sha256}.${EXT[ref.mime]}`);
  }

  /** Stores image bytes once, under their hash. */
  async putImage(
    bytes: Uint8Array,
    mime: ImageRef['mime'],
    size?: { width: number; height: number },
  ): Promise<ImageRef> {
    const sha = createHash('sha256').update(bytes).digest('hex');
    const ref: ImageRef = { sha256: sha, mime, ...(size ?? {}) };
    const path = this.imagePath(ref);
    if (!existsSync(path)) await writeFileAtomic(path, bytes);
    return ref;
  }

  async readImage(ref: Pick<ImageRef, 'sha256' | 'mime'>): Promise<Buffer> {
    const path = this.imagePath(ref);
    try {
      return await readFile(path);
    } catch (cause) {
      throw new NotFoundError(`image ${ref.sha256.slice(0, 12)}… is not in the data directory ${this.root}`, {
        hint: 'every host must see the same data directory (MAESTRO_DATA_DIR); re-run the import',
        cause,
      });
    }
  }

  // ---- datasets -----------------------------------------------------------------------

  datasetDir(benchmark: string): string {
    return join(this.root, 'datasets', slug(benchmark));
  }

  /** Writes a dataset whole: a partial write never replaces a good one. */
  async writeDataset(benchmark: string, items: Item[], source: string): Promise<DatasetManifest> {
    const ids = new Set<string>();
    items.forEach((item, i) => {
      if (item.benchmark !== benchmark) {
        throw new ConfigError(
          source,
          `items[${i}].benchmark`,
          `expected "${benchmark}", got "${item.benchmark}"`,
        );
      }
      if (ids.has(item.id)) throw new ConfigError(source, `items[${i}].id`, `duplicate item id "${item.id}"`);
      ids.add(item.id);
    });
    const text = items.map((it) => JSON.stringify(Item.parse(it))).join('\n') + (items.length ? '\n' : '');
    const manifest: DatasetManifest = {
      benchmark,
      version: createHash('sha256').update(text).digest('hex'),
      count: items.length,
      source,
      createdAt: new Date().toISOString(),
    };
    const dir = this.datasetDir(benchmark);
    const staging = `${dir}.staging-${process.pid}-${randomBytes(4).toString('hex')}`;
    await mkdir(staging, { recursive: true });
    await writeFileAtomic(join(staging, 'items.jsonl'), text);
    await writeFileAtomic(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const old = `${dir}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
    if (existsSync(dir)) await rename(dir, old);
    await rename(staging, dir);
    await rm(old, { recursive: true, force: true });
    this.datasetCache.delete(benchmark);
    return manifest;
  }

  hasDataset(benchmark: string): boolean {
    return existsSync(join(this.datasetDir(benchmark), 'manifest.json'));
  }

  /**
   * Loads a dataset (cached while its manifest is unchanged; the manifest is looked at at
   * most once a second, not on every item read).
   */
  async loadDataset(benchmark: string): Promise<Dataset> {
    const recent = this.datasetCache.get(benchmark);
    if (recent && performance.now() - recent.checkedAt < DATASET_RECHECK_MS) return recent.dataset;
    const dir = this.datasetDir(benchmark);
    const manifestPath = join(dir, 'manifest.json');
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(manifestPath)).mtimeMs;
    } catch (cause) {
      throw new NotFoundError(`no dataset for benchmark "${benchmark}" in ${this.root}`, {
        hint: 'run `maestro-eval data fixtures` or `maestro-eval data import` first',
        cause,
      });
    }
    const cached = this.datasetCache.get(benchmark);
    if (cached && cached.mtimeMs === mtimeMs) {
      cached.checkedAt = performance.now();
      return cached.dataset;
    }
    const manifestParsed = DatasetManifest.safeParse(
      parseJson(await readFile(manifestPath, 'utf8'), manifestPath),
    );
    if (!manifestParsed.success) {
      const issue = manifestParsed.error.issues[0];
      throw new ConfigError(manifestPath, issuePath(issue?.path ?? []), issue?.message ?? 'invalid manifest');
    }
    const manifest = manifestParsed.data;
    const file = join(dir, 'items.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const items: Item[] = [];
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      const parsed = Item.safeParse(parseJson(line, file, `line ${i + 1}`));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issuePath(issue?.path ?? []);
        throw new ConfigError(
          file,
          `line ${i + 1}${field ? `, ${field}` : ''}`,
          issue?.message ?? 'invalid item',
        );
      }
      items.push(parsed.data);
    });
    const dataset: Dataset = { manifest, items, byId: new Map(items.map((it) => [it.id, it])) };
    this.datasetCache.set(benchmark, { mtimeMs, checkedAt: performance.now(), dataset });
    return dataset;
  }

  async item(benchmark: string, itemId: string): Promise<Item> {
    const item = (await this.loadDataset(benchmark)).byId.get(itemId);
    if (!item) throw new NotFoundError(`item "${itemId}" is not in the ${benchmark} dataset`);
    return item;
  }

  // ---- sweep records ------------------------------------------------------------------

  sweepDir(sweepId: string): string {
    return join(this.root, 'sweeps', slug(sweepId, 120));
  }

  recordPath(sweepId: string, rolloutId: string): string {
    return join(this.sweepDir(sweepId), 'records', `${slug(rolloutId, 200)}.json`);
  }

  /** Durable per-item record (fsync'd). Same rollout → same file: writing twice cannot count twice. */
  async writeRecord(record: ItemRecord): Promise<void> {
    await writeFileAtomic(this.recordPath(record.sweepId, record.rolloutId), JSON.stringify(record));
  }

  /**
   * Writes a rollout's record only if it has none yet (temp file, fsync, then a hard link,
   * which fails if the record exists, even on NFS). Returns false when another writer got
   * there first: two processes scoring the same rollout at once write one record.
   */
  async createRecord(record: ItemRecord): Promise<boolean> {
    const path = this.recordPath(record.sweepId, record.rolloutId);
    const tmp = `${path}.${TEMP_TAG}.${++tempCount}.tmp`;
    // The file operations that return at once (open, write, close, link, unlink) run
    // synchronously; only the fsync, which waits for the disk, goes to the thread pool.
    // Errors before the link (a records folder that cannot be made or written) are storage
    // errors; only the link's EEXIST means the record exists.
    const fd = await this.openInRecordDir(tmp);
    try {
      try {
        writeFileSync(fd, JSON.stringify(record));
        await new Promise<void>((done, fail) => fsync(fd, (err) => (err ? fail(err) : done())));
      } finally {
        closeSync(fd);
      }
      linkSync(tmp, path);
      return true;
    } catch (err) {
      if (
        (err as NodeJS.ErrnoException).syscall === 'link' &&
        (err as NodeJS.ErrnoException).code === 'EEXIST'
      )
        return false;
      throw err;
    } finally {
      try {
        unlinkSync(tmp);
      } catch {}
    }
  }

  /** Opens a new file in a records directory, made once per process (again if it was removed). */
  private async openInRecordDir(file: string): Promise<number> {
    const dir = dirname(file);
    if (this.recordDirs.has(dir)) {
      try {
        return openSync(file, 'w');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    await mkdir(dir, { recursive: true });
    this.recordDirs.add(dir);
    return openSync(file, 'w');
  }

  async readRecord(sweepId: string, rolloutId: string): Promise<ItemRecord | null> {
    try {
      // A record is a small local file: read at once (a promise read costs ten times the CPU).
      return ItemRecord.parse(JSON.parse(readFileSync(this.recordPath(sweepId, rolloutId), 'utf8')));
    } catch {
      return null;
    }
  }

  /** How many records a sweep has (file names only: nothing is parsed). */
  async countRecords(sweepId: string): Promise<number> {
    try {
      return (await readdir(join(this.sweepDir(sweepId), 'records'))).filter((n) => n.endsWith('.json'))
        .length;
    } catch {
      return 0;
    }
  }

  /**
   * All records of a sweep, in a stable order (independent of which worker wrote what, when).
   * `slim`: without their long texts (see slimRecord), for tables over large sweeps.
   */
  async readRecords(sweepId: string, opts: { slim?: boolean } = {}): Promise<ItemRecord[]> {
    const dir = join(this.sweepDir(sweepId), 'records');
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const records: ItemRecord[] = [];
    for (const [i, name] of names.entries()) {
      const file = join(dir, name);
      // Small local files, read at once (a promise read costs ten times the CPU); other work
      // of this process gets a turn every 500 files.
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
      const parsed = ItemRecord.safeParse(parseJson(readFileSync(file, 'utf8'), file));
      if (!parsed.success)
        throw new ConfigError(file, '', parsed.error.issues[0]?.message ?? 'invalid record');
      records.push(opts.slim ? slimRecord(parsed.data) : parsed.data);
    }
    records.sort((a, b) =>
      a.policy !== b.policy
        ? a.policy < b.policy
          ? -1
          : 1
        : a.benchmark !== b.benchmark
          ? a.benchmark < b.benchmark
            ? -1
            : 1
          : a.itemId !== b.itemId
            ? a.itemId < b.itemId
              ? -1
              : 1
            : a.seed - b.seed,
    );
    return records;
  }

  failurePath(sweepId: string, rolloutId: string): string {
    return join(this.sweepDir(sweepId), 'failed', `${slug(rolloutId, 200)}.json`);
  }

  /** Notes a rollout that failed for good (replaced if noted before). */
  async writeFailure(failure: FailedItem): Promise<void> {
    await writeFileAtomic(this.failurePath(failure.sweepId, failure.rolloutId), JSON.stringify(failure));
  }

  async removeFailure(sweepId: string, rolloutId: string): Promise<void> {
    await rm(this.failurePath(sweepId, rolloutId), { force: true });
  }

  /** Failed rollouts of a sweep that have no record (a record, written later, wins). */
  async readFailures(sweepId: string): Promise<FailedItem[]> {
    const dir = join(this.sweepDir(sweepId), 'failed');
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
    } catch {
      return [];
    }
    const out: FailedItem[] = [];
    for (const name of names) {
      const parsed = FailedItem.safeParse(
        parseJson(await readFile(join(dir, name), 'utf8'), join(dir, name)),
      );
      if (parsed.success && !existsSync(this.recordPath(sweepId, parsed.data.rolloutId)))
        out.push(parsed.data);
    }
    return out;
  }

  /**
   * Removes the temp files of record writes that never finished (a scorer killed between
   * open and rename), older than `olderThanMs` so that a write in progress elsewhere is
   * left alone. Reports ignore them anyway (they read `*.json` only). Returns their paths.
   */
  async removeStaleTemps(olderThanMs = 5 * 60_000, now = Date.now()): Promise<string[]> {
    const removed: string[] = [];
    let sweeps: string[];
    try {
      sweeps = await readdir(join(this.root, 'sweeps'));
    } catch {
      return removed;
    }
    for (const sweep of sweeps) {
      const dir = join(this.root, 'sweeps', sweep, 'records');
      let names: string[];
      try {
        names = (await readdir(dir)).filter((n) => n.endsWith('.tmp'));
      } catch {
        continue;
      }
      for (const name of names) {
        const file = join(dir, name);
        try {
          if (now - (await stat(file)).mtimeMs < olderThanMs) continue;
          await rm(file, { force: true });
          removed.push(file);
        } catch {
          // Removed by another scorer meanwhile.
        }
      }
    }
    return removed;
  }

  /** Resolves a user-given relative path inside a base directory, refusing escapes. */
  static safeJoin(base: string, relative: string): string {
    const full = resolve(base, relative);
    const root = resolve(base);
    if (full !== root && !full.startsWith(root + sep)) {
      throw new ConfigError(relative, '', `path escapes ${root}`);
    }
    return full;
  }
}
