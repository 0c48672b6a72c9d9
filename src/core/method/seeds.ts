// Reads a seed file row by row: JSONL, a JSON array or CSV. A bad row comes back as a problem and is skipped, so one
// typo never stops a run; only a file that cannot be read, or cannot be parsed as a whole, throws.
// Everything streams: the only state that grows with the file is the map of ids seen (to report duplicates), plus
// the list of problems that scanSeeds returns.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { DEFAULT_MAX_QUESTION_BYTES } from '../base/config';
import { SvdError, describeError } from '../base/errors';
import { choiceRow } from './seedChoices';
import { testCasesOf } from './seedTestCases';
import { csvRows, jsonArrayRows, jsonlRows, type ParsedRow } from './seedFormats';
import type { Domain, Gold, Seed, SeedProblem } from '../base/types';

export type SeedFormat = 'jsonl' | 'json' | 'csv';

export interface SeedReadOptions {
  file: string;
  /** Default from the extension; otherwise sniffed from the first non-space character. */
  format?: SeedFormat;
  /** The field holding the question; default: the first of QUESTION_FIELDS a row has. */
  questionField?: string;
  /** Default `domain`. */
  domainField?: string;
  /** Default `id`, then `task_id`; a row without one gets its line (JSON array: its 1-based element index). */
  idField?: string;
  /** For rows without a domain of their own; a row's own field wins. */
  domain?: Domain;
  /** Rows come from this text instead of the file (an editor's unsaved buffer); `file` still names it. */
  text?: string;
  /** A longer question (UTF-8 bytes) makes its row a bad row; default DEFAULT_MAX_QUESTION_BYTES. */
  maxQuestionBytes?: number;
}

export type SeedRecord = { kind: 'seed'; seed: Seed } | { kind: 'problem'; problem: SeedProblem };

export interface SeedScan {
  count: number;
  problems: SeedProblem[];
  /** sha256 hex of the file's bytes. */
  fingerprint: string;
  format: SeedFormat;
}

/** Where a question may live, in order of preference (the layouts of common data sets). */
export const QUESTION_FIELDS = ['question', 'problem', 'prompt', 'input', 'instruction', 'content'] as const;

const DOMAIN_NAMES: Readonly<Record<string, Domain>> = {
  math: 'math',
  mathematics: 'math',
  science: 'science',
  stem: 'science',
  coding: 'coding',
  code: 'coding',
  programming: 'coding',
};

/** A domain from its name or an alias, case-insensitive; undefined when it is none of them. */
export function parseDomain(name: string): Domain | undefined {
  const key = name.trim().toLowerCase();
  return Object.hasOwn(DOMAIN_NAMES, key) ? DOMAIN_NAMES[key] : undefined;
}

/** `file:line: message`, the message naming the field at fault. */
export function formatProblem(problem: SeedProblem): string {
  const field = problem.field === undefined ? '' : `field ${JSON.stringify(problem.field)}: `;
  return `${problem.file}:${problem.line}: ${field}${problem.message}`;
}

/**
 * The file's seeds and problems in file order. Throws SvdError `bad_seed_file` only when the file cannot be read or
 * is not parseable as a whole (a JSON file that is not one array).
 */
export async function* readSeeds(options: SeedReadOptions): AsyncGenerator<SeedRecord> {
  const opened = await openSeeds(options);
  yield* opened.records;
}

/** One pass over the file: how many seeds, which rows are skipped, and the bytes' fingerprint. */
export async function scanSeeds(options: SeedReadOptions): Promise<SeedScan> {
  const opened = await openSeeds(options);
  let count = 0;
  const problems: SeedProblem[] = [];
  for await (const record of opened.records) {
    if (record.kind === 'seed') count++;
    else problems.push(record.problem);
  }
  if (count === 0) throw new SvdError('bad_seed_file', noUsableRow(options.file, problems));
  return { count, problems, fingerprint: opened.fingerprint(), format: opened.format };
}

const PROBLEMS_SHOWN = 5;

