// An append-only JSONL file of keyed entries with an offset index: the run store's record and the response cache.
// Durability rests on two rules: each entry is one write(2) of a whole line on an O_APPEND descriptor, so concurrent
// writers never interleave and a crash leaves at most a torn last line; and the in-memory index holds only hashes
// and positions (keyIndex.ts), never keys or entries, so a log of millions of entries costs little memory.
import * as fs from 'node:fs';
import type { z } from 'zod';
import { SvdError, describeError } from '../base/errors';
import { redactSecrets } from '../base/redact';
import { issueText } from '../base/zodIssues';
import { flushAtExit, settled } from './flushAtExit';
import { KeyIndex, hashKey } from './keyIndex';


const CHUNK = 1 << 20;
const NEWLINE = 0x0a;
// How long a writer waits for another process to finish a line before treating it as torn by a crash.
const TAIL_SETTLE_STEP_MS = 10;
const TAIL_SETTLE_QUIET_STEPS = 5;
const TAIL_SETTLE_MAX_STEPS = 200;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isBlank(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buffer[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export interface AppendLogOptions<T> {
  schema: z.ZodType<T>;
  keyOf: (entry: T) => string;
  readOnly?: boolean;
  /** Called for each entry as it is indexed, for running tallies; entries are not kept. */
  onIndex?: (entry: T) => void;
  /** The key's hash in the index (default hashKey); a test gives a weak one to make keys share hashes. */
  hash?: (key: string) => [number, number];
  /**
   * Gather the lines appended in one turn of the event loop and write them together (see `flush`): a busy run
   * appends thousands of lines a second, and one write(2) each was a tenth of the engine's CPU. A process killed
   * before the turn ends loses that turn's lines whole (the record stays a prefix of what was appended), which a
   * resumed run asks for again; nothing is written twice. 'exclusive': only while this process is the only writer
   * (a locked run's record); 'always': a shared file too (the response cache), where a line another process wrote
   * first keeps its place and this one's is dropped.
   */
  deferWrites?: 'exclusive' | 'always';
}

/** Flushed at once past this many bytes pending, so a burst never holds much in memory. */
const FLUSH_BYTES = 1 << 20;

interface PendingLine<T> {
  key: string;
  entry: T;
  line: Buffer;
  /** onIndex has heard of it (at once when this process is the only writer; otherwise once it is indexed). */
  counted: boolean;
}

/**
 * A JSONL file of keyed entries. The first line with a key wins; later lines with the same key are ignored, so a
 * repeated write by a racing process is harmless. Only complete, valid lines are indexed.
 */
export class AppendLog<T> {
  /**
   * A torn or invalid last line was found on open and, unless read-only, cut off. (Read-only, it may also be a
   * line another process is still writing; `refresh` picks it up once complete.)
   */
  readonly droppedTail: boolean;
  /** Let go (undefined) once only streaming is left: see releaseIndex. */
  private index: KeyIndex | undefined = new KeyIndex();
  /** Entries indexed when the index was let go. */
  private releasedSize = 0;
  /** Offsets of complete lines that repeat an indexed key: in the file, not in the record. Rare, so a set. */
  private readonly duplicates = new Set<number>();
  private readFd: number | undefined;
  private writeFd: number | undefined;
  /** Byte offset just past the last complete line indexed. */
  private end = 0;
  /** Complete lines before `end` (blank and duplicate lines included), for line numbers in errors. */
  private lines = 0;
  private onlyWriter = false;
  /** Appended, not yet written (deferWrites): in append order, and by key for `has` and `read`. */
  private pending: PendingLine<T>[] = [];
  private readonly pendingByKey = new Map<string, T>();
  private pendingBytes = 0;
  private flushScheduled: NodeJS.Immediate | undefined;
  /** A deferred write that failed: thrown by the next call, so the writer hears of it. */
  private writeFailure: unknown;

  /**
   * Set while this process is the file's only writer (the run's lock holder): nobody else can have appended, so
   * the file's size need not be checked around each write, which is most of an append's cost.
   */
  get exclusive(): boolean {
    return this.onlyWriter;
  }

  set exclusive(value: boolean) {
    this.flush();
    this.onlyWriter = value;
  }

  private constructor(
    readonly file: string,
    private readonly options: AppendLogOptions<T>,
  ) {
    if (!fs.existsSync(file)) {
      if (options.readOnly) throw new SvdError('not_found', `${file} does not exist`);
      fs.closeSync(fs.openSync(file, 'a'));
    }
    this.readFd = fs.openSync(file, 'r');
    try {
      this.scan();
      let torn = this.fileSize() > this.end;
      if (torn && !options.readOnly) torn = this.settleTail();
      this.droppedTail = torn;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  static open<T>(file: string, options: AppendLogOptions<T>): AppendLog<T> {
    return new AppendLog(file, options);
  }

  get size(): number {
    return (this.index?.size ?? this.releasedSize) + this.pending.length;
  }

  has(key: string): boolean {
    return this.pendingByKey.has(key) || this.slotOf(key) !== undefined;
  }

  /** Reads the entry back from disk (or from the lines not yet written); undefined when the key is not there. */
  read(key: string): T | undefined {
    const waiting = this.pendingByKey.get(key);
    if (waiting !== undefined) return waiting;
    const slot = this.slotOf(key);
    if (slot === undefined) return undefined;
    const parsed = this.parseLine(slot.line, 0, slot.line.length);
    if (!parsed.ok) throw new SvdError('internal', `${this.file}: the record of ${key} at byte ${slot.offset} changed on disk`);
    return parsed.value;
  }

  /** The indexed line of `key`, read from disk: among the slots sharing its hash, the one whose line has that key. */
  private slotOf(key: string): { offset: number; line: Buffer } | undefined {
    const index = this.keys();
    for (const slot of index.slots(this.hash(key))) {
      const offset = index.offset(slot);
      const line = this.readAt(offset, index.length(slot));
      let json: unknown;
      try {
        json = JSON.parse(line.toString('utf8'));
      } catch {
        throw new SvdError('internal', `${this.file}: the record at byte ${offset} changed on disk`);
      }
      // Checked on the raw JSON, before the schema: a hash shared with another key is told apart cheaply.
      if (json !== null && typeof json === 'object' && this.options.keyOf(json as T) === key) return { offset, line };
    }
    return undefined;
  }

  private readAt(offset: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length);
    const fd = this.reader();
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, buffer, got, length - got, offset + got);
      if (n === 0) throw new SvdError('internal', `${this.file}: the record at byte ${offset} changed on disk`);
      got += n;
    }
    return buffer;
  }

  /**
   * Appends `entry` as one line unless its key is already there (`written` false, nothing written). Lines other
   * processes appended meanwhile are indexed first, so the check sees them too; `indexed` lists every entry this
   * call indexed, theirs and this one, in file order.
   */
  append(entry: T): { written: boolean; indexed: T[] } {
    if (this.options.readOnly) throw new SvdError('internal', `${this.file} is open read-only`);
    this.throwWriteFailure();
    const defer = this.options.deferWrites;
    if (defer === 'always' || (defer === 'exclusive' && this.onlyWriter)) return this.appendDeferred(entry);
    const key = this.options.keyOf(entry);
    const indexed: T[] = [];
    if (!this.exclusive && this.fileSize() > this.end) {
      this.scan(indexed);
      if (this.fileSize() > this.end) this.settleTail(indexed);
    }
    if (this.has(key)) return { written: false, indexed };
    const { line, entry: safeEntry } = this.lineOf(key, entry);
    entry = safeEntry;
    const start = this.end;
    const written = fs.writeSync(this.writer(), line);
    if (written !== line.length) {
      // The next append or open finds the partial line as a torn tail and cuts it off.
      throw new SvdError('internal', `${this.file}: short write (${written} of ${line.length} bytes)`);
    }
    if (this.exclusive || this.fileSize() === start + line.length) {
      // Nobody else wrote meanwhile, so the line sits where the file ended.
      this.addToIndex(key, start, line.length - 1);
      this.options.onIndex?.(entry);
      indexed.push(entry);
      this.end = start + line.length;
      this.lines += 1;
    } else {
      this.scan(indexed);
      if (!this.has(key)) throw new SvdError('internal', `${this.file}: the record of ${key} was not found after writing it`);
    }
    return { written: true, indexed };
  }

  /**
   * The deferred append: the line waits for the end of this turn of the event loop (or a full buffer) and is
   * written with the others of that turn. It counts as recorded at once (`has`, `read`, `size`, `onIndex`); lines
   * other processes append are looked for when the lines are written, and a key one of them wrote first keeps
   * their line (as two racing writers do in any case: the first line wins).
   */
  private appendDeferred(entry: T): { written: boolean; indexed: T[] } {
    const key = this.options.keyOf(entry);
    if (this.has(key)) return { written: false, indexed: [] };
    const { line, entry: safeEntry } = this.lineOf(key, entry);
    const counted = this.onlyWriter;
    this.pending.push({ key, entry: safeEntry, line, counted });
    this.pendingByKey.set(key, safeEntry);
    this.pendingBytes += line.length;
    if (counted) this.options.onIndex?.(safeEntry);
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else this.scheduleFlush();
    return { written: true, indexed: [safeEntry] };
  }

  /** Writes the lines pending, in one write(2) (the O_APPEND rule above holds for several whole lines too). */
  flush(): void {
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    settled(this);
    if (this.pending.length === 0) return;
    let batch = this.pending;
    this.pending = [];
    this.pendingByKey.clear();
    this.pendingBytes = 0;
    if (!this.onlyWriter) {
      if (this.fileSize() > this.end) {
        this.scan();
        if (this.fileSize() > this.end) this.settleTail();
      }
      // A key another process wrote first (found now, or by a refresh since the append) keeps its line.
      batch = batch.filter((pending) => this.slotOf(pending.key) === undefined);
      if (batch.length === 0) return;
    }
    const buffer = batch.length === 1 ? batch[0]!.line : Buffer.concat(batch.map((pending) => pending.line));
    const start = this.end;
    const written = fs.writeSync(this.writer(), buffer);
    if (written !== buffer.length) {
      throw new SvdError('internal', `${this.file}: short write (${written} of ${buffer.length} bytes)`);
    }
    if (this.onlyWriter || this.fileSize() === start + buffer.length) {
      let offset = start;
      for (const pending of batch) {
        this.addToIndex(pending.key, offset, pending.line.length - 1);
        if (!pending.counted) this.options.onIndex?.(pending.entry);
        offset += pending.line.length;
      }
      this.end = offset;
      this.lines += batch.length;
    } else {
      // Another process wrote around these lines: index from the file, theirs and ours.
      this.scan();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = setImmediate(() => {
      this.flushScheduled = undefined;
      try {
        this.flush();
      } catch (error) {
        this.writeFailure = error;
      }
    });
    // A pending write does not keep the process alive on its own; the exit hook writes it.
    this.flushScheduled.unref();
    flushAtExit(this);
  }

  private throwWriteFailure(): void {
    if (this.writeFailure === undefined) return;
    const failure = this.writeFailure;
    this.writeFailure = undefined;
    throw failure;
  }

  /** The entry as one line; the last net for secrets: a key a server or a model echoed is never written (redact.ts). */
  private lineOf(key: string, entry: T): { line: Buffer; entry: T } {
    const text = JSON.stringify(entry);
    const safe = redactSecrets(text);
    if (safe !== text) {
      const redacted = this.parseLine(Buffer.from(safe, 'utf8'), 0, Buffer.byteLength(safe, 'utf8'));
      if (!redacted.ok || this.options.keyOf(redacted.value) !== key) {
        throw new SvdError('internal', `${this.file}: the record of ${key} holds a secret that cannot be redacted`);
      }
      entry = redacted.value;
    }
    return { line: Buffer.from(`${safe}\n`, 'utf8'), entry };
  }

  /** Indexes complete lines appended since the last scan (by anyone) and returns their new entries. */
  refresh(): T[] {
    this.throwWriteFailure();
    const indexed: T[] = [];
    if (this.fileSize() > this.end) this.scan(indexed);
    return indexed;
  }

  /** Every indexed entry in file order, streamed from disk. */
  *entries(): Generator<T> {
    this.flush();
    const limit = this.end;
    let position = 0;
    let carry: Buffer = Buffer.alloc(0);
    while (position < limit) {
      const fd = this.reader();
      const want = Math.min(Math.max(CHUNK, carry.length), limit - position);
      const chunk = Buffer.allocUnsafe(want);
      const n = fs.readSync(fd, chunk, 0, want, position);
      if (n === 0) throw new SvdError('internal', `${this.file} was truncated while being read`);
      const buffer = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const base = position - carry.length;
      position += n;
      let start = 0;
      for (let nl = buffer.indexOf(NEWLINE, start); nl !== -1; nl = buffer.indexOf(NEWLINE, start)) {
        const lineStart = start;
        start = nl + 1;
        if (isBlank(buffer, lineStart, nl)) continue;
        // A later duplicate of a key stays in the file but is not part of the record.
        if (this.duplicates.has(base + lineStart)) continue;
        const parsed = this.parseLine(buffer, lineStart, nl);
        if (!parsed.ok) throw new SvdError('internal', `${this.file}: a record at byte ${base + lineStart} changed on disk`);
        yield parsed.value;
      }
      carry = Buffer.from(buffer.subarray(start));
    }
  }

  /**
   * Lets go of the index when only streaming is left: `entries()` still reads every entry (it needs the positions of
   * duplicates, not the index), while lookups, appends and refreshes throw. At 10^5 seeds the index of a run's record
   * is tens of megabytes, freed before a last pass over the record.
   */
  releaseIndex(): void {
    if (this.index === undefined) return;
    // Lines still waiting are written first: writing one indexes it.
    this.flush();
    this.releasedSize = this.index.size;
    this.index = undefined;
  }

  close(): void {
    try {
      if (this.readFd !== undefined) this.flush();
    } finally {
      this.closeFiles();
    }
    this.throwWriteFailure();
  }

  private closeFiles(): void {
    // A closed log can answer nothing: its index goes too, even while the log object is still referenced.
    if (this.index !== undefined) this.releasedSize = this.index.size;
    this.index = undefined;
    if (this.readFd !== undefined) fs.closeSync(this.readFd);
    if (this.writeFd !== undefined) fs.closeSync(this.writeFd);
    this.readFd = undefined;
    this.writeFd = undefined;
  }

  private keys(): KeyIndex {
    if (this.index === undefined) throw new SvdError('internal', `${this.file}: its index was let go; it can only be streamed`);
    return this.index;
  }

  private hash(key: string): [number, number] {
    return (this.options.hash ?? hashKey)(key);
  }

  private reader(): number {
    if (this.readFd === undefined) throw new SvdError('internal', `${this.file} is closed`);
    return this.readFd;
  }

  private writer(): number {
    this.reader();
    this.writeFd ??= fs.openSync(this.file, 'a');
    return this.writeFd;
  }

  private fileSize(): number {
    return fs.fstatSync(this.reader()).size;
  }

  private addToIndex(key: string, offset: number, length: number): void {
    this.keys().add(this.hash(key), offset, length);
  }

  private parseLine(buffer: Buffer, start: number, end: number): Parsed<T> {
    let json: unknown;
    try {
      json = JSON.parse(buffer.toString('utf8', start, end));
    } catch (error) {
      return { ok: false, message: `invalid JSON (${describeError(error)})` };
    }
    const result = this.options.schema.safeParse(json);
    return result.success ? { ok: true, value: result.data } : { ok: false, message: issueText(result.error) };
  }

  /**
   * Indexes the complete lines from `end` to the current end of file, pushing the new entries to `into` when given
   * (not on open: a run's events would not fit in memory). An invalid line stops the scan there: if another
   * complete line follows it, the file is corrupt in the middle and this throws; otherwise it is left as the tail
   * (a crash's leftovers, or a line still being written).
   */
  private scan(into?: T[]): void {
    const fd = this.reader();
    const limit = fs.fstatSync(fd).size;
    let position = this.end;
    let carry: Buffer = Buffer.alloc(0);
    let bad: { line: number; message: string } | undefined;
    while (position < limit) {
      const want = Math.min(Math.max(CHUNK, carry.length), limit - position);
      const chunk = Buffer.allocUnsafe(want);
      const n = fs.readSync(fd, chunk, 0, want, position);
      if (n === 0) break;
      const buffer = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const base = position - carry.length;
      position += n;
      let start = 0;
      for (let nl = buffer.indexOf(NEWLINE, start); nl !== -1; nl = buffer.indexOf(NEWLINE, start)) {
        const lineStart = start;
        start = nl + 1;
        if (bad) {
          throw new SvdError('internal', `${this.file}:${bad.line}: ${bad.message}`);
        }
        if (!isBlank(buffer, lineStart, nl)) {
          const parsed = this.parseLine(buffer, lineStart, nl);
          if (!parsed.ok) {
            bad = { line: this.lines + 1, message: parsed.message };
            continue;
          }
          const key = this.options.keyOf(parsed.value);
          if (!this.has(key)) {
            this.addToIndex(key, base + lineStart, nl - lineStart);
            this.options.onIndex?.(parsed.value);
            into?.push(parsed.value);
          } else {
            this.duplicates.add(base + lineStart);
          }
        }
        this.end = base + start;
        this.lines += 1;
      }
      carry = Buffer.from(buffer.subarray(start));
    }
  }

  /**
   * The file ends in bytes that are not a complete valid line. Another process may be writing that line right now,
   * so wait until the file stops growing; whatever is still incomplete then was torn by a crash and is cut off.
   * Returns whether a tail was cut.
   */
  private settleTail(into?: T[]): boolean {
    let size = this.fileSize();
    let quiet = 0;
    for (let step = 0; quiet < TAIL_SETTLE_QUIET_STEPS; step++) {
      if (step === TAIL_SETTLE_MAX_STEPS) {
        throw new SvdError('internal', `${this.file} keeps ending in an incomplete line while other processes write it`);
      }
      sleepSync(TAIL_SETTLE_STEP_MS);
      this.scan(into);
      const now = this.fileSize();
      if (now === this.end) return false;
      quiet = now === size ? quiet + 1 : 0;
      size = now;
    }
    fs.ftruncateSync(this.writer(), this.end);
    return true;
  }
}
