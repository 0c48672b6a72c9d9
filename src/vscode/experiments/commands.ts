// Experiments in the editor: a budget sweep (`svd sweep`) and an evaluation (`svd eval`) started on a seed file, run
// by the CLI in a child process like runs; their results stay where the CLI keeps them (sweeps among the runs,
// evaluations beside them) and are shown by panels.ts.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ZodType } from 'zod';
import { SvdError } from '../../core/base/errors';
import { parseBudgetList, type ExperimentCatalog } from '../../core/experiments/catalog';
import { EVAL_RESULT, EvalResultSchema, type EvalResult } from '../../core/experiments/evaluate';
import { SWEEP_JSON, readSweep, type SweepResult } from '../../core/experiments/sweep';
import { fineTuningServer } from '../../core/training/dispatch';
import { latestFineTunedModel } from '../../core/training/rounds';
import { EvalStreamEvent, SweepStreamEvent, type CellEvent, type CliStreamEvent } from '../../protocol/cliEvents';
import type { EndpointEntry } from '../../core/method/endpointsFile';
import { CliProcess, endpointArgs, endpointsRequest, type CliHandlers, type CliOutcome } from '../platform/cliProcess';
import { answered, answeredOrEmpty, Refusal } from '../platform/commandResult';
import type { FeatureContext } from '../platform/feature';
import { Disposable } from '../platform/lifecycle';
import type { ExtensionSettings } from '../platform/settings';
import { pickSeedFile } from '../seeds/pickSeedFile';
import { ExperimentPanels } from './panels';

/** What a test or another extension may pass instead of answering the prompts. */
export interface SweepArgs {
  candidates?: number[];
  votes?: number[];
  limit?: number;
}

export interface EvalArgs {
  /** One or two model names; a model a run's training made is asked on the server that made it. */
  models?: string[];
  samples?: number;
  ttc?: boolean;
  limit?: number;
}

export function registerExperiments(ctx: FeatureContext, catalog: ExperimentCatalog): vscode.Disposable {
  return new Experiments(ctx, catalog);
}

class Experiments extends Disposable {
  private readonly processes = new Set<CliProcess<CliStreamEvent>>();
  private readonly panels: ExperimentPanels;

  constructor(
    private readonly ctx: FeatureContext,
    catalog: ExperimentCatalog,
  ) {
    super();
    this.panels = this._register(new ExperimentPanels(ctx, catalog));
    this._register({ dispose: () => [...this.processes].forEach((child) => child.stop()) });
    ctx.command('svd.runSweep', (arg, options) => this.runSweep(arg, (options ?? {}) as SweepArgs));
    ctx.command('svd.evaluate', (arg, options) => this.evaluate(arg, (options ?? {}) as EvalArgs));
    ctx.command('svd.showSweep', (arg) => this.panels.show('sweep', arg));
    ctx.command('svd.showEvaluation', (arg) => this.panels.show('eval', arg));
  }

  // ---- the sweep ---------------------------------------------------------------------------------------------------

