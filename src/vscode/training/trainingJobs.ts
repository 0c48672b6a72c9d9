// Following training jobs in the editor. The job's record lives in its run (training.json, written by core): a
// fine-tuning job is polled from here; a local trainer runs in a task through `svd train`, which writes the record,
// its log and its metrics, so here the record is only read. Each job gets a cancellable progress notification;
// cancelling asks first, then cancels the job on the server or stops the trainer. Following never owns a job:
// closing the window stops the polling, and the next activation follows it again.
import * as vscode from 'vscode';
import { describeError, isSvdError } from '../../core/base/errors';
import {
  displayStatus,
  isTerminalStatus,
  readTraining,
  trainingFile,
  trainerProcess,
  trainingSummary,
  updateTraining,
  writeTraining,
  type TrainingRecord,
} from '../../core/training/record';
import { cancelApiJob, followApiJob, startApiJob, type StartApiJobOptions } from '../../core/training/apiJob';
import { listRuns } from '../../core/record/store';
import { declined, type Declined } from '../platform/commandResult';
import { Disposable } from '../platform/lifecycle';
import { fileStamp } from '../../core/base/fileStamp';
import type { RunRef } from '../runs/pickRun';

export interface TrainingJobsDeps {
  log: vscode.LogOutputChannel;
  apiKeyFor(baseUrl: string): Promise<string | undefined>;
  pollMs(): number;
  runsDir(): string | undefined;
}

const TRAINER_LABEL: Record<TrainingRecord['trainer'], string> = { openai: 'fine-tuning API', trl: 'TRL', llamafactory: 'LLaMA-Factory', custom: 'custom trainer' };
/** How often a local trainer's record is read while it runs. */
const LOCAL_POLL_MS = 500;
/** After asking `svd train` to stop, how long before the task itself is ended. */
const STOP_GRACE_MS = 20_000;

class Follow {
  /** Stops the polling (and a start still uploading); the job itself is left alone. */
  readonly controller = new AbortController();
  record: TrainingRecord | undefined;
  execution: vscode.TaskExecution | undefined;
  processId: number | undefined;
  ended = false;
  /** A local trainer's task process ended (exit code undefined when VS Code does not know it). */
  taskEnded: (exitCode: number | undefined) => void = () => undefined;
  readonly done: Promise<TrainingRecord | undefined>;
  private readonly listeners = new Set<(record: TrainingRecord) => void>();
  private resolveDone!: (record: TrainingRecord | undefined) => void;

  constructor(
    readonly run: RunRef,
    readonly kind: 'api' | 'local',
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  onRecord(listener: (record: TrainingRecord) => void): vscode.Disposable {
    this.listeners.add(listener);
    if (this.record) listener(this.record);
    return { dispose: () => this.listeners.delete(listener) };
  }

  update(record: TrainingRecord): void {
    this.record = record;
    for (const listener of this.listeners) listener(record);
  }

  end(record: TrainingRecord | undefined): void {
    if (record) this.update(record);
    this.ended = true;
    this.controller.abort();
    this.resolveDone(record ?? this.record);
  }
}

export class TrainingJobs extends Disposable {
  private readonly follows = new Map<string, Follow>();
  private readonly changeEmitter = this._register(new vscode.EventEmitter<RunRef>());
  /** A followed job's record changed (or its following ended). */
  readonly onDidChange: vscode.Event<RunRef> = this.changeEmitter.event;

  constructor(private readonly deps: TrainingJobsDeps) {
    super();
    this._register(
      vscode.tasks.onDidStartTaskProcess((event) => {
        const follow = this.followOfTask(event.execution);
        if (follow) {
          follow.execution = event.execution;
          follow.processId = event.processId;
        }
      }),
    );
    this._register(vscode.tasks.onDidEndTaskProcess((event) => this.followOfTask(event.execution)?.taskEnded(event.exitCode)));
    this._register({ dispose: () => [...this.follows.values()].forEach((follow) => follow.controller.abort()) });
  }

  /** Whether a job of this run is being followed here. */
  isActive(dir: string): boolean {
    return this.follows.has(dir);
  }

  /** Resolves with the job's last record once its following ends; undefined when none is followed. */
  whenDone(dir: string): Promise<TrainingRecord | undefined> | undefined {
    return this.follows.get(dir)?.done;
  }

