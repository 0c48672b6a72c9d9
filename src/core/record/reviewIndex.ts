// A run's record indexed for the review and the Runs view, kept on disk beside the run (review-index.bin): each
// seed's summary row and where its lines lie in events.jsonl and overrides.jsonl, plus the run-level events. It is
// built once by streaming the record, then follows the files from the byte where it stopped, and is rebuilt when
// the files no longer match what it indexed (size, head and tail bytes). A seed's full events (texts, votes) are read
// from disk only when asked for, so memory does not grow with the texts of the run.
// What a row holds is the caller's (`SeedSummarizer`): this module knows the record's layout, not the review's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SvdError } from '../base/errors';
import { writeFileAtomic } from './atomicFile';
import type { RunEvent } from './events';
import { checked, dedupe, type FileMark, type SavedHeader, indexParts, parsedOrThrow, parseLine, probe, readPrefixed, seedsHolding, view } from './reviewIndexLines';
import { seedIdOfEvent } from './runview';

export const REVIEW_INDEX_FILE = 'review-index.bin';
const FORMAT = 'svd-review-index-4';
const MAGIC = Buffer.from('SVDRIX4\n', 'ascii');
const FILES = ['events.jsonl', 'overrides.jsonl'] as const;
const CHUNK = 1 << 20;
const NEWLINE = 0x0a;
/** Bytes hashed at a file's head and before the indexed end to tell that it is still the file that was indexed. */
const PROBE = 4096;

/** Turns one seed's events (in record order, duplicates removed) into the row a view keeps of it. */
export interface SeedSummarizer<Row> {
  /** Changes whenever rows change shape or meaning: an index saved under another version is rebuilt. */
  readonly version: string;
  /** Undefined when the events hold no seed event (nothing to show yet). */
  summarize(events: readonly RunEvent[]): Row | undefined;
  /** Rows as numbers (and the strings they name), for a saved index that loads fast; JSON without it. */
  pack?(rows: readonly (Row | undefined)[]): { numbers: Float64Array; strings: string[] };
  unpack?(packed: { numbers: Float64Array; strings: string[] }, count: number): (Row | undefined)[];
}

export interface IndexedSeed<Row> {
  readonly id: string;
  readonly line: number;
  readonly row: Row;
  /** Error events among the seed's (they count in the run's errors). */
  readonly errors: number;
}

/** What one `advance` found. */
export interface IndexChanges {
  /** Seeds whose rows changed. */
  seeds: Set<string>;
  /** A run or usage event came (state, usage, wall time). */
  run: boolean;
  /** The index no longer matched the files and was started again. */
  reset: boolean;
}

interface Slot<Row> {
  id: string;
  line: number;
  order: number;
  /**
   * Where the seed's lines are: a position (overrides.jsonl: -(position + 1)) and a length. Those loaded from disk
   * stay in the shared typed arrays (`baseAt`, `baseCount` of them); those read since are pairs in `more`.
   */
  baseAt: number;
  baseCount: number;
  more: number[] | undefined;
  row: Row | undefined;
  errors: number;
}

/**
 * The review index of one run. `open` loads what was saved (when it still matches); `advance` reads what the record
 * grew by, a budget at a time, so a first open of a large run can show the seeds indexed so far while the rest builds.
 */
export class ReviewIndex<Row> {
  private slots = new Map<string, Slot<Row>>();
  private ordered: Slot<Row>[] | undefined;
  private marks: FileMark[] = FILES.map(() => ({ end: 0, lines: 0, head: '', headBytes: 0, tail: '' }));
  private run: RunEvent[] = [];
  private runIds = new Set<string>();
  private looseErrors = new Set<string>();
  private fds: (number | undefined)[] = FILES.map(() => undefined);
  private basePositions: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private baseLengths: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  private caughtUp = false;
  /** Whether anything changed since the index was last saved. */
  private unsaved = false;
  private readonly listeners = new Set<(changes: IndexChanges) => void>();
  /** How the index started: loaded from disk, or built from the record. */
  readonly loaded: boolean;

  private constructor(
    readonly dir: string,
    private readonly summarizer: SeedSummarizer<Row>,
  ) {
    this.loaded = this.load();
  }

