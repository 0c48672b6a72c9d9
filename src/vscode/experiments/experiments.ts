// Experiments in the editor: a budget sweep (`svd sweep`) and an evaluation (`svd eval`) started on a seed file,
// run by the CLI in a child process like runs, and their saved results shown as a view without script (tables and
// SVG charts). The results stay where the CLI keeps them: sweeps among the runs, evaluations beside them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { ZodType } from 'zod';
import { SvdError } from '../../core/base/errors';
import { EVAL_RESULT, EvalResultSchema, defaultEvalsDir, readEvaluation, type EvalResult } from '../../core/experiments/evaluate';
import { SWEEP_JSON, readSweep, type SweepResult } from '../../core/experiments/sweep';
import { displayStatus } from '../../core/training/record';
import { evaluationHtml, evaluationTitle, sweepHtml, sweepTitle } from './views';
import { CliProcess, endpointArgs, type CliHandlers, type CliOutcome } from '../platform/cliProcess';
import { EvalStreamEvent, SweepStreamEvent, type CellEvent, type CliStreamEvent } from '../../protocol/cliEvents';
import { isSeedFile } from '../seeds/codelens';
import { parseBudgetList, type ExperimentCatalog, type ExperimentEntry, type ExperimentKind } from '../../core/experiments/catalog';
import { Disposable } from '../platform/lifecycle';
import type { RunsTreeProvider } from '../runs/runsTree';
import type { ExtensionSettings } from '../platform/settings';

export const SWEEP_VIEW_TYPE = 'svd.sweep';
export const EVAL_VIEW_TYPE = 'svd.evaluation';
/** A result file changes in bursts (a sweep rewrites it after every cell): the view is redrawn once per burst. */
const REDRAW_DELAY_MS = 300;
const OPENAI_URL = 'https://api.openai.com/v1';

export interface ExperimentsDeps {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  settings: () => ExtensionSettings;
  runsDir: () => string | undefined;
  apiKeyFor: (baseUrl: string | undefined) => Promise<string | undefined>;
  tree: RunsTreeProvider;
  catalog: ExperimentCatalog;
  requireTrust: (what: string) => boolean;
  /** Registers a command whose errors are reported like every other command's. */
  command: (id: string, handler: (...args: unknown[]) => unknown) => void;
}

/** What a test or another extension may pass instead of answering the prompts. */
interface SweepArgs {
  candidates?: number[];
  votes?: number[];
  limit?: number;
}

interface EvalArgs {
  /** One or two model names; a model a run's training made is asked on the server that made it. */
  models?: string[];
  samples?: number;
  ttc?: boolean;
  limit?: number;
}

export function registerExperiments(deps: ExperimentsDeps): vscode.Disposable {
  return new Experiments(deps);
}

class Experiments extends Disposable {
  private readonly panels = new Map<string, ExperimentPanel>();
  private readonly processes = new Set<CliProcess<CliStreamEvent>>();
  private evalsWatcher: vscode.Disposable | undefined;
  private watchedEvals: string | undefined;

