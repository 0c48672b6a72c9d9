// Reading the record for the review index: its lines streamed from where the index stopped, a seed's lines read
// back by their refs, and the probes that tell that a file is still the one indexed.
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SvdError } from '../base/errors';
import type { RunEvent } from './events';
import { checked, parsedOrThrow, parseLine, probe, type FileMark } from './reviewIndexLines';

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;
/** Bytes hashed at a file's head and before the indexed end to tell that it is still the file that was indexed. */
export const PROBE = 4096;

/** Streams the complete lines of `file` from its mark, the mark following; false when the budget ran out first. */
export function scanLines(
fd: number,
name: string,
file: number,
mark: FileMark,
started: number,
budgetMs: number,
onEvent: (event: RunEvent, ref: number, length: number) => void,
): boolean {
  const size = fs.fstatSync(fd).size;
  let carry: Buffer = Buffer.alloc(0);
  let position = mark.end;
  let bad: string | undefined;
  while (position < size) {
    // At least one chunk a call, so a build always moves.
    if (position > mark.end && performance.now() - started > budgetMs) {
      markProbes(fd, mark);
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
        markProbes(fd, mark);
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
  markProbes(fd, mark);
  return true;
}

/** Hashes the bytes before the mark's end, and at the file's head, to tell later that the file is the same. */
export function markProbes(fd: number, mark: FileMark): void {
  if (mark.end === 0) return;
  mark.tail = probe(fd, Math.max(0, mark.end - PROBE), mark.end);
  if (mark.headBytes < PROBE && mark.end > mark.headBytes) {
    mark.headBytes = Math.min(PROBE, mark.end);
    mark.head = probe(fd, 0, mark.headBytes);
  }
}

/**
 * Reads lines back by their refs: the pipeline's file in order, then the overrides in order. Lines that follow
 * each other on disk (a seed's usually do) are read in one go.
 */
export function readLines(fdOf: (file: number) => number | undefined, nameOf: (file: number) => string, refs: readonly number[], strict: boolean): RunEvent[] {
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
    const fd = fdOf(file);
    const buffer = Buffer.allocUnsafe(span);
    let got = 0;
    while (fd !== undefined && got < span) {
      const n = fs.readSync(fd, buffer, got, span - got, at + got);
      if (n === 0) break;
      got += n;
    }
    const name = () => nameOf(file);
    if (got !== span) throw new SvdError('internal', `${name()}: the record at byte ${at} changed on disk`);
    for (let i = first; i <= last; i++) {
      const line = lines[i]!;
      const text = buffer.toString('utf8', line.at - at, line.at - at + line.length);
      events.push(strict ? checked(text, () => `${name()}: byte ${line.at}`) : parsedOrThrow(text, () => `${name()}: byte ${line.at}`));
    }
    first = last + 1;
  }
  return events;
}

/** Whether the files still start and continue with what was indexed: else they were replaced or cut. */
export function stillMatches(marks: readonly FileMark[], fdOf: (file: number) => number | undefined): boolean {
  for (let file = 0; file < marks.length; file++) {
    const mark = marks[file]!;
    if (mark.end === 0) continue;
    const fd = fdOf(file);
    if (fd === undefined || fs.fstatSync(fd).size < mark.end) return false;
    if (probe(fd, Math.max(0, mark.end - PROBE), mark.end) !== mark.tail) return false;
    if (probe(fd, 0, mark.headBytes) !== mark.head) return false;
  }
  return true;
}