  /** Opens the run's index: the saved one when it still matches the record, else an empty one to build. */
  static open<Row>(dir: string, summarizer: SeedSummarizer<Row>): ReviewIndex<Row> {
    return new ReviewIndex(dir, summarizer);
  }

  /** Whether the last `advance` reached the end of both files. */
  get complete(): boolean {
    return this.caughtUp;
  }

  /** Bytes indexed and bytes in the record now. */
  progress(): { indexed: number; total: number } {
    const sizes = FILES.map((name) => fs.statSync(path.join(this.dir, name), { throwIfNoEntry: false })?.size ?? 0);
    return { indexed: this.marks[0]!.end + this.marks[1]!.end, total: sizes[0]! + sizes[1]! };
  }

  /**
   * Reads complete lines the record gained since the last look, for about `budgetMs` (the rest waits for the next
   * call: `complete` says whether it caught up), and summarizes the seeds they touched.
   * @throws SvdError naming the file and line of a complete line that is not a run event (a torn last line waits).
   */
  advance(budgetMs = Number.POSITIVE_INFINITY): IndexChanges {
    const started = performance.now();
    const changes: IndexChanges = { seeds: new Set(), run: false, reset: false };
    if (!this.matches()) {
      this.reset();
      changes.reset = true;
    }
    // Events a slot got in this call, kept while the slot had none before: summarized without reading them again.
    const fresh = new Map<string, RunEvent[]>();
    const touched = new Set<string>();
    let done = true;
    // The pipeline's file first: a seed's events then reach the fold before its overrides, as in the store.
    for (let file = 0; file < FILES.length && done; file++) {
      done = this.scanFile(file, started, budgetMs, (event, ref, length) => this.take(event, ref, length, fresh, touched, changes));
    }
    for (const id of touched) {
      const slot = this.slots.get(id)!;
      const events = fresh.get(id) ?? this.readRefs(this.refsOf(slot));
      this.summarize(slot, events);
      changes.seeds.add(id);
    }
    this.caughtUp = done;
    if (touched.size > 0 || changes.run || changes.reset) {
      this.unsaved = true;
      for (const listener of [...this.listeners]) listener(changes);
    }
    return changes;
  }

