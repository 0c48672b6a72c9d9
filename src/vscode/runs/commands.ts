// The runs' commands: run a seed file, resume, stop, delete, reveal a run, refresh the view.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isSvdError } from '../../core/base/errors';
import { screeningRequestOf } from '../../core/method/screening';
import { deleteRun, deletionRefusal, type RunWriters } from '../../core/record/deleteRun';
import { readRunManifest, type RunManifest } from '../../core/record/store';
import { trainingInProgress } from '../../core/training/dispatch';
import { answered, Refusal } from '../platform/commandResult';
import { pickEndpoint, saveEndpoint } from '../platform/endpoint';
import type { FeatureContext } from '../platform/feature';
import type { ExtensionSettings } from '../platform/settings';
import { pickSeedFile } from '../seeds/pickSeedFile';
import { askAboutSkippedRows } from '../seeds/skippedRows';
import type { TrainingJobs } from '../training/trainingJobs';
import { pickRun, runArgument, type RunRef } from './pickRun';
import type { RunSessions, RunStart } from './runSessions';
import { settingsPlan } from './settingsRun';

export function registerRunCommands(ctx: FeatureContext, sessions: RunSessions, jobs: TrainingJobs): void {
  // `skippedRowsAnswered` true: the caller answered "Run Anyway" already (a retry, a test, another extension).
  ctx.command('svd.run', async (arg, skippedRowsAnswered) => {
    ctx.requireTrust('Running the method');
    const s = ctx.settings();
    const seeds = await pickSeedFile(arg);
    if (s.baseUrl && !s.model) {
      // A server without a model: the model is chosen first, then the run starts with the settings it saved.
      await saveEndpoint(answered(await pickEndpoint(ctx.apiKeyFor)));
      return vscode.commands.executeCommand('svd.run', seeds, skippedRowsAnswered);
    }
    // The seed file is read here first: rows a run would skip are said before it starts (a finished run skips nothing).
    const { plan, problems } = await settingsPlan(seeds.fsPath, s);
    if (!plan.finished && plan.skippedRows > 0 && skippedRowsAnswered !== true) {
      await askAboutSkippedRows(seeds, { skipped: plan.skippedRows, total: plan.fileRows, first: problems });
    }
    const { against, drop } = s.decontaminate;
    const screening = against.length > 0 ? { against, dropContaminated: drop, dropDuplicates: false } : undefined;
    const outcome = await sessions.start({ seedFile: seeds.fsPath, runsDir: s.runsDir, config: s.config, baseUrl: s.baseUrl, model: s.model, engine: s.engine, endpoints: s.endpoints, ...(s.cost ? { cost: s.cost } : {}), ...(screening ? { screening } : {}) });
    sessions.announce(outcome, () => void vscode.commands.executeCommand('svd.run', seeds, true));
    return outcome;
  });

  ctx.command('svd.resume', async (arg) => {
    ctx.requireTrust('Resuming a run');
    const run = await pickRun(ctx, arg, 'Run to resume', (node) => node.state !== 'finished' && !sessions.isRunning(node.runId));
    if (sessions.isRunning(run.runId)) {
      void vscode.window.showInformationMessage(`Run ${run.runId} is already going.`);
      throw new Refusal('nothing_to_do');
    }
    const outcome = await sessions.start(resumeRequest(run, readRunManifest(run.dir), ctx.settings()));
    sessions.announce(outcome, () => void vscode.commands.executeCommand('svd.resume', run.runId));
    return outcome;
  });

  ctx.command('svd.stop', async (arg) => {
    const given = runArgument(arg);
    if (given && sessions.stop(given.runId)) return given.runId;
    if (given === undefined && sessions.runs.size === 0) {
      // Runs that have not said their id yet are in no list: those are what there is to stop.
      if (sessions.stopStarting() > 0) return undefined;
      void vscode.window.showInformationMessage('No run is going.');
      throw new Refusal('nothing_to_do');
    }
    const run = await pickRun(ctx, arg, 'Run to stop', (node) => sessions.isRunning(node.runId));
    if (!sessions.stop(run.runId)) {
      void vscode.window.showInformationMessage(`Run ${run.runId} is not going.`);
      throw new Refusal('nothing_to_do');
    }
    return run.runId;
  });

  ctx.command('svd.deleteRun', async (arg, confirmArg) => {
    const run = await pickRun(ctx, arg, 'Run to delete', (node) => !sessions.isRunning(node.runId));
    const writers = (): RunWriters => ({ running: sessions.isRunning(run.runId), training: jobs.isActive(run.dir) || trainingInProgress(run.dir) !== undefined });
    const refusal = deletionRefusal(run, writers());
    if (refusal) throw new Refusal('refused', refusal);
    const confirmed =
      confirmArg === true ||
      (await vscode.window.showWarningMessage(`Delete run ${run.runId} and all its records?`, { modal: true, detail: run.dir }, 'Delete')) === 'Delete';
    if (!confirmed) throw new Refusal('cancelled');
    try {
      deleteRun(run, writers());
    } catch (error) {
      // Something started writing it while the user confirmed.
      if (isSvdError(error, 'run_locked')) throw new Refusal('refused', error);
      throw error;
    }
    ctx.log.info(`deleted run ${run.runId}`);
    ctx.tree.refresh();
    return true;
  });

  ctx.command('svd.revealRun', async (arg) => {
    const run = await pickRun(ctx, arg, 'Run to reveal');
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(run.dir, 'run.json')));
    return run.runId;
  });

  ctx.command('svd.refreshRuns', () => ctx.tree.refresh());
}

/** A run resumed with its own parameters, so that resuming never mixes two configurations; the engine is the window's. */
export function resumeRequest(run: RunRef, manifest: RunManifest, s: ExtensionSettings): RunStart {
  const server = manifest.model.engine === 'server';
  return {
    seedFile: manifest.seedFile.path,
    runsDir: path.dirname(run.dir),
    runId: run.runId,
    config: manifest.config,
    baseUrl: server ? (manifest.model.baseURL ?? s.baseUrl) : undefined,
    model: server ? manifest.model.model : undefined,
    engine: s.engine,
    // The window's budget, not the run's: raising it is how a run stopped for budget goes on.
    ...(s.cost ? { cost: s.cost } : {}),
    ...(manifest.screening ? { screening: screeningRequestOf(manifest.screening) } : {}),
  };
}
