// The review index's reading of the record's lines and its file's byte layout: a line to an event (lightly, or
// checked in full), the seed an event belongs to, lines that hold a text, and the typed sections of the saved index.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { SvdError, describeError } from '../base/errors';
import { issueText } from '../base/zodIssues';
import { RunEvent } from './events';
import { seedIdOfEvent } from './runview';

export interface FileMark {
  /** Bytes indexed: just past the last complete line. */
  end: number;
  /** Complete lines before `end`, for line numbers in errors. */
  lines: number;
  /** Hash of the first `headBytes` bytes. */
  head: string;
  headBytes: number;
  /** Hash of the bytes before `end`. */
  tail: string;
}

const EVENT_TYPES = new Set(['seed', 'candidate', 'vote', 'stage', 'outcome', 'truth', 'error', 'override', 'run', 'usage']);

/** A line as an event, or what is wrong with it. Only the fields the index relies on are checked here; a seed's
 * events are checked in full against the schema when they are read back for display. */
export function parseLine(text: string): RunEvent | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `not JSON (${describeError(error)})`;
  }
  if (typeof json !== 'object' || json === null) return 'not a JSON object';
  const event = json as Record<string, unknown>;
  if (typeof event.type !== 'string' || !EVENT_TYPES.has(event.type)) return `type: not a run event type (${JSON.stringify(event.type)})`;
  if (typeof event.id !== 'string' || event.id === '') return 'id: expected a non-empty string';
  for (const field of ['seedId', 'candidateId'] as const) {
    if (event[field] !== undefined && typeof event[field] !== 'string') return `${field}: expected a string`;
  }
  if (event.type === 'seed' && typeof event.line !== 'number') return 'line: expected a number';
  return json as RunEvent;
}

export function parsedOrThrow(text: string, where: () => string): RunEvent {
  const parsed = parseLine(text);
  if (typeof parsed === 'string') throw new SvdError('internal', `${where()}: ${parsed}`);
  return parsed;
}

/** A line checked in full against the record's schema. */
export function checked(text: string, where: () => string): RunEvent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SvdError('internal', `${where()}: not JSON (${describeError(error)})`);
  }
  const result = RunEvent.safeParse(json);
  if (!result.success) throw new SvdError('internal', `${where()}: ${issueText(result.error)}`);
  return result.data;
}


/** The first line of an id wins, as in the store (a racing writer may repeat one). */
export function dedupe(events: RunEvent[]): RunEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => !seen.has(event.id) && (seen.add(event.id), true));
}

/** The lines of `whole` that hold `text` once lower-cased (lower-casing keeps the line breaks, not every length). */
export function linesHolding(whole: string, text: string): string[] {
  const lower = whole.toLowerCase();
  const lines: string[] = [];
  let from = 0;
  let lowerStart = 0;
  let start = 0;
  for (let hit = lower.indexOf(text, from); hit !== -1; hit = lower.indexOf(text, from)) {
    for (let nl = lower.indexOf('\n', lowerStart); nl !== -1 && nl < hit; nl = lower.indexOf('\n', lowerStart)) {
      lowerStart = nl + 1;
      start = whole.indexOf('\n', start) + 1;
    }
    const end = whole.indexOf('\n', start);
    lines.push(whole.slice(start, end === -1 ? undefined : end));
    const lowerEnd = lower.indexOf('\n', hit);
    if (lowerEnd === -1) break;
    from = lowerEnd + 1;
  }
  return lines;
}

export function probe(fd: number, from: number, to: number): string {
  const buffer = Buffer.allocUnsafe(to - from);
  const n = fs.readSync(fd, buffer, 0, buffer.length, from);
  return createHash('sha1').update(buffer.subarray(0, n)).digest('hex');
}

/** `count` numbers of the file at byte `at`: a view where aligned, else a copy. Throws when the file is too short. */
export function view<T extends Float64Array<ArrayBufferLike> | Uint32Array<ArrayBufferLike>>(
  type: { new (buffer: ArrayBufferLike, offset: number, length: number): T; BYTES_PER_ELEMENT: number },
  data: Buffer,
  at: number,
  count: number,
): T {
  const bytes = count * type.BYTES_PER_ELEMENT;
  if (at + bytes > data.length) throw new Error('the review index is cut short');
  const offset = data.byteOffset + at;
  if (offset % type.BYTES_PER_ELEMENT === 0) return new type(data.buffer, offset, count);
  return new type(data.buffer.slice(offset, offset + bytes), 0, count);
}

export function lengthPrefixed(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(body.length);
  return Buffer.concat([head, body]);
}

export function readPrefixed(data: Buffer, at: number): [string, number] {
  const length = data.readUInt32LE(at);
  return [data.toString('utf8', at + 4, at + 4 + length), at + 4 + length];
}

const SEARCH_CHUNK = 1 << 16;

/** Seeds with a line, in the files' indexed parts (`ends`), that holds `text` once lower-cased. */
export function seedsHolding(fds: readonly (number | undefined)[], ends: readonly number[], text: string): Set<string> {
  const found = new Set<string>();
  for (let file = 0; file < fds.length; file++) {
    const fd = fds[file];
    if (fd === undefined) continue;
    const end = ends[file]!;
    let position = 0;
    // Bytes, not text, carried over: a chunk may end inside a character.
    let carry: Buffer = Buffer.alloc(0);
    while (position < end) {
      // Chunks small enough that their text stays out of V8's large-object space: a scan of a gigabyte then leaves
      // short-lived garbage the young generation sweeps, not hundreds of megabytes waiting for a full collection.
      const chunk = Buffer.allocUnsafe(Math.min(SEARCH_CHUNK, end - position));
      const n = fs.readSync(fd, chunk, 0, chunk.length, position);
      if (n === 0) break;
      position += n;
      const last = chunk.lastIndexOf(0x0a, n - 1);
      if (last === -1) {
        // A line longer than a chunk: it is searched whole once its end comes.
        carry = Buffer.concat([carry, chunk.subarray(0, n)]);
        continue;
      }
      const whole = Buffer.concat([carry, chunk.subarray(0, last + 1)]).toString('utf8');
      carry = Buffer.from(chunk.subarray(last + 1, n));
      for (const line of linesHolding(whole, text)) {
        const parsed = parseLine(line);
        const seedId = typeof parsed === 'string' ? undefined : seedIdOfEvent(parsed);
        if (seedId !== undefined) found.add(seedId);
      }
    }
  }
  return found;
}

/** The saved index's parts: magic, header, rows' JSON, then the typed sections, 8-byte aligned so that a load views them where
 * they lie instead of copying them. */
export function indexParts(magic: Buffer, header: string, rows: string, sections: ArrayBufferView[]): Buffer[] {
  const head = [magic, lengthPrefixed(header), lengthPrefixed(rows)];
  const headLength = head.reduce((sum, part) => sum + part.length, 0);
  head.push(Buffer.alloc((8 - (headLength % 8)) % 8));
  return [...head, ...sections.map((section) => Buffer.from(section.buffer, section.byteOffset, section.byteLength))];
}
