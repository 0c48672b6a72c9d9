// The Runs view: every run under the runs folder, newest first, with its funnel as children, then the saved sweeps
// and evaluations under Experiments. This file decides when the folder is read again (on a change, at most about
// twice a second) and tells the view what changed; runReader.ts reads, treeNodes.ts and treeItems.ts shape it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../../core/base/errors';
import type { RunView } from '../../core/record/runview';
import { listRuns } from '../../core/record/store';
import type { ExperimentEntry } from '../../core/experiments/catalog';
import type { TrainingRecord } from '../../core/training/record';
import { Disposable } from '../platform/lifecycle';
import { RunReader, type ListedRun } from './runReader';
import { treeItem } from './treeItems';
import { rootNodes, runChildren, runsOfSeedFile, sameEntry, type ExperimentNode, type RunEntry, type RunNode, type RunsTreeNode } from './treeNodes';

export interface RunsTreeOptions {
  /** The runs folder as the settings say now; undefined without a workspace. */
  runsDir: () => string | undefined;
  /** Whether a process of this extension is running the run. */
  isRunning: (runId: string) => boolean;
  log: vscode.LogOutputChannel;
  /** Saved sweeps and evaluations of the runs folder, newest first. */
  experiments?: () => ExperimentEntry[];
}

const MIN_REFRESH_INTERVAL_MS = 500;
/** While many runs are read, the view is updated this often rather than once at the end. */
const PARTIAL_UPDATE_MS = 250;

export class RunsTreeProvider extends Disposable implements vscode.TreeDataProvider<RunsTreeNode> {
  private readonly changeEmitter = this._register(new vscode.EventEmitter<RunsTreeNode | undefined | void>());
  readonly onDidChangeTreeData: vscode.Event<RunsTreeNode | undefined | void> = this.changeEmitter.event;

  private readonly reader: RunReader;
  private entries: RunEntry[] = [];
  private experimentEntries: ExperimentEntry[] = [];
  private rootError: string | undefined;
  private loaded = false;
  private readonly firstLoad: Promise<void>;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private lastReloadAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  private watcher: vscode.Disposable | undefined;
  private watchedDir: string | undefined;
  private watchedExists = false;

  constructor(private readonly options: RunsTreeOptions) {
    super();
    this.reader = new RunReader(options.log, options.isRunning);
    this._register({
      dispose: () => {
        clearTimeout(this.timer);
        this.watcher?.dispose();
        this.reader.dispose();
      },
    });
    this.firstLoad = this.startReload();
  }

