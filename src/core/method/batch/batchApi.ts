// `svd batch run`: the waves driven through an OpenAI-compatible Batch API (files and batches endpoints): each wave's
// files uploaded, a batch created per file, polled, its output and error files downloaded and imported, then the
// next wave. Every step is kept in `<run>/batch/api.json` as it happens, so a command killed between polls resumes
// the same batches; a stop (Ctrl-C) cancels the open batches, and a later run collects what they finished.
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { abortableSleep } from '../../base/abort';
import type { AnswerChecker } from '../../base/checker';
import { SvdError, describeError } from '../../base/errors';
import { redactText, withoutCredentials } from '../../base/redact';
import type { SeedProblem } from '../../base/types';
import { writeFileAtomic } from '../../record/atomicFile';
import { readJsonFileIfExists } from '../../record/jsonFile';
import type { RunCostOptions } from '../budget';
import { formatUsd } from '../cost';
import { classifyApiError, createOpenAIClient, uploadable, type OpenAIClient } from '../openaiClient';
import { planRun } from '../runPlan';
import type { RunStartInfo } from '../runPlan';
import { CHAT_COMPLETIONS_URL } from './lines';
import { BATCH_DIR, BatchResults, importResultFiles } from './results';
import { runWave, type BatchRunSpec, type WaveResult } from './wave';

export interface BatchApiOptions {
  spec: BatchRunSpec;
  baseURL: string;
  apiKey?: string;
  /** Between polls of the open batches. */
  pollMs: number;
  /** Default 24h, the window OpenAI offers. */
  completionWindow?: string;
  maxLines?: number;
  maxBytes?: number;
  signal?: AbortSignal;
  checker?: AnswerChecker;
  onProblem?: (problem: SeedProblem) => void;
  onNotice?: (message: string) => void;
  onStart?: (info: RunStartInfo) => void;
  /** A line for people: a wave written, a batch created, its progress, a file imported. */
  onReport?: (message: string) => void;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
  /** The model's price and the run's budget: each wave's requests are reserved at the batch price. */
  cost?: RunCostOptions;
}

export interface BatchApiResult {
  runId: string;
  dir: string;
  /** Waves written over the run's life. */
  waves: number;
  done: boolean;
  seedsTotal: number;
  seedsDone: number;
  accepted: number;
}

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);
/** Consecutive failed polls of one batch tolerated before giving up (the batch keeps running; a rerun follows it). */
const MAX_POLL_FAILURES = 5;

const FileState = z.object({
  path: z.string(),
  fileId: z.string().optional(),
  batchId: z.string().optional(),
  status: z.string().optional(),
  imported: z.boolean(),
  /** Answers kept from this file's batch. */
  answers: z.number().int().nonnegative().optional(),
});
type FileState = z.infer<typeof FileState>;
const ApiState = z.object({ version: z.literal(1), wave: z.number().int().nonnegative(), files: z.array(FileState) });
type ApiState = z.infer<typeof ApiState>;

const BatchSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  input_file_id: z.string().optional(),
  output_file_id: z.string().nullable().optional(),
  error_file_id: z.string().nullable().optional(),
  request_counts: z.looseObject({ total: z.number(), completed: z.number(), failed: z.number() }).nullable().optional(),
  errors: z.looseObject({ data: z.array(z.looseObject({ message: z.string().optional(), line: z.number().nullable().optional() })).optional() }).nullable().optional(),
});
type Batch = z.infer<typeof BatchSchema>;