  // ---- fine-tuning API ---------------------------------------------------------------------------------------------

  /** Uploads, creates the job and follows it; resolves once the job exists (following goes on). */
  async startApi(run: RunRef, options: Omit<StartApiJobOptions, 'runDir' | 'apiKey' | 'pollMs' | 'signal' | 'onUpdate'>): Promise<TrainingRecord> {
    const follow = this.begin(run, 'api');
    const apiKey = await this.deps.apiKeyFor(options.baseUrl);
    this.deps.log.info(`training ${run.runId}: uploading ${options.examples ?? '?'} examples to ${options.baseUrl} to fine-tune ${options.baseModel}`);
    this.showProgress(follow, 'uploading the training data…');
    let created: TrainingRecord;
    try {
      created = await startApiJob({ ...options, runDir: run.dir, apiKey, signal: follow.controller.signal, onUpdate: (record) => this.changed(follow, record) });
    } catch (error) {
      this.finish(follow, this.tryRead(run.dir));
      throw error;
    }
    this.deps.log.info(`training ${run.runId}: job ${created.jobId} created`);
    void this.pollApi(follow, apiKey);
    return created;
  }

  /** Follows the run's recorded job again (after a reload). */
  async followApi(run: RunRef): Promise<void> {
    if (this.follows.has(run.dir)) return;
    const record = this.tryRead(run.dir);
    if (!record?.jobId || !record.baseUrl) return;
    const follow = this.begin(run, 'api');
    follow.update(record);
    this.showProgress(follow);
    void this.pollApi(follow, await this.deps.apiKeyFor(record.baseUrl));
  }

  private async pollApi(follow: Follow, apiKey: string | undefined): Promise<void> {
    try {
      const record = await followApiJob({
        runDir: follow.run.dir,
        apiKey,
        pollMs: this.deps.pollMs(),
        signal: follow.controller.signal,
        onUpdate: (updated) => this.changed(follow, updated),
      });
      this.finish(follow, record);
    } catch (error) {
      if (!isSvdError(error, 'aborted')) {
        this.deps.log.error(`training ${follow.run.runId}: stopped following job ${follow.record?.jobId ?? ''}: ${describeError(error)}`);
        void vscode.window.showErrorMessage(`SVD: cannot follow the fine-tuning job of ${follow.run.runId}: ${describeError(error)}`);
      }
      this.finish(follow, undefined);
    }
  }

  // ---- local trainers ---------------------------------------------------------------------------------------------

  /**
   * Before a local trainer's task starts: a fresh record, so that the previous job's outcome is not taken for this
   * one's. `svd train` replaces it as soon as it runs.
   */
  prepareLocal(run: RunRef, record: Pick<TrainingRecord, 'trainer' | 'baseModel'>): void {
    writeTraining(run.dir, { trainer: record.trainer, baseModel: record.baseModel, status: 'starting', lastEvent: 'starting the trainer task' });
  }

  /**
   * Follows a local trainer through its record, until the record says it ended or its task or process is gone.
   * Called before the task starts, so that its start and end events are not missed.
   */
  followLocal(run: RunRef, execution?: vscode.TaskExecution): void {
    if (this.follows.has(run.dir)) return;
    const follow = this.begin(run, 'local');
    follow.execution = execution ?? vscode.tasks.taskExecutions.find((e) => isTrainTask(e, run.runId));
    const record = this.tryRead(run.dir);
    if (record) follow.update(record);
    this.showProgress(follow);
    let key = '';
    let current = record;
    const timer = setInterval(() => {
      const now = fileStamp(trainingFile(run.dir)) ?? '-';
      if (now !== key) {
        key = now;
        current = this.tryRead(run.dir);
        if (current) this.changed(follow, current);
      }
      if (!current) return;
      // Checked on every tick: a process killed outright leaves its record as it was.
      const status = displayStatus(current);
      if (isTerminalStatus(status) || status === 'interrupted') this.finish(follow, current);
    }, LOCAL_POLL_MS);
    follow.controller.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    follow.taskEnded = (exitCode) => {
      // `svd train` writes its outcome before it exits; a record still open means it never got that far.
      setTimeout(() => {
        if (follow.ended) return;
        let current = this.tryRead(run.dir);
        if (current && !isTerminalStatus(current.status)) {
          const why = exitCode === undefined ? 'the training task ended' : `svd train ended with code ${exitCode}`;
          current = updateTraining(run.dir, { status: exitCode === 130 ? 'cancelled' : 'failed', error: `${why}: see the task's terminal`, ...(exitCode === undefined ? {} : { exitCode }) });
        }
        this.finish(follow, current);
      }, LOCAL_POLL_MS);
    };
  }

