// Saved sweeps and evaluations in views without script (tables and SVG charts), one panel per result file, drawn
// again when the file changes (a sweep going on in a terminal, a rerun). Evaluations live outside the runs folder,
// which the Runs view watches, so their results are watched here.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EVAL_RESULT, defaultEvalsDir, readEvaluation } from '../../core/experiments/evaluate';
import { SWEEP_JSON, readSweep } from '../../core/experiments/sweep';
import type { ExperimentCatalog, ExperimentEntry, ExperimentKind } from '../../core/experiments/catalog';
import { answered, Refusal } from '../platform/commandResult';
import type { FeatureContext } from '../platform/feature';
import { Disposable } from '../platform/lifecycle';
import { evaluationHtml, evaluationTitle, sweepHtml, sweepTitle } from './views';

export const SWEEP_VIEW_TYPE = 'svd.sweep';
export const EVAL_VIEW_TYPE = 'svd.evaluation';
/** A result file changes in bursts (a sweep rewrites it after every cell): the view is redrawn once per burst. */
const REDRAW_DELAY_MS = 300;

export class ExperimentPanels extends Disposable {
  private readonly panels = new Map<string, ExperimentPanel>();
  private evalsWatcher: vscode.Disposable | undefined;
  private watchedEvals: string | undefined;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly catalog: ExperimentCatalog,
  ) {
    super();
    this._register({
      dispose: () => {
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
  }

  /** Shows the result its argument names, else one the user picks among the saved ones; resolves with its title. */
  async show(kind: ExperimentKind, arg: unknown): Promise<string> {
    let file = experimentFileOf(kind, arg);
    if (!file) {
      const runsDir = this.ctx.runsDir();
      const entries = runsDir ? this.catalog.list(runsDir).filter((entry) => entry.kind === kind) : [];
      const what = kind === 'sweep' ? 'sweep' : 'evaluation';
      if (entries.length === 0) {
        void vscode.window.showInformationMessage(
          kind === 'sweep' ? 'No saved sweep: run SVD: Run Budget Sweep on a seed file first.' : 'No saved evaluation: run SVD: Evaluate Model on a labeled seed file first.',
        );
        throw new Refusal('nothing_to_do');
      }
      const picked = await vscode.window.showQuickPick(
        entries.map((entry) => ({ label: entry.id, description: entry.description, detail: entry.details[0], entry })),
        { title: `Show ${what}`, placeHolder: `Saved ${what}s, newest first`, matchOnDescription: true, matchOnDetail: true },
      );
      file = answered(picked).entry.file;
    }
    return this.open(kind, file).title;
  }

  /** Opens the file's panel, or draws and reveals the one already open. */
  open(kind: ExperimentKind, file: string): vscode.WebviewPanel {
    const existing = this.panels.get(file);
    if (existing) {
      existing.render();
      existing.panel.reveal();
      return existing.panel;
    }
    const view = new ExperimentPanel(this.ctx, kind, file, () => this.panels.delete(file));
    // A file that could not be read closed its panel at once.
    if (!view.closed) this.panels.set(file, view);
    return view.panel;
  }

  private watchEvals(): void {
    const runsDir = this.ctx.runsDir();
    const evals = runsDir ? defaultEvalsDir(runsDir) : undefined;
    if (evals === this.watchedEvals) return;
    this.evalsWatcher?.dispose();
    this.evalsWatcher = undefined;
    this.watchedEvals = evals;
    if (!evals) return;
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(evals)), `${path.basename(evals)}/*/${EVAL_RESULT}`));
    const refresh = () => this.ctx.tree.refresh();
    this.evalsWatcher = vscode.Disposable.from(watcher, watcher.onDidCreate(refresh), watcher.onDidChange(refresh), watcher.onDidDelete(refresh));
  }
}

/** A result file from a command argument: the file, its folder, or a node of the Runs view. */
export function experimentFileOf(kind: ExperimentKind, arg: unknown): string | undefined {
  const name = kind === 'sweep' ? SWEEP_JSON : EVAL_RESULT;
  if (arg && typeof arg === 'object' && 'kind' in arg && arg.kind === 'experiment' && 'entry' in arg) return (arg.entry as ExperimentEntry).file;
  const text = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : undefined;
  if (!text) return undefined;
  return path.basename(text) === name ? text : path.join(text, name);
}

/** One result file in a panel, drawn again when the file changes. */
class ExperimentPanel {
  readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly kind: ExperimentKind,
    private readonly file: string,
    onDispose: () => void,
  ) {
    const media = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media');
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
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'experiments.css')).toString(),
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
      this.ctx.log.warn(`${this.file}: ${error instanceof Error ? error.message : String(error)}`);
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
