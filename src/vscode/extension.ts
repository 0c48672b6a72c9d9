// Activation: builds the shared services and wires each feature folder's commands and views. Runs go to a child
// process (runs/runner.ts); the features decide what to run and show what happens. A command resolves with its
// value, a Declined or a Failed: see platform/commandResult.ts.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { addSecretsFromEnv } from '../core/base/redact';
import { ExperimentCatalog } from '../core/experiments/catalog';
import type { TrainingRecord } from '../core/training/record';
import { registerExperiments } from './experiments/commands';
import { ApiKeys } from './platform/apiKeys';
import { registerPlatformCommands } from './platform/commands';
import { createPlatform, type FeatureContext } from './platform/feature';
import { redactingLog } from './platform/redactingLog';
import { registerReviewCommands } from './review/commands';
import { registerRunCommands } from './runs/commands';
import type { ActiveRun, RunOutcome } from './runs/runner';
import { RunSessions } from './runs/runSessions';
import { RunsTreeProvider } from './runs/runsTree';
import { SettingsRunIds } from './runs/settingsRun';
import { SeedCodeLensProvider } from './seeds/codelens';
import { SeedDiagnostics } from './seeds/diagnostics';
import { registerExportCommand } from './training/exportCommand';
import { registerTrainingCommands } from './training/commands';
import { registerPublishCommands } from './training/publishCommand';
import { TrainingJobs } from './training/trainingJobs';

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

/** How often a fine-tuning job is polled while the settings cannot be read. */
const DEFAULT_POLL_MS = 5000;

export function activate(context: vscode.ExtensionContext): SvdApi {
  const log = redactingLog(vscode.window.createOutputChannel('Self-Verified Distillation', { log: true }));
  context.subscriptions.push(log);
  addSecretsFromEnv(process.env);
  const platform = createPlatform(context, log, new ApiKeys(context.secrets));
  const { runsDir } = platform;

  // The Runs view, and the runs and training jobs it shows going.
  const sessions = new RunSessions(platform);
  const catalog = new ExperimentCatalog();
  const tree = new RunsTreeProvider({
    runsDir,
    isRunning: (runId) => sessions.isRunning(runId),
    log,
    experiments: () => {
      const dir = runsDir();
      return dir ? catalog.list(dir) : [];
    },
  });
  const jobs = new TrainingJobs({
    log,
    apiKeyFor: (baseUrl) => platform.apiKeyFor(baseUrl),
    pollMs: () => {
      try {
        return platform.settings().train.pollMs;
      } catch {
        return DEFAULT_POLL_MS;
      }
    },
    runsDir,
  });
  context.subscriptions.push(sessions, tree, jobs, vscode.window.registerTreeDataProvider('svd.runs', tree), jobs.onDidChange(() => tree.refresh()));

  // Seed files: their problems, and lenses to run, resume or review them. A run's own files and the response cache
  // are never seed files, even where they match the seed-file rule.
  const excluded = () => {
    const dir = runsDir();
    return dir ? [dir, path.join(path.dirname(dir), 'cache')] : [];
  };
  const diagnostics = new SeedDiagnostics(log, { excludedFolders: excluded });
  const runIds = new SettingsRunIds(() => platform.settings());
  const lenses = new SeedCodeLensProvider({
    runsForFile: (fsPath) => tree.runsForFile(fsPath),
    settingsRunId: (fsPath) => runIds.runIdOf(fsPath),
    isTrusted: () => vscode.workspace.isTrusted,
    excludedFolders: excluded,
  });
  context.subscriptions.push(
    diagnostics,
    lenses,
    tree.onDidChangeTreeData(() => lenses.refresh()),
    sessions.onDidChange(() => {
      tree.refresh();
      lenses.refresh();
    }),
    vscode.languages.registerCodeLensProvider([{ scheme: 'file', language: 'jsonl' }, { scheme: 'file', language: 'json' }, { scheme: 'file', pattern: '**/*.csv' }], lenses),
  );

  // Each feature registers its own commands.
  const ctx: FeatureContext = { ...platform, tree };
  registerPlatformCommands(platform);
  registerRunCommands(ctx, sessions, jobs);
  registerReviewCommands(ctx);
  registerExportCommand(ctx);
  registerTrainingCommands(ctx, sessions, jobs);
  registerPublishCommands(ctx);
  context.subscriptions.push(registerExperiments(ctx, catalog));

  // Jobs that were going when the window closed are followed again (only where training may run at all).
  const resumeTraining = () => {
    if (vscode.workspace.isTrusted) jobs.resumeAll();
  };
  setTimeout(resumeTraining, 0);
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(resumeTraining),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration('svd')) return;
      try {
        platform.settings();
        tree.refresh();
        void diagnostics.validateOpenDocuments();
      } catch (error) {
        platform.reportError(error);
      }
    }),
  );

  return {
    runs: () => sessions.runs,
    runsDir,
    startRun: async (seedFile, options) => {
      const s = platform.settings();
      return sessions.start({ seedFile, runsDir: s.runsDir, runId: options?.runId, config: s.config, baseUrl: s.baseUrl, model: s.model, engine: s.engine });
    },
    runsView: () => tree,
    trainingDone: (runDir) => jobs.whenDone(runDir),
  };
}

export function deactivate(): void {
  // Runs are stopped when RunSessions is disposed; their records stay resumable.
}
