// A run's record indexed for the review and the Runs view, kept on disk beside the run (review-index.bin): each
// seed's summary row and where its lines lie in events.jsonl and overrides.jsonl, plus the run-level events. It is
// built once by streaming the record, then follows the files from the byte where it stopped, and is rebuilt when
// the files no longer match what it indexed (size, head and tail bytes). A seed's full events (texts, votes) are read
// from disk only when asked for, so memory does not grow with the texts of the run.
// What a row holds is the caller's (`SeedSummarizer`): this module knows the record's layout, not the review's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RunEvent } from './events';
import { readIndexFile, rowsToSave, writeIndexFile, type PackedRows } from './reviewIndexFile';
import { dedupe, type FileMark, seedsHolding } from './reviewIndexLines';
import { readLines, scanLines, stillMatches } from './reviewIndexRead';
import { seedIdOfEvent } from './runview';

export { REVIEW_INDEX_FILE } from './reviewIndexFile';
const FILES = ['events.jsonl', 'overrides.jsonl'] as const;

/** Turns one seed's events (in record order, duplicates removed) into the row a view keeps of it. */
export interface SeedSummarizer<Row> {
  /** Changes whenever rows change shape or meaning: an index saved under another version is rebuilt. */
  readonly version: string;
  /** Undefined when the events hold no seed event (nothing to show yet). */
  summarize(events: readonly RunEvent[]): Row | undefined;
  /**
   * Rows as numbers (the strings they name appended to `strings`), for a saved index that loads fast and is read in
   * place, a row unpacked only when asked for; JSON without it. The three go together.
   */
  pack?(rows: readonly (Row | undefined)[], strings: string[]): Float64Array;
  /** Where each of `count` packed rows starts, then where the last ends. */
  packedStarts?(numbers: Float64Array<ArrayBufferLike>, count: number): Int32Array;
  unpackAt?(packed: PackedRows, start: number): Row | undefined;
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

/** Rows loaded packed: each slot's start (then the end), read in place until the slot is summarized again. */
interface LoadedRows {
  rows: PackedRows;
  starts: Int32Array;
  /** Slots below this have a row (the file puts them first). */
  shown: number;
  /** 1 for a loaded slot summarized since: its row is in `rows`. */
  stale: Uint8Array;
}

/**
 * The review index of one run. `open` loads what was saved (when it still matches); `advance` reads what the record
 * grew by, a budget at a time, so a first open of a large run can show the seeds indexed so far while the rest builds.
 * Seeds are kept in columns by slot (first seen, or as saved), not as an object each: a loaded index of 100,000
 * seeds views the file's sections in place and unpacks a row only when it is asked for.
 */
export class ReviewIndex<Row> {
  private ids: string[] = [];
  private lines: number[] = [];
  private orders: number[] = [];
  private errorCounts: number[] = [];
  /** Where a loaded slot's lines are in `basePositions` and `baseLengths`, and how many. */
  private baseAt: number[] = [];
  private baseCount: number[] = [];
  /** Lines read since, as (position, length) pairs; a position in overrides.jsonl as -(position + 1). */
  private more: (number[] | undefined)[] = [];
  /** Rows summarized since the load (or loaded as JSON). */
  private rows: (Row | undefined)[] = [];
  private loadedRows: LoadedRows | undefined;
  /** Slot by seed id, made on first need (a warm open that only pages never needs it). */
  private slotOfId: Map<string, number> | undefined;
  /** Slots with a row in the fold's order (seed-file line, then first seen), and each slot's place in it. */
  private ordered: number[] | undefined;
  private placeOfSlot: Int32Array | undefined;
  private marks: FileMark[] = FILES.map(() => ({ end: 0, lines: 0, head: '', headBytes: 0, tail: '' }));
  private run: RunEvent[] = [];
  private runIds = new Set<string>();
  private looseErrors = new Set<string>();
  private fds: (number | undefined)[] = FILES.map(() => undefined);
  private basePositions: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private baseLengths: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  private caughtUp = false;
  /** Bumped whenever a seed's row or place may have changed. */
  private revisionValue = 0;
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
    const fresh = new Map<number, RunEvent[]>();
    const touched = new Set<number>();
    let done = true;
    // The pipeline's file first: a seed's events then reach the fold before its overrides, as in the store.
    for (let file = 0; file < FILES.length && done; file++) {
      const fd = this.fd(file);
      if (fd === undefined) continue;
      done = scanLines(fd, path.join(this.dir, FILES[file]!), file, this.marks[file]!, started, budgetMs, (event, ref, length) => this.take(event, ref, length, fresh, touched, changes));
    }
    for (const slot of touched) {
      this.summarize(slot, fresh.get(slot) ?? this.readRefs(this.refsOf(slot)));
      changes.seeds.add(this.ids[slot]!);
    }
    this.caughtUp = done;
    if (touched.size > 0 || changes.seeds.size > 0 || changes.run || changes.reset) {
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

  // ------------------------------------------------------------------------------------------------ seeds

  /** Changes whenever a seed's row or place may have: what was read of the seeds before is stale. */
  revision(): number {
    return this.revisionValue;
  }

  /** Seeds with a seed event. They have places 0 to count - 1, in the fold's order. */
  count(): number {
    return this.order().length;
  }

  idAt(place: number): string {
    return this.ids[this.order()[place]!]!;
  }

  rowAt(place: number): Row {
    return this.rowOf(this.order()[place]!)!;
  }

  /** Where the seed's row lies in `packedRows()`, or -1 where it is not packed (then `rowAt`). */
  packedRowAt(place: number): number {
    const slot = this.order()[place]!;
    return this.isPacked(slot) ? this.loadedRows!.starts[slot]! : -1;
  }

  packedRows(): PackedRows | undefined {
    return this.loadedRows?.rows;
  }

  /** The seed's place, or undefined for a seed with no seed event. */
  placeOf(seedId: string): number | undefined {
    const slot = this.slotOf(seedId);
    if (slot === undefined) return undefined;
    this.order();
    const place = this.placeOfSlot![slot]!;
    return place === -1 ? undefined : place;
  }

  /** A seed's events read back from the record, in record order, each checked against the schema. */
  seedEventsAt(place: number): RunEvent[] {
    return this.readRefs(this.refsOf(this.order()[place]!), true);
  }

  /** Seeds with a seed event, in the fold's order (made whole: for a few seeds, `count` and `rowAt`). */
  seeds(): IndexedSeed<Row>[] {
    return this.order().map((slot) => this.indexed(slot));
  }

  seed(seedId: string): IndexedSeed<Row> | undefined {
    const place = this.placeOf(seedId);
    return place === undefined ? undefined : this.indexed(this.order()[place]!);
  }

  seedEvents(seedId: string): RunEvent[] {
    const slot = this.slotOf(seedId);
    return slot === undefined ? [] : this.readRefs(this.refsOf(slot), true);
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
    for (const n of this.errorCounts) count += n;
    return count;
  }

  private indexed(slot: number): IndexedSeed<Row> {
    return { id: this.ids[slot]!, line: this.lines[slot]!, row: this.rowOf(slot)!, errors: this.errorCounts[slot]! };
  }

  private order(): number[] {
    if (!this.ordered) {
      const slots: number[] = [];
      for (let slot = 0; slot < this.ids.length; slot++) if (this.hasRow(slot)) slots.push(slot);
      // A loaded index is saved in this order: sorting finds it sorted.
      slots.sort((a, b) => this.lines[a]! - this.lines[b]! || this.orders[a]! - this.orders[b]!);
      const places = new Int32Array(this.ids.length).fill(-1);
      slots.forEach((slot, place) => (places[slot] = place));
      this.ordered = slots;
      this.placeOfSlot = places;
    }
    return this.ordered;
  }

  private isPacked(slot: number): boolean {
    const loaded = this.loadedRows;
    return loaded !== undefined && slot < loaded.stale.length && loaded.stale[slot] === 0;
  }

  private hasRow(slot: number): boolean {
    return this.isPacked(slot) ? slot < this.loadedRows!.shown : this.rows[slot] !== undefined;
  }

  private rowOf(slot: number): Row | undefined {
    if (!this.isPacked(slot)) return this.rows[slot];
    const loaded = this.loadedRows!;
    return slot < loaded.shown ? this.summarizer.unpackAt!(loaded.rows, loaded.starts[slot]!) : undefined;
  }

  private slotOf(seedId: string): number | undefined {
    if (!this.slotOfId) {
      this.slotOfId = new Map();
      for (let slot = 0; slot < this.ids.length; slot++) this.slotOfId.set(this.ids[slot]!, slot);
    }
    return this.slotOfId.get(seedId);
  }

  // ------------------------------------------------------------------------------------------------ saving

  /**
   * Writes the index beside the run (atomically) when it changed and caught up with the record. The index is a
   * cache: a run folder that cannot be written is read again next time. Returns whether it was written.
   */
  save(): boolean {
    if (!this.unsaved || !this.caughtUp) return false;
    const shown = this.order();
    const slots = [...shown];
    for (let slot = 0; slot < this.ids.length; slot++) if (!this.hasRow(slot)) slots.push(slot);
    const seeds = new Float64Array(slots.length * 4);
    const refCount = slots.reduce((sum, slot) => sum + this.baseCount[slot]! + (this.more[slot]?.length ?? 0) / 2, 0);
    const positions = new Float64Array(refCount);
    const lengths = new Uint32Array(refCount);
    let at = 0;
    slots.forEach((slot, i) => {
      const refs = this.refsOf(slot);
      seeds.set([this.lines[slot]!, this.orders[slot]!, refs.length / 2, this.errorCounts[slot]!], i * 4);
      for (let k = 0; k < refs.length; k += 2, at++) {
        positions[at] = refs[k]!;
        lengths[at] = refs[k + 1]!;
      }
    });
    const saved = writeIndexFile(this.dir, {
      version: this.summarizer.version,
      marks: this.marks,
      run: this.run,
      looseErrors: this.looseErrors.size,
      ids: slots.map((slot) => this.ids[slot]!),
      shown: shown.length,
      seeds,
      positions,
      lengths,
      ...rowsToSave(slots, this.loadedRows, (slot) => this.isPacked(slot), (slot) => this.rowOf(slot), this.summarizer.pack),
    });
    if (saved) this.unsaved = false;
    return saved;
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

  private take(event: RunEvent, ref: number, length: number, fresh: Map<number, RunEvent[]>, touched: Set<number>, changes: IndexChanges): void {
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
    let slot = this.slotOf(seedId);
    if (slot === undefined) {
      slot = this.ids.length;
      this.ids.push(seedId);
      this.lines.push(Number.POSITIVE_INFINITY);
      this.orders.push(slot);
      this.errorCounts.push(0);
      this.baseAt.push(0);
      this.baseCount.push(0);
      this.slotOfId!.set(seedId, slot);
      fresh.set(slot, []);
    }
    if (event.type === 'seed' && this.lines[slot] === Number.POSITIVE_INFINITY) {
      this.lines[slot] = event.line;
      this.ordered = undefined;
    }
    (this.more[slot] ??= []).push(ref, length);
    const events = fresh.get(slot);
    events?.push(event);
    if (events && event.type === 'outcome') {
      // A finished seed is summarized now, so its events die young instead of waiting for the slice's end.
      this.summarize(slot, events);
      fresh.delete(slot);
      changes.seeds.add(seedId);
      touched.delete(slot);
    } else touched.add(slot);
  }

  private summarize(slot: number, events: RunEvent[]): void {
    this.revisionValue += 1;
    const unique = dedupe(events);
    const hadRow = this.hasRow(slot);
    this.rows[slot] = this.summarizer.summarize(unique);
    if (this.loadedRows && slot < this.loadedRows.stale.length) this.loadedRows.stale[slot] = 1;
    this.errorCounts[slot] = unique.filter((event) => event.type === 'error').length;
    if (hadRow !== this.hasRow(slot)) this.ordered = undefined;
  }

  private refsOf(slot: number): number[] {
    const refs: number[] = [];
    const from = this.baseAt[slot]!;
    for (let k = from; k < from + this.baseCount[slot]!; k++) refs.push(this.basePositions[k]!, this.baseLengths[k]!);
    const more = this.more[slot];
    if (more) for (const n of more) refs.push(n);
    return refs;
  }

  private readRefs(refs: readonly number[], strict = false): RunEvent[] {
    return dedupe(readLines((file) => this.fd(file), (file) => path.join(this.dir, FILES[file]!), refs, strict));
  }

  // ------------------------------------------------------------------------------------------------ matching

  private matches(): boolean {
    return stillMatches(this.marks, (file) => this.fd(file));
  }

  private reset(): void {
    this.revisionValue += 1;
    this.ids = [];
    this.lines = [];
    this.orders = [];
    this.errorCounts = [];
    this.baseAt = [];
    this.baseCount = [];
    this.more = [];
    this.rows = [];
    this.loadedRows = undefined;
    this.slotOfId = undefined;
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
    try {
      const saved = readIndexFile(this.dir, this.summarizer.version);
      if (!saved) return false;
      const count = saved.ids.length;
      const { seeds } = saved;
      this.ids = saved.ids;
      this.lines = new Array<number>(count);
      this.orders = new Array<number>(count);
      this.errorCounts = new Array<number>(count);
      this.baseAt = new Array<number>(count);
      this.baseCount = new Array<number>(count);
      let at = 0;
      for (let i = 0; i < count; i++) {
        this.lines[i] = seeds[i * 4]!;
        this.orders[i] = seeds[i * 4 + 1]!;
        this.baseAt[i] = at;
        this.baseCount[i] = seeds[i * 4 + 2]!;
        this.errorCounts[i] = seeds[i * 4 + 3]!;
        at += this.baseCount[i]!;
      }
      this.basePositions = saved.positions;
      this.baseLengths = saved.lengths;
      if (saved.rows) {
        if (saved.rows.length !== count) return this.failedLoad();
        this.rows = saved.rows.map((row) => (row ?? undefined) as Row | undefined);
      } else {
        const { packedStarts, unpackAt } = this.summarizer;
        if (!packedStarts || !unpackAt) return this.failedLoad();
        const starts = packedStarts(saved.packed.numbers, count);
        this.loadedRows = { rows: saved.packed, starts, shown: saved.shown, stale: new Uint8Array(count) };
      }
      this.marks = saved.marks;
      this.run = saved.run;
      this.runIds = new Set(saved.run.map((event) => event.id));
      // Loose errors are only counted; their ids are not needed again (they are never re-read).
      this.looseErrors = new Set(Array.from({ length: saved.looseErrors }, (_, i) => `saved:${i}`));
    } catch {
      return this.failedLoad();
    }
    if (!this.matches()) return this.failedLoad();
    return true;
  }

  private failedLoad(): false {
    this.reset();
    return false;
  }
}
