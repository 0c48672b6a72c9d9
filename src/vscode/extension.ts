// Activation: wires commands, the runs view, diagnostics, CodeLens and the status bar to the engine. Runs go to a
// child process (runner.ts); this file only decides what to run and shows what happens.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { describeError, isSvdError, SvdError } from '../core/base/errors';
import { EXPORT_FORMATS, exportRun, planExport, runProtection, type ExportFormat, type ExportOptions } from '../core/training/export';
import { addSecretsFromEnv, secrets } from '../core/base/redact';
import { RunStore, resolveRunDir } from '../core/record/store';
import { formatDuration } from '../core/record/status';
import {
  displayStatus,
  exportTrainingData,
  isTerminalStatus,
  readTraining,
  trainingSummary,
  trainLogFile,
  updateTraining,
  type TrainingRecord,
} from '../core/training/record';
import { nextRoundRunId, readLineage, trainedModelOf, writeLineage } from '../core/training/lineage';
import { pickEndpoint } from './platform/endpoint';
import { ExperimentCatalog } from '../core/experiments/catalog';
import { registerExperiments } from './experiments/experiments';
import { openReviewPanel, registerReviewSerializer } from './review/reviewPanel';
import { ActiveRun, type RunOutcome, type RunRequest } from './runs/runner';
import { RunsTreeProvider, type RunNode } from './runs/runsTree';
import { SeedDiagnostics } from './seeds/diagnostics';
import { SeedCodeLensProvider, isSeedFile } from './seeds/codelens';
import { RunStatusBar } from './runs/statusBar';
import { readSettings, type ExtensionSettings } from './platform/settings';
import { TrainingJobs } from './training/trainingJobs';
import { redactingLog } from './platform/redactingLog';

const SECRET_PREFIX = 'svd.apiKey:';
const OPENAI_URL = 'https://api.openai.com/v1';

/** The public surface, for other extensions and for tests. */
export interface SvdApi {
  runs(): Map<string, ActiveRun>;
  runsDir(): string | undefined;
  startRun(seedFile: string, options?: { runId?: string }): Promise<RunOutcome>;
  /** The Runs view's data, as the view shows it. */
  runsView(): RunsTreeProvider;
  /** The last record of the training job followed for this run folder, once it ends; undefined when none is followed. */
  trainingDone(runDir: string): Promise<TrainingRecord | undefined> | undefined;
}