  private async runSweep(arg: unknown, given: SweepArgs): Promise<SweepResult> {
    this.ctx.requireTrust('A budget sweep');
    const s = await this.settingsWithModel();
    const seeds = await pickSeedFile(arg);
    const name = path.basename(seeds.fsPath);
    const candidates = given.candidates ?? (await askList(`Budget sweep on ${name}: candidates per seed (n)`, '1,4,8', 'n', 64));
    const votes = given.votes ?? (await askList(`Budget sweep on ${name}: judge votes per stage (v)`, '1,3,5', 'v', 32));
    let limit = given.limit;
    if (given.candidates === undefined && limit === undefined) {
      const text = answeredOrEmpty(
        await vscode.window.showInputBox({
          title: `Budget sweep on ${name}: only the first N seeds (optional)`,
          prompt: `${candidates.length * votes.length} cells, each a run of the method; leave empty for every seed`,
          placeHolder: 'every seed',
          ignoreFocusOut: true,
          validateInput: (value) => (value.trim() === '' || /^[1-9]\d*$/.test(value.trim()) ? undefined : 'A whole number from 1, or empty'),
        }),
      );
      limit = text.trim() === '' ? undefined : Number(text.trim());
    }

    const args = ['sweep', seeds.fsPath, '--candidates', candidates.join(','), '--votes', votes.join(','), ...endpointArgs(s), '--events'];
    if (limit !== undefined) args.push('--limit', String(limit));
    const cells = candidates.length * votes.length;
    this.ctx.log.info(`sweep of ${name}: n ${candidates.join(',')} x v ${votes.join(',')}${limit ? `, first ${limit} seeds` : ''} on ${describeEndpoint(s)}`);
    let dir: string | undefined;
    // svd.endpoints: the cells' requests spread over those servers, as a run's are.
    const outcome = await this.withCli(`SVD: sweep ${name}`, s, args, s.baseUrl, s.endpoints ?? [], SweepStreamEvent, (progress) => {
      // The bar moves by cells, and within a cell by its seeds; the message names the cell.
      let cell: CellEvent = { type: 'cell', name: '', index: 0, total: cells, runId: '', done: false };
      let shown = 0;
      const advance = (fraction: number) => {
        const at = (100 * Math.min(1, fraction)) / cells;
        if (at > shown) progress.report({ increment: at - shown });
        shown = Math.max(shown, at);
      };
      return {
        // Problems and notes come on stderr too, which is logged; the result is read from sweep.json.
        onEvent: (event) => {
          if (event.type === 'start') {
            dir = event.dir;
            progress.report({ message: `${cells} cells` });
          } else if (event.type === 'cell') {
            cell = event;
            advance(event.index);
            progress.report({ message: `cell ${event.name} (${event.index + 1}/${event.total})${event.done ? ' finished earlier' : ''}` });
            this.ctx.log.info(`sweep: cell ${event.name} (${event.index + 1}/${event.total})${event.done ? ', finished earlier' : ''}`);
          } else if (event.type === 'progress' && event.seedsTotal > 0) {
            advance(cell.index + event.seedsDone / event.seedsTotal);
            progress.report({ message: `cell ${cell.name} (${cell.index + 1}/${cell.total}): ${event.seedsDone}/${event.seedsTotal} seeds, ${event.accepted} accepted` });
          } else if (event.type === 'download') {
            const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
            progress.report({ message: `downloading the default model: ${mb(event.received)}${event.total ? ` of ${mb(event.total)}` : ''}` });
          }
        },
        onBadLine: (line, reason) => logBadLine(this.ctx.log, 'sweep', line, reason),
        onStderr: (line) => logStderr(this.ctx.log, line),
      };
    });
    const file = dir ? path.join(dir, SWEEP_JSON) : undefined;
    if (outcome.error) {
      if (file && existsSync(file)) this.ctx.tree.refresh();
      throw new SvdError(outcome.error.code, outcome.error.message);
    }
    if (!file || !existsSync(file)) {
      if (!outcome.stopped) throw new SvdError('internal', 'svd sweep ended without writing its sweep.json');
      void vscode.window.showInformationMessage('SVD: the sweep stopped before its first cell.');
      throw new Refusal('cancelled');
    }
    const result = readSweep(dir!);
    this.ctx.tree.refresh();
    this.panels.open('sweep', file);
    if (result.state === 'stopped') {
      const done = result.cells.filter((c) => c.state === 'finished').length;
      void vscode.window.showInformationMessage(`SVD: sweep ${result.id} stopped after ${done} of ${result.cells.length} cells; run it again to go on from there.`);
    }
    return result;
  }

  // ---- the evaluation ----------------------------------------------------------------------------------------------