  /** Hears every `advance` that changed something, whoever called it (the index may be shared by several views). */
  onChange(listener: (changes: IndexChanges) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Seeds with a seed event, in the fold's order (seed-file line, then first seen). */
  seeds(): readonly IndexedSeed<Row>[] {
    if (!this.ordered) {
      this.ordered = [...this.slots.values()].filter((slot) => slot.row !== undefined).sort((a, b) => a.line - b.line || a.order - b.order);
    }
    return this.ordered as IndexedSeed<Row>[];
  }

  seed(seedId: string): IndexedSeed<Row> | undefined {
    const slot = this.slots.get(seedId);
    return slot?.row === undefined ? undefined : (slot as IndexedSeed<Row>);
  }

  /** A seed's events read back from the record, in record order, each checked against the schema. */
  seedEvents(seedId: string): RunEvent[] {
    const slot = this.slots.get(seedId);
    return slot ? this.readRefs(this.refsOf(slot), true) : [];
  }

  /**
   * Seeds with a line that holds `text` (lower case) once lower-cased: a superset of those whose texts hold it, as
   * JSON leaves text as it is but for quotes, backslashes and control characters. Undefined for a text with those.
   */
  seedsWithText(text: string): Set<string> | undefined {
    // eslint-disable-next-line no-control-regex -- the characters JSON escapes
    if (text === '' || /["\\\u0000-\u001f]/.test(text)) return undefined;
    return seedsHolding(
      FILES.map((_, file) => this.fd(file)),
      this.marks.map((mark) => mark.end),
      text,
    );
  }

  /** The run-level events a fold needs: every run event, and the latest usage checkpoint after the last of them. */
  runEvents(): readonly RunEvent[] {
    return this.run;
  }

  /** Error events in the record, seeds' and the run's. */
  get errors(): number {
    let count = this.looseErrors.size;
    for (const slot of this.slots.values()) count += slot.errors;
    return count;
  }

  /**
   * Writes the index beside the run (atomically) when it changed and caught up with the record. The index is a
   * cache: a run folder that cannot be written is read again next time. Returns whether it was written.
   */
  save(): boolean {
    if (!this.unsaved || !this.caughtUp) return false;
    // In the seeds' order, so that sorting them again after a load finds them sorted.
    const shown = this.seeds() as unknown as Slot<Row>[];
    const slots = [...shown, ...[...this.slots.values()].filter((slot) => slot.row === undefined)];
    const counts = slots.map((slot) => slot.baseCount + (slot.more?.length ?? 0) / 2);
    const ids = slots.map((slot) => slot.id);
    const rowList = slots.map((slot) => slot.row);
    const packed = this.summarizer.pack?.(rowList);
    // Ids joined by NUL split back much faster than a JSON array parses; an id holding a NUL falls back to JSON.
    const nul = ids.some((id) => id.includes('\u0000'));
    const header: SavedHeader = { format: FORMAT, version: this.summarizer.version, marks: this.marks, run: this.run, errors: this.looseErrors.size, ids: nul ? '' : ids.join('\u0000') };
    if (nul) header.idList = ids;
    if (packed) header.strings = packed.strings;
    const numbers = new Float64Array(slots.length * 4);
    slots.forEach((slot, i) => numbers.set([slot.line, slot.order, counts[i]!, slot.errors], i * 4));
    const refCount = counts.reduce((sum, n) => sum + n, 0);
    const positions = new Float64Array(refCount);
    const lengths = new Uint32Array(refCount);
    let at = 0;
    for (const slot of slots) {
      const refs = this.refsOf(slot);
      for (let i = 0; i < refs.length; i += 2, at++) {
        positions[at] = refs[i]!;
        lengths[at] = refs[i + 1]!;
      }
    }
    const rows = packed ? '' : JSON.stringify(rowList.map((row) => row ?? null));
    header.packed = packed ? packed.numbers.length : 0;
    const parts = indexParts(MAGIC, header, rows, [numbers, positions, packed?.numbers ?? new Float64Array(0), lengths]);
    try {
      writeFileAtomic(path.join(this.dir, REVIEW_INDEX_FILE), Buffer.concat(parts));
    } catch {
      return false;
    }
    this.unsaved = false;
    return true;
  }

  close(): void {
    for (const fd of this.fds) if (fd !== undefined) fs.closeSync(fd);
    this.fds = FILES.map(() => undefined);
  }

  // ------------------------------------------------------------------------------------------------ reading

  private fd(file: number): number | undefined {
    if (this.fds[file] === undefined) {
      try {
        this.fds[file] = fs.openSync(path.join(this.dir, FILES[file]!), 'r');
      } catch (error) {
        // A run nobody overrode may have no overrides file.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return this.fds[file];
  }

  /** Streams complete lines from the file's mark; false when the budget ran out first. */
  private scanFile(file: number, started: number, budgetMs: number, onEvent: (event: RunEvent, ref: number, length: number) => void): boolean {
    const fd = this.fd(file);
    if (fd === undefined) return true;
    const mark = this.marks[file]!;
    const name = path.join(this.dir, FILES[file]!);
    const size = fs.fstatSync(fd).size;
    let carry: Buffer = Buffer.alloc(0);
    let position = mark.end;
    let bad: string | undefined;
    while (position < size) {
      // At least one chunk a call, so a build always moves.
      if (position > mark.end && performance.now() - started > budgetMs) {
        this.markProbes(file, fd);
        return false;
      }
      const want = Math.min(Math.max(CHUNK, carry.length), size - position);
      const chunk = Buffer.allocUnsafe(want);
      const n = fs.readSync(fd, chunk, 0, want, position);
      if (n === 0) break;
      const buffer = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const base = position - carry.length;
      position += n;
      let start = 0;
      let count = 0;
      for (let nl = buffer.indexOf(NEWLINE, start); nl !== -1; nl = buffer.indexOf(NEWLINE, start)) {
        // The budget is looked at every few hundred lines too: a chunk can take long on a busy machine.
        if (++count % 256 === 0 && performance.now() - started > budgetMs) {
          this.markProbes(file, fd);
          return false;
        }
        const lineStart = start;
        start = nl + 1;
        // An invalid line is torn only while nothing follows it.
        if (bad !== undefined) throw new SvdError('internal', bad);
        const text = buffer.toString('utf8', lineStart, nl);
        if (text.trim() !== '') {
          const parsed = parseLine(text);
          if (typeof parsed === 'string') {
            bad = `${name}:${mark.lines + 1}: ${parsed}`;
            continue;
          }
          const at = base + lineStart;
          onEvent(parsed, file === 0 ? at : -(at + 1), nl - lineStart);
        }
        mark.end = base + start;
        mark.lines += 1;
      }
      carry = Buffer.from(buffer.subarray(start));
    }
    this.markProbes(file, fd);
    return true;
  }

  private markProbes(file: number, fd: number): void {
    const mark = this.marks[file]!;
    if (mark.end === 0) return;
    mark.tail = probe(fd, Math.max(0, mark.end - PROBE), mark.end);
    if (mark.headBytes < PROBE && mark.end > mark.headBytes) {
      mark.headBytes = Math.min(PROBE, mark.end);
      mark.head = probe(fd, 0, mark.headBytes);
    }
  }

  private take(event: RunEvent, ref: number, length: number, fresh: Map<string, RunEvent[]>, touched: Set<string>, changes: IndexChanges): void {
    if (event.type === 'run' || event.type === 'usage') {
      if (this.runIds.has(event.id)) return;
      this.runIds.add(event.id);
      // The fold counts every session's end, and of each session's checkpoints only the last: one checkpoint
      // after the latest run event replaces the one before it.
      if (event.type === 'usage' && this.run.at(-1)?.type === 'usage') this.run.pop();
      this.run.push(event);
      changes.run = true;
      return;
    }
    const seedId = seedIdOfEvent(event);
    if (seedId === undefined) {
      if (event.type === 'error') {
        this.looseErrors.add(event.id);
        changes.run = true;
      }
      return;
    }
    let slot = this.slots.get(seedId);
    if (!slot) {
      slot = { id: seedId, line: Number.POSITIVE_INFINITY, order: this.slots.size, baseAt: 0, baseCount: 0, more: undefined, row: undefined, errors: 0 };
      this.slots.set(seedId, slot);
      fresh.set(seedId, []);
    }
    if (event.type === 'seed' && slot.line === Number.POSITIVE_INFINITY) {
      slot.line = event.line;
      this.ordered = undefined;
    }
    (slot.more ??= []).push(ref, length);
    const events = fresh.get(seedId);
    events?.push(event);
    if (events && event.type === 'outcome') {
      // A finished seed is summarized now, so its events die young instead of waiting for the slice's end.
      this.summarize(slot, events);
      fresh.delete(seedId);
      changes.seeds.add(seedId);
      touched.delete(seedId);
    } else touched.add(seedId);
  }

  private summarize(slot: Slot<Row>, events: RunEvent[]): void {
    const unique = dedupe(events);
    const hadRow = slot.row !== undefined;
    slot.row = this.summarizer.summarize(unique);
    slot.errors = unique.filter((event) => event.type === 'error').length;
    if (hadRow !== (slot.row !== undefined)) this.ordered = undefined;
  }

  private refsOf(slot: Slot<Row>): number[] {
    const refs: number[] = [];
    for (let k = slot.baseAt; k < slot.baseAt + slot.baseCount; k++) refs.push(this.basePositions[k]!, this.baseLengths[k]!);
    if (slot.more) refs.push(...slot.more);
    return refs;
  }

  /**
   * Reads lines back by their refs: the pipeline's file in order, then the overrides in order. Lines that follow
   * each other on disk (a seed's usually do) are read in one go.
   */
  private readRefs(refs: readonly number[], strict = false): RunEvent[] {
    const lines: { file: number; at: number; length: number }[] = [];
    for (let i = 0; i < refs.length; i += 2) {
      const ref = refs[i]!;
      lines.push(ref >= 0 ? { file: 0, at: ref, length: refs[i + 1]! } : { file: 1, at: -ref - 1, length: refs[i + 1]! });
    }
    lines.sort((a, b) => a.file - b.file || a.at - b.at);
    const events: RunEvent[] = [];
    for (let first = 0; first < lines.length; ) {
      const { file, at } = lines[first]!;
      let last = first;
      while (last + 1 < lines.length && lines[last + 1]!.file === file && lines[last + 1]!.at === lines[last]!.at + lines[last]!.length + 1) last++;
      const span = lines[last]!.at + lines[last]!.length - at;
      const fd = this.fd(file);
      const buffer = Buffer.allocUnsafe(span);
      let got = 0;
      while (fd !== undefined && got < span) {
        const n = fs.readSync(fd, buffer, got, span - got, at + got);
        if (n === 0) break;
        got += n;
      }
      const name = () => path.join(this.dir, FILES[file]!);
      if (got !== span) throw new SvdError('internal', `${name()}: the record at byte ${at} changed on disk`);
      for (let i = first; i <= last; i++) {
        const line = lines[i]!;
        const text = buffer.toString('utf8', line.at - at, line.at - at + line.length);
        events.push(strict ? checked(text, () => `${name()}: byte ${line.at}`) : parsedOrThrow(text, () => `${name()}: byte ${line.at}`));
      }
      first = last + 1;
    }
    return dedupe(events);
  }

  // ------------------------------------------------------------------------------------------------ matching

  /** Whether the files still start and continue with what was indexed: else they were replaced or cut. */
  private matches(): boolean {
    for (let file = 0; file < FILES.length; file++) {
      const mark = this.marks[file]!;
      if (mark.end === 0) continue;
      const fd = this.fd(file);
      if (fd === undefined || fs.fstatSync(fd).size < mark.end) return false;
      if (probe(fd, Math.max(0, mark.end - PROBE), mark.end) !== mark.tail) return false;
      if (probe(fd, 0, mark.headBytes) !== mark.head) return false;
    }
    return true;
  }

  private reset(): void {
    this.slots = new Map();
    this.basePositions = new Float64Array(0);
    this.baseLengths = new Uint32Array(0);
    this.ordered = undefined;
    this.marks = FILES.map(() => ({ end: 0, lines: 0, head: '', headBytes: 0, tail: '' }));
    this.run = [];
    this.runIds = new Set();
    this.looseErrors = new Set();
    // A replaced file needs a fresh descriptor.
    this.close();
  }

  private load(): boolean {
    let data: Buffer;
    try {
      data = fs.readFileSync(path.join(this.dir, REVIEW_INDEX_FILE));
    } catch {
      return false;
    }
    try {
      if (!data.subarray(0, MAGIC.length).equals(MAGIC)) return false;
      let at = MAGIC.length;
      const [headerText, afterHeader] = readPrefixed(data, at);
      const header = JSON.parse(headerText) as SavedHeader;
      if (header.format !== FORMAT || header.version !== this.summarizer.version) return false;
      const [rowsText, afterRows] = readPrefixed(data, afterHeader);
      at = afterRows;
      const ids = header.idList ?? (header.ids === '' ? [] : header.ids.split('\u0000'));
      const seeds = ids.length;
      at += (8 - (at % 8)) % 8;
      const numbers = view(Float64Array, data, at, seeds * 4);
      at += seeds * 32;
      let refCount = 0;
      for (let i = 0; i < seeds; i++) refCount += numbers[i * 4 + 2]!;
      this.basePositions = view(Float64Array, data, at, refCount);
      at += refCount * 8;
      let rows: (Row | null | undefined)[];
      if (header.packed) {
        if (!this.summarizer.unpack) return false;
        const packed = view(Float64Array, data, at, header.packed);
        at += header.packed * 8;
        rows = this.summarizer.unpack({ numbers: packed, strings: header.strings ?? [] }, seeds);
      } else rows = JSON.parse(rowsText) as (Row | null)[];
      this.baseLengths = view(Uint32Array, data, at, refCount);
      if (numbers.length !== seeds * 4 || this.baseLengths.length !== refCount || rows.length !== seeds) return false;
      let baseAt = 0;
      for (let i = 0; i < seeds; i++) {
        const id = ids[i]!;
        const [line, order, baseCount, errors] = numbers.subarray(i * 4, i * 4 + 4) as unknown as [number, number, number, number];
        this.slots.set(id, { id, line, order, baseAt, baseCount, more: undefined, row: rows[i] ?? undefined, errors });
        baseAt += baseCount;
      }
      this.marks = header.marks;
      this.run = header.run;
      this.runIds = new Set(header.run.map((event) => event.id));
      // Loose errors are only counted; their ids are not needed again (they are never re-read).
      this.looseErrors = new Set(Array.from({ length: header.errors }, (_, i) => `saved:${i}`));
    } catch {
      this.reset();
      return false;
    }
    if (!this.matches()) {
      this.reset();
      return false;
    }
    return true;
  }
}