  constructor(private readonly deps: ExperimentsDeps) {
    super();
    this._register({
      dispose: () => {
        for (const child of this.processes) child.stop();
        for (const panel of [...this.panels.values()]) panel.dispose();
        this.evalsWatcher?.dispose();
      },
    });
    this._register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('svd.runsFolder')) this.watchEvals();
      }),
    );
    this.watchEvals();
    deps.command('svd.runSweep', (arg, options) => this.runSweep(arg, (options ?? {}) as SweepArgs));
    deps.command('svd.evaluate', (arg, options) => this.evaluate(arg, (options ?? {}) as EvalArgs));
    deps.command('svd.showSweep', (arg) => this.show('sweep', arg));
    deps.command('svd.showEvaluation', (arg) => this.show('eval', arg));
  }

  // ---- the sweep ---------------------------------------------------------------------------------------------------

  private async runSweep(arg: unknown, given: SweepArgs): Promise<SweepResult | undefined> {
    if (!this.deps.requireTrust('A budget sweep')) return undefined;
    const s = await this.settingsWithModel();
    if (!s) return undefined;
    const seeds = await seedFileOf(arg);
    if (!seeds) return undefined;
    const name = path.basename(seeds.fsPath);
    const candidates = given.candidates ?? (await askList(`Budget sweep on ${name}: candidates per seed (n)`, '1,4,8', 'n', 64));
    if (!candidates) return undefined;
    const votes = given.votes ?? (await askList(`Budget sweep on ${name}: judge votes per stage (v)`, '1,3,5', 'v', 32));
    if (!votes) return undefined;
    let limit = given.limit;
    if (given.candidates === undefined && limit === undefined) {
      const text = await vscode.window.showInputBox({
        title: `Budget sweep on ${name}: only the first N seeds (optional)`,
        prompt: `${candidates.length * votes.length} cells, each a run of the method; leave empty for every seed`,
        placeHolder: 'every seed',
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() === '' || /^[1-9]\d*$/.test(value.trim()) ? undefined : 'A whole number from 1, or empty'),
      });
      if (text === undefined) return undefined;
      limit = text.trim() === '' ? undefined : Number(text.trim());
    }

    const args = ['sweep', seeds.fsPath, '--candidates', candidates.join(','), '--votes', votes.join(','), ...endpointArgs(s), '--events'];
    if (limit !== undefined) args.push('--limit', String(limit));
    const cells = candidates.length * votes.length;
    this.deps.log.info(`sweep of ${name}: n ${candidates.join(',')} x v ${votes.join(',')}${limit ? `, first ${limit} seeds` : ''} on ${describeEndpoint(s)}`);
    let dir: string | undefined;
    const outcome = await this.withCli(`SVD: sweep ${name}`, s, args, s.baseUrl, SweepStreamEvent, (progress) => {
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
            this.deps.log.info(`sweep: cell ${event.name} (${event.index + 1}/${event.total})${event.done ? ', finished earlier' : ''}`);
          } else if (event.type === 'progress' && event.seedsTotal > 0) {
            advance(cell.index + event.seedsDone / event.seedsTotal);
            progress.report({ message: `cell ${cell.name} (${cell.index + 1}/${cell.total}): ${event.seedsDone}/${event.seedsTotal} seeds, ${event.accepted} accepted` });
          } else if (event.type === 'download') {
            const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
            progress.report({ message: `downloading the default model: ${mb(event.received)}${event.total ? ` of ${mb(event.total)}` : ''}` });
          }
        },
        onBadLine: (line, reason) => logBadLine(this.deps.log, 'sweep', line, reason),
        onStderr: (line) => logStderr(this.deps.log, line),
      };
    });
    const file = dir ? path.join(dir, SWEEP_JSON) : undefined;
    if (outcome.error) {
      if (file && existsSync(file)) this.deps.tree.refresh();
      throw new SvdError(outcome.error.code, outcome.error.message);
    }
    if (!file || !existsSync(file)) {
      if (outcome.stopped) void vscode.window.showInformationMessage('SVD: the sweep stopped before its first cell.');
      return undefined;
    }
    const result = readSweep(dir!);
    this.deps.tree.refresh();
    this.open('sweep', file);
    if (result.state === 'stopped') {
      const done = result.cells.filter((cell) => cell.state === 'finished').length;
      void vscode.window.showInformationMessage(`SVD: sweep ${result.id} stopped after ${done} of ${result.cells.length} cells; run it again to go on from there.`);
    }
    return result;
  }

  // ---- the evaluation ----------------------------------------------------------------------------------------------

  private async evaluate(arg: unknown, given: EvalArgs): Promise<EvalResult | undefined> {
    if (!this.deps.requireTrust('An evaluation')) return undefined;
    const s = await this.settingsWithModel();
    if (!s) return undefined;
    if (!s.baseUrl) {
      const select = 'Select Model Endpoint';
      void vscode.window.showErrorMessage('SVD: an evaluation asks a model server (vLLM, SGLang, Ollama, OpenAI, ...); select one first.', select).then((choice) => {
        if (choice) void vscode.commands.executeCommand('svd.selectEndpoint');
      });
      return undefined;
    }
    const seeds = await seedFileOf(arg);
    if (!seeds) return undefined;
    const name = path.basename(seeds.fsPath);
    const trained = this.latestTrainedModel(s);
    let models = given.models?.filter(Boolean);
    if (!models) {
      const first = await vscode.window.showInputBox({
        title: `Evaluate on ${name}: the model`,
        value: s.model,
        prompt: `Served by ${s.baseUrl}`,
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : 'A model name on the server'),
      });
      if (!first) return undefined;
      const second = await vscode.window.showInputBox({
        title: `Evaluate on ${name}: a second model beside it (optional)`,
        value: trained?.model ?? '',
        placeHolder: 'none',
        prompt: trained ? `The model that training on ${trained.runId} made is suggested; leave empty for one model` : 'e.g. the trained model; leave empty for one model',
        ignoreFocusOut: true,
      });
      if (second === undefined) return undefined;
      models = [first.trim(), ...(second.trim() ? [second.trim()] : [])];
    }
    if (models.length === 0 || models.length > 2) throw new SvdError('bad_config', 'Evaluate Model compares one or two models.');
    let samples = given.samples;
    if (samples === undefined) {
      const text = await vscode.window.showInputBox({
        title: `Evaluate on ${name}: samples per question (K)`,
        value: '1',
        prompt: 'pass@1 is the mean over K samples of each question',
        ignoreFocusOut: true,
        validateInput: (value) => (/^[1-9]\d*$/.test(value.trim()) && Number(value) <= 1024 ? undefined : 'A whole number from 1 to 1024'),
      });
      if (!text) return undefined;
      samples = Number(text.trim());
    }
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
      if (!picked) return undefined;
      ttc = picked.ttc;
    }

    const urls = models.map((model) => (trained && model === trained.model ? trained.baseUrl : s.baseUrl!));
    const args = ['eval', seeds.fsPath, ...models.flatMap((model, i) => ['--base-url', urls[i]!, '--model', model]), '--samples', String(samples), '--events'];
    if (ttc) args.push('--ttc');
    if (given.limit !== undefined) args.push('--limit', String(given.limit));
    this.deps.log.info(`evaluation on ${name}: ${models.join(' and ')}, ${samples} sample(s) per question${ttc ? ', with the test-time cascade' : ''}`);
    // One key travels with the process: the endpoint's, else that of the second model's server.
    const keyUrl = (await this.deps.apiKeyFor(urls[0])) !== undefined ? urls[0] : urls[1];
    const outcome = await this.withCli(`SVD: evaluate on ${name}`, s, args, keyUrl, EvalStreamEvent, (progress) => {
      progress.report({ message: `${models!.join(' and ')}${ttc ? ', then the test-time cascade' : ''}` });
      return {
        onEvent: (event) => {
          if (event.type === 'progress') {
            progress.report({ message: `${event.model}: ${event.phase === 'ttc' ? 'test-time cascade' : 'sampling'} ${event.done}/${event.total}` });
          }
        },
        onBadLine: (line, reason) => logBadLine(this.deps.log, 'eval', line, reason),
        onStderr: (line) => logStderr(this.deps.log, line),
      };
    });
    if (outcome.error) throw new SvdError(outcome.error.code, outcome.error.message);
    if (outcome.stopped) {
      void vscode.window.showInformationMessage('SVD: the evaluation stopped; run it again (samples already drawn come from the cache).');
      return undefined;
    }
    const result = evaluationOf(outcome.result);
    this.deps.tree.refresh();
    this.open('eval', path.join(result.dir, EVAL_RESULT));
    return result;
  }

  /** The most recent model a fine-tuning job made in this workspace's runs, and the server that serves it. */
  private latestTrainedModel(s: ExtensionSettings): { model: string; baseUrl: string; runId: string } | undefined {
    let best: { model: string; baseUrl: string; runId: string; at: string } | undefined;
    for (const run of this.deps.tree.runs()) {
      const record = this.deps.tree.trainingOf(run.dir);
      if (!record || displayStatus(record) !== 'succeeded' || !record.fineTunedModel) continue;
      const at = record.endedAt ?? record.startedAt;
      if (best && best.at >= at) continue;
      best = { model: record.fineTunedModel, baseUrl: record.baseUrl ?? s.train.baseUrl ?? s.baseUrl ?? OPENAI_URL, runId: run.runId, at };
    }
    return best && { model: best.model, baseUrl: best.baseUrl, runId: best.runId };
  }

  // ---- the CLI in a child process ----------------------------------------------------------------------------------

  /** Runs `svd <args>` under a cancellable notification; cancelling stops it cleanly. */
  private withCli<E extends CliStreamEvent>(
    title: string,
    s: ExtensionSettings,
    args: string[],
    keyUrl: string | undefined,
    stream: ZodType<E>,
    handlers: (progress: vscode.Progress<{ message?: string; increment?: number }>) => CliHandlers<E>,
  ): Thenable<CliOutcome<E>> {
    const { context } = this.deps;
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? path.dirname(s.runsDir);
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      if (!s.baseUrl) progress.report({ message: 'starting the embedded engine (its first use downloads the default model)' });
      const child = new CliProcess(
        {
          cliPath: path.join(context.extensionPath, 'dist', 'cli.js'),
          args,
          config: s.config,
          runsDir: s.runsDir,
          apiKey: await this.deps.apiKeyFor(keyUrl),
          modelsDir: path.join(context.globalStorageUri.fsPath, 'models'),
          cwd: root,
        },
        stream,
        handlers(progress),
      );
      this.processes.add(child);
      const cancel = token.onCancellationRequested(() => child.stop());
      try {
        const outcome = await child.done;
        this.deps.log.info(`svd ${args[0]}: ${outcome.error ? `failed: ${outcome.error.message}` : outcome.stopped ? 'stopped' : 'done'}`);
        return outcome;
      } finally {
        cancel.dispose();
        this.processes.delete(child);
      }
    });
  }

  /** The settings, once a model is chosen for a server endpoint (as a run asks for it). */
  private async settingsWithModel(): Promise<ExtensionSettings | undefined> {
    const s = this.deps.settings();
    if (!s.baseUrl || s.model) return s;
    await vscode.commands.executeCommand('svd.selectEndpoint');
    const again = this.deps.settings();
    return again.baseUrl && !again.model ? undefined : again;
  }

  // ---- the views ---------------------------------------------------------------------------------------------------

  private async show(kind: ExperimentKind, arg: unknown): Promise<string | undefined> {
    let file = fileOfArg(kind, arg);
    if (!file) {
      const runsDir = this.deps.runsDir();
      const entries = runsDir ? this.deps.catalog.list(runsDir).filter((entry) => entry.kind === kind) : [];
      const what = kind === 'sweep' ? 'sweep' : 'evaluation';
      if (entries.length === 0) {
        void vscode.window.showInformationMessage(
          kind === 'sweep' ? 'No saved sweep: run SVD: Run Budget Sweep on a seed file first.' : 'No saved evaluation: run SVD: Evaluate Model on a labeled seed file first.',
        );
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(
        entries.map((entry) => ({ label: entry.id, description: entry.description, detail: entry.details[0], entry })),
        { title: `Show ${what}`, placeHolder: `Saved ${what}s, newest first`, matchOnDescription: true, matchOnDetail: true },
      );
      file = picked?.entry.file;
    }
    if (!file) return undefined;
    return this.open(kind, file).title;
  }

  private open(kind: ExperimentKind, file: string): vscode.WebviewPanel {
    const existing = this.panels.get(file);
    if (existing) {
      existing.render();
      existing.panel.reveal();
      return existing.panel;
    }
    const view = new ExperimentPanel(this.deps, kind, file, () => this.panels.delete(file));
    // A file that could not be read closed its panel at once.
    if (!view.closed) this.panels.set(file, view);
    return view.panel;
  }

  /** Evaluations live outside the runs folder, which the Runs view watches: their results are watched here. */
  private watchEvals(): void {
    const runsDir = this.deps.runsDir();
    const evals = runsDir ? defaultEvalsDir(runsDir) : undefined;
    if (evals === this.watchedEvals) return;
    this.evalsWatcher?.dispose();
    this.evalsWatcher = undefined;
    this.watchedEvals = evals;
    if (!evals) return;
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(evals)), `${path.basename(evals)}/*/${EVAL_RESULT}`));
    const refresh = () => this.deps.tree.refresh();
    this.evalsWatcher = vscode.Disposable.from(watcher, watcher.onDidCreate(refresh), watcher.onDidChange(refresh), watcher.onDidDelete(refresh));
  }
}