function noUsableRow(file: string, problems: SeedProblem[]): string {
  if (problems.length === 0) return `${file}: no seed rows in the file`;
  const shown = problems.slice(0, PROBLEMS_SHOWN).map((problem) => `  ${formatProblem(problem)}`);
  const more = problems.length > PROBLEMS_SHOWN ? [`  ... and ${problems.length - PROBLEMS_SHOWN} more`] : [];
  const rows = problems.length === 1 ? '1 row' : `${problems.length} rows`;
  return [`${file}: no usable seed row (${rows} skipped)`, ...shown, ...more].join('\n');
}

// ---- opening the file ----------------------------------------------------------------------------------------

interface OpenedSeeds {
  format: SeedFormat;
  records: AsyncGenerator<SeedRecord>;
  /** Valid once `records` has been read to the end. */
  fingerprint(): string;
}

const BOM = 0xfeff;

async function openSeeds(options: SeedReadOptions): Promise<OpenedSeeds> {
  const hash = createHash('sha256');
  const chunks = options.text === undefined ? decodedChunks(options.file, hash) : textChunks(options.text, hash);
  const { format, text } = await resolveFormat(options, chunks);
  const rows =
    format === 'jsonl' ? jsonlRows(text) : format === 'json' ? jsonArrayRows(text, options.file) : csvRows(text);
  return { format, records: toRecords(rows, options), fingerprint: () => hash.digest('hex') };
}

/** The file as text, chunk by chunk; the raw bytes feed the fingerprint on the way. */
async function* decodedChunks(file: string, hash: Hash): AsyncGenerator<string> {
  const stream = createReadStream(file);
  const bytes: AsyncIterator<Buffer> = stream[Symbol.asyncIterator]();
  const decoder = new StringDecoder('utf8');
  let first = true;
  try {
    for (;;) {
      let step: IteratorResult<Buffer>;
      try {
        step = await bytes.next();
      } catch (error) {
        throw new SvdError('bad_seed_file', `${file}: cannot read the seed file: ${describeError(error)}`, {
          cause: error,
        });
      }
      if (step.done) break;
      hash.update(step.value);
      let text = decoder.write(step.value);
      if (first && text.length > 0) {
        first = false;
        if (text.charCodeAt(0) === BOM) text = text.slice(1);
      }
      if (text.length > 0) yield text;
    }
  } finally {
    stream.destroy();
  }
  const rest = decoder.end();
  if (rest.length > 0) yield first && rest.charCodeAt(0) === BOM ? rest.slice(1) : rest;
}

/** Given text read as the file would be: its UTF-8 bytes feed the fingerprint, a leading BOM is dropped. */
async function* textChunks(text: string, hash: Hash): AsyncGenerator<string> {
  hash.update(text, 'utf8');
  const body = text.charCodeAt(0) === BOM ? text.slice(1) : text;
  if (body.length > 0) yield body;
}

const EXTENSIONS: Readonly<Record<string, SeedFormat>> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
};

async function resolveFormat(
  options: SeedReadOptions,
  chunks: AsyncGenerator<string>,
): Promise<{ format: SeedFormat; text: AsyncIterable<string> }> {
  const extension = extname(options.file).toLowerCase();
  const known = options.format ?? (Object.hasOwn(EXTENSIONS, extension) ? EXTENSIONS[extension] : undefined);
  if (known !== undefined) return { format: known, text: chunks };
  // Sniff: read until the first non-space character, then replay what was read.
  const seen: string[] = [];
  let format: SeedFormat = 'csv';
  for (;;) {
    const step = await chunks.next();
    if (step.done) break;
    seen.push(step.value);
    const first = /\S/.exec(step.value);
    if (first !== null) {
      format = first[0] === '[' ? 'json' : first[0] === '{' ? 'jsonl' : 'csv';
      break;
    }
  }
  return { format, text: replay(seen, chunks) };
}

async function* replay(head: string[], rest: AsyncGenerator<string>): AsyncGenerator<string> {
  yield* head;
  yield* rest;
}

// ---- rows to seeds -----------------------------------------------------------------------------------------------

