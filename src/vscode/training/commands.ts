// Training's commands: train on a run (a local trainer in a task, or a fine-tuning job), cancel it, copy what it
// made, open its log, and start the next round on the trained model.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { describeError, isSvdError } from '../../core/base/errors';
import { discardUnstartedRun } from '../../core/record/deleteRun';
import { readRunManifest } from '../../core/record/store';
import { fineTuningServer, localTrainerLaunch, trainerOf, trainingInProgress, type LocalTrainer } from '../../core/training/dispatch';
import { exportTrainingData, readTraining, trainingSummary, trainLogFile, updateTraining, type Trainer, type TrainingRecord } from '../../core/training/record';
import { LOCAL_SERVER_URL, planNextRound, recordRound, roundEndpoint, type RoundPlan } from '../../core/training/rounds';
import { originOf } from '../platform/apiKeys';
import { answered, failure, refuse, Refusal } from '../platform/commandResult';
import type { FeatureContext } from '../platform/feature';
import type { ExtensionSettings } from '../platform/settings';
import { pickRun, type RunRef } from '../runs/pickRun';
import type { RunSessions } from '../runs/runSessions';
import type { RunNode } from '../runs/treeNodes';
import type { TrainingJobs } from './trainingJobs';

/** The task type of a local trainer's task (package.json's taskDefinitions; trainingJobs.ts finds its tasks by it). */
const TRAIN_TASK_TYPE = 'svd-train';

export interface TrainerItem extends vscode.QuickPickItem {
  id: Trainer;
}

export const TRAINER_ITEMS: readonly TrainerItem[] = [
  { label: 'TRL', detail: 'a TRL SFT script and config in the run folder, launched here with Python', id: 'trl' },
  { label: 'LLaMA-Factory', detail: 'a LLaMA-Factory YAML in the run folder, launched with llamafactory-cli', id: 'llamafactory' },
  { label: 'Fine-tuning API', detail: 'OpenAI or any server with /v1/files and /v1/fine_tuning/jobs', id: 'openai' },
  { label: 'Custom command', detail: 'the command in the setting svd.train.customCommand', id: 'custom' },
];