/** One result file in a panel, drawn again when the file changes (a sweep going on in a terminal, a rerun). */
class ExperimentPanel {
  readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly deps: ExperimentsDeps,
    private readonly kind: ExperimentKind,
    private readonly file: string,
    onDispose: () => void,
  ) {
    const media = vscode.Uri.joinPath(deps.context.extensionUri, 'media');
    const title = `${kind === 'sweep' ? 'Sweep' : 'Evaluation'}: ${path.basename(path.dirname(file))}`;
    this.panel = vscode.window.createWebviewPanel(kind === 'sweep' ? SWEEP_VIEW_TYPE : EVAL_VIEW_TYPE, title, vscode.ViewColumn.Active, {
      enableScripts: false,
      localResourceRoots: [media],
    });
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
    const later = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.render(), REDRAW_DELAY_MS);
    };
    this.disposables.push(
      watcher,
      watcher.onDidChange(later),
      watcher.onDidCreate(later),
      this.panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
    this.render();
  }

  get closed(): boolean {
    return this.disposed;
  }

  render(): void {
    if (this.disposed) return;
    const webview = this.panel.webview;
    const options = {
      cspSource: webview.cspSource,
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.deps.context.extensionUri, 'media', 'experiments.css')).toString(),
    };
    try {
      const dir = path.dirname(this.file);
      if (this.kind === 'sweep') {
        const result = readSweep(dir);
        this.panel.title = sweepTitle(result);
        webview.html = sweepHtml(result, options);
      } else {
        const result = readEvaluation(dir);
        this.panel.title = evaluationTitle(result);
        webview.html = evaluationHtml(result, options);
      }
    } catch (error) {
      // A file being rewritten is read again at its next change; a first read that fails closes the panel.
      this.deps.log.warn(`${this.file}: ${error instanceof Error ? error.message : String(error)}`);
      if (!webview.html) {
        void vscode.window.showErrorMessage(`SVD: cannot show ${this.file}: ${error instanceof Error ? error.message : String(error)}`);
        this.panel.dispose();
      }
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.timer);
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}

