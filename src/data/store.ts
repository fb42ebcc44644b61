import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { ConfigError, NotFoundError } from '../core/errors.ts';
import { FailedItem } from '../core/failed.ts';
import { fastParse } from '../core/fast-check.ts';
import { writeFileAtomic } from '../core/files.ts';
import { slug } from '../core/hash.ts';
import { type Intern, interner } from '../core/intern.ts';
import { type ImageRef, Item, ItemRecord, slimRecord } from '../core/items.ts';
import { issuePath } from '../core/yaml-file.ts';
import { JournalWriter, type RecordEntry, RecordIndex, recordLine, voidLine } from './journal.ts';

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
/** How long a journal nobody appends to stays open (ms). */
const JOURNAL_IDLE_MS = 30_000;
/**
 * Bytes of journal lines a waiting client keeps for its report (about 4,000 records of a
 * direct sweep): items.jsonl is then written without reading them again; the records past
 * it are read again from their journals. Kept in slabs of LINE_SLAB bytes.
 */
const LINES_AHEAD_BUDGET = 8 * 2 ** 20;
const LINE_SLAB = 2 ** 20;

/**
 * Names this process's journals and record writes apart from any other writer's: its id and
 * a random tag drawn once (processes on other hosts sharing the folder may have the same
 * id); each write adds a count.
 */
const WRITER_TAG = `${process.pid}-${randomBytes(4).toString('hex')}`;
let writeCount = 0;

