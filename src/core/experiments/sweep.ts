// The budget sweep: the method run once per (n, v) of a grid on the same seeds, to choose n and v for a model
// before a full run. Each cell is an ordinary run in `<runsDir>/sweep-<id>/n<n>v<v>`; the cells share the response
// cache, which keys every sample by its request and index, so a larger cell asks the model only for the samples no
// smaller cell already drew. A stopped sweep resumes: finished cells are read back, a half-done cell resumes as a run.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { auditRun } from '../record/audit';
import { defaultCacheDir } from '../record/cache';
import type { AnswerChecker } from '../base/checker';
import { methodFingerprint, parseRunConfig, type RunConfig } from '../base/config';
import { SvdError } from '../base/errors';
import { readJsonFile } from '../record/jsonFile';
import { runPipeline, type Endpoint, type Progress } from '../method/pipeline';
import { PromptSet } from '../method/prompts';
import { ServerTraits } from '../method/serverTraits';
import { foldRun, type RunView } from '../record/runview';
import { scanSeeds, type SeedReadOptions } from '../method/seeds';
import { writeFileAtomic } from '../record/atomicFile';
import { RunStore, checkRunId, runIdStem } from '../record/store';
import { PURPOSES, type SeedProblem } from '../base/types';
import { costOf } from '../method/cost';
import type { RunCostOptions } from '../method/budget';

const count = z.number().int().nonnegative();
const share = z.number().min(0).max(1).nullable();

/** One (n, v) of the grid. Figures are zero while the cell is pending; audit figures are null without gold. */
export const SweepCellSchema = z.object({
  /** `n4v3`. */
  name: z.string(),
  candidates: z.number().int().positive(),
  votes: z.number().int().positive(),
  runId: z.string(),
  state: z.enum(['finished', 'stopped', 'pending']),
  seeds: count,
  seedsDone: count,
  candidatesGenerated: count,
  valid: count,
  /** By the method (overrides are not the sweep's business). */
  accepted: count,
  /** Audit: candidates whose cascade ended and that were checked against gold. */
  judged: count,
  acceptedCorrect: count,
  precision: share,
  recall: share,
  falseAccepts: count,
  falseRejects: count,
  /** Requests this cell sent to the model: cache misses (and their retries), never cache hits. */
  requests: count,
  /** Samples the response cache served instead of the model. */
  cachedSamples: count,
  /** Tokens of the requests sent. */
  promptTokens: count,
  completionTokens: count,
  /** Model samples the cell used, drawn or cached: what the cell would cost alone. */
  samples: count,
  wallMs: z.number().nonnegative(),
});
export type SweepCell = z.infer<typeof SweepCellSchema>;

/** `sweep.json`, written into the sweep's folder after every cell. */
export const SweepResultSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  /** The folder that holds the cells' runs. */
  dir: z.string(),
  updatedAt: z.string(),
  state: z.enum(['finished', 'stopped']),
  /** `budget`: stopped at the sweep's cost budget; the same command with a larger one resumes it. */
  stopReason: z.enum(['budget']).optional(),
  seedFile: z.object({ path: z.string(), fingerprint: z.string() }),
  model: z.string(),
  limit: z.number().int().positive().optional(),
  candidates: z.array(z.number().int().positive()),
  votes: z.array(z.number().int().positive()),
  /** Whether any cell checked candidates against gold (precision and recall are null otherwise). */
  audited: z.boolean(),
  /** In the order they ran: the smallest budget first. */
  cells: z.array(SweepCellSchema),
});
export type SweepResult = z.infer<typeof SweepResultSchema>;

export const SWEEP_JSON = 'sweep.json';
export const SWEEP_CSV = 'sweep.csv';

export interface SweepOptions {
  seedsFile: string;
  seedOptions?: Omit<SeedReadOptions, 'file'>;
  runsDir: string;
  /** Defaults to `<runsDir>/../cache`, the cache every run of the runs folder shares. */
  cacheDir?: string;
  candidates: readonly number[];
  votes: readonly number[];
  /** Only the first N seeds of the file. */
  limit?: number;
  /** The method's parameters; each cell replaces `candidates` and `votes`. */
  config: RunConfig;
  endpoint: Endpoint;
  checker?: AnswerChecker;
  signal?: AbortSignal;
  /** Where sweep.json and sweep.csv are written besides; default only the sweep's folder. */
  outDir?: string;
  /** Default: derived from the seed file, the model and the method's other parameters, so the same command resumes. */
  sweepId?: string;
  probe?: boolean;
  onStart?: (info: { id: string; dir: string; cells: { name: string; candidates: number; votes: number }[] }) => void;
  onCellStart?: (info: { name: string; index: number; total: number; runId: string; done: boolean }) => void;
  onCellEnd?: (cell: SweepCell) => void;
  onProgress?: (progress: Progress & { cell: string }) => void;
  onProblem?: (problem: SeedProblem) => void;
  onNotice?: (message: string) => void;
  /** The model's price, and a budget for the whole sweep: all its cells, over all its sessions. */
  cost?: RunCostOptions;
}

