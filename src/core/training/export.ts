// Accepted answers as SFT data: one example per accepted candidate, user = the exact generation prompt,
// assistant = the full trace (the method trains on the thinking) or, on request, the answer alone.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { AtomicFileWriter, writeFileAtomic } from '../record/atomicFile';
import { SvdError, describeError } from '../base/errors';
import { issueText } from '../base/zodIssues';
import type { CandidateEvent, RunEvent, SeedEvent } from '../record/events';
import { foldRun, type SeedView } from '../record/runview';
import { foldRunStreaming, type RunSource } from '../record/streamFold';
import { SeedSpool } from './exportSpool';
import { fullTrace, splitTrace } from '../method/trace';
import { DOMAINS, type ChatMessage, type Domain } from '../base/types';

export const EXPORT_FORMATS = ['openai', 'trl', 'sharegpt', 'alpaca'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  out: string;
  /** Default keep: the method trains on the full trace. */
  thinking?: 'keep' | 'strip';
  /** Default true. */
  applyOverrides?: boolean;
  /** 0 <= f < 1, default 0. */
  valFraction?: number;
  /** Default 0. */
  splitSeed?: number;
  /** sharegpt: the dataset_info.json key; default from the out file name. */
  datasetName?: string;
  /** Replace output files that exist already; without it an existing one is refused. Default false. */
  replace?: boolean;
  /** Never written, even with `replace` (see runProtection). */
  protect?: ExportProtection;
}

/** What an export must never write over, each with what it is for the message. */
export interface ExportProtection {
  /** Folders holding a record (a run's folder): no file directly in one is written. */
  dirs?: readonly { path: string; what: string }[];
  /** Single files (a run's seed file). */
  files?: readonly { path: string; what: string }[];
}

/** A run's export never writes into the run's folder (its record: run.json, events.jsonl, ...) nor over its seeds. */
export function runProtection(run: { dir: string; manifest: { id: string; seedFile: { path: string } } }): ExportProtection {
  return {
    dirs: [{ path: run.dir, what: `the folder of run ${run.manifest.id}, which holds the run's record` }],
    files: [{ path: run.manifest.seedFile.path, what: `the seed file of run ${run.manifest.id}` }],
  };
}

export interface ExportPlan {
  /** The data files, in split order. */
  files: string[];
  /** sharegpt: the dataset_info.json that gets an entry (updated in place, so never counted as existing). */
  datasetInfo?: string;
  /** Data files that exist already and would be replaced. */
  existing: string[];
}

export interface ExportedFile {
  path: string;
  split: 'train' | 'validation';
  rows: number;
}

export interface SkippedCandidate {
  candidateId: string;
  reason: string;
}

export interface ExportSummary {
  format: ExportFormat;
  files: ExportedFile[];
  rows: number;
  perDomain: Record<Domain, number>;
  /** About 4 characters a token, prompt and completion together. */
  approxTokens: number;
  /** sharegpt: the dataset_info.json written or updated. */
  datasetInfo?: string;
  /** Accepted candidates that yield no usable example (e.g. an overridden one whose answer is empty). */
  skipped: SkippedCandidate[];
}

const OptionsSchema = z.object({
  format: z.enum(EXPORT_FORMATS),
  out: z.string().min(1),
  thinking: z.enum(['keep', 'strip']).default('keep'),
  applyOverrides: z.boolean().default(true),
  valFraction: z.number().min(0).lt(1).default(0),
  splitSeed: z.number().int().default(0),
  datasetName: z.string().min(1).optional(),
  replace: z.boolean().default(false),
});

const text = z.string();
const filled = z.string().min(1);
const chatMessage = z.object({ role: z.enum(['system', 'user', 'assistant']), content: text }).strict();
const assistantMessage = z.object({ role: z.literal('assistant'), content: filled }).strict();

