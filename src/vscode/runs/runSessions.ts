// The runs going from this window: each in its child process (runner.ts) under a cancellable notification, its
// progress in the status bar, and how it ended said once it ends.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SvdError } from '../../core/base/errors';
import { count } from '../../core/record/status';
import { formatUsd } from '../../core/method/cost';
import { endpointsRequest } from '../platform/cliProcess';
import { Disposable } from '../platform/lifecycle';
import type { Platform } from '../platform/feature';
import { runNotification } from './present';
import { ActiveRun, type RunOutcome, type RunRequest } from './runner';
import { RunStatusBar } from './statusBar';

/** A run to start: the request without what the window adds (the key, the models folder, the working folder). */
export type RunStart = Omit<RunRequest, 'modelsDir' | 'cwd' | 'apiKey'>;

export class RunSessions extends Disposable {
  /** By run id, once the run said its id. */
  private readonly active = new Map<string, ActiveRun>();
  /** Started, and not yet said which run they are. */
  private readonly starting = new Set<ActiveRun>();
  private readonly statusBar = this._register(new RunStatusBar());
  private readonly changeEmitter = this._register(new vscode.EventEmitter<void>());
  /** A run started, said its id, or ended. */
  readonly onDidChange: vscode.Event<void> = this.changeEmitter.event;

  constructor(private readonly platform: Platform) {
    super();
    // Closing the window stops the runs; their records stay resumable.
    this._register({ dispose: () => [...this.active.values(), ...this.starting].forEach((run) => run.stop()) });
  }

  /** The runs going, by id (the public API's view). */
  get runs(): Map<string, ActiveRun> {
    return this.active;
  }

  isRunning(runId: string): boolean {
    return this.active.has(runId);
  }

  /** Asks the run to stop; false when it is not going here. */
  stop(runId: string): boolean {
    const run = this.active.get(runId);
    run?.stop();
    return run !== undefined;
  }

  /** Stops the runs that have not said their id yet; how many there were. */
  stopStarting(): number {
    for (const run of this.starting) run.stop();
    return this.starting.size;
  }