/** The grid, cheapest first by the cascade's cost bound n(1 + 4v), then by n and v. */
export function sweepCells(candidates: readonly number[], votes: readonly number[]): { name: string; candidates: number; votes: number }[] {
  const unique = (values: readonly number[], flag: string) => {
    if (values.length === 0) throw new SvdError('bad_config', `${flag}: give at least one value`);
    for (const value of values) {
      if (!Number.isInteger(value) || value < 1) throw new SvdError('bad_config', `${flag}: expected whole numbers from 1, got ${value}`);
    }
    return [...new Set(values)];
  };
  const ns = unique(candidates, '--candidates');
  const vs = unique(votes, '--votes');
  const cells = ns.flatMap((n) => vs.map((v) => ({ name: cellName(n, v), candidates: n, votes: v })));
  const cost = (cell: { candidates: number; votes: number }) => cell.candidates * (1 + 4 * cell.votes);
  return cells.sort((a, b) => cost(a) - cost(b) || a.candidates - b.candidates || a.votes - b.votes);
}

export const cellName = (candidates: number, votes: number) => `n${candidates}v${votes}`;

export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  const cells = sweepCells(options.candidates, options.votes);
  // Each cell's config is checked up front, so a bad value fails before any model call.
  const configs = cells.map((cell) => parseRunConfig({ ...options.config, candidates: cell.candidates, votes: cell.votes }, `cell ${cell.name}`));
  const seedOptions: SeedReadOptions = { ...options.seedOptions, file: options.seedsFile };
  const scan = await scanSeeds(seedOptions);
  for (const problem of scan.problems) options.onProblem?.(problem);
  const id = checkRunId(options.sweepId ?? (await deriveSweepId(options, scan.fingerprint)), { source: 'sweep id' });
  const dir = path.join(options.runsDir, id);
  mkdirSync(dir, { recursive: true });
  options.onStart?.({ id, dir, cells });

  const result: SweepResult = {
    version: 1,
    id,
    dir,
    updatedAt: new Date().toISOString(),
    state: 'finished',
    seedFile: { path: path.resolve(options.seedsFile), fingerprint: scan.fingerprint },
    model: options.endpoint.model,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    candidates: [...new Set(options.candidates)],
    votes: [...new Set(options.votes)],
    audited: false,
    cells: cells.map((cell) => pendingCell(cell, `${id}/${cell.name}`)),
  };
  const save = () => {
    result.updatedAt = new Date().toISOString();
    result.audited = result.cells.some((cell) => cell.judged > 0);
    writeSweepFiles(dir, result);
    if (options.outDir && path.resolve(options.outDir) !== path.resolve(dir)) {
      mkdirSync(options.outDir, { recursive: true });
      writeSweepFiles(options.outDir, result);
    }
  };

  let probed = options.probe === false;
  // The cells ask the same server: what it refused in one cell is not tried again in the next.
  const traits = new ServerTraits();
  for (const [index, cell] of cells.entries()) {
    const runId = `${id}/${cell.name}`;
    const runDir = path.join(options.runsDir, runId);
    const finished = finishedView(runDir);
    options.onCellStart?.({ name: cell.name, index, total: cells.length, runId, done: finished !== undefined });
    let view = finished;
    if (!view) {
      const run = await runPipeline({
        seedsFile: options.seedsFile,
        seedOptions: options.seedOptions,
        runsDir: options.runsDir,
        cacheDir: options.cacheDir ?? defaultCacheDir(options.runsDir),
        runId,
        config: configs[index]!,
        endpoint: options.endpoint,
        signal: options.signal,
        checker: options.checker,
        subset: options.limit !== undefined ? { limit: options.limit } : undefined,
        // One probe per sweep: the later cells ask the same server for the same model.
        probe: !probed,
        onNotice: options.onNotice,
        traits,
        cost: cellCost(options.cost, result.cells.slice(0, index)),
        onProgress: options.onProgress && ((progress) => options.onProgress!({ ...progress, cell: cell.name })),
      });
      probed = true;
      view = readView(run.dir);
      if (run.state === 'stopped') {
        result.cells[index] = cellFigures(cell, runId, 'stopped', view);
        result.state = 'stopped';
        if (run.stopReason) result.stopReason = run.stopReason;
        save();
        options.onCellEnd?.(result.cells[index]!);
        return result;
      }
    }
    result.cells[index] = cellFigures(cell, runId, 'finished', view);
    save();
    options.onCellEnd?.(result.cells[index]!);
  }
  return result;
}

