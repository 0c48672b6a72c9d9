// What training on a run leaves in the run's folder, so that any window (or a reload) can follow it:
//   training.json       the latest training job on the run's accepted answers, rewritten whole and atomically
//   train/metrics.jsonl step, loss, learning rate as the trainer reports them, appended
//   train/train.log     a local trainer's console output, appended
//   lineage.json        in a run of a later round: the run whose trained model made it
// Following an OpenAI-compatible fine-tuning job lives here too, so the CLI and the editor record it the same way.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { SvdError, describeError, isSvdError } from '../base/errors';
import { exportRun, type ExportFormat, type ExportSummary } from './export';
import { readJsonFileIfExists } from '../record/jsonFile';
import { issueText } from '../base/zodIssues';
import { cancelFineTune, followFineTune, startFineTune, type FineTuneEvent, type FineTuneStatus } from './finetune';
import { processState, thisProcess } from '../record/process';
import { redactText, withoutCredentials } from '../base/redact';
import { RunStore, writeFileAtomic } from '../record/store';

export const TRAINERS = ['openai', 'trl', 'llamafactory', 'custom'] as const;
export type Trainer = (typeof TRAINERS)[number];

/** `starting`: written before anything else; the API's own states; a local trainer goes starting -> running -> end. */
export const TRAINING_STATUSES = ['starting', 'validating_files', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TrainingStatus = (typeof TRAINING_STATUSES)[number];
const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

export const TRAINING_FILE = 'training.json';
export const LINEAGE_FILE = 'lineage.json';
const METRICS_FILE = path.join('train', 'metrics.jsonl');
const LOG_FILE = path.join('train', 'train.log');
/** A record that says `starting` this long without a process behind it was never started (a window closed). */
const STARTING_STALE_MS = 10 * 60_000;
/** A local trainer's record is rewritten at most this often while metrics come in. */
const RECORD_EVERY_MS = 1000;

const finite = z.number().finite();

export const TrainingMetricsSchema = z.object({
  step: z.number().int().nonnegative().optional(),
  loss: finite.optional(),
  learningRate: finite.optional(),
  epoch: finite.optional(),
  evalLoss: finite.optional(),
});
export type TrainingMetrics = z.infer<typeof TrainingMetricsSchema>;

export const TrainingRecordSchema = z.object({
  version: z.literal(1),
  trainer: z.enum(TRAINERS),
  baseModel: z.string(),
  status: z.enum(TRAINING_STATUSES),
  startedAt: z.string(),
  updatedAt: z.string(),
  endedAt: z.string().optional(),
  /** The exported training data. */
  dataFile: z.string().optional(),
  examples: z.number().int().nonnegative().optional(),
  /** openai: the fine-tuning server (never its key), the job, and what it made. */
  baseUrl: z.string().optional(),
  jobId: z.string().optional(),
  fineTunedModel: z.string().optional(),
  trainedTokens: z.number().int().nonnegative().optional(),
  /** Local trainers: where the trained model is written, and the process that follows the trainer (`svd train`). */
  outputDir: z.string().optional(),
  pid: z.number().int().positive().optional(),
  /** That process's start stamp (see process.ts): a zombie or a reused pid is not taken for it. */
  pidStart: z.string().optional(),
  host: z.string().optional(),
  exitCode: z.number().int().optional(),
  totalSteps: z.number().int().positive().optional(),
  /** The last value of each metric the trainer reported. */
  latest: TrainingMetricsSchema.optional(),
  /** The newest event of the job or line of the trainer that says something (not a metrics line). */
  lastEvent: z.string().optional(),
  error: z.string().optional(),
});
export type TrainingRecord = z.infer<typeof TrainingRecordSchema>;

export const LineageSchema = z.object({
  version: z.literal(1),
  /** The run (in the same runs folder) whose accepted answers trained the model this run uses. */
  parentRun: z.string().min(1),
  /** The first run of a seed file is round 1. */
  round: z.number().int().min(2),
  model: z.string().min(1),
  baseUrl: z.string().optional(),
  trainer: z.enum(TRAINERS),
  jobId: z.string().optional(),
  outputDir: z.string().optional(),
  createdAt: z.string(),
});
export type Lineage = z.infer<typeof LineageSchema>;

export const trainingFile = (runDir: string): string => path.join(runDir, TRAINING_FILE);
export const metricsFile = (runDir: string): string => path.join(runDir, METRICS_FILE);
export const trainLogFile = (runDir: string): string => path.join(runDir, LOG_FILE);
export const lineageFile = (runDir: string): string => path.join(runDir, LINEAGE_FILE);

export function isTerminalStatus(status: string): boolean {
  return TERMINAL.has(status);
}

/** A fine-tuning server's job status as a record status; states this version does not know count as running. */
export function jobStatus(serverStatus: string): TrainingStatus {
  if ((TRAINING_STATUSES as readonly string[]).includes(serverStatus) && serverStatus !== 'starting') return serverStatus as TrainingStatus;
  if (serverStatus === 'pending') return 'queued';
  return 'running';
}


// ---- the record ------------------------------------------------------------------------------------------------

/** The run's training record; undefined when the run was never trained. Throws SvdError on a damaged record. */
export function readTraining(runDir: string): TrainingRecord | undefined {
  return readJsonFileIfExists(trainingFile(runDir), TrainingRecordSchema, 'training record');
}

export type NewTrainingRecord = Omit<TrainingRecord, 'version' | 'updatedAt' | 'startedAt'> & { startedAt?: string };

/** Replaces the record (readers see the old one or the new one, never a mix). */
export function writeTraining(runDir: string, record: NewTrainingRecord | TrainingRecord): TrainingRecord {
  const now = new Date().toISOString();
  const parsed = TrainingRecordSchema.safeParse({ ...record, version: 1, startedAt: record.startedAt ?? now, updatedAt: now });
  if (!parsed.success) throw new SvdError('internal', `invalid training record for ${runDir}: ${issueText(parsed.error)}`);
  writeFileAtomic(trainingFile(runDir), `${JSON.stringify(parsed.data, null, 2)}\n`);
  return parsed.data;
}

/** Reads, changes and writes the record; `endedAt` is set when the status becomes final. */
export function updateTraining(runDir: string, patch: Partial<TrainingRecord>): TrainingRecord {
  const current = readTraining(runDir);
  if (!current) throw new SvdError('not_found', `${runDir} has no training record`);
  const next: TrainingRecord = { ...current, ...patch };
  if (patch.status !== undefined && isTerminalStatus(patch.status) && !isTerminalStatus(current.status)) {
    next.endedAt ??= new Date().toISOString();
  }
  return writeTraining(runDir, next);
}

/** A new training replaces the previous one's metrics and log. */
export function resetTrainingFiles(runDir: string): void {
  fs.mkdirSync(path.join(runDir, 'train'), { recursive: true });
  fs.writeFileSync(metricsFile(runDir), '');
  fs.writeFileSync(trainLogFile(runDir), '');
}

/** The data format each trainer reads. */
export const TRAINER_FORMAT: Record<Trainer, ExportFormat> = { openai: 'openai', trl: 'trl', llamafactory: 'sharegpt', custom: 'openai' };

export interface TrainingData {
  summary: ExportSummary;
  train: string;
  validation?: string;
}

/** Exports the run's accepted answers in the trainer's format into `<run>/train/data.<format>.jsonl`. */
export function exportTrainingData(runDir: string, trainer: Trainer, options: { valFraction?: number } = {}): TrainingData {
  const store = RunStore.open(runDir, { readOnly: true });
  const format = TRAINER_FORMAT[trainer];
  let summary: ExportSummary;
  try {
    fs.mkdirSync(path.join(runDir, 'train'), { recursive: true });
    summary = exportRun(store.events(), {
      format,
      out: path.join(runDir, 'train', `data.${format}.jsonl`),
      ...(options.valFraction !== undefined ? { valFraction: options.valFraction } : {}),
      datasetName: `svd_${store.manifest.id.replace(/[^A-Za-z0-9_]/g, '_')}`,
      // The run's train/ folder is this export's own: the data of an earlier training is replaced.
      replace: true,
    });
  } finally {
    store.close();
  }
  if (summary.rows === 0) throw new SvdError('bad_config', `run ${path.basename(runDir)} has no accepted answer to train on`);
  const validation = summary.files.find((f) => f.split === 'validation')?.path;
  return { summary, train: summary.files.find((f) => f.split === 'train')!.path, ...(validation ? { validation } : {}) };
}

/** One line per point, each one write on an O_APPEND descriptor. */
export function appendMetrics(runDir: string, points: readonly TrainingMetrics[]): void {
  if (points.length === 0) return;
  fs.mkdirSync(path.join(runDir, 'train'), { recursive: true });
  fs.appendFileSync(metricsFile(runDir), points.map((p) => `${JSON.stringify(p)}\n`).join(''));
}

/**
 * What the record says now, for display: a local trainer whose process is gone without a final word, or a start
 * that never got going, is `interrupted`.
 */
export function displayStatus(record: TrainingRecord, now = Date.now()): TrainingStatus | 'interrupted' {
  if (isTerminalStatus(record.status)) return record.status;
  // A record from another host cannot be checked: it says what it says.
  if (record.pid !== undefined) return processState(trainerStamp(record, record.pid)) === 'gone' ? 'interrupted' : record.status;
  if (record.status === 'starting' && now - Date.parse(record.updatedAt) > STARTING_STALE_MS) return 'interrupted';
  return record.status;
}

/**
 * The local process that follows the record's trainer (`svd train`), while it still runs on this host; undefined
 * otherwise (after a restart the recorded pid may be anyone's, so it is never signalled then).
 */
export function trainerProcess(record: TrainingRecord): number | undefined {
  return record.pid !== undefined && processState(trainerStamp(record, record.pid)) === 'alive' ? record.pid : undefined;
}

function trainerStamp(record: TrainingRecord, pid: number): { pid: number; host?: string; start?: string } {
  return { pid, ...(record.host !== undefined ? { host: record.host } : {}), ...(record.pidStart !== undefined ? { start: record.pidStart } : {}) };
}

function formatLoss(loss: number): string {
  return Math.abs(loss) >= 100 ? loss.toFixed(0) : String(Number(loss.toPrecision(3)));
}

/** `running · step 40/2000 · loss 0.83 · lr 2.0e-5`, `succeeded → ft:...`, `failed: why`. */
export function trainingSummary(record: TrainingRecord, status: TrainingStatus | 'interrupted' = displayStatus(record)): string {
  if (status === 'succeeded') {
    const made = record.fineTunedModel ?? (record.outputDir ? path.basename(path.dirname(record.outputDir)) + '/' + path.basename(record.outputDir) : undefined);
    return made ? `succeeded → ${made}` : 'succeeded';
  }
  if (status === 'failed') return record.error ? `failed: ${record.error}` : 'failed';
  const parts: string[] = [status.replace(/_/g, ' ')];
  const latest = record.latest ?? {};
  if (latest.step !== undefined) parts.push(`step ${latest.step}${record.totalSteps ? `/${record.totalSteps}` : ''}`);
  if (latest.loss !== undefined) parts.push(`loss ${formatLoss(latest.loss)}`);
  if (latest.learningRate !== undefined && status === 'running') parts.push(`lr ${latest.learningRate.toExponential(1)}`);
  return parts.join(' · ');
}

// ---- metrics, read as they are appended -------------------------------------------------------------------------

export interface SeriesPoint {
  /** The trainer's step, or the point's place when the trainer names no step. */
  step: number;
  loss?: number;
  evalLoss?: number;
}

/**
 * A run's metrics file, read incrementally: each `refresh` reads what was appended since. A file that shrank was
 * started again (a new training) and is read from the top. A line still being written waits for the next refresh.
 */
export class MetricsSeries {
  private offset = 0;
  private readonly points: SeriesPoint[] = [];
  latest: TrainingMetrics = {};

  constructor(private readonly file: string) {}

  static ofRun(runDir: string): MetricsSeries {
    return new MetricsSeries(metricsFile(runDir));
  }

  /** Whether anything changed. */
  refresh(): boolean {
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      size = 0;
    }
    let changed = false;
    if (size < this.offset) {
      this.offset = 0;
      this.points.length = 0;
      this.latest = {};
      changed = true;
    }
    if (size === this.offset) return changed;
    let text: string;
    try {
      const fd = fs.openSync(this.file, 'r');
      try {
        const buffer = Buffer.alloc(size - this.offset);
        const n = fs.readSync(fd, buffer, 0, buffer.length, this.offset);
        text = buffer.toString('utf8', 0, n);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return changed;
    }
    const end = text.lastIndexOf('\n');
    if (end < 0) return changed;
    this.offset += Buffer.byteLength(text.slice(0, end + 1), 'utf8');
    for (const line of text.slice(0, end).split('\n')) {
      if (!line.trim()) continue;
      let parsed: ReturnType<typeof TrainingMetricsSchema.safeParse>;
      try {
        parsed = TrainingMetricsSchema.safeParse(JSON.parse(line));
      } catch {
        continue;
      }
      if (!parsed.success) continue;
      this.add(parsed.data);
      changed = true;
    }
    return changed;
  }

  private add(point: TrainingMetrics): void {
    this.latest = { ...this.latest, ...point };
    if (point.loss === undefined && point.evalLoss === undefined) return;
    const last = this.points.at(-1);
    const step = point.step ?? (last ? last.step + 1 : 0);
    // A train loss and an eval loss of the same step arrive as two lines; one that comes again replaces the first.
    let same = last && last.step === step ? last : undefined;
    for (let i = this.points.length - 2; same === undefined && i >= 0 && this.points[i]!.step >= step; i--) {
      if (this.points[i]!.step === step) same = this.points[i];
    }
    const target = same ?? { step };
    if (point.loss !== undefined) target.loss = point.loss;
    if (point.evalLoss !== undefined) target.evalLoss = point.evalLoss;
    if (!same) {
      if (last && step < last.step) {
        const at = this.points.findIndex((p) => p.step > step);
        this.points.splice(at, 0, target);
      } else {
        this.points.push(target);
      }
    }
  }

  get size(): number {
    return this.points.length;
  }

  /** At most `max` points, evenly spread, the first and the last always kept. */
  series(max = 500): SeriesPoint[] {
    const all = this.points;
    if (all.length <= max) return all.map((p) => ({ ...p }));
    const out: SeriesPoint[] = [];
    for (let i = 0; i < max; i++) out.push({ ...all[Math.round((i * (all.length - 1)) / (max - 1))]! });
    return out;
  }
}

// ---- a local trainer, as `svd train` follows it -------------------------------------------------------------------

/**
 * Writes what a local trainer says into the run: every line to train/train.log, metrics to train/metrics.jsonl, and
 * the record with the latest values at most once a second.
 */
export class LocalTrainingLog {
  private readonly logFd: number;
  private record: TrainingRecord;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private closed = false;

  constructor(
    private readonly runDir: string,
    start: Omit<NewTrainingRecord, 'status' | 'pid' | 'pidStart' | 'host'>,
  ) {
    resetTrainingFiles(runDir);
    this.logFd = fs.openSync(trainLogFile(runDir), 'a');
    const me = thisProcess();
    this.record = writeTraining(runDir, { ...start, status: 'starting', pid: me.pid, ...(me.start ? { pidStart: me.start } : {}), host: me.host });
  }

  running(): void {
    this.record = writeTraining(this.runDir, { ...this.record, status: 'running' });
  }

  line(raw: string): void {
    if (this.closed) return;
    // A trainer prints what it likes (its arguments, its environment): the log keeps it without secrets.
    const text = redactText(raw);
    fs.writeSync(this.logFd, `${text}\n`);
    const trimmed = text.trim();
    // Metrics dicts and progress bars are shown as numbers; anything else is the trainer's latest word.
    if (trimmed && !trimmed.startsWith('{') && !/^\s*\d+%\|/.test(trimmed)) {
      this.record.lastEvent = trimmed.slice(0, 500);
      this.soon();
    }
  }

  metrics(m: TrainingMetrics): void {
    if (this.closed) return;
    const point = TrainingMetricsSchema.safeParse(m);
    if (!point.success) return;
    // Step-only updates (a progress bar) move the record; the metrics file keeps what a chart can draw.
    if (Object.keys(point.data).some((key) => key !== 'step')) appendMetrics(this.runDir, [point.data]);
    this.record.latest = { ...this.record.latest, ...point.data };
    this.soon();
  }

  totalSteps(total: number): void {
    if (this.record.totalSteps === total) return;
    this.record.totalSteps = total;
    this.soon();
  }

  /** The final word: the record is written at once and nothing more is. */
  finish(status: 'succeeded' | 'failed' | 'cancelled', details: { exitCode?: number; error?: string } = {}): TrainingRecord {
    if (this.closed) return this.record;
    this.closed = true;
    clearTimeout(this.timer);
    fs.closeSync(this.logFd);
    this.record = writeTraining(this.runDir, {
      ...this.record,
      status,
      endedAt: new Date().toISOString(),
      ...(details.exitCode !== undefined ? { exitCode: details.exitCode } : {}),
      ...(details.error !== undefined ? { error: details.error } : {}),
    });
    return this.record;
  }

  private soon(): void {
    this.dirty = true;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.dirty || this.closed) return;
      this.dirty = false;
      this.record = writeTraining(this.runDir, this.record);
    }, RECORD_EVERY_MS);
    this.timer.unref();
  }
}

