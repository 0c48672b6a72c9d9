// A local trainer (TRL, LLaMA-Factory, a custom command), as `svd train` follows it: what it says goes into the run.
import * as fs from 'node:fs';
import { redactText } from '../base/redact';
import { thisProcess } from '../record/process';
import {
  appendMetrics,
  resetTrainingFiles,
  trainLogFile,
  TrainingMetricsSchema,
  writeTraining,
  type NewTrainingRecord,
  type TrainingMetrics,
  type TrainingRecord,
} from './record';

/** The record is rewritten at most this often while metrics come in. */
const RECORD_EVERY_MS = 1000;

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
