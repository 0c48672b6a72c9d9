// What a run will be, worked out before anything slow (a model download, an engine start, a request): the seed file
// read once, so that a wrong file fails here with the seed error; the run's id and manifest; and what the run's folder
// holds already, so that a finished run is reported as it stands instead of being asked of the model again.
import path from 'node:path';
import { methodFingerprint, type RunConfig } from '../base/config';
import { withoutCredentials } from '../base/redact';
import { SvdError } from '../base/errors';
import type { Purpose, SeedProblem } from '../base/types';
import type { UsageCounts } from '../record/events';
import { foldRunStreaming, type RunSummary } from '../record/streamFold';
import { RunStore, checkRunId, isRunDir, type RunManifest } from '../record/store';
import type { AnswerChecker } from '../base/checker';
import { PromptSet } from './prompts';
import { completeAudit } from './runAudit';
import { screeningJson, type ScreeningCounts } from '../record/screening';
import { screenSeeds, screeningIdentity, type ScreeningRequest } from './screening';
import { scanSeeds, type SeedReadOptions } from './seeds';
import { checkSameRun, countSubset, deriveRunId, noticeEarlierRuns, normalSubset, type SeedSubset } from './runIdentity';

/**
 * The model a run asks and where it is served, as the manifest records it. The server's URL is kept, not made part of
 * the run's id: a run resumed on a replica at another address is the same run (see deriveRunId).
 */
export interface RunTarget {
  model: string;
  engine: 'server' | 'embedded';
  /** The server's URL (recorded without credentials); undefined for the embedded engine. */
  baseURL?: string;
  /** Every server, when the run is spread over several (baseURL is then the first). */
  endpoints?: string[];
}

export interface PlanOptions {
  seedsFile: string;
  seedOptions?: Omit<SeedReadOptions, 'file'>;
  runsDir: string;
  /** Default: derived from the seed file and the method's parameters, so the same command finds the same run. */
  runId?: string;
  config: RunConfig;
  target: RunTarget;
  subset?: SeedSubset;
  /** Seeds screened first (evaluation files, duplicates); part of the run's identity. */
  screening?: ScreeningRequest;
  /** Each row of the seed file that is skipped. */
  onProblem?: (problem: SeedProblem) => void;
  onNotice?: (message: string) => void;
}

/** What a run is, from the seed file and the parameters alone (its folder not yet looked at). */
export type RunIdentity = Omit<RunPlan, 'found' | 'finished'>;

export interface RunPlan {
  runId: string;
  dir: string;
  /** The manifest a new run is created with (a run found keeps its own: `found.manifest`). */
  manifest: RunManifest;
  prompts: PromptSet;
  seedOptions: SeedReadOptions;
  subset?: SeedSubset;
  seedsTotal: number;
  /** Rows of the seed file that are no usable seed, and all its rows, usable or not. */
  skippedRows: number;
  fileRows: number;
  /** The run's folder holds this run already: its manifest and its record, folded. */
  found?: { manifest: RunManifest; view: RunSummary };
  /** Found finished with no seed pending: running it again asks nothing of the model and writes nothing. */
  finished: boolean;
}

/** The run the options name: its id and manifest. Throws the seed file's error (`bad_seed_file`) or a bad id. */
export async function identifyRun(options: PlanOptions): Promise<RunIdentity> {
  const { config, target } = options;
  const prompts = await PromptSet.load({ overrideDir: config.promptsDir });
  const seedOptions: SeedReadOptions = { maxQuestionBytes: config.maxQuestionBytes, ...options.seedOptions, file: options.seedsFile };
  const scan = await scanSeeds(seedOptions);
  for (const problem of scan.problems) options.onProblem?.(problem);
  const subset = normalSubset(options.subset);
  const screening = await screenSeeds(seedOptions, options.screening, options.onNotice);
  const dropped = screening?.dropped.length ?? 0;
  const seedsTotal = subset ? await countSubset(seedOptions, subset, new Set(screening?.dropped)) : scan.count - dropped;
  const skippedRows = scan.problems.length;

  const methodHash = methodFingerprint(config, target.model, prompts.hash);
  const seedIdentity = (subset ? `${scan.fingerprint}:${JSON.stringify(subset)}` : scan.fingerprint) + screeningIdentity(screening);
  const runId = checkRunId(options.runId ?? deriveRunId(options.seedsFile, seedIdentity, methodHash), { nested: true });
  const dir = path.join(options.runsDir, runId);
  const manifest: RunManifest = {
    version: 1,
    id: runId,
    createdAt: new Date().toISOString(),
    seedFile: { path: path.resolve(options.seedsFile), fingerprint: scan.fingerprint, format: scan.format, rows: seedsTotal, skippedRows },
    model: {
      model: target.model,
      baseURL: target.engine === 'server' && target.baseURL !== undefined ? withoutCredentials(target.baseURL) : undefined,
      engine: target.engine,
      ...(target.engine === 'server' && target.endpoints && target.endpoints.length > 1
        ? { endpoints: target.endpoints.map((url) => withoutCredentials(url)) }
        : {}),
    },
    config,
    methodFingerprint: methodHash,
    ...(subset ? { subset } : {}),
    ...(screening ? { screening } : {}), // kept whole: a resume leaves out exactly the same seeds
  };
  return { runId, dir, manifest, prompts, seedOptions, seedsTotal, skippedRows, fileRows: scan.count + skippedRows, ...(subset ? { subset } : {}) };
}

