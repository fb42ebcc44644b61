/**
 * Record journals: how a sweep's records reach the disk.
 *
 * Each writing process appends the records it makes to a file of its own in the sweep's
 * `records/` folder (`<tag>-<generation>.journal`, one line per record). Appends that
 * arrive while the previous group is being flushed wait for the next group: one write and
 * one fdatasync cover every record of a group, and each writer's promise settles only once
 * its line is on the disk. No file is created per record.
 *
 * Lines (tab-separated; JSON never holds a raw tab or line break):
 *   R <wid> <at> <rollout id as JSON> <record as JSON>   a record, `wid` unique to this write
 *   V <wid> <at>                                          the record written as `wid` is void
 *
 * Which record a rollout has: among its records that are not void, the one appended last
 * (`at`, milliseconds of the writer's clock; then the file's name and the line's place).
 * Records written one per file (`<rollout>.json`, by `maestro-eval score` and by earlier
 * versions) take part too, with their file's modification time as `at`.
 *
 * A line cut short by a crash is the last of its file (a writer that fails to write moves
 * to a new file), has no line break, and is never read.
 */
import {
  closeSync,
  fdatasync,
  fstatSync,
  fsync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';

const TAB = 9;
const NEWLINE = 10;
/** How much of a journal is read at a time when scanning it, into one buffer kept for it. */
const CHUNK = 1 << 20;
let chunk: Buffer | undefined;
/** Where one record's text is read (grown to the largest record read). */
let scratch = Buffer.alloc(0);

const syncData = (fd: number) =>
  new Promise<void>((done, fail) => fdatasync(fd, (err) => (err ? fail(err) : done())));
const syncAll = (fd: number) =>
  new Promise<void>((done, fail) => fsync(fd, (err) => (err ? fail(err) : done())));

/** One process's journal in one records folder: appends in groups, each group made durable once. */
export class JournalWriter {
  private fd: number | null = null;
  private generation = 0;
  private pending: string[] = [];
  private waiters: Array<{ done: () => void; fail: (err: unknown) => void }> = [];
  private flushing = false;
  /** When the last group was flushed (performance.now()), for closing idle journals. */
  lastUsed = performance.now();

  constructor(
    readonly dir: string,
    private readonly tag: string,
  ) {}

  /** Appends one line (ending in a line break); resolves once it is on the disk. */
  append(line: string): Promise<void> {
    return new Promise((done, fail) => {
      this.pending.push(line);
      this.waiters.push({ done, fail });
      // Lines appended in the same turn of the event loop go out together.
      if (!this.flushing && this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  /** The file this writer appends to now. */
  get file(): string {
    return join(this.dir, `${this.tag}-${this.generation}.journal`);
  }

  /** Whether lines are waiting or being written. */
  get busy(): boolean {
    return this.flushing || this.pending.length > 0;
  }

  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {}
    this.fd = null;
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const text = this.pending.join('');
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    try {
      const fd = await this.open();
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
      await syncData(fd);
      for (const w of waiters) w.done();
    } catch (err) {
      // Whatever part of the group reached the file stays at its end: later groups go to
      // a new file, so a cut line is always the last of its file.
      this.close();
      this.generation++;
      for (const w of waiters) w.fail(err);
    } finally {
      this.flushing = false;
      this.lastUsed = performance.now();
      if (this.pending.length) setImmediate(() => void this.flush());
    }
  }

  /** This process's current journal file, created (and its folder entry made durable) once. */
  private async open(): Promise<number> {
    if (this.fd !== null) {
      // A journal removed under this process (the sweep discarded, the folder replaced):
      // what is written to it would be lost, so a new one is made.
      if (fstatSync(this.fd).nlink > 0) return this.fd;
      this.close();
      this.generation++;
    }
    mkdirSync(this.dir, { recursive: true });
    const fd = openSync(this.file, 'a');
    try {
      if (fstatSync(fd).size === 0) {
        const dirFd = openSync(this.dir, 'r');
        try {
          await syncAll(dirFd);
        } finally {
          closeSync(dirFd);
        }
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.fd = fd;
    return fd;
  }
}

/** Where one record is: a slice of a journal, or a whole file of the older kind. */
export interface RecordEntry {
  wid: string;
  at: number;
  file: string;
  /** Byte range of the record's JSON in a journal; `length` -1 for a whole `.json` file. */
  start: number;
  length: number;
}

/** A journal line for a record. */
export function recordLine(wid: string, at: number, rolloutId: string, json: string): string {
  return `R\t${wid}\t${at}\t${JSON.stringify(rolloutId)}\t${json}\n`;
}

/** A journal line voiding the record written as `wid`. */
export function voidLine(wid: string, at: number): string {
  return `V\t${wid}\t${at}\n`;
}

/**
 * The records of one sweep's folder: for each rollout, its records and which one counts.
 * Kept up to date by reading only what journals gained since the last look.
 */
export class RecordIndex {
  private readonly journals = new Map<string, { offset: number; lines: number }>();
  private readonly files = new Map<string, { mtimeMs: number; size: number; rolloutId: string }>();
  /** Each rollout's records: one entry, or a list when it has several (rare). */
  private readonly byRollout = new Map<string, RecordEntry | RecordEntry[]>();
  /** Void write ids, each with the journal that voided it. */
  private readonly voided = new Map<string, string>();
  private readonly readers = new Map<string, number>();
  /**
   * Once `follow()` is called: every record entry in the order the scans found it, with its
   * rollout, so that a reader following a growing sweep looks only at what is new.
   */
  private found?: { ids: string[]; entries: RecordEntry[] };

  constructor(readonly dir: string) {}

  /**
   * Starts noting the entries that later scans find (see `winnersFoundSince`); false when it
   * was following already.
   */
  follow(): boolean {
    if (this.found) return false;
    this.found = { ids: [], entries: [] };
    return true;
  }

  /** How many entries the scans have found since `follow()`: a cursor for `winnersFoundSince`. */
  get foundCount(): number {
    return this.found?.entries.length ?? 0;
  }

  /**
   * The entries found since the cursor (`foundCount` at an earlier time) that are their
   * rollout's record that counts now, with the rollout's id.
   */
  *winnersFoundSince(cursor: number): Generator<[string, RecordEntry]> {
    const found = this.found;
    if (!found) return;
    for (let i = cursor; i < found.entries.length; i++) {
      const id = found.ids[i] as string;
      const entry = found.entries[i] as RecordEntry;
      if (this.winner(id) === entry) yield [id, entry];
    }
  }

  /** Reads what is new in the folder. */
  refresh(): void {
    this.closeReaders();
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      names = [];
    }
    const present = new Set(names);
    // Removed files (the sweep reset or discarded) take their records with them.
    for (const name of this.files.keys()) if (!present.has(name)) this.forgetFile(name);
    for (const name of this.journals.keys()) if (!present.has(name)) this.forgetJournal(name);
    for (const name of names) {
      if (name.endsWith('.journal')) this.scanJournal(name);
      else if (name.endsWith('.json')) this.noteFile(name);
    }
  }

  /** The record that counts for a rollout (none when all its records are void). */
  winner(rolloutId: string): RecordEntry | undefined {
    let best: RecordEntry | undefined;
    for (const e of this.entries(rolloutId)) {
      if (this.voided.has(e.wid)) continue;
      if (!best || later(e, best)) best = e;
    }
    return best;
  }

  /** Every rollout's record that counts. */
  *winners(): Generator<RecordEntry> {
    for (const id of this.byRollout.keys()) {
      const w = this.winner(id);
      if (w) yield w;
    }
  }

  /** Every rollout's record that counts, with the rollout's id (the index's own instance). */
  *winnersById(): Generator<[string, RecordEntry]> {
    for (const id of this.byRollout.keys()) {
      const w = this.winner(id);
      if (w) yield [id, w];
    }
  }

  /** All records of a rollout not yet void (what `--retry-errors` voids). */
  live(rolloutId: string): RecordEntry[] {
    return this.entries(rolloutId).filter((e) => !this.voided.has(e.wid));
  }

  /** A record's JSON text. */
  text(entry: RecordEntry): string {
    if (entry.length < 0) return readFileSync(entry.file, 'utf8');
    // Read into one buffer kept for the purpose: a report reads records by the thousand,
    // and a buffer each would pile up outside the heap until the next collection.
    if (scratch.length < entry.length)
      scratch = Buffer.allocUnsafeSlow(Math.max(entry.length, scratch.length * 2, 64 * 1024));
    const fd = this.reader(entry.file);
    let got = 0;
    while (got < entry.length) {
      const n = readSync(fd, scratch, got, entry.length - got, entry.start + got);
      if (n === 0) break;
      got += n;
    }
    return scratch.toString('utf8', 0, got);
  }

  /**
   * A record's JSON and the newline after it, as its journal holds them (bytes, not decoded):
   * what items.jsonl holds for the record. Undefined for a record kept in a file of its own,
   * or a journal shorter than the index says.
   */
  lineBytes(entry: RecordEntry, into?: Buffer): Buffer | undefined {
    if (entry.length < 0) return undefined;
    // `into`: where to read it (its first length + 1 bytes), e.g. a slice of a larger buffer.
    const line = into ? into.subarray(0, entry.length + 1) : Buffer.allocUnsafe(entry.length + 1);
    const fd = this.reader(entry.file);
    let got = 0;
    while (got < entry.length) {
      const n = readSync(fd, line, got, entry.length - got, entry.start + got);
      if (n === 0) return undefined;
      got += n;
    }
    // The journal's newline, written here rather than read: the JSON's end is what was checked.
    line[entry.length] = 0x0a;
    return line;
  }

  /**
   * A journal opened for reading records one by one (a report reads thousands): kept open
   * until the next look at the folder, at most a second.
   */
  private reader(file: string): number {
    let fd = this.readers.get(file);
    if (fd === undefined) {
      fd = openSync(file, 'r');
      this.readers.set(file, fd);
      if (this.readers.size === 1) setTimeout(() => this.closeReaders(), 1_000).unref();
    }
    return fd;
  }

  private closeReaders(): void {
    for (const fd of this.readers.values()) {
      try {
        closeSync(fd);
      } catch {}
    }
    this.readers.clear();
  }

  private entries(rolloutId: string): RecordEntry[] {
    const known = this.byRollout.get(rolloutId);
    return known === undefined ? [] : Array.isArray(known) ? known : [known];
  }

  /** Keeps the records of a rollout that pass `test`. */
  private keep(rolloutId: string, test: (e: RecordEntry) => boolean): void {
    const all = this.entries(rolloutId);
    const kept = all.filter(test);
    if (kept.length === all.length) return;
    if (!kept.length) this.byRollout.delete(rolloutId);
    else this.byRollout.set(rolloutId, kept.length === 1 ? (kept[0] as RecordEntry) : kept);
  }

  private add(rolloutId: string, entry: RecordEntry): void {
    const known = this.byRollout.get(rolloutId);
    if (!known) this.byRollout.set(rolloutId, entry);
    else if (Array.isArray(known)) known.push(entry);
    else this.byRollout.set(rolloutId, [known, entry]);
    if (this.found) {
      this.found.ids.push(rolloutId);
      this.found.entries.push(entry);
    }
  }

  /** A record file of the older kind: its rollout (read once per change of the file). */
  private noteFile(name: string): void {
    const file = join(this.dir, name);
    let info: { mtimeMs: number; size: number };
    try {
      info = statSync(file);
    } catch {
      return;
    }
    const known = this.files.get(name);
    if (known && known.mtimeMs === info.mtimeMs && known.size === info.size) return;
    let rolloutId: string;
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { rolloutId?: unknown };
      rolloutId = typeof parsed.rolloutId === 'string' ? parsed.rolloutId : '';
    } catch {
      // Named by its file, so that reading the records reports the broken file.
      rolloutId = `(unreadable file ${name})`;
    }
    if (known) this.forgetFile(name);
    this.files.set(name, { mtimeMs: info.mtimeMs, size: info.size, rolloutId });
    this.add(rolloutId, { wid: `file:${name}`, at: info.mtimeMs, file, start: 0, length: -1 });
  }

  /** Drops a record file of the older kind that was removed or replaced. */
  private forgetFile(name: string): void {
    const known = this.files.get(name);
    if (!known) return;
    this.files.delete(name);
    this.keep(known.rolloutId, (e) => e.wid !== `file:${name}`);
  }

  /** Drops what a journal that is gone (or was replaced by a shorter one) said. */
  private forgetJournal(name: string): void {
    const file = join(this.dir, name);
    this.journals.delete(name);
    for (const id of [...this.byRollout.keys()]) this.keep(id, (e) => e.file !== file);
    for (const [wid, from] of this.voided) if (from === file) this.voided.delete(wid);
  }

  /** Reads a journal's complete lines past where the last look stopped. */
  private scanJournal(name: string): void {
    const file = join(this.dir, name);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size < (this.journals.get(name)?.offset ?? 0)) this.forgetJournal(name);
      const state = this.journals.get(name) ?? { offset: 0, lines: 0 };
      this.journals.set(name, state);
      // Each read starts at the first line not read yet, so no part of a line is carried
      // over (no buffer is made per read); a line longer than the buffer grows the buffer.
      let pos = state.offset;
      while (pos < size) {
        chunk ??= Buffer.allocUnsafeSlow(CHUNK);
        const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
        if (n === 0) break;
        let from = 0;
        for (let nl = chunk.indexOf(NEWLINE, from); nl !== -1 && nl < n; nl = chunk.indexOf(NEWLINE, from)) {
          state.lines++;
          this.parseLine(file, state.lines, chunk, from, nl, pos);
          from = nl + 1;
        }
        state.offset = pos + from;
        if (from > 0) pos += from;
        else if (n < chunk.length)
          break; // the last line is not complete (cut, or being written)
        else chunk = Buffer.allocUnsafeSlow(chunk.length * 2);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** One complete line of a journal (`buf[from, end)`; `base` is `buf[0]`'s place in the file). */
  private parseLine(file: string, line: number, buf: Buffer, from: number, end: number, base: number): void {
    const bad = (what: string) =>
      new ConfigError(file, `line ${line}`, `not a journal line (${what})`, {
        hint: 'the journal was changed by something else; move the file away to read the other records',
      });
    const t1 = buf.indexOf(TAB, from);
    const t2 = t1 < 0 ? -1 : buf.indexOf(TAB, t1 + 1);
    if (t1 !== from + 1 || t2 < 0 || t2 > end) throw bad('no kind and write id');
    const kind = buf[from];
    const wid = buf.toString('utf8', t1 + 1, t2);
    if (kind === 0x56 /* V */) {
      this.voided.set(wid, file);
      return;
    }
    const t3 = buf.indexOf(TAB, t2 + 1);
    const t4 = t3 < 0 ? -1 : buf.indexOf(TAB, t3 + 1);
    if (kind !== 0x52 /* R */ || t3 < 0 || t4 < 0 || t4 > end) throw bad('no time and rollout id');
    const at = Number(buf.toString('latin1', t2 + 1, t3));
    let rolloutId: unknown;
    try {
      rolloutId = JSON.parse(buf.toString('utf8', t3 + 1, t4));
    } catch {
      rolloutId = undefined;
    }
    if (!Number.isFinite(at) || typeof rolloutId !== 'string') throw bad('no time and rollout id');
    this.add(rolloutId, { wid, at, file, start: base + t4 + 1, length: end - t4 - 1 });
  }
}

/** Whether record `a` was appended after `b` (time, then file name, then place in the file). */
function later(a: RecordEntry, b: RecordEntry): boolean {
  if (a.at !== b.at) return a.at > b.at;
  if (a.file !== b.file) return a.file > b.file;
  return a.start > b.start;
}