type Row = Record<string, unknown>;
type RowProblem = { field?: string; message: string };

/** Rows arrive in batches (one read chunk's worth) to keep the per-row cost of async iteration low. */
async function* toRecords(batches: AsyncIterable<ParsedRow[]>, options: SeedReadOptions): AsyncGenerator<SeedRecord> {
  const file = options.file;
  const firstLineOfId = new Map<string, number>();
  for await (const batch of batches) {
    for (const parsed of batch) {
      if ('problem' in parsed) {
        yield { kind: 'problem', problem: { file, line: parsed.line, ...parsed.problem } };
        continue;
      }
      const result = seedOfRow(parsed.row, parsed.line, parsed.fallbackId, options);
      if ('message' in result) {
        yield { kind: 'problem', problem: { file, line: parsed.line, ...result } };
        continue;
      }
      const { seed, idField } = result;
      const first = firstLineOfId.get(seed.id);
      if (first !== undefined) {
        const message = `duplicate id ${JSON.stringify(seed.id)} (first used on line ${first})`;
        yield { kind: 'problem', problem: { file, line: parsed.line, field: idField, message } };
        continue;
      }
      firstLineOfId.set(seed.id, parsed.line);
      yield { kind: 'seed', seed };
    }
  }
}

function isRow(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * One parsed row to a seed, or the problem with it: the per-row half of the reader, which `svd check --row` and
 * `--pairs` share. A row whose options are separate fields (GPQA) is first put in the plain layout (seedChoices.ts),
 * and its shuffle seed goes into the gold, so the letter can be rebuilt.
 */
export function seedOfRow(
  row: unknown,
  line: number,
  fallbackId: string,
  options: SeedReadOptions,
): { seed: Seed; idField: string } | RowProblem {
  if (!isRow(row)) return seedFromRow(row, line, fallbackId, options);
  // GPQA's `Question`, where the row has none of the usual fields and none was named.
  const gpqaQuestion = options.questionField === undefined && Object.hasOwn(row, 'Question') ? 'Question' : undefined;
  const questionField = questionFieldOf(row, options.questionField) ?? gpqaQuestion;
  const choices = choiceRow(row, { ...options, questionField });
  if (choices === undefined) return seedFromRow(row, line, fallbackId, options);
  if ('message' in choices) return choices;
  const result = seedFromRow(choices.row, line, fallbackId, { ...options, questionField: choices.questionField });
  if ('message' in result) return result;
  return { ...result, seed: { ...result.seed, gold: { ...result.seed.gold, shuffleSeed: choices.shuffleSeed } } };
}

function seedFromRow(
  row: unknown,
  line: number,
  fallbackId: string,
  options: SeedReadOptions,
): { seed: Seed; idField: string } | RowProblem {
  if (!isRow(row)) return { message: `expected a JSON object, found ${describeType(row)}` };

  const id = idOf(row, options.idField);
  if ('message' in id) return id;

  const questionField = questionFieldOf(row, options.questionField);
  if (questionField === undefined) {
    return options.questionField === undefined
      ? { message: `no question field (expected one of ${QUESTION_FIELDS.join(', ')})` }
      : { field: options.questionField, message: 'missing' };
  }
  const value = row[questionField];
  if (typeof value !== 'string') {
    return { field: questionField, message: `expected a string, found ${describeType(value)}` };
  }
  if (value.trim().length === 0) return { field: questionField, message: 'the question is empty' };
  const question = questionField === 'instruction' ? withAlpacaInput(value, row.input) : value;
  const tooLong = questionTooLong(question, options.maxQuestionBytes ?? DEFAULT_MAX_QUESTION_BYTES);
  if (tooLong !== undefined) return { field: questionField, message: tooLong };

  const domain = domainOf(row, options);
  if (typeof domain !== 'string') return domain;

  // Input/output test cases (LiveCodeBench, APPS, CodeContests): seedTestCases.ts.
  const testCases = testCasesOf(row);
  if (testCases !== undefined && 'message' in testCases) return testCases;
  const gold = testCases === undefined ? goldOf(row, questionField) : { ...goldOf(row, questionField), testCases };
  const seed: Seed = { id: id.value ?? fallbackId, line, domain, question, ...(gold === undefined ? {} : { gold }) };
  return { seed, idField: id.field ?? options.idField ?? 'id' };
}

function questionTooLong(question: string, maxBytes: number): string | undefined {
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short questions need no count.
  if (question.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(question, 'utf8');
  if (bytes <= maxBytes) return undefined;
  return `the question is ${kilobytes(bytes)}, over the limit of ${kilobytes(maxBytes)} (maxQuestionBytes)`;
}

function kilobytes(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KB` : `${(bytes / 1024).toFixed(1)} KB`;
}

function idOf(row: Row, named: string | undefined): { value?: string; field?: string } | RowProblem {
  for (const field of named === undefined ? ['id', 'task_id'] : [named]) {
    const value = Object.hasOwn(row, field) ? row[field] : undefined;
    // Null and blank ids (empty CSV cells) count as no id.
    if (value === undefined || value === null) continue;
    if (typeof value === 'number' && Number.isFinite(value)) return { value: String(value), field };
    if (typeof value !== 'string') {
      return { field, message: `expected a string or a number, found ${describeType(value)}` };
    }
    if (value.trim().length > 0) return { value: value.trim(), field };
  }
  return {};
}

function questionFieldOf(row: Row, named: string | undefined): string | undefined {
  if (named !== undefined) return Object.hasOwn(row, named) ? named : undefined;
  return QUESTION_FIELDS.find(
    // In Alpaca rows `input` is the context of `instruction`, not the question.
    (field) => Object.hasOwn(row, field) && !(field === 'input' && Object.hasOwn(row, 'instruction')),
  );
}

function withAlpacaInput(instruction: string, input: unknown): string {
  return typeof input === 'string' && input.trim().length > 0 ? `${instruction}\n\n${input}` : instruction;
}

function domainOf(row: Row, options: SeedReadOptions): Domain | RowProblem {
  const field = options.domainField ?? 'domain';
  const value = Object.hasOwn(row, field) ? row[field] : undefined;
  if (value === undefined || value === null || (typeof value === 'string' && value.trim().length === 0)) {
    if (options.domain !== undefined) return options.domain;
    return { field, message: `no domain (add a ${JSON.stringify(field)} field or pass a default domain)` };
  }
  if (typeof value !== 'string') return { field, message: `expected a string, found ${describeType(value)}` };
  return (
    parseDomain(value) ?? {
      field,
      message: `unknown domain ${JSON.stringify(value.trim())} (expected math, science or coding)`,
    }
  );
}

/** Reference data for auditing. Kept out of `question`, so it never reaches a prompt. */
function goldOf(row: Row, questionField: string): Gold | undefined {
  // Alpaca's `output` is the reference answer to its `instruction`.
  const answerFields = questionField === 'instruction' ? ['answer', 'gold', 'output'] : ['answer', 'gold'];
  const pick = (fields: string[]): string | undefined => {
    for (const field of fields) {
      if (field === questionField || !Object.hasOwn(row, field)) continue;
      const text = goldText(row[field]);
      if (text !== undefined) return text;
    }
    return undefined;
  };
  const gold: Gold = {};
  const answer = pick(answerFields);
  const tests = pick(['tests', 'test', 'test_list']);
  const solution = pick(['solution', 'canonical_solution']);
  const entryPoint = pick(['entry_point']);
  if (answer !== undefined) gold.answer = answer;
  if (tests !== undefined) gold.tests = tests;
  if (solution !== undefined) gold.solution = solution;
  if (entryPoint !== undefined) gold.entryPoint = entryPoint;
  return Object.keys(gold).length > 0 ? gold : undefined;
}

/** Strings as they are, numbers (numeric answers) as text, lists of strings (MBPP's test_list) one per line. */
function goldText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim().length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) {
    return value.join('\n');
  }
  return undefined;
}