/** One row of each format, checked before it is written. */
export const EXPORT_ROW_SCHEMAS = {
  openai: z
    .object({ messages: z.array(chatMessage).min(2) })
    .strict()
    .refine((row) => row.messages.at(-1)?.role === 'assistant' && row.messages.at(-1)?.content !== '', {
      message: 'the last message must be a non-empty assistant message',
    }),
  trl: z
    .object({ prompt: z.array(chatMessage).min(1), completion: z.tuple([assistantMessage]) })
    .strict(),
  sharegpt: z
    .object({
      conversations: z
        .array(z.object({ from: z.enum(['system', 'human', 'gpt']), value: text }).strict())
        .min(2)
        .refine((turns) => turns.at(-1)?.from === 'gpt' && turns.at(-1)?.value !== '', {
          message: 'the last turn must be a non-empty gpt turn',
        }),
    })
    .strict(),
  alpaca: z
    .object({ instruction: filled, input: z.literal(''), output: filled, system: text.optional() })
    .strict(),
} satisfies Record<ExportFormat, z.ZodType>;

export type ExportRow = { [F in ExportFormat]: z.infer<(typeof EXPORT_ROW_SCHEMAS)[F]> }[ExportFormat];

function parseOptions(options: ExportOptions): z.infer<typeof OptionsSchema> {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new SvdError('bad_config', `export: ${issueText(parsed.error, '(options)')}`);
  }
  return parsed.data;
}

interface Targets {
  split: boolean;
  base: string;
  sides: ExportedFile['split'][];
  files: Record<ExportedFile['split'], string>;
  datasetInfo?: string;
}

function targetsOf(opts: z.infer<typeof OptionsSchema>): Targets {
  const out = path.resolve(opts.out);
  const split = opts.valFraction > 0;
  const base = out.slice(0, out.length - path.extname(out).length);
  const files: Record<ExportedFile['split'], string> = split
    ? { train: `${base}.train.jsonl`, validation: `${base}.val.jsonl` }
    : { train: out, validation: out };
  const sides: ExportedFile['split'][] = split ? ['train', 'validation'] : ['train'];
  const datasetInfo = opts.format === 'sharegpt' ? path.join(path.dirname(out), DATASET_INFO) : undefined;
  return { split, base, sides, files, ...(datasetInfo ? { datasetInfo } : {}) };
}

/**
 * The files an export would write. Throws SvdError `bad_config` naming a target that is protected (even a link or
 * another name for it) or is a folder; lists the data files that exist and would be replaced.
 */
export function planExport(options: ExportOptions): ExportPlan {
  const opts = parseOptions(options);
  const targets = targetsOf(opts);
  const files = targets.sides.map((side) => targets.files[side]);
  for (const file of [...files, ...(targets.datasetInfo ? [targets.datasetInfo] : [])]) checkTarget(file, options.protect);
  const existing = files.filter((file) => lexists(file));
  return { files, ...(targets.datasetInfo ? { datasetInfo: targets.datasetInfo } : {}), existing };
}

function checkTarget(file: string, protect: ExportProtection | undefined): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    // absent (or a dangling link): nothing there to lose
  }
  if (stat?.isDirectory()) throw new SvdError('bad_config', `export: ${file} is a folder; name a file to write`);
  const real = resolvedPath(file);
  for (const dir of protect?.dirs ?? []) {
    if (path.dirname(real) === resolvedPath(dir.path)) {
      throw new SvdError('bad_config', `export: ${file} is in ${dir.what} (${dir.path}); export elsewhere`);
    }
  }
  for (const other of protect?.files ?? []) {
    if (real === resolvedPath(other.path) || sameInode(stat, other.path)) {
      throw new SvdError('bad_config', `export: ${file} is ${other.what}; export elsewhere`);
    }
  }
}

/** The path with links resolved as far as it exists, so two names of one file compare equal. */
function resolvedPath(file: string): string {
  const absolute = path.resolve(file);
  try {
    return fs.realpathSync.native(absolute);
  } catch {
    try {
      return path.join(fs.realpathSync.native(path.dirname(absolute)), path.basename(absolute));
    } catch {
      return absolute;
    }
  }
}

/** A hard link is the same file under another name. */
function sameInode(stat: fs.Stats | undefined, other: string): boolean {
  if (!stat || stat.ino === 0) return false;
  try {
    const theirs = fs.statSync(other);
    return theirs.dev === stat.dev && theirs.ino === stat.ino;
  } catch {
    return false;
  }
}

function lexists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param events the run's events; or its store (a RunSource), to stream the record seed by seed with the rows
 * spooled to a temporary file, so a run of any size is exported in little memory, in the same order.
 */
