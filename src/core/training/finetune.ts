// Training through an OpenAI-compatible fine-tuning API (/v1/files and /v1/fine_tuning/jobs). A job runs for
// minutes to hours on the server, so following it never owns it: aborting stops the polling, not the job.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { abortableSleep } from '../base/abort';
import { SvdError, describeError } from '../base/errors';
import { redactText, withoutCredentials } from '../base/redact';
import { issueText } from '../base/zodIssues';
import { classifyApiError, createOpenAIClient, uploadable, type OpenAIClient } from '../method/openaiClient';

export interface FineTuneOptions {
  baseURL: string;
  apiKey?: string;
  baseModel: string;
  /** The exported JSONL to train on. */
  trainingFile: string;
  validationFile?: string;
  epochs?: number;
  learningRateMultiplier?: number;
  batchSize?: number;
  suffix?: string;
  /** Between polls while following a job. Default 5000. */
  pollMs?: number;
  signal?: AbortSignal;
  onStatus?: (status: FineTuneStatus) => void;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
}

export interface FineTuneEvent {
  at: string;
  level: string;
  message: string;
  step?: number;
  loss?: number;
}

export interface FineTuneStatus {
  jobId: string;
  /** validating_files | queued | running | succeeded | failed | cancelled */
  status: string;
  fineTunedModel?: string;
  trainedTokens?: number;
  /** Events new since the previous report, oldest first. */
  events: FineTuneEvent[];
  error?: string;
}

export type JobOptions = Omit<FineTuneOptions, 'baseModel' | 'trainingFile'> &
  Partial<Pick<FineTuneOptions, 'baseModel' | 'trainingFile'>> & { jobId: string };

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** Consecutive transient poll failures tolerated while following a job before giving up. */
const MAX_POLL_FAILURES = 5;

const JobSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  fine_tuned_model: z.string().nullable().optional(),
  trained_tokens: z.number().nullable().optional(),
  error: z.looseObject({ message: z.string().nullable().optional() }).nullable().optional(),
});
type Job = z.infer<typeof JobSchema>;

const EventSchema = z.looseObject({
  id: z.string(),
  created_at: z.number(),
  level: z.string().optional(),
  message: z.string().optional(),
  data: z.unknown().optional(),
});
type RawEvent = z.infer<typeof EventSchema>;

const MetricsSchema = z.looseObject({ step: z.number().optional(), train_loss: z.number().optional() });

/** The key is the caller's, never the environment's: the client is told it, or told there is none. */
function createClient(options: Pick<FineTuneOptions, 'baseURL' | 'apiKey' | 'fetch'>): OpenAIClient {
  return createOpenAIClient({ baseURL: options.baseURL, apiKey: options.apiKey, urlLabel: 'the fine-tuning URL', fetch: options.fetch }).client;
}

/** The endpoint's path as the user would see it, e.g. /v1/fine_tuning/jobs. */
function endpointPath(baseURL: string, tail: string): string {
  let base = '';
  try {
    base = new URL(baseURL).pathname.replace(/\/+$/, '');
  } catch {
    // An unparseable URL is reported by the client itself.
  }
  return `${base}${tail}`;
}

/** A failed request as an SvdError whose message holds neither the key nor the URL's credentials. */
function toSvdError(error: unknown, baseURL: string, request: string): SvdError {
  if (error instanceof SvdError) return error;
  const mapped = classify(error, withoutCredentials(baseURL), request);
  return new SvdError(mapped.code, redactText(mapped.message), { cause: error });
}

function classify(error: unknown, baseURL: string, request: string): SvdError {
  const failure = classifyApiError(error);
  switch (failure?.kind) {
    case 'aborted':
      return new SvdError('aborted', 'stopped following the fine-tuning job', { cause: error });
    case 'timeout':
    case 'unreachable':
    case 'connection':
      return new SvdError('unreachable', `the server at ${baseURL} cannot be reached (${request}): ${failure.message}`, { cause: error });
    case 'auth':
      return new SvdError('auth', `the server at ${baseURL} rejected the API key (${request} answered ${failure.status})`, { cause: error });
    case 'not_found':
      return new SvdError('not_found', `the server at ${baseURL} does not offer fine-tuning (${request} answered 404)`, { cause: error });
    case 'server':
    case 'rejected':
      return new SvdError('internal', `the server at ${baseURL} failed ${request}: ${failure.message}`, { cause: error });
    default:
      return new SvdError('internal', `${request} failed: ${describeError(error)}`, { cause: error });
  }
}