export class DataStore {
  readonly root: string;
  /** This process's journal writer per records folder, and the folders' indexes. */
  private readonly writers = new Map<string, JournalWriter>();
  private readonly indexes = new Map<string, RecordIndex>();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Where each record `readRecords` handed out was read from (for `wholeRecord`). */
  private readonly handedOut = new WeakMap<ItemRecord, RecordEntry>();
  /** Slim records parsed ahead (`readAhead`), by where they were read (a record rewritten is a new entry). */
  private readonly slimAhead = new WeakMap<RecordEntry, ItemRecord>();
  private readonly interners = new Map<string, Intern>();
  /** Where `readAhead` stopped in each index's found entries (see RecordIndex.follow). */
  private readonly aheadCursors = new WeakMap<RecordIndex, number>();
  /**
   * The journal lines of a waiting client's records (read by `readAhead`, then by
   * `readRecords` for those that landed after its last call), kept for `recordLine`: the
   * report's items.jsonl copies them without reading them again. They sit in slabs of
   * LINE_SLAB bytes, LINES_AHEAD_BUDGET bytes of slabs in all.
   */
  private readonly linesAhead = new WeakMap<RecordEntry, Buffer>();
  private linesAheadBytes = 0;
  private lineSlab = Buffer.alloc(0);
  private lineSlabUsed = 0;
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
      const parsed = fastParse(Item, parseJson(line, file, `line ${i + 1}`));
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
    return join(this.recordsDir(sweepId), `${slug(rolloutId, 200)}.json`);
  }

  /**
   * A record in a file of its own (fsync'd, replacing an earlier one of this kind): records
   * made outside the workers (`maestro-eval score`). It counts over the journals' records
   * of the rollout when it is the newer.
   */
  async writeRecord(record: ItemRecord): Promise<void> {
    await writeFileAtomic(this.recordPath(record.sweepId, record.rolloutId), JSON.stringify(record));
  }

  /**
   * Whether this process can write records here: the sweeps folder (or, before the first
   * sweep, the data directory) is writable, e.g. not a read-only mount.
   */
  canWriteRecords(): boolean {
    const sweeps = join(this.root, 'sweeps');
    try {
      accessSync(existsSync(sweeps) ? sweeps : this.root, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** Whether this data directory holds a sweep: its `sweep.json`, written when it is submitted here. */
  holdsSweep(sweepId: string): boolean {
    return existsSync(join(this.sweepDir(sweepId), 'sweep.json'));
  }

  /** The records folder of a sweep. */
  recordsDir(sweepId: string): string {
    return join(this.sweepDir(sweepId), 'records');
  }

  /**
   * Appends a rollout's record (`json`: its JSON text, when the caller made it already) to
   * this process's journal of the sweep (see journal.ts) and resolves once it is on the
   * disk, with the write's id (to void it with, should another record of the rollout have
   * been counted first).
   */
  async appendRecord(record: ItemRecord, json = JSON.stringify(record)): Promise<string> {
    const wid = `${WRITER_TAG}.${++writeCount}`;
    await this.journal(record.sweepId).append(recordLine(wid, Date.now(), record.rolloutId, json));
    return wid;
  }

  /** Voids records written earlier (by their write ids); durable when it resolves. */
  async voidRecords(sweepId: string, wids: string[]): Promise<void> {
    if (!wids.length) return;
    const now = Date.now();
    await this.journal(sweepId).append(wids.map((w) => voidLine(w, now)).join(''));
  }

  /**
   * Removes the records of these rollouts (so they can run again): the journals' ones are
   * voided, files of the older kind removed. Returns how many records went.
   */
  async removeRecords(sweepId: string, rolloutIds: string[]): Promise<number> {
    const index = this.index(sweepId);
    const wids: string[] = [];
    let removed = 0;
    for (const id of rolloutIds) {
      for (const e of index.live(id)) {
        if (e.length < 0) await rm(e.file, { force: true });
        else wids.push(e.wid);
        removed++;
      }
    }
    await this.voidRecords(sweepId, wids);
    return removed;
  }

  /** The journal this process appends a sweep's records to now. */
  journalPath(sweepId: string): string {
    return this.journal(sweepId).file;
  }

  /** This process's journal writer for a sweep (one per records folder). */
  private journal(sweepId: string): JournalWriter {
    const dir = this.recordsDir(sweepId);
    let writer = this.writers.get(dir);
    if (!writer) {
      writer = new JournalWriter(dir, WRITER_TAG);
      this.writers.set(dir, writer);
      this.closeIdleJournals();
    }
    return writer;
  }

  /** Closes the journals of sweeps this process has not written to for a while. */
  private closeIdleJournals(): void {
    if (this.idleTimer) return;
    this.idleTimer = setInterval(() => {
      const now = performance.now();
      for (const [dir, w] of this.writers) {
        if (w.busy || now - w.lastUsed < JOURNAL_IDLE_MS) continue;
        w.close();
        this.writers.delete(dir);
      }
      if (!this.writers.size) {
        clearInterval(this.idleTimer);
        this.idleTimer = undefined;
      }
    }, JOURNAL_IDLE_MS);
    this.idleTimer.unref();
  }

  /** The interner of a sweep's slim records (see slimRecord), kept as long as the store. */
  private interner(sweepId: string): Intern {
    let intern = this.interners.get(sweepId);
    if (!intern) {
      intern = interner();
      this.interners.set(sweepId, intern);
    }
    return intern;
  }

  /** The sweep's record index, brought up to date. */
  private index(sweepId: string): RecordIndex {
    const dir = this.recordsDir(sweepId);
    let index = this.indexes.get(dir);
    if (!index) {
      index = new RecordIndex(dir);
      this.indexes.set(dir, index);
    }
    index.refresh();
    return index;
  }

  /** Parses one record's text (naming where it is when it is broken). */
  private parseRecord(index: RecordIndex, entry: RecordEntry, text = index.text(entry)): ItemRecord {
    const where = entry.length < 0 ? '' : `bytes ${entry.start}+${entry.length}`;
    const parsed = fastParse(ItemRecord, parseJson(text, entry.file, where));
    if (!parsed.success)
      throw new ConfigError(entry.file, where, parsed.error.issues[0]?.message ?? 'invalid record');
    return parsed.data;
  }

  async readRecord(sweepId: string, rolloutId: string): Promise<ItemRecord | null> {
    try {
      const index = this.index(sweepId);
      const entry = index.winner(rolloutId);
      return entry ? this.parseRecord(index, entry) : null;
    } catch {
      return null;
    }
  }

  /**
   * The whole record of one `readRecords` gave (slim or not), read again from where it was
   * found (journals only grow, so the bytes are the ones checked then); a record this store
   * did not hand out is returned as it is.
   */
  wholeRecord(record: ItemRecord): ItemRecord {
    const entry = this.handedOut.get(record);
    const index = this.indexes.get(this.recordsDir(record.sweepId));
    if (!entry || !index) return record;
    if (entry.length < 0) return this.parseRecord(index, entry);
    return JSON.parse(index.text(entry)) as ItemRecord;
  }

  /**
   * The JSON text of a record `readRecords` gave, as its journal holds it (one line, the bytes
   * checked then): what `JSON.stringify(wholeRecord(record))` gives, without parsing it again.
   * Undefined for a record this store did not hand out, or one kept in a file of its own.
   */
  recordText(record: ItemRecord): string | undefined {
    const entry = this.handedOut.get(record);
    const index = this.indexes.get(this.recordsDir(record.sweepId));
    if (!entry || !index || entry.length < 0) return undefined;
    return index.text(entry);
  }

  /**
   * The line items.jsonl holds for a record `readRecords` gave: its JSON as the journal holds
   * it and a newline, as bytes (`recordText` and a newline, not decoded). Undefined where
   * `recordText` is.
   */
  recordLine(record: ItemRecord): Buffer | undefined {
    const entry = this.handedOut.get(record);
    const index = this.indexes.get(this.recordsDir(record.sweepId));
    if (!entry || !index || entry.length < 0) return undefined;
    return this.linesAhead.get(entry) ?? index.lineBytes(entry);
  }

  /** Whether a rollout has a record. */
  hasRecord(sweepId: string, rolloutId: string): boolean {
    return this.index(sweepId).winner(rolloutId) !== undefined;
  }

  /**
   * What changes when a sweep's records do (the records folder and its journals' sizes):
   * readers that cache the records compare it.
   */
  async recordsVersion(sweepId: string): Promise<string | null> {
    const dir = this.recordsDir(sweepId);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return null;
    }
    const parts = [String((await stat(dir)).mtimeMs)];
    for (const name of names.filter((n) => n.endsWith('.journal')).sort()) {
      parts.push(`${name}:${(await stat(join(dir, name)).catch(() => null))?.size}`);
    }
    return parts.join(',');
  }

  /** How many rollouts of a sweep have a record (records' texts are not parsed). */
  async countRecords(sweepId: string): Promise<number> {
    let n = 0;
    for (const _ of this.index(sweepId).winners()) n++;
    return n;
  }

  /**
   * Parses the sweep's records written since the last call, slim, for the next
   * `readRecords(sweepId, { slim: true })`: a client waiting for a sweep reads them while it
   * would be idle, not all at the end. A broken record is left for `readRecords` to report.
   * Returns how many were parsed.
   */
  readAhead(sweepId: string): number {
    const index = this.index(sweepId);
    const intern = this.interner(sweepId);
    // The first call looks at every record; later ones only at what the scans found since
    // (a wait polls many times: looking at all of a large sweep's records each time cost
    // more than parsing the new ones).
    const since = index.follow() ? undefined : (this.aheadCursors.get(index) ?? 0);
    const candidates = since === undefined ? index.winnersById() : index.winnersFoundSince(since);
    this.aheadCursors.set(index, index.foundCount);
    let n = 0;
    for (const [rolloutId, entry] of candidates) {
      if (this.slimAhead.has(entry)) continue;
      try {
        this.slimAhead.set(entry, this.slimRecord(index, entry, intern, rolloutId, true));
        n++;
      } catch {
        // readRecords names it.
      }
    }
    return n;
  }

  /**
   * A record read slim. With `keepLine` (a waiting client), its journal line is kept for
   * `recordLine` while the budget lasts (see linesAhead): the report's items.jsonl copies it
   * without reading it again.
   */
  private slimRecord(
    index: RecordIndex,
    entry: RecordEntry,
    intern: Intern,
    rolloutId: string,
    keepLine: boolean,
  ) {
    const into = keepLine && entry.length >= 0 ? this.lineRoom(entry.length + 1) : undefined;
    const line = into ? index.lineBytes(entry, into) : undefined;
    const record = slimRecord(
      this.parseRecord(index, entry, line?.toString('utf8', 0, entry.length)),
      intern,
      rolloutId,
    );
    if (line) {
      this.linesAhead.set(entry, line);
      this.lineSlabUsed += line.length;
    }
    return record;
  }

  /** Room for a kept line of `size` bytes (see linesAhead); undefined once the budget is spent. */
  private lineRoom(size: number): Buffer | undefined {
    if (this.lineSlabUsed + size > this.lineSlab.length) {
      const slab = Math.max(LINE_SLAB, size);
      if (this.linesAheadBytes + slab > LINES_AHEAD_BUDGET) return undefined;
      this.lineSlab = Buffer.allocUnsafeSlow(slab);
      this.lineSlabUsed = 0;
      this.linesAheadBytes += slab;
    }
    return this.lineSlab.subarray(this.lineSlabUsed, this.lineSlabUsed + size);
  }

  /**
   * All records of a sweep, in a stable order (independent of which worker wrote what, when).
   * `slim`: without their long texts (see slimRecord), for tables over large sweeps.
   */
  async readRecords(sweepId: string, opts: { slim?: boolean } = {}): Promise<ItemRecord[]> {
    const index = this.index(sweepId);
    const intern = this.interner(sweepId);
    // A client that waited (read ahead) keeps the lines of the last records too; `report`
    // alone keeps none (it would hold them longer than reading them again costs).
    const waiting = this.aheadCursors.has(index);
    const entries = [...index.winnersById()].sort(([, a], [, b]) =>
      a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.start - b.start,
    );
    const records: ItemRecord[] = [];
    for (const [i, [rolloutId, entry]] of entries.entries()) {
      // Other work of this process gets a turn every 500 records.
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
      const ahead = opts.slim ? this.slimAhead.get(entry) : undefined;
      const out =
        ahead ??
        (opts.slim
          ? this.slimRecord(index, entry, intern, rolloutId, waiting)
          : this.parseRecord(index, entry));
      this.handedOut.set(out, entry);
      records.push(out);
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
    const index = this.index(sweepId);
    for (const name of names) {
      const parsed = FailedItem.safeParse(
        parseJson(await readFile(join(dir, name), 'utf8'), join(dir, name)),
      );
      if (parsed.success && !index.winner(parsed.data.rolloutId)) out.push(parsed.data);
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