export function exportRun(events: Iterable<RunEvent> | RunSource, options: ExportOptions): ExportSummary {
  const opts = parseOptions(options);
  const plan = planExport(options);
  if (plan.existing.length > 0 && !opts.replace) {
    const which = plan.existing.join(' and ');
    throw new SvdError('bad_config', `export: ${which} already ${plan.existing.length === 1 ? 'exists' : 'exist'}; choose another file or replace it on purpose`);
  }
  const { split, base, sides, files: targets } = targetsOf(opts);

  // Read before writing anything, so a broken dataset_info.json stops the export with no file changed.
  const datasetInfo = plan.datasetInfo ? readDatasetInfo(plan.datasetInfo) : undefined;

  const writers = new Map<ExportedFile['split'], AtomicFileWriter>();
  const counts: Record<ExportedFile['split'], number> = { train: 0, validation: 0 };
  const perDomain = Object.fromEntries(DOMAINS.map((domain) => [domain, 0])) as Record<Domain, number>;
  const skipped: SkippedCandidate[] = [];
  let chars = 0;

  /** A seed's rows as one block of lines, its counts added; skipped candidates kept in seed order. */
  const rowsOf = (seedView: SeedView, skippedHere: SkippedCandidate[]): { side: ExportedFile['split']; text: string } => {
    const side: ExportedFile['split'] =
      split && splitPoint(opts.splitSeed, seedView.seed.seedId) < opts.valFraction ? 'validation' : 'train';
    let text = '';
    for (const candidateView of seedView.candidates) {
      const take = opts.applyOverrides ? candidateView.accepted : candidateView.acceptedByMethod;
      if (!take) continue;
      const candidate = candidateView.candidate;
      const completion = opts.thinking === 'keep' ? fullTrace(candidate) : splitTrace(candidate).answer;
      if (completion === '') {
        const reason = opts.thinking === 'keep' ? 'empty text' : 'empty answer';
        skippedHere.push({ candidateId: candidate.candidateId, reason });
        continue;
      }
      const row = buildRow(opts.format, seedView.seed, candidate, completion);
      text += `${JSON.stringify(row)}\n`;
      counts[side] += 1;
      perDomain[seedView.seed.domain] += 1;
      chars += completion.length + seedView.seed.prompt.reduce((sum, message) => sum + message.content.length, 0);
    }
    return { side, text };
  };

  let spool: SeedSpool<ExportedFile['split']> | undefined;
  try {
    fs.mkdirSync(path.dirname(targets.train), { recursive: true });
    for (const side of sides) writers.set(side, new AtomicFileWriter(targets[side]));
    if (isRunSource(events)) {
      spool = new SeedSpool();
      const skippedBySeed: { line: number; order: number; list: SkippedCandidate[] }[] = [];
      foldRunStreaming(events, undefined, {
        onSeed: (seedView, order) => {
          const list: SkippedCandidate[] = [];
          const { side, text } = rowsOf(seedView, list);
          spool!.add(seedView.seed.line, order, side, text);
          if (list.length > 0) skippedBySeed.push({ line: seedView.seed.line, order, list });
        },
      });
      for (const { side, data } of spool.drain()) writers.get(side)?.write(data);
      skippedBySeed.sort((a, b) => a.line - b.line || a.order - b.order);
      for (const entry of skippedBySeed) skipped.push(...entry.list);
    } else {
      for (const seedView of foldRun(events).seeds) {
        const { side, text } = rowsOf(seedView, skipped);
        if (text) writers.get(side)?.write(text);
      }
    }
    for (const writer of writers.values()) writer.commit();
  } catch (error) {
    for (const writer of writers.values()) writer.abort();
    throw error;
  } finally {
    spool?.close();
  }

  const files: ExportedFile[] = sides.map((side) => ({ path: targets[side], split: side, rows: counts[side] }));
  const summary: ExportSummary = {
    format: opts.format,
    files,
    rows: counts.train + counts.validation,
    perDomain,
    approxTokens: Math.ceil(chars / 4),
    skipped,
  };
  if (datasetInfo) {
    const name = opts.datasetName ?? path.basename(base);
    summary.datasetInfo = writeDatasetInfo(
      datasetInfo,
      files.map((file) => ({ name: split ? `${name}_${SPLIT_SUFFIX[file.split]}` : name, file: file.path })),
    );
  }
  return summary;
}

