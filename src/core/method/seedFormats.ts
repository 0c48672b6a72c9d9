// The seed file's formats, each read as a stream of parsed rows with their line: JSONL, a JSON array (split into
// elements without holding the file), and CSV. What a row means is seeds.ts's business.
import { finished } from 'node:stream/promises';
import { parse as parseCsv, type CsvError } from 'csv-parse';
import { SvdError, describeError } from '../base/errors';

/** A row as parsed, with its line (or what is wrong with it); seeds.ts makes seeds of them. */
export type ParsedRow =
  | { line: number; fallbackId: string; row: unknown }
  | { line: number; problem: { field?: string; message: string } };

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === NEWLINE || code === 0x0d;
}

function parseJson(text: string, line: number, fallbackId: string): ParsedRow {
  try {
    return { line, fallbackId, row: JSON.parse(text) };
  } catch (error) {
    return { line, problem: { message: `not valid JSON: ${describeError(error)}` } };
  }
}

export async function* jsonlRows(text: AsyncIterable<string>): AsyncGenerator<ParsedRow[]> {
  let pending = '';
  let line = 0;
  const row = (content: string): ParsedRow[] =>
    content.trim().length === 0 ? [] : [parseJson(content, line, String(line))];
  for await (const chunk of text) {
    const batch: ParsedRow[] = [];
    let start = 0;
    // Split on `\n` only: a CRLF's `\r` stays on the line, and JSON reads it as whitespace.
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      line++;
      batch.push(...row(pending + chunk.slice(start, end)));
      pending = '';
      start = end + 1;
    }
    pending += chunk.slice(start);
    if (batch.length > 0) yield batch;
  }
  line++;
  yield row(pending);
}

function badJsonArray(file: string, line: number, message: string): SvdError {
  return new SvdError('bad_seed_file', `${file}:${line}: ${message}`);
}

function describeChar(code: number): string {
  return JSON.stringify(String.fromCharCode(code));
}

type SplitState = 'start' | 'expectElement' | 'element' | 'afterElement' | 'done';

/**
 * Splits a JSON array into its top-level elements without parsing the whole: it tracks only nesting depth and
 * strings, and hands each element's text to JSON.parse. A broken element is a bad row; a broken array throws.
 */
export async function* jsonArrayRows(text: AsyncIterable<string>, file: string): AsyncGenerator<ParsedRow[]> {
  let state = 'start' as SplitState;
  let line = 1;
  let index = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let elementLine = 0;
  let pieces: string[] = [];
  let empty = true;
  for await (const chunk of text) {
    const batch: ParsedRow[] = [];
    let elementStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (code === NEWLINE) line++;
      if (state === 'element') {
        let end = -1; // the element ends before this index
        let next: SplitState = state;
        if (inString) {
          if (escaped) escaped = false;
          else if (code === BACKSLASH) escaped = true;
          else if (code === QUOTE) {
            inString = false;
            if (depth === 0) [end, next] = [i + 1, 'afterElement'];
          }
        } else if (code === QUOTE) inString = true;
        else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
        else if (depth > 0 && (code === CLOSE_BRACE || code === CLOSE_BRACKET)) {
          depth--;
          if (depth === 0) [end, next] = [i + 1, 'afterElement'];
        } else if (depth === 0) {
          // A bare scalar (number, true, null...) ends at the first separator.
          if (code === COMMA) [end, next] = [i, 'expectElement'];
          else if (code === CLOSE_BRACKET) [end, next] = [i, 'done'];
          else if (isJsonSpace(code)) [end, next] = [i, 'afterElement'];
        }
        if (end !== -1) {
          pieces.push(chunk.slice(elementStart, end));
          index++;
          batch.push(parseJson(pieces.join(''), elementLine, String(index)));
          pieces = [];
          state = next;
        }
        continue;
      }
      if (isJsonSpace(code)) continue;
      if (state === 'start') {
        if (code !== OPEN_BRACKET) {
          const hint = code === OPEN_BRACE ? ' (for one object per line, use a .jsonl file or the jsonl format)' : '';
          throw badJsonArray(file, line, `expected a JSON array of seed rows, found ${describeChar(code)}${hint}`);
        }
        state = 'expectElement';
        empty = false;
      } else if (state === 'expectElement') {
        // `]` here closes an empty array or follows a trailing comma, which is tolerated.
        if (code === CLOSE_BRACKET) state = 'done';
        else if (code === COMMA) throw badJsonArray(file, line, 'empty element in the JSON array (two commas)');
        else {
          state = 'element';
          elementStart = i;
          elementLine = line;
          depth = code === OPEN_BRACE || code === OPEN_BRACKET ? 1 : 0;
          inString = code === QUOTE;
          escaped = false;
        }
      } else if (state === 'afterElement') {
        if (code === COMMA) state = 'expectElement';
        else if (code === CLOSE_BRACKET) state = 'done';
        else throw badJsonArray(file, line, `expected "," or "]" after an element, found ${describeChar(code)}`);
      } else {
        throw badJsonArray(file, line, `unexpected ${describeChar(code)} after the end of the JSON array`);
      }
    }
    if (state === 'element') pieces.push(chunk.slice(elementStart));
    if (batch.length > 0) yield batch;
  }
  // An empty file has no rows, which scanSeeds reports; an array that never closes is a truncated file.
  if (!empty && state !== 'done') {
    throw badJsonArray(file, line, 'the JSON array is not closed (is the file truncated?)');
  }
}