  private async evaluate(arg: unknown, given: EvalArgs): Promise<EvalResult> {
    this.ctx.requireTrust('An evaluation');
    const s = await this.settingsWithModel();
    const servers = s.endpoints ?? [];
    if (!s.baseUrl && servers.length === 0) {
      const message = 'SVD: an evaluation asks a model server (vLLM, SGLang, Ollama, OpenAI, ...); select one first (or list several in svd.endpoints).';
      const select = 'Select Model Endpoint';
      void vscode.window.showErrorMessage(message, select).then((choice) => {
        if (choice) void vscode.commands.executeCommand('svd.selectEndpoint');
      });
      throw new Refusal('refused', new SvdError('bad_config', message), { reported: true });
    }
    const baseUrl = s.baseUrl;
    const served = baseUrl ?? `${servers.length} server(s) of svd.endpoints`;
    const seeds = await pickSeedFile(arg);
    const name = path.basename(seeds.fsPath);
    const fineTuning = fineTuningServer({ trainBaseUrl: s.train.baseUrl, baseUrl: s.baseUrl });
    const trained = latestFineTunedModel(
      this.ctx.tree.runs().map((run) => ({ runId: run.runId, training: this.ctx.tree.trainingOf(run.dir) })),
      fineTuning,
    );
    let models = given.models?.filter(Boolean);
    if (!models) {
      const first = answered(
        await vscode.window.showInputBox({
          title: `Evaluate on ${name}: the model`,
          value: s.model,
          prompt: `Served by ${served}`,
          ignoreFocusOut: true,
          validateInput: (value) => (value.trim() ? undefined : 'A model name on the server'),
        }),
      );
      const second = answeredOrEmpty(
        await vscode.window.showInputBox({
          title: `Evaluate on ${name}: a second model beside it (optional)`,
          value: trained?.model ?? '',
          placeHolder: 'none',
          prompt: trained ? `The model that training on ${trained.runId} made is suggested; leave empty for one model` : 'e.g. the trained model; leave empty for one model',
          ignoreFocusOut: true,
        }),
      );
      models = [first.trim(), ...(second.trim() ? [second.trim()] : [])];
    }
    if (models.length === 0 || models.length > 2) throw new SvdError('bad_config', 'Evaluate Model compares one or two models.');
    const samples =
      given.samples ??
      Number(
        answered(
          await vscode.window.showInputBox({
            title: `Evaluate on ${name}: samples per question (K)`,
            value: '1',
            prompt: 'pass@1 is the mean over K samples of each question',
            ignoreFocusOut: true,
            validateInput: (value) => (/^[1-9]\d*$/.test(value.trim()) && Number(value) <= 1024 ? undefined : 'A whole number from 1 to 1024'),
          }),
        ).trim(),
      );
    let ttc = given.ttc;
    if (ttc === undefined) {
      const { candidates, votes } = s.config;
      const picked = await vscode.window.showQuickPick(
        [
          { label: 'pass@1 only', ttc: false },
          { label: 'pass@1 and the test-time cascade', detail: `per question, ${candidates ?? 4} candidates judged by the cascade (v=${votes ?? 3}); the first that passes answers`, ttc: true },
        ],
        { title: `Evaluate on ${name}`, placeHolder: 'Also the test-time baseline?' },
      );
      ttc = answered(picked).ttc;
    }

    const onTrainingServer = trained && models.includes(trained.model) && trained.baseUrl !== baseUrl ? trained : undefined;
    const urls = models.map((model) => (onTrainingServer && model === onTrainingServer.model ? onTrainingServer.baseUrl : baseUrl));
    const pool = evalServers(models, baseUrl, servers, onTrainingServer);
    const args = ['eval', seeds.fsPath, ...pool.args, '--samples', String(samples), '--events'];
    if (ttc) args.push('--ttc');
    if (given.limit !== undefined) args.push('--limit', String(given.limit));
    this.ctx.log.info(`evaluation on ${name}: ${models.join(' and ')}, ${samples} sample(s) per question${ttc ? ', with the test-time cascade' : ''}`);
    // One key travels with the process: the endpoint's, else that of the second model's server.
    const keyUrl = (await this.ctx.apiKeyFor(urls[0])) !== undefined ? urls[0] : urls[1];
    const shownModels = models;
    const outcome = await this.withCli(`SVD: evaluate on ${name}`, s, args, keyUrl, pool.endpoints, EvalStreamEvent, (progress) => {
      progress.report({ message: `${shownModels.join(' and ')}${ttc ? ', then the test-time cascade' : ''}` });
      return {
        onEvent: (event) => {
          if (event.type === 'progress') {
            progress.report({ message: `${event.model}: ${event.phase === 'ttc' ? 'test-time cascade' : 'sampling'} ${event.done}/${event.total}` });
          }
        },
        onBadLine: (line, reason) => logBadLine(this.ctx.log, 'eval', line, reason),
        onStderr: (line) => logStderr(this.ctx.log, line),
      };
    });
    if (outcome.error) throw new SvdError(outcome.error.code, outcome.error.message);
    if (outcome.stopped) {
      void vscode.window.showInformationMessage('SVD: the evaluation stopped; run it again (samples already drawn come from the cache).');
      throw new Refusal('cancelled');
    }
    const result = evaluationOf(outcome.result);
    this.ctx.tree.refresh();
    this.panels.open('eval', path.join(result.dir, EVAL_RESULT));
    return result;
  }

  // ---- the CLI in a child process ----------------------------------------------------------------------------------