export function activate(context: vscode.ExtensionContext): SvdApi {
  const log = redactingLog(vscode.window.createOutputChannel('Self-Verified Distillation', { log: true }));
  context.subscriptions.push(log);
  addSecretsFromEnv(process.env);
  const active = new Map<string, ActiveRun>();
  const pending = new Set<ActiveRun>();

  const workspaceRoot = (): string | undefined => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const settings = (): ExtensionSettings => {
    const root = workspaceRoot();
    if (!root) throw new SvdError('bad_config', 'Open a folder first: runs are kept in the workspace.');
    const configuration = vscode.workspace.getConfiguration('svd');
    return readSettings((key) => configuration.get(key), root);
  };
  const runsDir = (): string | undefined => {
    try {
      return settings().runsDir;
    } catch {
      return undefined;
    }
  };

  const reviewDeps = { extensionUri: context.extensionUri, log };
  context.subscriptions.push(
    registerReviewSerializer(reviewDeps, (runId) => {
      const dir = runsDir();
      try {
        return dir ? resolveRunDir(runId, dir) : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  const catalog = new ExperimentCatalog();
  const experiments = () => {
    const dir = runsDir();
    return dir ? catalog.list(dir) : [];
  };
  const tree = new RunsTreeProvider({ runsDir, isRunning: (runId) => active.has(runId), log, experiments });
  context.subscriptions.push(tree, vscode.window.registerTreeDataProvider('svd.runs', tree));
  const statusBar = new RunStatusBar();
  context.subscriptions.push(statusBar);
  // A run's own files and the cache are never seed files, even where they match the seed-file rule.
  const excluded = () => {
    const dir = runsDir();
    return dir ? [dir, path.join(path.dirname(dir), 'cache')] : [];
  };
  const diagnostics = new SeedDiagnostics(log, { excludedFolders: excluded });
  context.subscriptions.push(diagnostics);
  const lenses = new SeedCodeLensProvider({
    runsForFile: (fsPath) => tree.runsForFile(fsPath),
    isTrusted: () => vscode.workspace.isTrusted,
    excludedFolders: excluded,
  });
  context.subscriptions.push(
    lenses,
    tree.onDidChangeTreeData(() => lenses.refresh()),
    vscode.languages.registerCodeLensProvider([{ scheme: 'file', language: 'jsonl' }, { scheme: 'file', language: 'json' }, { scheme: 'file', pattern: '**/*.csv' }], lenses),
  );

  const secretKeyFor = (baseUrl: string | undefined) => {
    if (!baseUrl) return undefined;
    try {
      return SECRET_PREFIX + new URL(baseUrl).origin;
    } catch {
      return SECRET_PREFIX + baseUrl;
    }
  };
  const apiKeyFor = async (baseUrl: string | undefined): Promise<string | undefined> => {
    const name = secretKeyFor(baseUrl);
    const key = name ? await context.secrets.get(name) : undefined;
    // Known to the log's redaction before any request could echo it.
    secrets.add(key);
    return key;
  };

  const jobs = new TrainingJobs({
    log,
    apiKeyFor: (baseUrl) => apiKeyFor(baseUrl),
    pollMs: () => {
      try {
        return settings().train.pollMs;
      } catch {
        return 5000;
      }
    },
    runsDir,
  });
  context.subscriptions.push(jobs, jobs.onDidChange(() => tree.refresh()));
  // Jobs that were going when the window closed are followed again (only where training may run at all).
  const resumeTraining = () => {
    if (vscode.workspace.isTrusted) jobs.resumeAll();
  };
  setTimeout(resumeTraining, 0);
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(resumeTraining));

  /** The run's training that is still going, per its record (from this window or any other process). */
  const trainingGoing = (dir: string): TrainingRecord | undefined => {
    let record: TrainingRecord | undefined;
    try {
      record = readTraining(dir);
    } catch {
      return undefined;
    }
    if (!record) return undefined;
    const status = displayStatus(record);
    return isTerminalStatus(status) || status === 'interrupted' ? undefined : record;
  };

  const requireTrust = (what: string): boolean => {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window.showErrorMessage(`${what} is disabled in Restricted Mode: trust this workspace to run models or code. Reviewing existing runs still works.`, 'Manage Workspace Trust').then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return false;
  };

  const reportError = (error: unknown) => {
    const message = describeError(error);
    log.error(message);
    if (isSvdError(error, 'auth')) {
      // The CLI's advice names environment variables; in the editor the key lives in secret storage.
      void vscode.window.showErrorMessage('The server refused the API key (or none is set for it).', 'Set API Key').then((choice) => {
        if (choice) void vscode.commands.executeCommand('svd.setApiKey');
      });
    } else if (isSvdError(error, 'engine')) {
      void vscode.window.showErrorMessage(message, 'Select Model Endpoint').then((choice) => {
        if (choice) void vscode.commands.executeCommand('svd.selectEndpoint');
      });
    } else if (isSvdError(error, 'bad_config')) {
      void vscode.window.showErrorMessage(message, 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'svd.');
      });
    } else {
      void vscode.window.showErrorMessage(message);
    }
  };

  /** Starts a run and follows it with a cancellable notification; resolves when the child exits. */
  const startRun = async (request: Omit<RunRequest, 'modelsDir' | 'cwd' | 'apiKey'>): Promise<RunOutcome> => {
    const root = workspaceRoot()!;
    const full: RunRequest = {
      ...request,
      apiKey: await apiKeyFor(request.baseUrl),
      modelsDir: path.join(context.globalStorageUri.fsPath, 'models'),
      cwd: root,
    };
    log.info(`run ${path.relative(root, request.seedFile)} on ${request.baseUrl ? `${request.baseUrl} (${request.model})` : 'the embedded engine'}`);
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `SVD: ${path.basename(request.seedFile)}`, cancellable: true },
      async (progress, token) => {
        let reported = 0;
        const run = new ActiveRun(path.join(context.extensionPath, 'dist', 'cli.js'), full, {
          onLog: (line) => log.info(line),
          onMessage: (message) => {
            switch (message.type) {
              case 'start':
                active.set(message.runId, run);
                pending.delete(run);
                tree.refresh();
                progress.report({ message: `run ${message.runId}${message.resumed ? ' (resuming)' : ''}: ${message.seedsTotal} seeds` });
                break;
              case 'progress': {
                const fraction = message.seedsTotal > 0 ? (100 * message.seedsDone) / message.seedsTotal : 0;
                const eta = message.etaMs === undefined ? '' : `, ETA ${formatDuration(message.etaMs)}`;
                progress.report({ increment: fraction - reported, message: `${message.seedsDone}/${message.seedsTotal} seeds, ${message.accepted} accepted${eta}` });
                reported = fraction;
                if (run.runId) statusBar.update(run.runId, message);
                break;
              }
              case 'download':
                progress.report({ message: `downloading the default model: ${(message.received / 1e6).toFixed(0)}${message.total ? `/${(message.total / 1e6).toFixed(0)}` : ''} MB` });
                break;
              case 'problem':
                log.warn(message.text);
                break;
              case 'notice':
                log.info(message.message);
                break;
              default:
                break;
            }
          },
        });
        pending.add(run);
        const cancel = token.onCancellationRequested(() => run.stop());
        try {
          const outcome = await run.done;
          log.info(`run ${outcome.runId ?? '?'}: ${outcome.state}${outcome.error ? `: ${outcome.error.message}` : ''}`);
          return outcome;
        } finally {
          cancel.dispose();
          pending.delete(run);
          if (run.runId) {
            active.delete(run.runId);
            statusBar.clear(run.runId);
          }
          tree.refresh();
          lenses.refresh();
        }
      },
    );
  };

  const afterRun = (outcome: RunOutcome) => {
    if (outcome.state === 'finished' && outcome.runId) {
      void vscode.window.showInformationMessage(`SVD: run ${outcome.runId} finished.`, 'Open Review', 'Export', 'Start Training').then((choice) => {
        if (choice === 'Open Review') void vscode.commands.executeCommand('svd.openReview', outcome.runId);
        if (choice === 'Export') void vscode.commands.executeCommand('svd.export', outcome.runId);
        if (choice === 'Start Training') void vscode.commands.executeCommand('svd.train', outcome.runId);
      });
    } else if (outcome.state === 'stopped') {
      void vscode.window.showInformationMessage(`SVD: run ${outcome.runId ?? ''} stopped; resume it from the Runs view.`);
    } else if (outcome.error) {
      reportError(new SvdError(outcome.error.code, outcome.error.message));
    }
  };

  const pickRun = async (arg: unknown, placeHolder: string, filter?: (node: RunNode) => boolean): Promise<{ runId: string; dir: string } | undefined> => {
    const dir = runsDir();
    if (!dir) return undefined;
    if (typeof arg === 'string') return { runId: arg, dir: resolveRunDir(arg, dir) };
    if (arg && typeof arg === 'object' && 'runId' in arg && 'dir' in arg) {
      const node = arg as RunNode;
      return { runId: node.runId, dir: node.dir };
    }
    await tree.refreshNow();
    const nodes = tree.runs().filter(filter ?? (() => true));
    if (nodes.length === 0) {
      void vscode.window.showInformationMessage('No run to choose from.');
      return undefined;
    }
    const chosen = await vscode.window.showQuickPick(
      nodes.map((node) => ({ label: node.runId, description: node.state, node })),
      { placeHolder },
    );
    return chosen ? { runId: chosen.node.runId, dir: chosen.node.dir } : undefined;
  };

  const command = (id: string, handler: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          reportError(error);
          return undefined;
        }
      }),
    );

  command('svd.run', async (arg) => {
    if (!requireTrust('Running the method')) return undefined;
    const s = settings();
    let uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (!uri || !isSeedFile(uri.fsPath, true)) {
      const picked = await vscode.window.showOpenDialog({ title: 'Seed file', canSelectMany: false, filters: { 'Seed files': ['jsonl', 'ndjson', 'json', 'csv'] } });
      uri = picked?.[0];
    }
    if (!uri) return undefined;
    if (s.baseUrl && !s.model) {
      const chosen = await pickEndpoint(apiKeyFor);
      if (!chosen) return undefined;
      await saveEndpoint(chosen.baseUrl, chosen.model);
      return vscode.commands.executeCommand('svd.run', uri);
    }
    const outcome = await startRun({ seedFile: uri.fsPath, runsDir: s.runsDir, config: s.config, baseUrl: s.baseUrl, model: s.model, engine: s.engine });
    afterRun(outcome);
    return outcome;
  });

  command('svd.resume', async (arg) => {
    if (!requireTrust('Resuming a run')) return undefined;
    const run = await pickRun(arg, 'Run to resume', (node) => node.state !== 'finished' && !active.has(node.runId));
    if (!run) return undefined;
    if (active.has(run.runId)) {
      void vscode.window.showInformationMessage(`Run ${run.runId} is already going.`);
      return undefined;
    }
    const store = RunStore.open(run.dir, { readOnly: true });
    const manifest = store.manifest;
    store.close();
    const s = settings();
    // The run's own parameters, so that resuming never mixes two configurations.
    const outcome = await startRun({
      seedFile: manifest.seedFile.path,
      runsDir: path.dirname(run.dir),
      runId: run.runId,
      config: manifest.config,
      baseUrl: manifest.model.engine === 'server' ? (manifest.model.baseURL ?? s.baseUrl) : undefined,
      model: manifest.model.engine === 'server' ? manifest.model.model : undefined,
      engine: s.engine,
    });
    afterRun(outcome);
    return outcome;
  });

  command('svd.stop', async (arg) => {
    const run = await pickRun(arg, 'Run to stop', (node) => active.has(node.runId));
    const target = run ? active.get(run.runId) : undefined;
    if (!target) {
      if (pending.size === 0) void vscode.window.showInformationMessage('No run is going.');
      for (const p of pending) p.stop();
      return undefined;
    }
    target.stop();
    return run?.runId;
  });

  command('svd.openReview', async (arg) => {
    const run = await pickRun(arg, 'Run to review');
    if (!run) return undefined;
    openReviewPanel(reviewDeps, run.runId, run.dir);
    return run.runId;
  });

  command('svd.export', async (arg, formatArg, outArg) => {
    const run = await pickRun(arg, 'Run to export');
    if (!run) return undefined;
    const format =
      typeof formatArg === 'string' && (EXPORT_FORMATS as readonly string[]).includes(formatArg)
        ? (formatArg as ExportFormat)
        : (
            await vscode.window.showQuickPick(
              [
                { label: 'openai', detail: 'OpenAI chat fine-tuning (messages)' },
                { label: 'trl', detail: 'TRL SFTTrainer, conversational prompt-completion' },
                { label: 'sharegpt', detail: 'ShareGPT, with a LLaMA-Factory dataset_info.json entry' },
                { label: 'alpaca', detail: 'Alpaca (instruction, input, output)' },
              ],
              { title: `Export ${run.runId}`, placeHolder: 'Training data format' },
            )
          )?.label;
    if (!format) return undefined;
    const interactive = typeof outArg !== 'string';
    let thinking: 'keep' | 'strip' = 'keep';
    let applyOverrides = true;
    let valFraction = 0;
    if (interactive) {
      const options = await vscode.window.showQuickPick(
        [
          { label: 'Keep the thinking trace', detail: 'the method trains on the full sample, thinking included', picked: true, id: 'thinking' },
          { label: 'Apply manual overrides', detail: 'accepted / rejected by hand in the review', picked: true, id: 'overrides' },
          { label: 'Hold out 10% of the seeds for validation', detail: 'writes .train.jsonl and .val.jsonl', picked: false, id: 'split' },
        ],
        { title: `Export ${run.runId} as ${format}`, canPickMany: true, placeHolder: 'Options' },
      );
      if (!options) return undefined;
      const chosen = new Set(options.map((o) => o.id));
      thinking = chosen.has('thinking') ? 'keep' : 'strip';
      applyOverrides = chosen.has('overrides');
      valFraction = chosen.has('split') ? 0.1 : 0;
    }
    const root = workspaceRoot()!;
    const out = interactive
      ? (await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(root, `${run.runId}.${format}.jsonl`)), filters: { 'JSON Lines': ['jsonl'] } }))?.fsPath
      : (outArg as string);
    if (!out) return undefined;
    const store = RunStore.open(run.dir, { readOnly: true });
    try {
      const options: ExportOptions = { format: format as ExportFormat, out, thinking, applyOverrides, valFraction, protect: runProtection(store) };
      let existing: string[];
      try {
        existing = planExport(options).existing;
      } catch (error) {
        // Not a setting's fault: say why the file was refused, without the settings button of other config errors.
        log.error(describeError(error));
        void vscode.window.showErrorMessage(`SVD: ${describeError(error)}`);
        return undefined;
      }
      if (existing.length > 0) {
        const names = existing.map((file) => path.basename(file)).join(' and ');
        const replace = 'Replace';
        const choice = await vscode.window.showWarningMessage(
          `${names} already ${existing.length === 1 ? 'exists' : 'exist'}. Replace ${existing.length === 1 ? 'it' : 'them'} with the export of ${run.runId}?`,
          { modal: true, detail: existing.join('\n') },
          replace,
        );
        if (choice !== replace) return undefined;
        options.replace = true;
      }
      const summary = exportRun(store.events(), options);
      log.info(`exported ${summary.rows} examples of ${run.runId} to ${summary.files.map((f) => f.path).join(', ')}`);
      if (interactive) {
        const domains = Object.entries(summary.perDomain).filter(([, n]) => n > 0).map(([d, n]) => `${d} ${n}`).join(', ');
        const files = summary.files.map((f) => `${f.split} ${f.rows}`).join(', ');
        void vscode.window.showInformationMessage(`Exported ${summary.rows} examples as ${format} (${domains || 'none'}; ${files}; about ${summary.approxTokens} tokens).`);
        await vscode.window.showTextDocument(vscode.Uri.file(summary.files[0]!.path), { preview: true });
      }
      return summary;
    } finally {
      store.close();
    }
  });

  command('svd.train', async (arg, trainerArg, baseModelArg) => {
    if (!requireTrust('Training')) return undefined;
    const run = await pickRun(arg, 'Run to train on', (node) => !active.has(node.runId) && !jobs.isActive(node.dir));
    if (!run) return undefined;
    if (active.has(run.runId)) throw new SvdError('run_locked', `Run ${run.runId} is going: train on it once it has finished.`);
    const going = trainingGoing(run.dir);
    if (going) {
      const cancel = 'Cancel Training';
      void vscode.window.showInformationMessage(`Training on ${run.runId} is going (${trainingSummary(going)}).`, cancel).then((choice) => {
        if (choice) void vscode.commands.executeCommand('svd.cancelTraining', run.runId);
      });
      return undefined;
    }
    const s = settings();
    const trainer =
      typeof trainerArg === 'string'
        ? trainerArg
        : (
            await vscode.window.showQuickPick(
              [
                { label: 'TRL', detail: 'a TRL SFT script and config in the run folder, launched here with Python', id: 'trl' },
                { label: 'LLaMA-Factory', detail: 'a LLaMA-Factory YAML in the run folder, launched with llamafactory-cli', id: 'llamafactory' },
                { label: 'Fine-tuning API', detail: 'OpenAI or any server with /v1/files and /v1/fine_tuning/jobs', id: 'openai' },
                { label: 'Custom command', detail: 'the command in the setting svd.train.customCommand', id: 'custom' },
              ],
              { title: `Train on ${run.runId}`, placeHolder: 'Trainer' },
            )
          )?.id;
    if (!trainer) return undefined;
    const store = RunStore.open(run.dir, { readOnly: true });
    const runModel = store.manifest.model.model;
    store.close();
    const baseModel =
      typeof baseModelArg === 'string'
        ? baseModelArg
        : await vscode.window.showInputBox({ title: 'Base model to train', value: runModel, prompt: 'A Hugging Face id or local path (TRL, LLaMA-Factory), or the API\'s model name' });
    if (!baseModel) return undefined;
    if (trainer === 'openai') {
      // Followed from here: the job runs on the server, its record in the run's folder (training.json).
      const baseUrl = s.train.baseUrl ?? s.baseUrl ?? OPENAI_URL;
      const data = exportTrainingData(run.dir, 'openai');
      try {
        const record = await jobs.startApi(run, { baseUrl, baseModel, trainingFile: data.train, ...(data.validation ? { validationFile: data.validation } : {}), examples: data.summary.rows });
        return record.jobId;
      } catch (error) {
        if (isSvdError(error, 'aborted')) return undefined;
        if (isSvdError(error, 'auth')) {
          log.error(describeError(error));
          void vscode.window.showErrorMessage(`The fine-tuning server ${originOf(baseUrl)} refused the API key (or none is set for it).`, 'Set API Key').then((choice) => {
            if (choice) void vscode.commands.executeCommand('svd.setApiKey', undefined, baseUrl);
          });
          return undefined;
        }
        throw error;
      }
    }
    // A local trainer runs in a task through `svd train`, which keeps its log, metrics and outcome in the run.
    const args = [path.join(context.extensionPath, 'dist', 'cli.js'), 'train', run.dir, '--trainer', trainer, '--base-model', baseModel];
    const env: Record<string, string> = { ELECTRON_RUN_AS_NODE: '1' };
    if (trainer === 'custom') {
      if (s.train.customCommand.length === 0) throw new SvdError('bad_config', 'Set svd.train.customCommand: the command and its arguments, one per item ({data}, {base_model}, {output}, {validation} are filled in).');
      args.push('--command', JSON.stringify(s.train.customCommand));
    } else {
      args.push('--python', s.train.python ?? (await pythonFromExtension()) ?? 'python3');
    }
    const task = new vscode.Task(
      { type: 'svd-train', run: run.runId, trainer },
      vscode.TaskScope.Workspace,
      `train ${run.runId} (${trainer})`,
      'svd',
      // No shell: paths with spaces or quotes reach the trainer as they are.
      new vscode.ProcessExecution(process.execPath, args, { env, cwd: run.dir }),
    );
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated };
    log.info(`training on ${run.runId} with ${trainer} (${baseModel})`);
    jobs.prepareLocal(run, { trainer: trainer as TrainingRecord['trainer'], baseModel });
    jobs.followLocal(run);
    try {
      jobs.setExecution(run, await vscode.tasks.executeTask(task));
    } catch (error) {
      updateTraining(run.dir, { status: 'failed', error: `the training task did not start: ${describeError(error)}` });
      throw error;
    }
    return task.name;
  });

  const withTraining = (node: RunNode, wanted: (record: TrainingRecord) => boolean) => {
    const record = tree.trainingOf(node.dir);
    return record !== undefined && wanted(record);
  };
  const succeeded = (record: TrainingRecord) => record.status === 'succeeded';

  command('svd.cancelTraining', async (arg, confirmArg) => {
    const run = await pickRun(arg, 'Training to cancel', (node) => jobs.isActive(node.dir) || trainingGoing(node.dir) !== undefined);
    if (!run) return false;
    return jobs.cancel(run, { confirmed: confirmArg === true });
  });

  command('svd.copyTrainedModel', async (arg) => {
    const run = await pickRun(arg, 'Run whose trained model to copy', (node) => withTraining(node, succeeded));
    if (!run) return undefined;
    const record = readTraining(run.dir);
    const value = record?.status === 'succeeded' ? (record.fineTunedModel ?? record.outputDir) : undefined;
    if (!value) throw new SvdError('not_found', `Run ${run.runId} has no finished training.`);
    await vscode.env.clipboard.writeText(value);
    void vscode.window.showInformationMessage(`Copied ${value}`);
    return value;
  });

  command('svd.openTrainingLog', async (arg) => {
    const run = await pickRun(arg, 'Run whose training log to open', (node) => withTraining(node, () => true));
    if (!run) return undefined;
    const file = trainLogFile(run.dir);
    if (!existsSync(file)) {
      void vscode.window.showInformationMessage(`Run ${run.runId} has no training log.`);
      return undefined;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
    return file;
  });

  command('svd.nextRound', async (arg, modelArg, baseUrlArg) => {
    if (!requireTrust('Starting a round')) return undefined;
    const run = await pickRun(arg, 'Run whose trained model starts the next round', (node) => withTraining(node, succeeded));
    if (!run) return undefined;
    const record = readTraining(run.dir);
    const trained = record ? trainedModelOf(record) : undefined;
    if (!record || !trained) throw new SvdError('not_found', `Run ${run.runId} has no finished training: train on it first.`);
    const s = settings();
    let model = typeof modelArg === 'string' && modelArg ? modelArg : undefined;
    let baseUrl = typeof baseUrlArg === 'string' && baseUrlArg ? baseUrlArg : undefined;
    if ('model' in trained) {
      // A fine-tuning API serves the models it made.
      model ??= trained.model;
      baseUrl ??= trained.baseUrl ?? s.train.baseUrl ?? s.baseUrl ?? OPENAI_URL;
    } else {
      // A local output folder is served by the user's own server (vLLM, SGLang, llama.cpp, ...).
      baseUrl ??= (
        await vscode.window.showInputBox({
          title: 'Next round: the server that serves the trained model',
          prompt: `Serve ${trained.outputDir} with an OpenAI-compatible server, then give its URL`,
          value: s.baseUrl ?? 'http://localhost:8000/v1',
          ignoreFocusOut: true,
          validateInput: (value) => (/^https?:\/\/\S+$/i.test(value.trim()) ? undefined : 'An http(s) URL such as http://localhost:8000/v1'),
        })
      )?.trim();
      if (!baseUrl) return undefined;
      model ??= (
        await vscode.window.showInputBox({ title: 'Next round: the model name on that server', value: trained.outputDir, ignoreFocusOut: true })
      )?.trim();
      if (!model) return undefined;
    }
    const store = RunStore.open(run.dir, { readOnly: true });
    const manifest = store.manifest;
    store.close();
    let parentLineage;
    try {
      parentLineage = readLineage(run.dir);
    } catch {
      parentLineage = undefined;
    }
    const round = (parentLineage?.round ?? 1) + 1;
    const runsFolder = path.dirname(run.dir);
    const runId = nextRoundRunId(run.runId, parentLineage !== undefined, round, (id) => existsSync(path.join(runsFolder, id)));
    const dir = path.join(runsFolder, runId);
    // Recorded before the run starts, so that even a run that fails at once says where it came from.
    writeLineage(dir, {
      parentRun: run.runId,
      round,
      model,
      ...(baseUrl ? { baseUrl } : {}),
      trainer: record.trainer,
      ...(record.jobId ? { jobId: record.jobId } : {}),
      ...(record.outputDir ? { outputDir: record.outputDir } : {}),
    });
    log.info(`round ${round} of ${run.runId}: ${model} on ${baseUrl} as run ${runId}`);
    const outcome = await startRun({ seedFile: manifest.seedFile.path, runsDir: runsFolder, runId, config: manifest.config, baseUrl, model, engine: s.engine });
    if (!existsSync(path.join(dir, 'run.json'))) rmSync(dir, { recursive: true, force: true });
    afterRun(outcome);
    return outcome;
  });

  const saveEndpoint = async (baseUrl: string, model: string) => {
    const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    const configuration = vscode.workspace.getConfiguration('svd');
    await configuration.update('endpoint.baseUrl', baseUrl, target);
    await configuration.update('endpoint.model', model, target);
  };

  command('svd.selectEndpoint', async () => {
    const chosen = await pickEndpoint(apiKeyFor);
    if (!chosen) return undefined;
    await saveEndpoint(chosen.baseUrl, chosen.model);
    void vscode.window.showInformationMessage(chosen.baseUrl ? `SVD will use ${chosen.model} on ${chosen.baseUrl}.` : 'SVD will use the embedded engine.');
    return chosen;
  });

  command('svd.setApiKey', async (keyArg, baseUrlArg) => {
    // For the model endpoint, or for another server (a fine-tuning API) when one is named.
    const baseUrl = typeof baseUrlArg === 'string' && baseUrlArg ? baseUrlArg : settings().baseUrl;
    const name = secretKeyFor(baseUrl);
    if (!name) {
      void vscode.window.showInformationMessage('The embedded engine needs no API key. Select a server endpoint first.');
      return undefined;
    }
    const key =
      typeof keyArg === 'string'
        ? keyArg
        : await vscode.window.showInputBox({ title: `API key for ${baseUrl}`, password: true, ignoreFocusOut: true, prompt: 'Kept in the editor\'s secret storage, never in settings or files.' });
    if (!key) return undefined;
    secrets.add(key);
    await context.secrets.store(name, key);
    log.info(`API key set for ${originOf(baseUrl!)}`);
    return true;
  });

  command('svd.clearApiKey', async () => {
    const name = secretKeyFor(settings().baseUrl);
    if (name) await context.secrets.delete(name);
    log.info('API key cleared');
    return true;
  });

  command('svd.showLog', () => log.show());
  command('svd.refreshRuns', () => tree.refresh());
  command('svd.revealRun', async (arg) => {
    const run = await pickRun(arg, 'Run to reveal');
    if (run) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(run.dir, 'run.json')));
  });
  command('svd.deleteRun', async (arg, confirmArg) => {
    const run = await pickRun(arg, 'Run to delete', (node) => !active.has(node.runId));
    if (!run) return false;
    if (active.has(run.runId)) throw new SvdError('run_locked', `Run ${run.runId} is going: stop it first.`);
    if (jobs.isActive(run.dir)) throw new SvdError('run_locked', `A training on run ${run.runId} is going: cancel it first.`);
    const confirmed =
      confirmArg === true ||
      (await vscode.window.showWarningMessage(`Delete run ${run.runId} and all its records?`, { modal: true, detail: run.dir }, 'Delete')) === 'Delete';
    if (!confirmed) return false;
    rmSync(run.dir, { recursive: true, force: true });
    log.info(`deleted run ${run.runId}`);
    tree.refresh();
    return true;
  });

  // Budget sweeps and evaluations: experiments.ts.
  context.subscriptions.push(registerExperiments({ context, log, settings, runsDir, apiKeyFor, tree, catalog, requireTrust, command }));

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration('svd')) return;
      try {
        settings();
        tree.refresh();
        void diagnostics.validateOpenDocuments();
      } catch (error) {
        reportError(error);
      }
    }),
    { dispose: () => [...active.values(), ...pending].forEach((run) => run.stop()) },
  );

  return {
    runs: () => active,
    runsDir,
    startRun: async (seedFile, options) => {
      const s = settings();
      return startRun({ seedFile, runsDir: s.runsDir, runId: options?.runId, config: s.config, baseUrl: s.baseUrl, model: s.model, engine: s.engine });
    },
    runsView: () => tree,
    trainingDone: (runDir) => jobs.whenDone(runDir),
  };
}

function originOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).origin;
  } catch {
    return baseUrl;
  }
}

/** The interpreter the Python extension has selected, when that extension is installed. */
async function pythonFromExtension(): Promise<string | undefined> {
  const python = vscode.extensions.getExtension<{ environments?: { getActiveEnvironmentPath(): { path: string } } }>('ms-python.python');
  if (!python) return undefined;
  try {
    const api = python.isActive ? python.exports : await python.activate();
    return api.environments?.getActiveEnvironmentPath().path;
  } catch {
    return undefined;
  }
}

export function deactivate(): void {
  // Runs are stopped by the disposable registered in activate; their records stay resumable.
}
