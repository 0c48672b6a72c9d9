// Seed screening before a run: the seed file checked against evaluation files (decontaminate.ts) and against itself
// (dedupe.ts), as one record (core/record/screening.ts) that the run keeps and resumes with.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SvdError, describeError } from '../base/errors';
import type { Screening } from '../record/screening';
import { ContaminationIndex, decontaminate, type ContaminationFlag, type EvalItem } from './decontaminate';
import { checkThreshold, findDuplicates, type DuplicateSeed } from './dedupe';
import { formatProblem, readSeeds, type SeedReadOptions } from './seeds';

export interface ScreeningRequest {
  /** Evaluation files (JSONL, JSON or CSV, read as seed files are): seeds matching one of their items are flagged. */
  against: readonly string[];
  /** Leave flagged seeds out of the run. */
  dropContaminated: boolean;
  /** Look for duplicates among the seeds, from this similarity up. */
  duplicateThreshold?: number;
  /** Leave duplicates out of the run (the first of each group stays). */
  dropDuplicates: boolean;
}

export interface EvalFile {
  file: string;
  path: string;
  fingerprint: string;
  items: EvalItem[];
}

/** An evaluation file's questions; its rows need no domain, and a row without a question is reported, not fatal. */
export async function readEvalFile(file: string, onProblem?: (message: string) => void): Promise<EvalFile> {
  const resolved = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolved);
  } catch (error) {
    throw new SvdError('not_found', `${file}: cannot read the evaluation file (${describeError(error)})`, { cause: error });
  }
  const items: EvalItem[] = [];
  for await (const record of readSeeds({ file: resolved, domain: 'math', maxQuestionBytes: Number.MAX_SAFE_INTEGER })) {
    if (record.kind === 'seed') items.push({ against: file, item: record.seed.id, question: record.seed.question });
    else onProblem?.(formatProblem(record.problem));
  }
  if (items.length === 0) throw new SvdError('bad_seed_file', `${file}: no evaluation item with a question in it`);
  return { file, path: resolved, fingerprint: createHash('sha256').update(bytes).digest('hex'), items };
}

/** The seeds' ids and questions, in file order (bad rows are the seed reader's to report). */
export async function seedQuestions(seedOptions: SeedReadOptions): Promise<{ id: string; question: string }[]> {
  const seeds: { id: string; question: string }[] = [];
  for await (const record of readSeeds(seedOptions)) {
    if (record.kind === 'seed') seeds.push({ id: record.seed.id, question: record.seed.question });
  }
  return seeds;
}

export async function checkContamination(
  seedOptions: SeedReadOptions,
  against: readonly string[],
  onProblem?: (message: string) => void,
): Promise<{ flagged: ContaminationFlag[]; seeds: number; files: EvalFile[] }> {
  const files: EvalFile[] = [];
  for (const file of against) files.push(await readEvalFile(file, onProblem));
  const index = new ContaminationIndex(files.flatMap((f) => f.items));
  const seeds = await seedQuestions(seedOptions);
  return { flagged: decontaminate(seeds, index), seeds: seeds.length, files };
}

export async function checkDuplicates(
  seedOptions: SeedReadOptions,
  threshold: number,
): Promise<{ duplicates: DuplicateSeed[]; seeds: number }> {
  const seeds = await seedQuestions(seedOptions);
  return { duplicates: findDuplicates(seeds, { threshold: checkThreshold(threshold) }), seeds: seeds.length };
}

/** The screening a run records; undefined when the request asks for nothing. */
export async function screenSeeds(
  seedOptions: SeedReadOptions,
  request: ScreeningRequest | undefined,
  onProblem?: (message: string) => void,
): Promise<Screening | undefined> {
  if (!request || (request.against.length === 0 && request.duplicateThreshold === undefined)) return undefined;
  const seeds = await seedQuestions(seedOptions);
  const files: EvalFile[] = [];
  for (const file of request.against) files.push(await readEvalFile(file, onProblem));
  const flagged = files.length > 0 ? decontaminate(seeds, new ContaminationIndex(files.flatMap((f) => f.items))) : [];
  const threshold = request.duplicateThreshold === undefined ? undefined : checkThreshold(request.duplicateThreshold, 'duplicate threshold');
  const duplicates = threshold === undefined ? [] : findDuplicates(seeds, { threshold });
  const drop = new Set<string>();
  if (request.dropContaminated) for (const flag of flagged) drop.add(flag.seed);
  if (request.dropDuplicates) for (const dup of duplicates) drop.add(dup.seed);
  return {
    against: files.map((f) => ({ file: f.file, path: f.path, fingerprint: f.fingerprint, items: f.items.length })),
    flagged,
    dropContaminated: request.dropContaminated,
    ...(threshold !== undefined ? { duplicateThreshold: threshold } : {}),
    duplicates,
    dropDuplicates: request.dropDuplicates,
    dropped: seeds.filter((seed) => drop.has(seed.id)).map((seed) => seed.id),
  };
}

/** A screening's part of a run's identity (its files' bytes and the settings, not their names); '' for none. */
export function screeningIdentity(screening: Screening | undefined): string {
  if (!screening) return '';
  const key = {
    against: screening.against.map((a) => a.fingerprint),
    dropContaminated: screening.dropContaminated,
    duplicateThreshold: screening.duplicateThreshold ?? null,
    dropDuplicates: screening.dropDuplicates,
  };
  return `:screen:${createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16)}`;
}

/** `svd run`'s flags for a screening request (the editor launches the CLI with them). */
export function screeningCliArgs(request: ScreeningRequest | undefined): string[] {
  if (!request) return [];
  const args = request.against.flatMap((file) => ['--decontaminate-against', file]);
  if (request.dropContaminated && request.against.length > 0) args.push('--drop-contaminated');
  if (request.duplicateThreshold !== undefined) args.push('--duplicate-threshold', String(request.duplicateThreshold));
  if (request.dropDuplicates) args.push('--drop-duplicates');
  return args;
}

/** The request a recorded screening was made from, so a resume asks for the same one. */
export function screeningRequestOf(screening: Screening | undefined): ScreeningRequest | undefined {
  if (!screening) return undefined;
  return {
    against: screening.against.map((a) => a.path),
    dropContaminated: screening.dropContaminated,
    ...(screening.duplicateThreshold !== undefined ? { duplicateThreshold: screening.duplicateThreshold } : {}),
    dropDuplicates: screening.dropDuplicates,
  };
}
