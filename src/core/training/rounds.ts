// The next round: the same seeds, run on the model that training on a run made. Its run sits beside its parent,
// named after it (`<run>-r2`), and records where it came from (lineage.json) before it starts.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { SvdError } from '../base/errors';
import { nextRoundRunId, readLineage, trainedModelOf, writeLineage, type Lineage } from './lineage';
import { displayStatus, type TrainingRecord } from './record';

/** What a local output is suggested to be served at: vLLM's and SGLang's usual address. */
export const LOCAL_SERVER_URL = 'http://localhost:8000/v1';

export interface RoundPlan {
  parentRun: string;
  round: number;
  runId: string;
  /** The new run's folder, beside the parent's. */
  dir: string;
  runsDir: string;
  trained: NonNullable<ReturnType<typeof trainedModelOf>>;
  record: TrainingRecord;
}

/** The next round of `parent`, whose training record is `record`. @throws not_found without a finished training. */
export function planNextRound(parent: { runId: string; dir: string }, record: TrainingRecord | undefined): RoundPlan {
  const trained = record ? trainedModelOf(record) : undefined;
  if (!record || !trained) throw new SvdError('not_found', `Run ${parent.runId} has no finished training: train on it first.`);
  let parentLineage: Lineage | undefined;
  try {
    parentLineage = readLineage(parent.dir);
  } catch {
    // An unreadable lineage makes the parent a first round: its id is then the root of the new one's.
    parentLineage = undefined;
  }
  const round = (parentLineage?.round ?? 1) + 1;
  const runsDir = path.dirname(parent.dir);
  const runId = nextRoundRunId(parent.runId, parentLineage !== undefined, round, (id) => existsSync(path.join(runsDir, id)));
  return { parentRun: parent.runId, round, runId, dir: path.join(runsDir, runId), runsDir, trained, record };
}

/**
 * Where the round's model is asked, as far as it is known: given values first; a fine-tuning API serves the models it
 * made (on `fineTuning` when its record names no server). A local output is served by the user's own server, so for
 * it only given values are known and the rest is for the user to say.
 */
export function roundEndpoint(plan: RoundPlan, given: { model?: string; baseUrl?: string }, fineTuning: string): { model?: string; baseUrl?: string } {
  const model = given.model || undefined;
  const baseUrl = given.baseUrl || undefined;
  if ('model' in plan.trained) return { model: model ?? plan.trained.model, baseUrl: baseUrl ?? plan.trained.baseUrl ?? fineTuning };
  return { ...(model ? { model } : {}), ...(baseUrl ? { baseUrl } : {}) };
}

/** Records the round's lineage in its folder: written before the run starts, so that even a run that fails at once says where it came from. */
export function recordRound(plan: RoundPlan, endpoint: { model: string; baseUrl: string }): Lineage {
  const { record } = plan;
  return writeLineage(plan.dir, {
    parentRun: plan.parentRun,
    round: plan.round,
    model: endpoint.model,
    baseUrl: endpoint.baseUrl,
    trainer: record.trainer,
    ...(record.jobId ? { jobId: record.jobId } : {}),
    ...(record.outputDir ? { outputDir: record.outputDir } : {}),
  });
}

/** The most recent model a fine-tuning job made among `runs`, and the server that serves it. */
export function latestFineTunedModel(
  runs: readonly { runId: string; training: TrainingRecord | undefined }[],
  fineTuning: string,
): { model: string; baseUrl: string; runId: string } | undefined {
  let best: { model: string; baseUrl: string; runId: string; at: string } | undefined;
  for (const { runId, training } of runs) {
    if (!training || displayStatus(training) !== 'succeeded' || !training.fineTunedModel) continue;
    const at = training.endedAt ?? training.startedAt;
    if (best && best.at >= at) continue;
    best = { model: training.fineTunedModel, baseUrl: training.baseUrl ?? fineTuning, runId, at };
  }
  return best && { model: best.model, baseUrl: best.baseUrl, runId: best.runId };
}
