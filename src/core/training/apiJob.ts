// An OpenAI-compatible fine-tuning job (finetune.ts talks to the server), followed into the run's training record.
import * as fs from 'node:fs';
import { SvdError, describeError, isSvdError } from '../base/errors';
import { redactText, withoutCredentials } from '../base/redact';
import { cancelFineTune, followFineTune, startFineTune, type FineTuneEvent, type FineTuneStatus } from './finetune';
import {
  appendMetrics,
  readTraining,
  resetTrainingFiles,
  trainLogFile,
  TRAINING_STATUSES,
  updateTraining,
  writeTraining,
  type TrainingMetrics,
  type TrainingRecord,
  type TrainingStatus,
} from './record';

/** A fine-tuning server's job status as a record status; states this version does not know count as running. */
export function jobStatus(serverStatus: string): TrainingStatus {
  if ((TRAINING_STATUSES as readonly string[]).includes(serverStatus) && serverStatus !== 'starting') return serverStatus as TrainingStatus;
  if (serverStatus === 'pending') return 'queued';
  return 'running';
}

export interface ApiJobOptions {
  runDir: string;
  /** From the environment or the editor's secret storage; never written anywhere. */
  apiKey?: string;
  /**
   * The server's URL as given, when it carries credentials (user:password@) that the record leaves out; used only
   * when it names the record's server.
   */
  baseUrl?: string;
  /** Between polls. Default 5000. */
  pollMs?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** After each change of the record, with the job's events new since the last call. */
  onUpdate?: (record: TrainingRecord, events: FineTuneEvent[]) => void;
}

export interface StartApiJobOptions extends ApiJobOptions {
  baseUrl: string;
  baseModel: string;
  trainingFile: string;
  validationFile?: string;
  examples?: number;
  epochs?: number;
  learningRateMultiplier?: number;
  batchSize?: number;
  suffix?: string;
}

/** Uploads the data and creates the job; the record says `starting` first, then the job's id, or why it failed. */
export async function startApiJob(options: StartApiJobOptions): Promise<TrainingRecord> {
  resetTrainingFiles(options.runDir);
  writeTraining(options.runDir, {
    trainer: 'openai',
    baseModel: options.baseModel,
    status: 'starting',
    baseUrl: withoutCredentials(options.baseUrl),
    dataFile: options.trainingFile,
    ...(options.examples !== undefined ? { examples: options.examples } : {}),
  });
  let jobId: string;
  try {
    ({ jobId } = await startFineTune({
      baseURL: options.baseUrl,
      apiKey: options.apiKey,
      baseModel: options.baseModel,
      trainingFile: options.trainingFile,
      validationFile: options.validationFile,
      epochs: options.epochs,
      learningRateMultiplier: options.learningRateMultiplier,
      batchSize: options.batchSize,
      suffix: options.suffix,
      signal: options.signal,
      fetch: options.fetch,
    }));
  } catch (error) {
    if (isSvdError(error, 'aborted')) updateTraining(options.runDir, { status: 'cancelled', lastEvent: 'Cancelled before the job was created' });
    else updateTraining(options.runDir, { status: 'failed', error: describeError(error) });
    throw error;
  }
  const record = updateTraining(options.runDir, { jobId, status: 'validating_files', lastEvent: `Created fine-tuning job ${jobId}` });
  options.onUpdate?.(record, []);
  return record;
}

function apiJobOf(runDir: string): TrainingRecord & { jobId: string; baseUrl: string } {
  const record = readTraining(runDir);
  if (!record || record.trainer !== 'openai' || !record.jobId || !record.baseUrl) {
    throw new SvdError('not_found', `${runDir} has no fine-tuning job to follow`);
  }
  return record as TrainingRecord & { jobId: string; baseUrl: string };
}

/** The URL to reach the record's server: the caller's own, credentials and all, when it names the same server. */
function serverUrl(record: { baseUrl: string }, given: string | undefined): string {
  return given !== undefined && withoutCredentials(given) === record.baseUrl ? given : record.baseUrl;
}

/**
 * Follows the run's job until it ends, keeping the record and the metrics current. Following again (after a reload)
 * adds only the steps not recorded yet. Aborting stops the following, not the job (SvdError 'aborted').
 */
export async function followApiJob(options: ApiJobOptions): Promise<TrainingRecord> {
  const start = apiJobOf(options.runDir);
  let lastStep = start.latest?.step ?? -1;
  let latest: TrainingMetrics = { ...start.latest };
  let record: TrainingRecord = start;
  const onStatus = (status: FineTuneStatus) => {
    if (status.events.length > 0) {
      fs.appendFileSync(trainLogFile(options.runDir), redactText(status.events.map((e) => `${e.at} ${e.level} ${e.message}\n`).join('')));
    }
    const points = status.events
      .filter((e) => e.step !== undefined && e.loss !== undefined && e.step > lastStep)
      .map((e): TrainingMetrics => ({ step: e.step!, loss: e.loss! }));
    appendMetrics(options.runDir, points);
    for (const point of points) {
      latest = { ...latest, ...point };
      lastStep = point.step!;
    }
    const lastEvent = status.events.at(-1)?.message;
    record = updateTraining(options.runDir, {
      status: jobStatus(status.status),
      ...(status.fineTunedModel ? { fineTunedModel: status.fineTunedModel } : {}),
      ...(status.trainedTokens !== undefined ? { trainedTokens: status.trainedTokens } : {}),
      ...(lastEvent ? { lastEvent } : {}),
      ...(Object.keys(latest).length > 0 ? { latest } : {}),
      ...(status.error ? { error: status.error } : {}),
    });
    options.onUpdate?.(record, status.events);
  };
  await followFineTune({
    baseURL: serverUrl(start, options.baseUrl),
    apiKey: options.apiKey,
    jobId: start.jobId,
    pollMs: options.pollMs,
    signal: options.signal,
    fetch: options.fetch,
    onStatus,
  });
  return readTraining(options.runDir) ?? record;
}

/** Asks the server to cancel the run's job; the record takes the state the server answers with. */
export async function cancelApiJob(options: ApiJobOptions): Promise<TrainingRecord> {
  const start = apiJobOf(options.runDir);
  const status = await cancelFineTune({ baseURL: serverUrl(start, options.baseUrl), apiKey: options.apiKey, jobId: start.jobId, signal: options.signal, fetch: options.fetch });
  const record = updateTraining(options.runDir, { status: jobStatus(status.status), lastEvent: 'Cancelled by the user' });
  options.onUpdate?.(record, []);
  return record;
}