  /** Runs `svd <args>` under a cancellable notification; cancelling stops it cleanly. */
  private withCli<E extends CliStreamEvent>(
    title: string,
    s: ExtensionSettings,
    args: string[],
    keyUrl: string | undefined,
    servers: readonly EndpointEntry[],
    stream: ZodType<E>,
    handlers: (progress: vscode.Progress<{ message?: string; increment?: number }>) => CliHandlers<E>,
  ): Thenable<CliOutcome<E>> {
    const root = this.ctx.workspaceRoot() ?? path.dirname(s.runsDir);
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      if (!s.baseUrl && servers.length === 0) progress.report({ message: 'starting the embedded engine (its first use downloads the default model)' });
      const endpoints = servers.length > 0 ? { endpoints: await endpointsRequest(servers, (url) => this.ctx.apiKeyFor(url)) } : {};
      const child = new CliProcess(
        { cliPath: this.ctx.cliPath, args, config: s.config, runsDir: s.runsDir, apiKey: await this.ctx.apiKeyFor(keyUrl), modelsDir: this.ctx.modelsDir, cwd: root, ...endpoints },
        stream,
        handlers(progress),
      );
      this.processes.add(child);
      const cancel = token.onCancellationRequested(() => child.stop());
      try {
        const outcome = await child.done;
        this.ctx.log.info(`svd ${args[0]}: ${outcome.error ? `failed: ${outcome.error.message}` : outcome.stopped ? 'stopped' : 'done'}`);
        return outcome;
      } finally {
        cancel.dispose();
        this.processes.delete(child);
      }
    });
  }

  /** The settings, once a model is chosen for a server endpoint (as a run asks for it); declines when none is. */
  private async settingsWithModel(): Promise<ExtensionSettings> {
    const s = this.ctx.settings();
    if (!s.baseUrl || s.model) return s;
    await vscode.commands.executeCommand('svd.selectEndpoint');
    const again = this.ctx.settings();
    if (again.baseUrl && !again.model) throw new Refusal('cancelled');
    return again;
  }
}

// ---- helpers -----------------------------------------------------------------------------------------------------

/** A list of budgets (`1,4,8`), asked for and checked as it is typed; declines when the box is closed. */
async function askList(title: string, value: string, what: string, max: number): Promise<number[]> {
  const text = answeredOrEmpty(
    await vscode.window.showInputBox({
      title,
      value,
      prompt: 'Values separated by commas; every pair of n and v is one cell',
      ignoreFocusOut: true,
      validateInput: (input) => {
        const parsed = parseBudgetList(input, what, max);
        return typeof parsed === 'string' ? parsed : undefined;
      },
    }),
  );
  const parsed = parseBudgetList(text, what, max);
  if (typeof parsed === 'string') throw new Refusal('cancelled');
  return parsed;
}

/** The evaluation in `svd eval`'s result event (the stream pins a few fields; the result's own schema is core's). */
function evaluationOf(event: unknown): EvalResult {
  const parsed = EvalResultSchema.safeParse(event);
  if (!parsed.success) throw new SvdError('internal', 'svd eval printed no evaluation result');
  return parsed.data;
}

function logBadLine(log: vscode.LogOutputChannel, command: string, line: string, reason: string): void {
  log.warn(`svd ${command} printed a line that is not one of its events (${reason}): ${line}`);
}

function logStderr(log: vscode.LogOutputChannel, line: string): void {
  if (line.startsWith('warning: ')) log.warn(line.slice('warning: '.length));
  else if (line.startsWith('error: ')) log.error(line.slice('error: '.length));
  else log.info(line);
}

function describeEndpoint(s: ExtensionSettings): string {
  return s.baseUrl ? `${s.baseUrl} (${s.model})` : 'the embedded engine';
}

/**
 * How `svd eval` is told the servers: without svd.endpoints each model with its `--base-url` (paired); with it, the
 * endpoints as `--endpoints` (and the selected server beside them) serve the models, and a model on the fine-tuning
 * server is an entry that names it, so only that server serves it.
 */
export function evalServers(
  models: readonly string[],
  baseUrl: string | undefined,
  servers: readonly EndpointEntry[],
  trained: { model: string; baseUrl: string } | undefined,
): { args: string[]; endpoints: EndpointEntry[] } {
  const modelArgs = models.flatMap((model) => ['--model', model]);
  // A trained model alone is asked of its own server only.
  if (servers.length === 0 || (trained && models.length === 1)) {
    const urls = models.map((model) => (trained && model === trained.model ? trained.baseUrl : baseUrl!));
    return { args: models.flatMap((model, i) => ['--base-url', urls[i]!, '--model', model]), endpoints: [] };
  }
  const endpoints = [...servers, ...(trained ? [{ url: trained.baseUrl, model: trained.model, weight: 1 }] : [])];
  return { args: [...(baseUrl ? ['--base-url', baseUrl] : []), ...modelArgs], endpoints };
}