export async function runBatchApi(options: BatchApiOptions): Promise<BatchApiResult> {
  const { spec } = options;
  const target = { model: spec.model, engine: 'server' as const, baseURL: options.baseURL };
  const { runId, dir } = await planRun({ ...spec, target });
  const api = new BatchApi(options, runId, dir);
  let wave: WaveResult | undefined;
  for (;;) {
    const state = api.load();
    if (state.files.some((file) => !file.imported)) {
      await api.follow(state);
      const answered = state.files.reduce((sum, file) => sum + (file.answers ?? 0), 0);
      // A wave that got no answer at all would be asked again and again; a cancelled one is simply asked again.
      if (answered === 0 && !state.files.some((file) => file.status === 'cancelled')) {
        throw new SvdError('internal', `wave ${state.wave}: no request was answered (see ${path.join(dir, BATCH_DIR)}); the run stops so as not to ask again and again`);
      }
      continue;
    }
    wave = await runWave({
      spec: { ...spec, runId },
      out: { dir: path.join(dir, BATCH_DIR, 'waves'), maxLines: options.maxLines, maxBytes: options.maxBytes },
      baseURL: options.baseURL,
      signal: options.signal,
      checker: options.checker,
      onProblem: wave ? undefined : options.onProblem,
      onNotice: options.onNotice,
      onStart: wave ? undefined : options.onStart,
      ...(options.cost ? { cost: options.cost } : {}),
    });
    if (wave.done) return { runId, dir, waves: wave.wave, done: true, seedsTotal: wave.seedsTotal, seedsDone: wave.seedsDone, accepted: wave.accepted };
    if (wave.files.length === 0 && wave.stopReason === 'budget') {
      const budget = options.cost?.maxUsd === undefined ? 'the budget' : `the budget of ${formatUsd(options.cost.maxUsd)}`;
      throw new SvdError('budget', `run ${runId} stopped for budget: the next request would cross ${budget}; ${wave.seedsDone} of ${wave.seedsTotal} seeds done. Run the same command with a larger --max-cost to resume.`);
    }
    if (wave.stopReason === 'budget') options.onReport?.(`wave ${wave.wave}: only the requests that fit the budget were written`);
    if (wave.files.length === 0) throw new SvdError('internal', `run ${runId}: seeds are pending with nothing to ask`);
    options.onReport?.(`wave ${wave.wave}: ${wave.requests} request(s) in ${wave.files.length} file(s); ${wave.seedsDone} of ${wave.seedsTotal} seeds done`);
    api.save({ version: 1, wave: wave.wave, files: wave.files.map((file) => ({ path: file, imported: false })) });
  }
}

class BatchApi {
  private readonly client: OpenAIClient;
  private readonly stateFile: string;
  private readonly where: string;

  constructor(
    private readonly options: BatchApiOptions,
    private readonly runId: string,
    private readonly dir: string,
  ) {
    this.client = createOpenAIClient({ baseURL: options.baseURL, apiKey: options.apiKey, urlLabel: 'the batch URL', fetch: options.fetch }).client;
    this.stateFile = path.join(dir, BATCH_DIR, 'api.json');
    this.where = withoutCredentials(options.baseURL);
  }

  load(): ApiState {
    return readJsonFileIfExists(this.stateFile, ApiState, 'batch API state') ?? { version: 1, wave: 0, files: [] };
  }

