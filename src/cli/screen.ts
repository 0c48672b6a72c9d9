// `svd decontaminate SEEDS --against FILE...` (seeds that match an evaluation item) and `svd dedupe SEEDS` (seeds
// that repeat an earlier one): the checks `svd run` can make before it starts, on their own, to look before running.
import type { Command } from 'commander';
import { SvdError } from '../core/base/errors';
import { DEFAULT_DUPLICATE_THRESHOLD } from '../core/method/dedupe';
import { checkContamination, checkDuplicates, type ScreeningRequest } from '../core/method/screening';
import type { Io } from './io';
import { collect, fraction, type RegisterCommand } from './options';

interface ScreenFlags {
  against?: string[];
  threshold?: number;
  json?: boolean;
  questionField?: string;
}

export const registerScreenCommands: RegisterCommand = (program, io, setCode) => {
  program
    .command('decontaminate')
    .description('flag seeds that match an evaluation item: same text once normalised, a shared 13-gram, or an 8-gram for short questions')
    .argument('<seeds>', 'seed file')
    .requiredOption('--against <file>', 'an evaluation file (JSONL, JSON or CSV with a question field); repeat for more', collect)
    .option('--question-field <name>', "the field that holds the seeds' question")
    .option('--json', 'machine-readable output')
    .action(async (seeds: string, flags: ScreenFlags) => setCode(await commandDecontaminate(seeds, flags, io)));

  program
    .command('dedupe')
    .description('find seeds that repeat an earlier one: the same text once normalised, or near it (MinHash over word shingles)')
    .argument('<seeds>', 'seed file')
    .option('--threshold <similarity>', `near-duplicates from this estimated Jaccard similarity up (default ${DEFAULT_DUPLICATE_THRESHOLD})`, fraction('--threshold'))
    .option('--question-field <name>', 'the field that holds the question')
    .option('--json', 'machine-readable output')
    .action(async (seeds: string, flags: ScreenFlags) => setCode(await commandDedupe(seeds, flags, io)));
};

async function commandDecontaminate(seeds: string, flags: ScreenFlags, io: Io): Promise<number> {
  const problem = (message: string) => io.err(`warning: ${message}`);
  const result = await checkContamination({ file: seeds, domain: 'math', questionField: flags.questionField }, flags.against ?? [], problem);
  if (flags.json) {
    io.out(JSON.stringify({ flagged: result.flagged, seeds: result.seeds }));
    return 0;
  }
  for (const flag of result.flagged) io.out(`${flag.seed}\t${flag.against}\t${flag.item}\t${flag.kind}\t${flag.span}`);
  const items = result.files.reduce((sum, file) => sum + file.items.length, 0);
  io.out(`${result.flagged.length} of ${result.seeds} seeds match one of ${items} evaluation items`);
  return 0;
}

async function commandDedupe(seeds: string, flags: ScreenFlags, io: Io): Promise<number> {
  const threshold = flags.threshold ?? DEFAULT_DUPLICATE_THRESHOLD;
  const result = await checkDuplicates({ file: seeds, domain: 'math', questionField: flags.questionField }, threshold);
  if (flags.json) {
    io.out(JSON.stringify({ duplicates: result.duplicates, seeds: result.seeds, threshold }));
    return 0;
  }
  for (const dup of result.duplicates) io.out(`${dup.seed}\tduplicates ${dup.duplicateOf}\t${dup.kind}\t${dup.similarity}`);
  io.out(`${result.duplicates.length} of ${result.seeds} seeds repeat an earlier one (kept: ${result.seeds - result.duplicates.length})`);
  return 0;
}

/** The flags `svd run` takes to screen its seeds first. */
export interface ScreeningFlags {
  decontaminateAgainst?: string[];
  dropContaminated?: boolean;
  duplicateThreshold?: number;
  dropDuplicates?: boolean;
}

export function screeningOptions(command: Command): void {
  command
    .option('--decontaminate-against <file>', 'flag seeds that match an item of this evaluation file; repeat for more', collect)
    .option('--drop-contaminated', 'leave the flagged seeds out of the run (recorded in the run, with why)')
    .option('--duplicate-threshold <similarity>', 'flag seeds that repeat an earlier one, from this similarity up', fraction('--duplicate-threshold'))
    .option('--drop-duplicates', 'keep only the first seed of each group of duplicates');
}

/** The screening `svd run` asks for; undefined when none. */
export function screeningRequest(flags: ScreeningFlags): ScreeningRequest | undefined {
  const against = flags.decontaminateAgainst ?? [];
  if (flags.dropContaminated && against.length === 0) {
    throw new SvdError('bad_config', '--drop-contaminated: name the evaluation files with --decontaminate-against FILE');
  }
  const duplicates = flags.duplicateThreshold ?? (flags.dropDuplicates ? DEFAULT_DUPLICATE_THRESHOLD : undefined);
  if (against.length === 0 && duplicates === undefined) return undefined;
  return {
    against,
    dropContaminated: flags.dropContaminated === true,
    ...(duplicates !== undefined ? { duplicateThreshold: duplicates } : {}),
    dropDuplicates: flags.dropDuplicates === true,
  };
}