/** A cell's budget: the sweep's, less what the cells before it spent (each cell's own spending its run counts). */
function cellCost(cost: RunCostOptions | undefined, before: readonly SweepCell[]): RunCostOptions | undefined {
  if (!cost?.price || cost.maxUsd === undefined) return cost;
  const tokens = { promptTokens: 0, completionTokens: 0 };
  for (const cell of before) {
    tokens.promptTokens += cell.promptTokens;
    tokens.completionTokens += cell.completionTokens;
  }
  // A sweep's cells run online: their tokens at the online price.
  return { ...cost, maxUsd: Math.max(0, cost.maxUsd - costOf(tokens, cost.price)) };
}

/** Reads a sweep's `sweep.json`, checked against the schema. */
export function readSweep(dir: string): SweepResult {
  return readJsonFile(path.join(dir, SWEEP_JSON), SweepResultSchema, 'sweep result');
}

const CSV_COLUMNS: readonly (keyof SweepCell)[] = [
  'name',
  'candidates',
  'votes',
  'state',
  'seeds',
  'seedsDone',
  'accepted',
  'judged',
  'acceptedCorrect',
  'precision',
  'recall',
  'falseAccepts',
  'falseRejects',
  'requests',
  'cachedSamples',
  'promptTokens',
  'completionTokens',
  'samples',
  'wallMs',
];

export function sweepCsv(result: SweepResult): string {
  const header = CSV_COLUMNS.map((column) => column.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
  const rows = result.cells.map((cell) => CSV_COLUMNS.map((column) => csvField(cell[column])));
  return [header, ...rows].map((row) => row.join(',')).join('\n') + '\n';
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function writeSweepFiles(dir: string, result: SweepResult): void {
  writeFileAtomic(path.join(dir, SWEEP_JSON), `${JSON.stringify(SweepResultSchema.parse(result), null, 2)}\n`);
  writeFileAtomic(path.join(dir, SWEEP_CSV), sweepCsv(result));
}

async function deriveSweepId(options: SweepOptions, seedFingerprint: string): Promise<string> {
  const prompts = await PromptSet.load({ overrideDir: options.config.promptsDir });
  // The method's identity without n and v: growing the grid later reuses the cells already run.
  const method = methodFingerprint({ ...options.config, candidates: 0, votes: 0 }, options.endpoint.model, prompts.hash);
  const hash = createHash('sha256').update(`${seedFingerprint}:${method}:${options.limit ?? ''}`).digest('hex').slice(0, 8);
  return `sweep-${runIdStem(options.seedsFile)}-${hash}`;
}

function readView(dir: string): RunView {
  const store = RunStore.open(dir, { readOnly: true });
  try {
    return foldRun(store.events(), store.manifest.seedFile.rows);
  } finally {
    store.close();
  }
}

/** The cell's run when it finished with every seed done: nothing left to ask. */
function finishedView(dir: string): RunView | undefined {
  if (!existsSync(path.join(dir, 'run.json'))) return undefined;
  const view = readView(dir);
  return view.state === 'finished' && view.funnel.seedsPending === 0 ? view : undefined;
}

function pendingCell(cell: { name: string; candidates: number; votes: number }, runId: string): SweepCell {
  return {
    ...cell,
    runId,
    state: 'pending',
    seeds: 0,
    seedsDone: 0,
    candidatesGenerated: 0,
    valid: 0,
    accepted: 0,
    judged: 0,
    acceptedCorrect: 0,
    precision: null,
    recall: null,
    falseAccepts: 0,
    falseRejects: 0,
    requests: 0,
    cachedSamples: 0,
    promptTokens: 0,
    completionTokens: 0,
    samples: 0,
    wallMs: 0,
  };
}

function cellFigures(cell: { name: string; candidates: number; votes: number }, runId: string, state: SweepCell['state'], view: RunView): SweepCell {
  const audit = auditRun(view)?.overall;
  const usage = PURPOSES.map((purpose) => view.usage[purpose]);
  const sum = (pick: (u: (typeof usage)[number]) => number) => usage.reduce((total, u) => total + pick(u), 0);
  let samples = 0;
  for (const seed of view.seeds) {
    for (const candidate of seed.candidates) {
      samples++;
      for (const stage of Object.values(candidate.stages)) {
        // A compare vote with nothing to compare is written without asking the model.
        samples += stage.voteEvents.filter((vote) => vote.finishReason !== 'none').length;
      }
    }
  }
  return {
    ...cell,
    runId,
    state,
    seeds: view.funnel.seeds,
    seedsDone: view.funnel.seedsDone,
    candidatesGenerated: view.funnel.candidates,
    valid: view.funnel.valid,
    accepted: view.funnel.accepted,
    judged: audit?.judged ?? 0,
    acceptedCorrect: audit?.acceptedCorrect ?? 0,
    precision: audit?.precision ?? null,
    recall: audit?.recall ?? null,
    falseAccepts: audit?.falseAccepts ?? 0,
    falseRejects: audit?.falseRejects ?? 0,
    requests: sum((u) => u.requests),
    cachedSamples: sum((u) => u.cachedSamples),
    promptTokens: sum((u) => u.promptTokens),
    completionTokens: sum((u) => u.completionTokens),
    samples,
    wallMs: view.wallMs,
  };
}