// ---- an OpenAI-compatible fine-tuning job -----------------------------------------------------------------------

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

// ---- rounds -----------------------------------------------------------------------------------------------------

export function readLineage(runDir: string): Lineage | undefined {
  return readJsonFileIfExists(lineageFile(runDir), LineageSchema, 'lineage');
}

export function writeLineage(runDir: string, lineage: Omit<Lineage, 'version' | 'createdAt'>): Lineage {
  const parsed = LineageSchema.safeParse({ ...lineage, version: 1, createdAt: new Date().toISOString() });
  if (!parsed.success) throw new SvdError('internal', `invalid lineage for ${runDir}: ${issueText(parsed.error)}`);
  fs.mkdirSync(runDir, { recursive: true });
  writeFileAtomic(lineageFile(runDir), `${JSON.stringify(parsed.data, null, 2)}\n`);
  return parsed.data;
}

/** `seeds-1a2b3c4d` -> `seeds-1a2b3c4d-r2`; round 3 from `seeds-1a2b3c4d-r2` -> `seeds-1a2b3c4d-r3`; never a taken id. */
export function nextRoundRunId(parentRun: string, parentIsRound: boolean, round: number, taken: (id: string) => boolean): string {
  const root = parentIsRound ? parentRun.replace(/-r\d+(?:-\d+)?$/, '') : parentRun;
  const base = `${root}-r${round}`;
  if (!taken(base)) return base;
  for (let n = 2; ; n++) if (!taken(`${base}-${n}`)) return `${base}-${n}`;
}

/** Where a round's trained model is served: known for a fine-tuning API, the user's own server for a local output. */
export function trainedModelOf(record: TrainingRecord): { model: string; baseUrl?: string } | { outputDir: string } | undefined {
  if (record.status !== 'succeeded') return undefined;
  if (record.fineTunedModel) return { model: record.fineTunedModel, ...(record.baseUrl ? { baseUrl: record.baseUrl } : {}) };
  if (record.outputDir) return { outputDir: record.outputDir };
  return undefined;
}