function isRunSource(events: Iterable<RunEvent> | RunSource): events is RunSource {
  return typeof (events as Partial<RunSource>).recordEvents === 'function';
}

const SPLIT_SUFFIX: Record<ExportedFile['split'], string> = { train: 'train', validation: 'val' };

/** Where a seed falls in [0, 1): the same seed id lands on the same side every time for a given splitSeed. */
export function splitPoint(splitSeed: number, seedId: string): number {
  const digest = createHash('sha256').update(`${splitSeed}\u0000${seedId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

function buildRow(format: ExportFormat, seed: SeedEvent, candidate: CandidateEvent, completion: string): ExportRow {
  const prompt: ChatMessage[] = seed.prompt.map((message) => ({ role: message.role, content: message.content }));
  const assistant: ChatMessage = { role: 'assistant', content: completion };
  let row: unknown;
  switch (format) {
    case 'openai':
      row = { messages: [...prompt, assistant] };
      break;
    case 'trl':
      row = { prompt, completion: [assistant] };
      break;
    case 'sharegpt':
      row = {
        conversations: [...prompt, assistant].map((message) => ({
          from: SHAREGPT_ROLE[message.role],
          value: message.content,
        })),
      };
      break;
    case 'alpaca':
      row = alpacaRow(prompt, completion, candidate.candidateId);
      break;
  }
  const checked = EXPORT_ROW_SCHEMAS[format].safeParse(row);
  if (!checked.success) {
    const where = `the ${format} row for candidate "${candidate.candidateId}"`;
    throw new SvdError('internal', `export: ${where} is invalid: ${issueText(checked.error, '(row)')}`);
  }
  return checked.data;
}

const SHAREGPT_ROLE = { system: 'system', user: 'human', assistant: 'gpt' } as const;

function alpacaRow(prompt: ChatMessage[], output: string, candidateId: string): unknown {
  const system = prompt.filter((message) => message.role === 'system').map((message) => message.content);
  const turns = prompt.filter((message) => message.role !== 'system');
  // Alpaca has one instruction; a multi-turn prompt would lose its earlier turns silently.
  if (turns.length !== 1 || turns[0]?.role !== 'user') {
    throw new SvdError(
      'bad_config',
      `export: the prompt of candidate "${candidateId}" is not a single user turn, which alpaca cannot hold; ` +
        'use openai, trl or sharegpt',
    );
  }
  const row = { instruction: turns[0].content, input: '', output };
  return system.length > 0 ? { ...row, system: system.join('\n\n') } : row;
}

const DatasetInfo = z.record(z.string(), z.unknown());

interface DatasetInfoFile {
  path: string;
  entries: Record<string, unknown>;
}

const DATASET_INFO = 'dataset_info.json';

/** LLaMA-Factory's registry of datasets in a folder; empty when the folder has none yet. */
function readDatasetInfo(infoPath: string): DatasetInfoFile {
  if (!fs.existsSync(infoPath)) return { path: infoPath, entries: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(infoPath, 'utf8'));
  } catch (error) {
    // Never overwrite a file the user may have edited by hand and broken: say where it is instead.
    const problem = `${infoPath} is not valid JSON (${describeError(error)}); fix or remove it`;
    throw new SvdError('bad_config', problem, { cause: error });
  }
  const parsed = DatasetInfo.safeParse(raw);
  if (!parsed.success || Array.isArray(raw)) throw new SvdError('bad_config', `${infoPath} must hold a JSON object`);
  return { path: infoPath, entries: parsed.data };
}

/** Adds one sharegpt entry per file, keeping the entries already there. */
function writeDatasetInfo(info: DatasetInfoFile, files: { name: string; file: string }[]): string {
  const entries = { ...info.entries };
  for (const { name, file } of files) {
    entries[name] = {
      file_name: path.basename(file),
      formatting: 'sharegpt',
      columns: { messages: 'conversations' },
      tags: { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt', system_tag: 'system' },
    };
  }
  writeFileAtomic(info.path, `${JSON.stringify(entries, null, 2)}\n`);
  return info.path;
}