  /** Re-reads the runs folder soon: at most about twice a second, however many changes ask for it. */
  refresh(): void {
    if (this.isDisposed || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastReloadAt + MIN_REFRESH_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.startReload();
    }, wait);
  }

  /** Re-reads now and resolves when the view is current (for commands that need the list as it is). */
  async refreshNow(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.reloading !== undefined) await this.reloading;
    await this.startReload();
  }

  /** The runs as listed, newest first. */
  runs(): RunNode[] {
    return this.entries.map((entry) => entry.node);
  }

  /** The runs as listed, newest first, with what was read of each (manifest, state, funnel): for pickers. */
  runEntries(): readonly RunEntry[] {
    return this.entries;
  }

  /** The run's training record as last read (undefined when it has none). */
  trainingOf(dir: string): TrainingRecord | undefined {
    return this.entries.find((entry) => entry.node.dir === dir)?.side.training;
  }

  /** Readable runs started on this seed file, newest first. */
  runsForFile(fsPath: string): { runId: string; state: RunView['state'] }[] {
    return runsOfSeedFile(this.entries, fsPath);
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    return treeItem(node, (runId) => this.entryOf(runId), this.experimentEntries.length);
  }

  getChildren(node?: RunsTreeNode): RunsTreeNode[] | Promise<RunsTreeNode[]> {
    if (node === undefined) {
      // Until the first read the view would otherwise show its "no runs yet" welcome for a moment.
      const roots = () => rootNodes(this.entries, this.experimentEntries.length, this.rootError);
      return this.loaded ? roots() : this.firstLoad.then(roots);
    }
    if (node.kind === 'experiments') return this.experimentEntries.map((entry): ExperimentNode => ({ kind: 'experiment', entry }));
    if (node.kind !== 'run') return [];
    return runChildren(node, this.entryOf(node.runId), this.entries);
  }

  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind === 'experiment') return { kind: 'experiments' };
    if (node.kind === 'run' || node.kind === 'experiments' || node.runId === '') return undefined;
    return this.entryOf(node.runId)?.node;
  }

  private entryOf(runId: string): RunEntry | undefined {
    return this.entries.find((entry) => entry.node.runId === runId);
  }

  // ---- reading -------------------------------------------------------------------------------------------------

  private startReload(): Promise<void> {
    if (this.reloading !== undefined) {
      this.reloadAgain = true;
      return this.reloading;
    }
    const done = this.reload()
      .catch((error: unknown) => this.options.log.error(`runs view: ${describeError(error)}`))
      .finally(() => {
        this.reloading = undefined;
        this.loaded = true;
        if (this.reloadAgain) {
          this.reloadAgain = false;
          this.refresh();
        }
      });
    this.reloading = done;
    return done;
  }

  private async reload(): Promise<void> {
    this.lastReloadAt = Date.now();
    const runsDir = this.options.runsDir();
    this.watch(runsDir);
    this.experimentsNow();
    if (runsDir === undefined) {
      this.publish([], undefined);
      return;
    }
    let listed: ListedRun[];
    try {
      listed = listRuns(runsDir).reverse();
    } catch (error) {
      this.options.log.warn(`runs view: cannot list ${runsDir}: ${describeError(error)}`);
      this.publish([], describeError(error));
      return;
    }

    // First what is known (cached folds), so new and removed runs show at once; then the runs that changed.
    const { stale, retryAt } = this.reader.changed(listed, Date.now());
    const entries = () => listed.map((run) => this.reader.entry(run));
    this.publish(entries(), undefined);
    let lastUpdate = Date.now();
    for (const run of stale) {
      if (this.isDisposed) return;
      this.reader.fold(run);
      if (Date.now() - lastUpdate >= PARTIAL_UPDATE_MS) {
        this.publish(entries(), undefined);
        lastUpdate = Date.now();
      }
      // Between runs, let the extension host handle whatever else is waiting.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (stale.length > 0) this.publish(entries(), undefined);
    // A large run read for the first time is read a slice per fold: come back for the rest.
    const next = stale.length > 0 ? Math.min(retryAt, this.reader.changed(listed, Date.now()).retryAt) : retryAt;
    if (next !== Number.POSITIVE_INFINITY && !this.isDisposed && this.timer === undefined) {
      // A run that changed while it was too soon to read it again: come back when it is not.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.startReload();
      }, Math.max(MIN_REFRESH_INTERVAL_MS, next - Date.now()));
    }
  }

  /** Re-reads the saved experiments (each file parsed again only when it changed); tells the view when they did. */
  private experimentsNow(): void {
    let listed: ExperimentEntry[] = [];
    try {
      listed = this.options.experiments?.() ?? [];
    } catch (error) {
      this.options.log.warn(`runs view: cannot list the experiments: ${describeError(error)}`);
    }
    const same = listed.length === this.experimentEntries.length && listed.every((entry, i) => entry === this.experimentEntries[i]);
    this.experimentEntries = listed;
    if (!same) this.changeEmitter.fire();
  }

  /** Replaces the list; the view is told only when something it shows changed. */
  private publish(entries: RunEntry[], rootError: string | undefined): void {
    if (this.isDisposed) return;
    const same = rootError === this.rootError && entries.length === this.entries.length && entries.every((entry, i) => sameEntry(entry, this.entries[i]));
    this.entries = entries;
    this.rootError = rootError;
    if (!same) this.changeEmitter.fire();
  }

  // ---- watching ------------------------------------------------------------------------------------------------

  /** Watches the runs folder; one that does not exist yet is watched from its nearest existing ancestor. */
  private watch(runsDir: string | undefined): void {
    const exists = runsDir !== undefined && fs.existsSync(runsDir);
    if (this.isDisposed || (runsDir === this.watchedDir && exists === this.watchedExists && this.watcher)) return;
    this.watcher?.dispose();
    this.watcher = undefined;
    this.watchedDir = runsDir;
    this.watchedExists = exists;
    if (runsDir === undefined) return;
    let base = path.resolve(runsDir);
    while (!fs.existsSync(base) && path.dirname(base) !== base) base = path.dirname(base);
    const below = path.relative(base, path.resolve(runsDir)).split(path.sep).filter(Boolean);
    // A folder created with its contents may be reported as the folder alone, so each missing ancestor is watched
    // too (`{.svd,.svd/runs,.svd/runs/**}`); a name with glob characters cannot be spelled, so then everything is.
    const prefixes = below.map((_, i) => below.slice(0, i + 1).join('/'));
    const pattern =
      below.length === 0 || below.some((segment) => /[[\]{}*?,]/.test(segment)) ? '**' : `{${[...prefixes, `${prefixes.at(-1)}/**`].join(',')}}`;
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(base), pattern));
    const onChange = (): void => this.refresh();
    this.watcher = vscode.Disposable.from(watcher, watcher.onDidCreate(onChange), watcher.onDidChange(onChange), watcher.onDidDelete(onChange));
  }
}