  /** Starts a run and follows it with a cancellable notification; resolves when its process exits. */
  async start(request: RunStart): Promise<RunOutcome> {
    const { log } = this.platform;
    const root = this.platform.workspaceRoot() ?? path.dirname(request.runsDir);
    const full: RunRequest = { ...request, apiKey: await this.platform.apiKeyFor(request.baseUrl), modelsDir: this.platform.modelsDir, cwd: root };
    // A server of svd.endpoints that names no key variable gets the key stored for its address, if any.
    if (request.endpoints?.length) full.endpointKeys = (await endpointsRequest(request.endpoints, (url) => this.platform.apiKeyFor(url))).keys;
    log.info(`run ${path.relative(root, request.seedFile)} on ${request.baseUrl ? `${request.baseUrl} (${request.model})` : 'the embedded engine'}`);
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `SVD: ${path.basename(request.seedFile)}`, cancellable: true },
      async (progress, token) => {
        let reported = 0;
        const run = new ActiveRun(this.platform.cliPath, full, {
          onLog: (line) => log.info(line),
          onMessage: (message) => {
            if (message.type === 'start') {
              this.active.set(message.runId, run);
              this.starting.delete(run);
              this.changeEmitter.fire();
            } else if (message.type === 'progress' && run.runId) {
              this.statusBar.update(run.runId, message, run.backend);
            } else if (message.type === 'engine') {
              log.info(`embedded engine: ${message.model} on ${message.backend}`);
              if (message.fallback) log.warn(`the embedded engine runs on the CPU: ${message.fallback}`);
            } else if (message.type === 'problem') {
              log.warn(message.text);
            } else if (message.type === 'notice') {
              log.info(message.message);
            }
            const shown = runNotification(message);
            if (!shown) return;
            const increment = shown.percent === undefined ? undefined : shown.percent - reported;
            progress.report({ message: shown.message, ...(increment === undefined ? {} : { increment }) });
            if (shown.percent !== undefined) reported = shown.percent;
          },
        });
        this.starting.add(run);
        const cancel = token.onCancellationRequested(() => run.stop());
        try {
          const outcome = await run.done;
          // A run that failed before it said its id (a bad seed file, a server down) is named by its seed file.
          const name = outcome.runId ?? `on ${path.basename(request.seedFile)}`;
          const how = outcome.alreadyFinished ? 'finished already, nothing asked of the model' : outcome.state;
          log.info(`run ${name}: ${how}${outcome.error ? `: ${outcome.error.message}` : ''}`);
          return outcome;
        } finally {
          cancel.dispose();
          this.starting.delete(run);
          if (run.runId) {
            this.active.delete(run.runId);
            this.statusBar.clear(run.runId);
          }
          this.changeEmitter.fire();
        }
      },
    );
  }

  /**
   * Says how a run ended: a finished one with how many answers it accepted and what comes next (one finished before
   * is opened), a stopped one with a Resume button, one the server could not serve with the endpoint picker and
   * `retry`; other failures as errors.
   */
  announce(outcome: RunOutcome, retry?: () => void): void {
    const { runId, funnel } = outcome;
    if (outcome.state === 'finished' && runId) {
      const accepted = funnel ? `: ${count(funnel.acceptedFinal)} accepted of ${count(funnel.seeds)} seeds` : '';
      if (outcome.alreadyFinished) {
        // Running a finished run again opens it: nothing was asked of the model and its record is as it was.
        void vscode.commands.executeCommand('svd.openReview', runId);
        void vscode.window.showInformationMessage(`SVD: run ${runId} is finished already${accepted}. Nothing was asked of the model; its review is open.`);
        return;
      }
      void vscode.window.showInformationMessage(`SVD: run ${runId} finished${accepted}.`, 'Open Review', 'Export', 'Start Training').then((choice) => {
        if (choice === 'Open Review') void vscode.commands.executeCommand('svd.openReview', runId);
        if (choice === 'Export') void vscode.commands.executeCommand('svd.export', runId);
        if (choice === 'Start Training') void vscode.commands.executeCommand('svd.train', runId);
      });
    } else if (outcome.state === 'stopped') {
      if (!runId) {
        void vscode.window.showInformationMessage('SVD: the run stopped before it began; nothing was recorded.');
        return;
      }
      const where = funnel ? ` at ${count(funnel.seedsDone)} of ${count(funnel.seeds)} seeds` : '';
      if (outcome.stopReason === 'budget') {
        const spent = outcome.spent ? ` (spent ${formatUsd(outcome.spent.usd)} of ${formatUsd(outcome.spent.maxUsd)})` : '';
        const settings = 'Raise Budget';
        void vscode.window
          .showWarningMessage(`SVD: run ${runId} stopped for budget${where}${spent}; what it did is kept. Raise svd.budget.maxCost, then resume it.`, settings, 'Resume')
          .then((choice) => {
            if (choice === settings) void vscode.commands.executeCommand('workbench.action.openSettings', 'svd.budget.maxCost');
            if (choice === 'Resume') void vscode.commands.executeCommand('svd.resume', runId);
          });
        return;
      }
      void vscode.window.showInformationMessage(`SVD: run ${runId} stopped${where}; what it did is kept.`, 'Resume').then((choice) => {
        if (choice === 'Resume') void vscode.commands.executeCommand('svd.resume', runId);
      });
    } else if (outcome.error) {
      const { code, message } = outcome.error;
      if (code !== 'unreachable' && code !== 'unknown_model') {
        this.platform.reportError(new SvdError(code, message));
        return;
      }
      // The server is down or does not serve the model: another endpoint, or the same once it is up.
      this.platform.log.error(message);
      const select = 'Select Model Endpoint';
      const buttons = retry ? [select, 'Retry'] : [select];
      void vscode.window.showErrorMessage(`SVD: ${message}`, ...buttons).then((choice) => {
        if (choice === select) void vscode.commands.executeCommand('svd.selectEndpoint');
        if (choice === 'Retry') retry?.();
      });
    }
  }
}