  save(state: ApiState): void {
    mkdirSync(path.dirname(this.stateFile), { recursive: true });
    writeFileAtomic(this.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }

  /** Submits the wave's files not yet submitted, then polls until every batch has ended and its files are imported. */
  async follow(state: ApiState): Promise<void> {
    const { signal } = this.options;
    try {
      for (const file of state.files) {
        if (file.imported || file.batchId) continue;
        await this.submit(state, file);
      }
      const failures = new Map<string, number>();
      for (;;) {
        const open = state.files.filter((file) => !file.imported);
        if (open.length === 0) return;
        for (const file of open) {
          let batch: Batch;
          try {
            batch = await this.call(`GET /batches/${file.batchId}`, () => this.client.batches.retrieve(file.batchId!, { signal }), BatchSchema);
          } catch (error) {
            const count = (failures.get(file.path) ?? 0) + 1;
            failures.set(file.path, count);
            if (!isTransient(error) || count >= MAX_POLL_FAILURES) throw error;
            continue;
          }
          failures.delete(file.path);
          if (batch.status !== file.status) {
            const counts = batch.request_counts ? ` (${batch.request_counts.completed} done, ${batch.request_counts.failed} failed of ${batch.request_counts.total})` : '';
            this.options.onReport?.(`batch ${batch.id} (${path.basename(file.path)}): ${batch.status}${counts}`);
            file.status = batch.status;
            this.save(state);
          }
          if (!TERMINAL.has(batch.status)) continue;
          if (batch.status === 'failed') {
            // Kept as collected (nothing answered): a later command prepares the wave again instead of polling this one.
            file.imported = true;
            file.answers = 0;
            this.save(state);
            const why = batch.errors?.data?.map((e) => `${e.line !== undefined && e.line !== null ? `line ${e.line}: ` : ''}${e.message ?? ''}`).join('; ');
            throw new SvdError('internal', redactText(`batch ${batch.id} for ${file.path} failed${why ? `: ${why}` : ''}`));
          }
          await this.collect(file, batch);
          file.imported = true;
          this.save(state);
        }
        if (state.files.some((file) => !file.imported)) await abortableSleep(this.options.pollMs, signal, () => new SvdError('aborted', 'stopped'));
      }
    } catch (error) {
      if (signal?.aborted) {
        await this.cancelOpen(state);
        throw new SvdError('aborted', `cancelled the open batches of run ${this.runId}; run the same command again to collect what they finished and go on`);
      }
      throw error;
    }
  }

  private async submit(state: ApiState, file: FileState): Promise<void> {
    const { signal } = this.options;
    if (file.fileId) {
      // Killed between creating the batch and keeping its id: find it rather than pay for the wave twice.
      const found = await this.findBatch(file.fileId);
      if (found) {
        file.batchId = found;
        this.save(state);
        return;
      }
    } else {
      const content = await readFile(file.path);
      const uploaded = await this.call(
        'POST /files',
        async () => this.client.files.create({ file: await uploadable(content, path.basename(file.path)), purpose: 'batch' }, { signal }),
        z.looseObject({ id: z.string() }),
      );
      file.fileId = uploaded.id;
      this.save(state);
    }
    const batch = await this.call(
      'POST /batches',
      () =>
        this.client.batches.create(
          {
            input_file_id: file.fileId!,
            endpoint: CHAT_COMPLETIONS_URL,
            completion_window: (this.options.completionWindow ?? '24h') as '24h',
            metadata: { svd_run: this.runId.slice(0, 512), svd_file: path.basename(file.path).slice(0, 512) },
          },
          { signal },
        ),
      BatchSchema,
    );
    file.batchId = batch.id;
    file.status = batch.status;
    this.save(state);
    this.options.onReport?.(`batch ${batch.id} created for ${path.basename(file.path)}`);
  }

  private async findBatch(fileId: string): Promise<string | undefined> {
    const page = await this.call(
      'GET /batches',
      () => this.client.batches.list({ limit: 100 }, { signal: this.options.signal }),
      z.looseObject({ data: z.array(BatchSchema) }),
    );
    return page.data.find((batch) => batch.input_file_id === fileId)?.id;
  }

  /** Downloads the batch's output and error files beside its request file and keeps their answers. */
  private async collect(file: FileState, batch: Batch): Promise<void> {
    const downloads: string[] = [];
    for (const [id, suffix] of [
      [batch.output_file_id, 'output'],
      [batch.error_file_id, 'errors'],
    ] as const) {
      if (!id) continue;
      const text = await this.call(`GET /files/${id}/content`, async () => (await this.client.files.content(id, { signal: this.options.signal })).text(), z.string());
      const target = file.path.replace(/\.jsonl$/, '') + `.${suffix}.jsonl`;
      writeFileAtomic(target, text);
      downloads.push(target);
    }
    const results = BatchResults.open(this.dir, { create: true });
    try {
      const counts = await importResultFiles(results, this.runId, downloads);
      file.answers = counts.imported + counts.repeated;
      const failed = counts.failed > 0 ? `, ${counts.failed} failed (asked again in the next wave): ${counts.failures[0]}` : '';
      this.options.onReport?.(`batch ${batch.id}: ${counts.imported} answer(s) kept${failed}`);
    } finally {
      results.close();
    }
  }

  private async cancelOpen(state: ApiState): Promise<void> {
    for (const file of state.files) {
      if (file.imported || !file.batchId || TERMINAL.has(file.status ?? '')) continue;
      try {
        const batch = await this.call(`POST /batches/${file.batchId}/cancel`, () => this.client.batches.cancel(file.batchId!), BatchSchema);
        file.status = batch.status;
        this.options.onReport?.(`batch ${batch.id}: ${batch.status}`);
      } catch (error) {
        this.options.onNotice?.(`could not cancel batch ${file.batchId}: ${describeError(error)}`);
      }
    }
    this.save(state);
  }

  /** One API call, its answer checked, its failure said with the request and the server (never the key). */
  private async call<T>(request: string, run: () => Promise<unknown>, schema: z.ZodType<T>): Promise<T> {
    let answer: unknown;
    try {
      answer = await run();
    } catch (error) {
      if (this.options.signal?.aborted) throw new SvdError('aborted', 'stopped', { cause: error });
      throw toSvdError(error, `${request} at ${this.where}`);
    }
    const parsed = schema.safeParse(answer);
    if (!parsed.success) throw new SvdError('internal', redactText(`${request} at ${this.where} answered an unexpected body`));
    return parsed.data;
  }
}

function isTransient(error: unknown): boolean {
  return error instanceof SvdError && error.code === 'unreachable';
}

function toSvdError(error: unknown, what: string): SvdError {
  if (error instanceof SvdError) return error;
  const failure = classifyApiError(error);
  const message = redactText(`${what}: ${failure?.message ?? describeError(error)}`);
  switch (failure?.kind) {
    case 'auth':
      return new SvdError('auth', `${message} (set SVD_API_KEY or OPENAI_API_KEY to a key this service accepts)`, { cause: error });
    case 'not_found':
      return new SvdError('not_found', `${message} (does this server offer the Batch API?)`, { cause: error });
    case 'timeout':
    case 'unreachable':
    case 'connection':
    case 'server':
      return new SvdError('unreachable', message, { cause: error });
    default:
      return new SvdError('internal', message, { cause: error });
  }
}
