// The saved review index (review-index.bin) as bytes: magic, a JSON header, then typed sections 8-byte aligned so
// that a load views them where they lie: per seed its line, order, line count and errors; the seeds' line refs
// (positions, then lengths); the rows packed as numbers. Seeds with a row come first, in the fold's order, so that a
// load needs neither to sort them nor to unpack a row to know which are shown.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { AtomicFileWriter } from './atomicFile';
import type { RunEvent } from './events';
import { indexParts, readPrefixed, view, type FileMark } from './reviewIndexLines';

export const REVIEW_INDEX_FILE = 'review-index.bin';
const FORMAT = 'svd-review-index-5';
const MAGIC = Buffer.from('SVDRIX5\n', 'ascii');

/** Rows packed as numbers, and the strings the numbers name. */
export interface PackedRows {
  numbers: Float64Array<ArrayBufferLike>;
  strings: string[];
}

interface Header {
  format: string;
  version: string;
  marks: FileMark[];
  run: RunEvent[];
  errors: number;
  /** Seed ids joined by NUL, or `idList` where an id holds a NUL. */
  ids: string;
  idList?: string[];
  /** Seeds with a row (the first ones). */
  shown: number;
  /** Numbers of the packed rows (0: rows are JSON). */
  packed: number;
  strings: string[];
}

/** What a saved index holds, its sections viewed in place. */
export interface SavedIndex {
  version: string;
  marks: FileMark[];
  run: RunEvent[];
  looseErrors: number;
  ids: string[];
  shown: number;
  /** Per seed: line, order, line count, errors. */
  seeds: Float64Array<ArrayBufferLike>;
  positions: Float64Array<ArrayBufferLike>;
  lengths: Uint32Array<ArrayBufferLike>;
  /** Rows packed as numbers, or (a summarizer that does not pack) as JSON. */
  packed: { numbers: Float64Array<ArrayBufferLike>; strings: string[] };
  rows?: unknown[];
}

/** The saved index of the run in `dir`, or undefined when there is none, or it is of another format or version. */
export function readIndexFile(dir: string, version: string): SavedIndex | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(path.join(dir, REVIEW_INDEX_FILE));
  } catch {
    return undefined;
  }
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const [headerText, afterHeader] = readPrefixed(data, MAGIC.length);
  const header = JSON.parse(headerText) as Header;
  if (header.format !== FORMAT || header.version !== version) return undefined;
  const [rowsText, afterRows] = readPrefixed(data, afterHeader);
  let at = afterRows;
  at += (8 - (at % 8)) % 8;
  const ids = header.idList ?? (header.ids === '' ? [] : header.ids.split('\u0000'));
  const count = ids.length;
  const seeds = view(Float64Array, data, at, count * 4);
  at += count * 32;
  let refCount = 0;
  for (let i = 0; i < count; i++) refCount += seeds[i * 4 + 2]!;
  const positions = view(Float64Array, data, at, refCount);
  at += refCount * 8;
  const numbers = view(Float64Array, data, at, header.packed);
  at += header.packed * 8;
  const lengths = view(Uint32Array, data, at, refCount);
  if (header.shown > count) throw new Error('the review index shows more seeds than it holds');
  const saved: SavedIndex = { version, marks: header.marks, run: header.run, looseErrors: header.errors, ids, shown: header.shown, seeds, positions, lengths, packed: { numbers, strings: header.strings } };
  if (rowsText !== '') saved.rows = JSON.parse(rowsText) as unknown[];
  return saved;
}

/** What to save: seeds with a row first, in the fold's order. */
export interface IndexToSave {
  version: string;
  marks: FileMark[];
  run: RunEvent[];
  looseErrors: number;
  ids: string[];
  shown: number;
  seeds: Float64Array;
  positions: Float64Array;
  lengths: Uint32Array;
  packed: { numbers: Float64Array; strings: string[] };
  /** Rows as JSON, where the summarizer does not pack them. */
  rows?: string;
}

/** Writes the index atomically; false when the run folder cannot be written (the index is a cache). */
export function writeIndexFile(dir: string, index: IndexToSave): boolean {
  // Ids joined by NUL split back much faster than a JSON array parses; an id holding a NUL falls back to JSON.
  const nul = index.ids.some((id) => id.includes('\u0000'));
  const header: Header = {
    format: FORMAT,
    version: index.version,
    marks: index.marks,
    run: index.run,
    errors: index.looseErrors,
    ids: nul ? '' : index.ids.join('\u0000'),
    shown: index.shown,
    packed: index.packed.numbers.length,
    strings: index.packed.strings,
  };
  if (nul) header.idList = index.ids;
  const parts = indexParts(MAGIC, JSON.stringify(header), index.rows ?? '', [index.seeds, index.positions, index.packed.numbers, index.lengths]);
  // Written part by part: a large run's index is tens of megabytes, not worth a second copy in memory.
  let writer: AtomicFileWriter | undefined;
  try {
    writer = new AtomicFileWriter(path.join(dir, REVIEW_INDEX_FILE));
    for (const part of parts) writer.write(part);
    writer.commit();
    return true;
  } catch {
    writer?.abort();
    return false;
  }
}

/**
 * The rows of `slots`, in order, to save: packed (a row still packed as it was loaded is copied as it lies), or as
 * JSON where the summarizer does not pack.
 */
export function rowsToSave<Row>(
  slots: readonly number[],
  loaded: { rows: PackedRows; starts: Int32Array } | undefined,
  isPacked: (slot: number) => boolean,
  rowOf: (slot: number) => Row | undefined,
  pack: ((rows: readonly (Row | undefined)[], strings: string[]) => Float64Array) | undefined,
): { packed: PackedRows; rows?: string } {
  if (!pack) return { packed: { numbers: new Float64Array(0), strings: [] }, rows: JSON.stringify(slots.map((slot) => rowOf(slot) ?? null)) };
  const strings = loaded ? [...loaded.rows.strings] : [];
  const parts: Float64Array<ArrayBufferLike>[] = [];
  let waiting: (Row | undefined)[] = [];
  const flush = () => {
    if (waiting.length > 0) parts.push(pack(waiting, strings));
    waiting = [];
  };
  for (const slot of slots) {
    if (loaded && isPacked(slot)) {
      flush();
      parts.push(loaded.rows.numbers.subarray(loaded.starts[slot]!, loaded.starts[slot + 1]!));
    } else waiting.push(rowOf(slot));
  }
  flush();
  const numbers = new Float64Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    numbers.set(part, at);
    at += part.length;
  }
  return { packed: { numbers, strings } };
}