/** A poll that failed this way is tried again at the next poll. */
function isTransient(error: unknown): boolean {
  return classifyApiError(error)?.retryable ?? false;
}

function invalid(request: string, baseURL: string, error: z.ZodError): SvdError {
  const message = `the server at ${withoutCredentials(baseURL)} answered ${request} with an unexpected body: ${issueText(error, '(body)')}`;
  return new SvdError('internal', redactText(message));
}

function parseJob(body: unknown, request: string, baseURL: string): Job {
  const parsed = JobSchema.safeParse(body);
  if (!parsed.success) throw invalid(request, baseURL, parsed.error);
  return parsed.data;
}

function abortedError(): SvdError {
  return new SvdError('aborted', 'stopped following the fine-tuning job');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return abortableSleep(ms, signal, () => abortedError());
}

const STEP_LOSS = /\bstep\s+(\d+)(?:\s*\/\s*\d+)?\s*:.*?\bloss\s*[=:]\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)/i;

/** Step and loss from a metrics event's data, or from a "Step N/M: training loss=X" message. */
export function parseStepLoss(message: string, data?: unknown): { step?: number; loss?: number } {
  const metrics = MetricsSchema.safeParse(data);
  if (metrics.success && (metrics.data.step !== undefined || metrics.data.train_loss !== undefined)) {
    return {
      ...(metrics.data.step !== undefined ? { step: metrics.data.step } : {}),
      ...(metrics.data.train_loss !== undefined ? { loss: metrics.data.train_loss } : {}),
    };
  }
  const match = STEP_LOSS.exec(message);
  if (!match) return {};
  return { step: Number(match[1]), loss: Number(match[2]) };
}

function toEvent(raw: RawEvent): FineTuneEvent {
  const message = raw.message ?? '';
  return { at: new Date(raw.created_at * 1000).toISOString(), level: raw.level ?? 'info', message, ...parseStepLoss(message, raw.data) };
}

function toStatus(job: Job, events: FineTuneEvent[]): FineTuneStatus {
  return {
    jobId: job.id,
    status: job.status,
    ...(job.fine_tuned_model ? { fineTunedModel: job.fine_tuned_model } : {}),
    ...(typeof job.trained_tokens === 'number' ? { trainedTokens: job.trained_tokens } : {}),
    events,
    ...(job.error?.message ? { error: job.error.message } : {}),
  };
}

async function upload(client: OpenAIClient, options: FineTuneOptions, file: string): Promise<string> {
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch (error) {
    throw new SvdError('not_found', `cannot read the training data ${file}: ${describeError(error)}`, { cause: error });
  }
  const request = `POST ${endpointPath(options.baseURL, '/files')}`;
  try {
    const uploaded = await client.files.create(
      { file: await uploadable(content, path.basename(file)), purpose: 'fine-tune' },
      options.signal ? { signal: options.signal } : {},
    );
    const parsed = z.looseObject({ id: z.string() }).safeParse(uploaded);
    if (!parsed.success) throw invalid(request, options.baseURL, parsed.error);
    return parsed.data.id;
  } catch (error) {
    throw toSvdError(error, options.baseURL, request);
  }
}