// ---- helpers -----------------------------------------------------------------------------------------------------

/** The seed file of the command: its argument, else the active editor's file, else one chosen in a dialog. */
async function seedFileOf(arg: unknown): Promise<vscode.Uri | undefined> {
  let uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' ? vscode.Uri.file(arg) : vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== 'file' || !isSeedFile(uri.fsPath, true)) {
    const picked = await vscode.window.showOpenDialog({ title: 'Seed file', canSelectMany: false, filters: { 'Seed files': ['jsonl', 'ndjson', 'json', 'csv'] } });
    uri = picked?.[0];
  }
  return uri;
}

async function askList(title: string, value: string, what: string, max: number): Promise<number[] | undefined> {
  const text = await vscode.window.showInputBox({
    title,
    value,
    prompt: 'Values separated by commas; every pair of n and v is one cell',
    ignoreFocusOut: true,
    validateInput: (input) => {
      const parsed = parseBudgetList(input, what, max);
      return typeof parsed === 'string' ? parsed : undefined;
    },
  });
  if (text === undefined) return undefined;
  const parsed = parseBudgetList(text, what, max);
  return typeof parsed === 'string' ? undefined : parsed;
}

/** A result file from a command argument: the file, its folder, or a node of the Runs view. */
function fileOfArg(kind: ExperimentKind, arg: unknown): string | undefined {
  const name = kind === 'sweep' ? SWEEP_JSON : EVAL_RESULT;
  if (arg && typeof arg === 'object' && 'kind' in arg && arg.kind === 'experiment' && 'entry' in arg) return (arg.entry as ExperimentEntry).file;
  const text = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : undefined;
  if (!text) return undefined;
  return path.basename(text) === name ? text : path.join(text, name);
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