  /** The task that runs the trainer, once VS Code started it. */
  setExecution(run: RunRef, execution: vscode.TaskExecution): void {
    const follow = this.follows.get(run.dir);
    if (follow) follow.execution = execution;
  }

  // ---- cancelling -------------------------------------------------------------------------------------------------

  /**
   * Asks, then cancels the run's job: on the server for a fine-tuning job, by stopping the trainer otherwise. True
   * once cancelled; declined when none is going or the user did not confirm.
   */
  async cancel(run: RunRef, options: { confirmed?: boolean } = {}): Promise<true | Declined> {
    const record = this.tryRead(run.dir);
    if (!record || isTerminalStatus(record.status)) {
      void vscode.window.showInformationMessage(`No training of ${run.runId} is going.`);
      return declined('nothing_to_do');
    }
    const what = record.trainer === 'openai' ? `the fine-tuning job ${record.jobId ?? ''} on the server` : `the ${TRAINER_LABEL[record.trainer]} on ${run.runId}`;
    if (!options.confirmed) {
      const answer = await vscode.window.showWarningMessage(
        `Cancel ${what}?`,
        { modal: true, detail: record.trainer === 'openai' ? 'The job stops on the server; what it trained so far is lost.' : 'The trainer is stopped; checkpoints it saved stay in the output folder.' },
        'Cancel Training',
      );
      if (answer !== 'Cancel Training') return declined('cancelled');
    }
    this.deps.log.info(`training ${run.runId}: cancelling ${what}`);
    if (record.trainer === 'openai') {
      if (!record.jobId || !record.baseUrl) {
        // Still uploading: stopping the start is all there is to cancel.
        this.follows.get(run.dir)?.controller.abort();
        return true;
      }
      const cancelled = await cancelApiJob({ runDir: run.dir, apiKey: await this.deps.apiKeyFor(record.baseUrl) });
      const follow = this.follows.get(run.dir);
      if (follow) this.changed(follow, cancelled);
      return true;
    }
    this.stopLocal(run, record);
    return true;
  }

