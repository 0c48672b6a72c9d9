// What training on a run leaves in the run's folder, so that any window (or a reload) can follow it:
//   training.json       the latest training job on the run's accepted answers, rewritten whole and atomically
//   train/metrics.jsonl step, loss, learning rate as the trainer reports them, appended (read: metricsSeries.ts)
//   train/train.log     a local trainer's console output, appended (written: localTraining.ts)
//   lineage.json        in a run of a later round: the run whose trained model made it (lineage.ts)
// This module owns the record; a fine-tuning job is followed into it by apiJob.ts, a local trainer by
// localTraining.ts, so the CLI and the editor record a training the same way.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { SvdError } from '../base/errors';
import { exportRun, type ExportFormat, type ExportSummary } from './export';
import { readJsonFileIfExists } from '../record/jsonFile';
import { issueText } from '../base/zodIssues';
import { processState } from '../record/process';
import { writeFileAtomic } from '../record/atomicFile';
import { RunStore } from '../record/store';

export const TRAINERS = ['openai', 'trl', 'llamafactory', 'custom'] as const;
export type Trainer = (typeof TRAINERS)[number];

/** `starting`: written before anything else; the API's own states; a local trainer goes starting -> running -> end. */
export const TRAINING_STATUSES = ['starting', 'validating_files', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TrainingStatus = (typeof TRAINING_STATUSES)[number];
const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

export const TRAINING_FILE = 'training.json';
const METRICS_FILE = path.join('train', 'metrics.jsonl');
const LOG_FILE = path.join('train', 'train.log');
/** A record that says `starting` this long without a process behind it was never started (a window closed). */
const STARTING_STALE_MS = 10 * 60_000;

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

export const trainingFile = (runDir: string): string => path.join(runDir, TRAINING_FILE);
export const metricsFile = (runDir: string): string => path.join(runDir, METRICS_FILE);
export const trainLogFile = (runDir: string): string => path.join(runDir, LOG_FILE);

export function isTerminalStatus(status: string): boolean {
  return TERMINAL.has(status);
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
    summary = exportRun(store, {
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