/**
 * The run the options name and what its folder holds. Throws as identifyRun does, and `run_mismatch` when the
 * folder holds another run (other seeds or parameters under the same id).
 */
export async function planRun(options: PlanOptions): Promise<RunPlan> {
  const plan: RunPlan = { ...(await identifyRun(options)), finished: false };
  const { dir, manifest, seedsTotal } = plan;
  if (!isRunDir(dir)) {
    if (options.runId === undefined) noticeEarlierRuns(options.runsDir, manifest, options.onNotice);
    return plan;
  }
  const store = RunStore.open(dir, { readOnly: true });
  try {
    checkSameRun(store.manifest, manifest);
    // Streamed: resuming a large run does not hold its record in memory.
    const view = foldRunStreaming(store, seedsTotal);
    plan.found = { manifest: store.manifest, view };
    plan.finished = view.state === 'finished' && view.funnel.seedsPending === 0;
  } finally {
    store.close();
  }
  return plan;
}

/** The target of an endpoint: what a plan needs of it before the endpoint is up. */
export function targetOf(endpoint: { model: string; engine: 'server' | 'embedded'; baseURL?: string; replicas?: { url: string }[] }): RunTarget {
  const several = endpoint.engine === 'server' && endpoint.replicas && endpoint.replicas.length > 1;
  return {
    model: endpoint.model,
    engine: endpoint.engine,
    ...(endpoint.engine === 'server' && endpoint.baseURL ? { baseURL: endpoint.baseURL } : {}),
    ...(several ? { endpoints: endpoint.replicas!.map((r) => r.url) } : {}),
  };
}

export interface RunStartInfo {
  runId: string;
  dir: string;
  /** The folder held records already: the run goes on from them. */
  resumed: boolean;
  seedsTotal: number;
  /** Rows of the seed file that are no usable seed, and all its rows. */
  skippedRows: number;
  fileRows: number;
  /** The run was finished already: nothing is asked of the model, nothing is written. */
  alreadyFinished: boolean;
  /** Seeds screened before the run: matching an evaluation item, repeating another, and left out. */
  screening?: ScreeningCounts;
}

/** The screening counts of a run's manifest, as a start event carries them (none when the run screened nothing). */
export function screeningCounts(manifest: RunManifest): { screening?: ScreeningCounts } {
  const screening = screeningJson(manifest.screening);
  return screening ? { screening } : {};
}

export interface RunResult {
  runId: string;
  dir: string;
  state: 'finished' | 'stopped';
  /** Stopped at the run's cost budget rather than by the user. */
  stopReason?: 'budget';
  seedsTotal: number;
  seedsDone: number;
  accepted: number;
  resumed: boolean;
  usage: Record<Purpose, UsageCounts>;
  /** Rows of the seed file that were skipped. */
  skippedRows: number;
  /** Found finished: reported as it stands, with nothing asked of the model. */
  alreadyFinished: boolean;
  /** The run's summary as its record says at the end, when the options asked for it (`summarize`). */
  summary?: RunSummary;
}

/**
 * A run found finished, reported as it stands: nothing asked of the model and no session recorded. Only its audit is
 * completed where it has gaps (see completeAudit), which asks the checker, never the model.
 */
export async function finishedRun(
  plan: RunPlan,
  options: { onStart?: (info: RunStartInfo) => void; checker?: AnswerChecker; onNotice?: (message: string) => void; signal?: AbortSignal } = {},
): Promise<RunResult> {
  const view = plan.found?.view;
  if (!plan.finished || !view) throw new SvdError('internal', `run ${plan.runId} is not finished`);
  const { runId, dir, seedsTotal, skippedRows, fileRows } = plan;
  options.onStart?.({ runId, dir, resumed: true, seedsTotal, skippedRows, fileRows, alreadyFinished: true, ...screeningCounts(plan.found?.manifest ?? plan.manifest) });
  // The parameters asked for now: the audit's own (on or off) may differ from the run's first session.
  await completeAudit(dir, plan.manifest.config, options);
  const { seedsDone, accepted } = view.funnel;
  return { runId, dir, state: 'finished', seedsTotal, seedsDone, accepted, resumed: true, usage: view.usage, skippedRows, alreadyFinished: true };
}
