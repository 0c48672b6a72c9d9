// Batch mode, one wave at a time: a wave runs the ordinary pipeline with a BatchClient, which answers from the
// answers imported so far and collects every request still unanswered into the wave's files. The first wave asks
// for the candidates; each later one for the next round of votes of the candidates still in play, so the cascade's
// early exit saves as much as online, and the record is the one an online run given the same answers would write.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { AnswerChecker } from '../../base/checker';
import { RunConfigSchema, type RunConfig } from '../../base/config';
import { SvdError, advisedError } from '../../base/errors';
import { DOMAINS, type Domain, type SeedProblem } from '../../base/types';
import { writeFileAtomic } from '../../record/atomicFile';
import { readJsonFileIfExists } from '../../record/jsonFile';
import type { RunCostOptions } from '../budget';
import { runPipeline } from '../pipeline';
import { finishedRun, planRun, type RunStartInfo } from '../runPlan';
import type { SeedSubset } from '../runIdentity';
import type { ScreeningRequest } from '../screening';
import { BatchClient } from './batchClient';
import { BATCH_DIR, BatchResults, importResultFiles, type ImportCounts } from './results';
import { WaveFiles } from './waveFiles';

/** What a batch run is: the run options of `svd run` that name the run, kept so an import can replay its waves. */
export interface BatchRunSpec {
  seedsFile: string;
  seedOptions?: { domain?: Domain; questionField?: string };
  subset?: SeedSubset;
  screening?: ScreeningRequest;
  config: RunConfig;
  model: string;
  runsDir: string;
  runId?: string;
  cacheDir?: string;
}

const SpecSchema = z.object({
  seedsFile: z.string(),
  seedOptions: z.object({ domain: z.enum(DOMAINS).optional(), questionField: z.string().optional() }).optional(),
  subset: z.object({ limit: z.number().int().positive().optional(), labeledOnly: z.boolean().optional() }).optional(),
  screening: z
    .object({
      against: z.array(z.string()).readonly(),
      dropContaminated: z.boolean(),
      duplicateThreshold: z.number().optional(),
      dropDuplicates: z.boolean(),
    })
    .optional(),
  config: RunConfigSchema,
  model: z.string(),
  runsDir: z.string(),
  runId: z.string(),
  cacheDir: z.string().optional(),
});

/** `<run>/batch/batch.json`: the run's spec (its id settled) and how many waves were written. */
const BatchFileSchema = z.object({ version: z.literal(1), spec: SpecSchema, waves: z.number().int().nonnegative() });
type BatchFile = z.infer<typeof BatchFileSchema>;
const BATCH_FILE = 'batch.json';

export function readBatchFile(runDir: string): BatchFile | undefined {
  return readJsonFileIfExists(path.join(runDir, BATCH_DIR, BATCH_FILE), BatchFileSchema, 'batch plan');
}

function writeBatchFile(runDir: string, file: BatchFile): void {
  mkdirSync(path.join(runDir, BATCH_DIR), { recursive: true });
  writeFileAtomic(path.join(runDir, BATCH_DIR, BATCH_FILE), `${JSON.stringify(file, null, 2)}\n`);
}

export interface WaveOptions {
  spec: BatchRunSpec;
  /** Where the wave's request files go. Without it the wave only records the answers it has (an import). */
  out?: { dir: string; maxLines?: number; maxBytes?: number };
  /** The batch service's URL, recorded in a new run's manifest as its server. */
  baseURL?: string;
  signal?: AbortSignal;
  checker?: AnswerChecker;
  onProblem?: (problem: SeedProblem) => void;
  onNotice?: (message: string) => void;
  onStart?: (info: RunStartInfo) => void;
  /** The model's price and the run's budget: the wave's requests are reserved at the batch price. */
  cost?: RunCostOptions;
}

export interface WaveResult {
  runId: string;
  dir: string;
  /** This wave's number (1 for the first); the last wave's when nothing was written. */
  wave: number;
  files: string[];
  requests: number;
  /** Every seed has its outcome: nothing more to ask. */
  done: boolean;
  seedsTotal: number;
  seedsDone: number;
  accepted: number;
  /** `budget`: the budget left no room for more requests; those that fit were written. */
  stopReason?: 'budget';
}