  private stopLocal(run: RunRef, record: TrainingRecord): void {
    const follow = this.follows.get(run.dir);
    const execution = follow?.execution ?? vscode.tasks.taskExecutions.find((e) => isTrainTask(e, run.runId));
    const pid = follow?.processId ?? trainerProcess(record);
    // `svd train` stops the trainer's whole process group on SIGTERM and records the cancel; ending the task (its
    // terminal hangs up) is the fallback.
    let signalled = false;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
        signalled = true;
      } catch {
        signalled = false;
      }
    }
    if (!signalled) {
      execution?.terminate();
      return;
    }
    if (execution) {
      const timer = setTimeout(() => {
        if (vscode.tasks.taskExecutions.includes(execution)) execution.terminate();
      }, STOP_GRACE_MS);
      timer.unref?.();
    }
  }

  // ---- after a reload -----------------------------------------------------------------------------------------------

  /** Follows every job that the runs folder's records say is still going. */
  resumeAll(): void {
    const runsDir = this.deps.runsDir();
    if (!runsDir) return;
    let runs: ReturnType<typeof listRuns>;
    try {
      runs = listRuns(runsDir);
    } catch {
      return;
    }
    for (const run of runs) {
      const record = this.tryRead(run.dir);
      if (!record || isTerminalStatus(displayStatus(record)) || displayStatus(record) === 'interrupted') continue;
      const ref = { runId: run.id, dir: run.dir };
      if (record.trainer === 'openai') {
        if (record.jobId) void this.followApi(ref);
      } else if (record.pid !== undefined) {
        this.followLocal(ref);
      }
    }
  }

  // ---- shared -------------------------------------------------------------------------------------------------------

  private begin(run: RunRef, kind: 'api' | 'local'): Follow {
    const follow = new Follow(run, kind);
    this.follows.set(run.dir, follow);
    return follow;
  }

  private changed(follow: Follow, record: TrainingRecord): void {
    const before = follow.record;
    follow.update(record);
    if (before?.status !== record.status) this.deps.log.info(`training ${follow.run.runId}: ${trainingSummary(record)}`);
    this.changeEmitter.fire(follow.run);
  }

  private finish(follow: Follow, record: TrainingRecord | undefined): void {
    if (this.follows.get(follow.run.dir) === follow) this.follows.delete(follow.run.dir);
    if (follow.ended) return;
    follow.end(record);
    this.changeEmitter.fire(follow.run);
    if (record && isTerminalStatus(record.status)) this.announce(follow.run, record);
  }

  private announce(run: RunRef, record: TrainingRecord): void {
    this.deps.log.info(`training ${run.runId}: ${trainingSummary(record)}`);
    const open = 'Open Training Log';
    if (record.status === 'succeeded') {
      const next = 'Start Next Round';
      const copy = record.fineTunedModel ? 'Copy Model ID' : 'Copy Output Folder';
      const made = record.fineTunedModel ?? record.outputDir ?? '';
      void vscode.window.showInformationMessage(`SVD: training on ${run.runId} succeeded${made ? `: ${made}` : ''}.`, next, copy).then((choice) => {
        if (choice === next) void vscode.commands.executeCommand('svd.nextRound', run.runId);
        if (choice === copy) void vscode.commands.executeCommand('svd.copyTrainedModel', run.runId);
      });
    } else if (record.status === 'failed') {
      void vscode.window.showErrorMessage(`SVD: training on ${run.runId} failed${record.error ? `: ${record.error}` : ''}.`, open).then((choice) => {
        if (choice) void vscode.commands.executeCommand('svd.openTrainingLog', run.runId);
      });
    } else {
      void vscode.window.showInformationMessage(`SVD: training on ${run.runId} was cancelled.`);
    }
  }

  /** A cancellable notification while the job goes: status and latest event; cancel asks, then cancels the job. */
  private showProgress(follow: Follow, first?: string): void {
    const trainer = follow.kind === 'api' ? TRAINER_LABEL.openai : TRAINER_LABEL[follow.record?.trainer ?? 'custom'];
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `SVD: training ${follow.run.runId} (${trainer})`, cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          if (follow.ended) return resolve();
          if (first) progress.report({ message: first });
          let reported = 0;
          const subscription = follow.onRecord((record) => {
            const status = displayStatus(record);
            const event = record.lastEvent && status !== 'failed' ? ` — ${record.lastEvent}` : '';
            const step = record.latest?.step;
            const fraction = record.totalSteps && step !== undefined ? Math.min(100, (100 * step) / record.totalSteps) : undefined;
            progress.report({ message: `${trainingSummary(record, status)}${event}`, ...(fraction !== undefined && fraction > reported ? { increment: fraction - reported } : {}) });
            if (fraction !== undefined) reported = Math.max(reported, fraction);
          });
          const close = () => {
            subscription.dispose();
            cancelListener.dispose();
            resolve();
          };
          void follow.done.then(close);
          // The notification closes at once; the job keeps going (and stays in the Runs view) unless confirmed.
          const cancelListener = token.onCancellationRequested(() => {
            close();
            void this.cancel(follow.run).catch((error: unknown) => {
              this.deps.log.error(`training ${follow.run.runId}: cannot cancel: ${describeError(error)}`);
              void vscode.window.showErrorMessage(`SVD: cannot cancel the training of ${follow.run.runId}: ${describeError(error)}`);
            });
          });
        }),
    );
  }

  private followOfTask(execution: vscode.TaskExecution): Follow | undefined {
    const definition = execution.task.definition;
    if (definition.type !== 'svd-train') return undefined;
    for (const follow of this.follows.values()) {
      if (follow.kind === 'local' && follow.run.runId === definition.run) return follow;
    }
    return undefined;
  }

  private tryRead(dir: string): TrainingRecord | undefined {
    try {
      return readTraining(dir);
    } catch (error) {
      this.deps.log.warn(`training: ${describeError(error)}`);
      return undefined;
    }
  }
}

function isTrainTask(execution: vscode.TaskExecution, runId: string): boolean {
  return execution.task.definition.type === 'svd-train' && execution.task.definition.run === runId;
}