/**
 * csv-parse is driven by hand: each write parses synchronously and hands records to `on_record`, which collects
 * them into the chunk's batch and keeps them out of the stream's own buffer.
 */
export async function* csvRows(text: AsyncIterable<string>): AsyncGenerator<ParsedRow[]> {
  let batch: ParsedRow[] = [];
  let header: string[] | undefined;
  let lastLine = 0;
  let failure: unknown;

  const onRecord = (record: string[], endLine: number): void => {
    // `endLine` is where the record ends; newlines inside quoted fields tell where it starts.
    const line = endLine - record.reduce((sum, field) => sum + countNewlines(field), 0);
    lastLine = endLine;
    if (record.every((field) => field.trim().length === 0)) return;
    if (header === undefined) {
      header = record.map((name) => name.trim());
      return;
    }
    if (record.length !== header.length) {
      const message = `the row has ${fields(record.length)}, the header has ${header.length}`;
      batch.push({ line, problem: { message } });
      return;
    }
    const names = header;
    const row = Object.fromEntries(record.map((field, i) => [names[i], field]));
    batch.push({ line, fallbackId: String(line), row });
  };

  const onSkip = (error: CsvError): void => {
    // An unclosed quote is only noticed at the end of the file; the damage starts after the last good record.
    const unclosed = error.code === 'CSV_QUOTE_NOT_CLOSED';
    const line = unclosed ? lastLine + 1 : Number(error['lines']) || lastLine + 1;
    const message = unclosed
      ? 'a quoted field is never closed, so the rest of the file is part of it'
      : `not valid CSV: ${error.message}`;
    batch.push({ line, problem: { message } });
  };

  const parser = parseCsv({
    record_delimiter: '\n',
    skip_empty_lines: true,
    // Row-level damage becomes a problem for that row instead of an error for the file.
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      if (error !== undefined) onSkip(error);
      return undefined;
    },
    on_record: (record, context) => {
      onRecord(record, context.lines);
      return null;
    },
  });
  parser.on('error', (error) => {
    failure = error;
  });
  const take = (): ParsedRow[] => {
    if (failure !== undefined) throw failure;
    const taken = batch;
    batch = [];
    return taken;
  };
  try {
    for await (const chunk of withoutCarriageReturns(text)) {
      parser.write(chunk);
      const rows = take();
      if (rows.length > 0) yield rows;
    }
    parser.end();
    await finished(parser, { readable: false });
    yield take();
  } finally {
    parser.destroy();
  }
}

function fields(count: number): string {
  return count === 1 ? '1 field' : `${count} fields`;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/** CRLF to LF, so that quoted multi-line fields hold plain newlines and records split on `\n`. */
async function* withoutCarriageReturns(text: AsyncIterable<string>): AsyncGenerator<string> {
  let carry = '';
  for await (const chunk of text) {
    let joined = (carry + chunk).replace(/\r\n/g, '\n');
    carry = '';
    // A `\r` at the end of a chunk may be the first half of a CRLF split across chunks.
    if (joined.endsWith('\r')) {
      carry = '\r';
      joined = joined.slice(0, -1);
    }
    if (joined.length > 0) yield joined;
  }
  if (carry.length > 0) yield carry;
}