export function registerTrainingCommands(ctx: FeatureContext, sessions: RunSessions, jobs: TrainingJobs): void {
  const withTraining = (node: RunNode, wanted: (record: TrainingRecord) => boolean) => {
    const record = ctx.tree.trainingOf(node.dir);
    return record !== undefined && wanted(record);
  };
  const succeeded = (record: TrainingRecord) => record.status === 'succeeded';

  ctx.command('svd.train', async (arg, trainerArg, baseModelArg) => {
    ctx.requireTrust('Training');
    const run = await pickRun(ctx, arg, 'Run to train on', (node) => !sessions.isRunning(node.runId) && !jobs.isActive(node.dir));
    if (sessions.isRunning(run.runId)) throw refuse('run_locked', `Run ${run.runId} is going: train on it once it has finished.`);
    const going = trainingInProgress(run.dir);
    if (going) {
      const cancel = 'Cancel Training';
      void vscode.window.showInformationMessage(`Training on ${run.runId} is going (${trainingSummary(going)}).`, cancel).then((choice) => {
        if (choice) void vscode.commands.executeCommand('svd.cancelTraining', run.runId);
      });
      throw new Refusal('refused');
    }
    const s = ctx.settings();
    if (typeof trainerArg === 'string' && trainerOf(trainerArg) === undefined) throw refuse('not_found', `No trainer "${trainerArg}": one of ${TRAINER_ITEMS.map((t) => t.id).join(', ')}.`);
    const trainer = trainerOf(trainerArg) ?? answered(await vscode.window.showQuickPick(TRAINER_ITEMS, { title: `Train on ${run.runId}`, placeHolder: 'Trainer' })).id;
    const runModel = readRunManifest(run.dir).model.model;
    const baseModel = answered(
      typeof baseModelArg === 'string'
        ? baseModelArg
        : await vscode.window.showInputBox({ title: 'Base model to train', value: runModel, prompt: 'A Hugging Face id or local path (TRL, LLaMA-Factory), or the API\'s model name' }),
    );
    if (trainer === 'openai') return startFineTuning(ctx, jobs, run, s, baseModel);
    return startLocalTrainer(ctx, jobs, run, s, trainer, baseModel);
  });

  ctx.command('svd.cancelTraining', async (arg, confirmArg) => {
    const run = await pickRun(ctx, arg, 'Training to cancel', (node) => jobs.isActive(node.dir) || trainingInProgress(node.dir) !== undefined);
    return jobs.cancel(run, { confirmed: confirmArg === true });
  });

  ctx.command('svd.copyTrainedModel', async (arg) => {
    const run = await pickRun(ctx, arg, 'Run whose trained model to copy', (node) => withTraining(node, succeeded));
    const record = readTraining(run.dir);
    const value = record?.status === 'succeeded' ? (record.fineTunedModel ?? record.outputDir) : undefined;
    if (!value) throw refuse('not_found', `Run ${run.runId} has no finished training.`);
    await vscode.env.clipboard.writeText(value);
    void vscode.window.showInformationMessage(`Copied ${value}`);
    return value;
  });

  ctx.command('svd.openTrainingLog', async (arg) => {
    const run = await pickRun(ctx, arg, 'Run whose training log to open', (node) => withTraining(node, () => true));
    const file = trainLogFile(run.dir);
    if (!existsSync(file)) {
      void vscode.window.showInformationMessage(`Run ${run.runId} has no training log.`);
      throw new Refusal('nothing_to_do');
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
    return file;
  });

  ctx.command('svd.nextRound', async (arg, modelArg, baseUrlArg) => {
    ctx.requireTrust('Starting a round');
    const run = await pickRun(ctx, arg, 'Run whose trained model starts the next round', (node) => withTraining(node, succeeded));
    let plan: RoundPlan;
    try {
      plan = planNextRound(run, readTraining(run.dir));
    } catch (error) {
      if (isSvdError(error, 'not_found')) throw new Refusal('refused', error);
      throw error;
    }
    const s = ctx.settings();
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const known = roundEndpoint(plan, { model: text(modelArg), baseUrl: text(baseUrlArg) }, fineTuningServer({ trainBaseUrl: s.train.baseUrl, baseUrl: s.baseUrl }));
    // A local output is served by the user's own server (vLLM, SGLang, llama.cpp, ...): its address and name are asked.
    const outputDir = 'outputDir' in plan.trained ? plan.trained.outputDir : '';
    const baseUrl =
      known.baseUrl ??
      answered(
        (
          await vscode.window.showInputBox({
            title: 'Next round: the server that serves the trained model',
            prompt: `Serve ${outputDir} with an OpenAI-compatible server, then give its URL`,
            value: s.baseUrl ?? LOCAL_SERVER_URL,
            ignoreFocusOut: true,
            validateInput: (value) => (/^https?:\/\/\S+$/i.test(value.trim()) ? undefined : 'An http(s) URL such as http://localhost:8000/v1'),
          })
        )?.trim(),
      );
    const model =
      known.model ?? answered((await vscode.window.showInputBox({ title: 'Next round: the model name on that server', value: outputDir, ignoreFocusOut: true }))?.trim());
    const manifest = readRunManifest(run.dir);
    recordRound(plan, { model, baseUrl });
    ctx.log.info(`round ${plan.round} of ${run.runId}: ${model} on ${baseUrl} as run ${plan.runId}`);
    let outcome;
    try {
      outcome = await sessions.start({ seedFile: manifest.seedFile.path, runsDir: plan.runsDir, runId: plan.runId, config: manifest.config, baseUrl, model, engine: s.engine });
    } finally {
      // A round whose run never started leaves no folder with only its lineage in it.
      discardUnstartedRun(plan.dir);
    }
    sessions.announce(outcome);
    return outcome;
  });
}

/** A fine-tuning job, followed from here: the job runs on the server, its record in the run's folder (training.json). */
async function startFineTuning(ctx: FeatureContext, jobs: TrainingJobs, run: RunRef, s: ExtensionSettings, baseModel: string): Promise<unknown> {
  const baseUrl = fineTuningServer({ trainBaseUrl: s.train.baseUrl, baseUrl: s.baseUrl });
  const data = exportTrainingData(run.dir, 'openai');
  try {
    const record = await jobs.startApi(run, { baseUrl, baseModel, trainingFile: data.train, ...(data.validation ? { validationFile: data.validation } : {}), examples: data.summary.rows });
    return record.jobId;
  } catch (error) {
    if (isSvdError(error, 'aborted')) throw new Refusal('cancelled');
    if (!isSvdError(error, 'auth')) throw error;
    // The key is for that server, which may not be the model endpoint: the button sets the key for it.
    ctx.log.error(describeError(error));
    void vscode.window.showErrorMessage(`The fine-tuning server ${originOf(baseUrl)} refused the API key (or none is set for it).`, 'Set API Key').then((choice) => {
      if (choice) void vscode.commands.executeCommand('svd.setApiKey', undefined, baseUrl);
    });
    return failure(error);
  }
}

/** A local trainer runs in a task through `svd train`, which keeps its log, metrics and outcome in the run. */
async function startLocalTrainer(ctx: FeatureContext, jobs: TrainingJobs, run: RunRef, s: ExtensionSettings, trainer: LocalTrainer, baseModel: string): Promise<string> {
  const python = trainer === 'custom' ? '' : (s.train.python ?? (await pythonFromExtension()) ?? 'python3');
  let launch: ReturnType<typeof localTrainerLaunch>;
  try {
    launch = localTrainerLaunch({ cliPath: ctx.cliPath, runDir: run.dir, trainer, baseModel, customCommand: s.train.customCommand, python });
  } catch (error) {
    if (isSvdError(error, 'bad_config')) throw new Refusal('invalid_settings', error);
    throw error;
  }
  const task = new vscode.Task(
    { type: TRAIN_TASK_TYPE, run: run.runId, trainer },
    vscode.TaskScope.Workspace,
    `train ${run.runId} (${trainer})`,
    'svd',
    // No shell: paths with spaces or quotes reach the trainer as they are.
    new vscode.ProcessExecution(process.execPath, launch.args, { env: launch.env, cwd: run.dir }),
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated };
  ctx.log.info(`training on ${run.runId} with ${trainer} (${baseModel})`);
  jobs.prepareLocal(run, { trainer, baseModel });
  jobs.followLocal(run);
  try {
    jobs.setExecution(run, await vscode.tasks.executeTask(task));
  } catch (error) {
    updateTraining(run.dir, { status: 'failed', error: `the training task did not start: ${describeError(error)}` });
    throw error;
  }
  return task.name;
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