/** Records what the answers so far decide and writes the next wave's requests (when `out` is given). */
export async function runWave(options: WaveOptions): Promise<WaveResult> {
  const { spec } = options;
  const target = { model: spec.model, engine: 'server' as const, ...(options.baseURL ? { baseURL: options.baseURL } : {}) };
  const plan = await planRun({ ...spec, target, onProblem: options.onProblem, onNotice: options.onNotice });
  const { runId, dir } = plan;
  const previous = readBatchFile(dir)?.waves ?? 0;
  if (plan.finished) {
    const result = await finishedRun(plan, { onStart: options.onStart, checker: options.checker, onNotice: options.onNotice, signal: options.signal });
    return { runId, dir, wave: previous, files: [], requests: 0, done: true, seedsTotal: result.seedsTotal, seedsDone: result.seedsDone, accepted: result.accepted };
  }
  const wave = previous + 1;
  const files = options.out
    ? new WaveFiles({ ...options.out, prefix: `${runId.replace(/\//g, '_')}-wave${wave}` })
    : undefined;
  const results = BatchResults.open(dir);
  const client = new BatchClient(runId, spec.model, results, files ? (line) => files.add(line) : undefined);
  try {
    const result = await runPipeline({
      ...spec,
      seedOptions: plan.seedOptions,
      endpoint: { baseURL: options.baseURL ?? '', model: spec.model, engine: 'server' },
      client,
      plan,
      probe: false,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.checker ? { checker: options.checker } : {}),
      ...(options.onNotice ? { onNotice: options.onNotice } : {}),
      ...(options.onStart ? { onStart: options.onStart } : {}),
      ...(options.cost ? { cost: { ...options.cost, batch: true } } : {}),
    });
    if (options.signal?.aborted) throw new SvdError('aborted', 'stopped before the wave was complete: its requests were not written; prepare it again');
    const written = files?.finish() ?? [];
    if (files) writeBatchFile(dir, { version: 1, spec: { ...spec, runId }, waves: written.length > 0 ? wave : previous });
    const done = result.state === 'finished' && result.seedsDone >= result.seedsTotal;
    return {
      runId,
      dir,
      wave: written.length > 0 ? wave : previous,
      files: written,
      requests: client.deferredRequests,
      done,
      seedsTotal: result.seedsTotal,
      seedsDone: result.seedsDone,
      accepted: result.accepted,
      ...(result.stopReason ? { stopReason: result.stopReason } : {}),
    };
  } catch (error) {
    files?.abort();
    throw error;
  } finally {
    results.close();
  }
}

export interface ImportResult extends ImportCounts {
  runId: string;
  dir: string;
  /** What the run's record holds after the answers were recorded. */
  seedsTotal: number;
  seedsDone: number;
  accepted: number;
  done: boolean;
  /** Requests the next wave will ask: the failed and missing ones, and those the new answers lead to. */
  pending: number;
}

/**
 * Keeps the answers of output and error files and records them as an online run would (the run's waves replayed
 * with them); failed and missing requests are asked again by the next wave.
 */
export async function importBatch(options: {
  runDir: string;
  files: readonly string[];
  signal?: AbortSignal;
  checker?: AnswerChecker;
  onNotice?: (message: string) => void;
}): Promise<ImportResult> {
  const state = readBatchFile(options.runDir);
  if (!state) {
    throw advisedError('not_found', `${options.runDir} has no batch waves (no ${BATCH_DIR}/${BATCH_FILE}):`, {
      cli: 'write its first wave with `svd batch prepare SEEDS --model NAME --out DIR` and the run options it was started with.',
      editor: 'write its first wave with `svd batch prepare` in a terminal.',
    });
  }
  const results = BatchResults.open(options.runDir, { create: true });
  let counts: ImportCounts;
  try {
    counts = await importResultFiles(results, state.spec.runId, options.files);
  } finally {
    results.close();
  }
  const wave = await runWave({ spec: state.spec, signal: options.signal, checker: options.checker, onNotice: options.onNotice });
  const { runId, dir, seedsTotal, seedsDone, accepted, done, requests } = wave;
  return { ...counts, runId, dir, seedsTotal, seedsDone, accepted, done, pending: requests };
}