/** Uploads the training (and validation) file and creates the job. Only the hyperparameters given are sent. */
export async function startFineTune(options: FineTuneOptions): Promise<{ jobId: string; fileId: string }> {
  const client = createClient(options);
  const fileId = await upload(client, options, options.trainingFile);
  const validationFileId = options.validationFile ? await upload(client, options, options.validationFile) : undefined;
  const hyperparameters = {
    ...(options.epochs !== undefined ? { n_epochs: options.epochs } : {}),
    ...(options.learningRateMultiplier !== undefined ? { learning_rate_multiplier: options.learningRateMultiplier } : {}),
    ...(options.batchSize !== undefined ? { batch_size: options.batchSize } : {}),
  };
  const request = `POST ${endpointPath(options.baseURL, '/fine_tuning/jobs')}`;
  try {
    const job = await client.fineTuning.jobs.create(
      {
        model: options.baseModel,
        training_file: fileId,
        ...(validationFileId ? { validation_file: validationFileId } : {}),
        ...(options.suffix ? { suffix: options.suffix } : {}),
        // The top-level field (rather than `method`) is the one every compatible server understands.
        ...(Object.keys(hyperparameters).length > 0 ? { hyperparameters } : {}),
      },
      options.signal ? { signal: options.signal } : {},
    );
    return { jobId: parseJob(job, request, options.baseURL).id, fileId };
  } catch (error) {
    throw toSvdError(error, options.baseURL, request);
  }
}

/** The events not seen yet, oldest first. Pages (newest first) are read until a seen event appears. */
async function newEvents(client: OpenAIClient, options: JobOptions, seen: Set<string>): Promise<FineTuneEvent[]> {
  const request = `GET ${endpointPath(options.baseURL, `/fine_tuning/jobs/${options.jobId}/events`)}`;
  const fresh: RawEvent[] = [];
  for await (const item of client.fineTuning.jobs.listEvents(options.jobId, { limit: 100 }, options.signal ? { signal: options.signal } : {})) {
    const parsed = EventSchema.safeParse(item);
    if (!parsed.success) throw invalid(request, options.baseURL, parsed.error);
    if (seen.has(parsed.data.id)) break;
    fresh.push(parsed.data);
  }
  // Newest first from the server; reversed, then a stable sort keeps that order within one second.
  fresh.reverse();
  fresh.sort((a, b) => a.created_at - b.created_at);
  for (const event of fresh) seen.add(event.id);
  return fresh.map(toEvent);
}

/**
 * Polls the job until it succeeds, fails or is cancelled, reporting each new event once. A failed job resolves with
 * status 'failed' and the server's message. Aborting rejects with SvdError('aborted') and leaves the job running.
 */
export async function followFineTune(options: JobOptions): Promise<FineTuneStatus> {
  const client = createClient(options);
  const pollMs = options.pollMs ?? 5000;
  const seen = new Set<string>();
  const retrieveRequest = `GET ${endpointPath(options.baseURL, `/fine_tuning/jobs/${options.jobId}`)}`;
  let last: FineTuneStatus | undefined;
  let failures = 0;
  for (;;) {
    if (options.signal?.aborted) throw abortedError();
    let job: Job;
    let events: FineTuneEvent[];
    try {
      job = parseJob(
        await client.fineTuning.jobs.retrieve(options.jobId, options.signal ? { signal: options.signal } : {}),
        retrieveRequest,
        options.baseURL,
      );
      events = await newEvents(client, options, seen);
      failures = 0;
    } catch (error) {
      if (options.signal?.aborted) throw abortedError();
      if (!isTransient(error) || ++failures > MAX_POLL_FAILURES) throw toSvdError(error, options.baseURL, retrieveRequest);
      await sleep(pollMs, options.signal);
      continue;
    }
    const status = toStatus(job, events);
    if (!last || events.length > 0 || status.status !== last.status || status.fineTunedModel !== last.fineTunedModel) {
      options.onStatus?.(status);
    }
    last = status;
    if (TERMINAL.has(job.status)) return status;
    await sleep(pollMs, options.signal);
  }
}

/** Asks the server to cancel the job; resolves with the job's status as the server reports it. */
export async function cancelFineTune(options: JobOptions): Promise<FineTuneStatus> {
  const client = createClient(options);
  const request = `POST ${endpointPath(options.baseURL, `/fine_tuning/jobs/${options.jobId}/cancel`)}`;
  try {
    const job = parseJob(await client.fineTuning.jobs.cancel(options.jobId, options.signal ? { signal: options.signal } : {}), request, options.baseURL);
    const status = toStatus(job, []);
    options.onStatus?.(status);
    return status;
  } catch (error) {
    throw toSvdError(error, options.baseURL, request);
  }
}
