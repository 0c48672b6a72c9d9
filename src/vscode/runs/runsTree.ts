// The Runs view: every run under the runs folder, newest first, with its funnel as children, then the saved sweeps
// and evaluations under Experiments. Runs are read read-only from disk (the CLI and other windows write them too),
// folded once per change of their files, and the folded totals are cached, so an unchanged run costs one stat per
// refresh however big it is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { describeError } from '../../core/base/errors';
import { foldRun, type RunView } from '../../core/record/runview';
import { runLockHeld } from '../../core/record/runLock';
import { RunStore, listRuns, type RunManifest } from '../../core/record/store';
import {
  displayStatus,
  readTraining,
  trainingFile,
  trainingSummary,
  type TrainingRecord,
} from '../../core/training/record';
import { lineageFile, readLineage, type Lineage } from '../../core/training/lineage';
import type { ExperimentEntry } from '../../core/experiments/catalog';
import { Disposable } from '../platform/lifecycle';
import {
  displayState,
  escapeMarkdown,
  funnelLines,
  runDescription,
  runTooltipMarkdown,
  summarizeRun,
  type DisplayState,
  type RunSummary,
} from './present';
import { fileStamp } from '../../core/base/fileStamp';

export interface RunNode {
  kind: 'run';
  runId: string;
  dir: string;
  /** As shown: `running` while a process of this extension (or a live lock holder) writes the run. */
  state: RunView['state'];
  /** Set when the run's record cannot be read; the item then shows the reason and has no children. */
  error?: string;
}

export interface DetailNode {
  kind: 'detail';
  /** Empty for the item that says the runs folder itself cannot be read. */
  runId: string;
  label: string;
  description?: string;
  /** A codicon id. */
  icon?: string;
}

/** The run's latest training job, under the run. */
export interface TrainingNode {
  kind: 'training';
  runId: string;
  dir: string;
  /** As shown: the record's status, or `interrupted` when its process is gone. */
  status: string;
  record: TrainingRecord;
}

/** The group of saved sweeps and evaluations, after the runs. */
export interface ExperimentsNode {
  kind: 'experiments';
}

/** A saved sweep or evaluation; opening it shows its view. */
export interface ExperimentNode {
  kind: 'experiment';
  entry: ExperimentEntry;
}

export type RunsTreeNode = RunNode | DetailNode | TrainingNode | ExperimentsNode | ExperimentNode;

export interface RunsTreeOptions {
  /** The runs folder as the settings say now; undefined without a workspace. */
  runsDir: () => string | undefined;
  /** Whether a process of this extension is running the run. */
  isRunning: (runId: string) => boolean;
  log: vscode.LogOutputChannel;
  /** Saved sweeps and evaluations of the runs folder, newest first. */
  experiments?: () => ExperimentEntry[];
}

interface RunEntry {
  node: RunNode;
  manifest: RunManifest;
  display: DisplayState;
  summary?: RunSummary;
  side: SideFiles;
}

/** The small files beside a run's record: its training job and, for a later round, its lineage. */
interface SideFiles {
  key: string;
  training?: TrainingRecord;
  lineage?: Lineage;
  error?: string;
}

interface CachedRead {
  /** Sizes and mtimes of the files the summary was folded from. */
  key: string;
  summary?: RunSummary;
  error?: string;
  readAt: number;
  readMs: number;
}

const MIN_REFRESH_INTERVAL_MS = 500;
/** A changed run is folded again only after this many times its last fold took: reading never hogs the host. */
const READ_COST_FACTOR = 5;
/** While many runs are read, the view is updated this often rather than once at the end. */
const PARTIAL_UPDATE_MS = 250;
const RECORD_FILES = ['events.jsonl', 'overrides.jsonl'] as const;

export class RunsTreeProvider extends Disposable implements vscode.TreeDataProvider<RunsTreeNode> {
  private readonly changeEmitter = this._register(new vscode.EventEmitter<RunsTreeNode | undefined | void>());
  readonly onDidChangeTreeData: vscode.Event<RunsTreeNode | undefined | void> = this.changeEmitter.event;

  private entries: RunEntry[] = [];
  private experimentEntries: ExperimentEntry[] = [];
  private rootError: string | undefined;
  private readonly cache = new Map<string, CachedRead>();
  private readonly sideCache = new Map<string, SideFiles>();
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
    this._register({
      dispose: () => {
        clearTimeout(this.timer);
        this.watcher?.dispose();
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

  /** The run's training record as last read (undefined when it has none). */
  trainingOf(dir: string): TrainingRecord | undefined {
    return this.entries.find((entry) => entry.node.dir === dir)?.side.training;
  }

  /** Readable runs started on this seed file, newest first. */
  runsForFile(fsPath: string): { runId: string; state: RunView['state'] }[] {
    const wanted = comparablePath(fsPath);
    return this.entries
      .filter((entry) => entry.node.error === undefined && comparablePath(entry.manifest.seedFile.path) === wanted)
      .map((entry) => ({ runId: entry.node.runId, state: entry.node.state }));
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'run':
        return this.runItem(node);
      case 'training':
        return trainingItem(node);
      case 'experiments':
        return experimentsItem(this.experimentEntries.length);
      case 'experiment':
        return experimentItem(node.entry);
      default:
        return detailItem(node);
    }
  }

  getChildren(node?: RunsTreeNode): RunsTreeNode[] | Promise<RunsTreeNode[]> {
    if (node === undefined) {
      // Until the first read the view would otherwise show its "no runs yet" welcome for a moment.
      return this.loaded ? this.rootNodes() : this.firstLoad.then(() => this.rootNodes());
    }
    if (node.kind === 'experiments') return this.experimentEntries.map((entry): ExperimentNode => ({ kind: 'experiment', entry }));
    if (node.kind !== 'run' || node.error !== undefined) return [];
    const entry = this.entryOf(node.runId);
    if (entry?.summary === undefined) {
      return [{ kind: 'detail', runId: node.runId, label: 'reading the run…', icon: 'loading~spin' }];
    }
    return [...this.trainingNodes(entry), ...funnelLines(entry.summary).map((line): DetailNode => ({ kind: 'detail', runId: node.runId, ...line }))];
  }

  getParent(node: RunsTreeNode): RunsTreeNode | undefined {
    if (node.kind === 'experiment') return { kind: 'experiments' };
    if (node.kind === 'run' || node.kind === 'experiments' || node.runId === '') return undefined;
    return this.entryOf(node.runId)?.node;
  }

  /** The training job, then the runs of the next round that its model made. */
  private trainingNodes(entry: RunEntry): RunsTreeNode[] {
    const nodes: RunsTreeNode[] = [];
    const { runId, dir } = entry.node;
    if (entry.side.training) {
      nodes.push({ kind: 'training', runId, dir, status: displayStatus(entry.side.training), record: entry.side.training });
    } else if (entry.side.error !== undefined) {
      nodes.push({ kind: 'detail', runId, label: 'Training', description: `cannot read: ${entry.side.error}`, icon: 'warning' });
    }
    for (const child of this.entries) {
      const lineage = child.side.lineage;
      if (lineage?.parentRun !== runId || child.node.dir === dir) continue;
      nodes.push({ kind: 'detail', runId, label: `Round ${lineage.round}`, description: `${child.node.runId} · ${child.node.state}`, icon: 'git-branch' });
    }
    return nodes;
  }

  // ---- items ---------------------------------------------------------------------------------------------------

  private rootNodes(): RunsTreeNode[] {
    if (this.rootError !== undefined) {
      return [{ kind: 'detail', runId: '', label: 'Cannot read the runs folder', description: this.rootError, icon: 'error' }];
    }
    const experiments: RunsTreeNode[] = this.experimentEntries.length > 0 ? [{ kind: 'experiments' }] : [];
    return [...this.runs(), ...experiments];
  }

  private entryOf(runId: string): RunEntry | undefined {
    return this.entries.find((entry) => entry.node.runId === runId);
  }

  private runItem(node: RunNode): vscode.TreeItem {
    const entry = this.entryOf(node.runId);
    const collapsible =
      node.error === undefined ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.runId, collapsible);
    item.id = `run:${node.dir}`;
    const display = entry?.display ?? { state: node.state, interrupted: false };
    if (node.error !== undefined) {
      item.description = `cannot read: ${node.error}`;
      item.contextValue = 'run-unreadable';
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    } else {
      const round = entry?.side.lineage ? `round ${entry.side.lineage.round} of ${entry.side.lineage.parentRun} · ` : '';
      item.description = entry?.summary === undefined ? `${round}reading…` : `${round}${runDescription(display, entry.summary.funnel)}`;
      item.contextValue = `run-${node.state}`;
      item.iconPath = stateIcon(node.state);
    }
    const tooltip = new vscode.MarkdownString(
      runTooltipMarkdown({
        runId: node.runId,
        display,
        ...(entry === undefined ? {} : { manifest: entry.manifest }),
        ...(entry?.summary === undefined ? {} : { summary: entry.summary }),
        ...(node.error === undefined ? {} : { error: node.error }),
        ...(entry?.side.lineage === undefined ? {} : { lineage: entry.side.lineage }),
        ...(entry?.side.training === undefined ? {} : { training: trainingSummary(entry.side.training) }),
      }),
    );
    // The text comes from run files that quote models and servers: no command links, no HTML, no icons.
    tooltip.isTrusted = false;
    tooltip.supportHtml = false;
    tooltip.supportThemeIcons = false;
    item.tooltip = tooltip;
    return item;
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
    let listed: ReturnType<typeof listRuns>;
    try {
      listed = listRuns(runsDir).reverse();
    } catch (error) {
      this.options.log.warn(`runs view: cannot list ${runsDir}: ${describeError(error)}`);
      this.publish([], describeError(error));
      return;
    }

    // First what is known (cached folds), so new and removed runs show at once; then the runs that changed.
    const keys = new Map(listed.map((run) => [run.dir, recordKey(run.dir)]));
    const stale: { run: (typeof listed)[number]; key: string }[] = [];
    let retryAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (const run of listed) {
      const key = keys.get(run.dir) ?? '';
      const cached = this.cache.get(run.dir);
      if (cached?.key === key) continue;
      const earliest = cached === undefined ? 0 : cached.readAt + cached.readMs * READ_COST_FACTOR;
      if (now >= earliest) stale.push({ run, key });
      else retryAt = Math.min(retryAt, earliest);
    }
    for (const dir of [...this.cache.keys()]) if (!keys.has(dir)) this.cache.delete(dir);
    for (const dir of [...this.sideCache.keys()]) if (!keys.has(dir)) this.sideCache.delete(dir);
    this.publish(listed.map((run) => this.entryFor(run.id, run.dir, run.manifest)), undefined);

    let lastUpdate = Date.now();
    for (const { run, key } of stale) {
      if (this.isDisposed) return;
      this.cache.set(run.dir, this.fold(run.id, run.dir, run.manifest, key));
      if (Date.now() - lastUpdate >= PARTIAL_UPDATE_MS) {
        this.publish(listed.map((item) => this.entryFor(item.id, item.dir, item.manifest)), undefined);
        lastUpdate = Date.now();
      }
      // Between runs, let the extension host handle whatever else is waiting.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (stale.length > 0) this.publish(listed.map((run) => this.entryFor(run.id, run.dir, run.manifest)), undefined);
    if (retryAt !== Number.POSITIVE_INFINITY && !this.isDisposed && this.timer === undefined) {
      // A run that changed while it was too soon to read it again: come back when it is not.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.startReload();
      }, Math.max(MIN_REFRESH_INTERVAL_MS, retryAt - Date.now()));
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
    const same =
      rootError === this.rootError &&
      entries.length === this.entries.length &&
      entries.every((entry, i) => sameEntry(entry, this.entries[i]));
    this.entries = entries;
    this.rootError = rootError;
    if (!same) this.changeEmitter.fire();
  }

  private entryFor(runId: string, dir: string, manifest: RunManifest): RunEntry {
    const cached = this.cache.get(dir);
    const recorded = cached?.summary?.state ?? 'new';
    const live = this.options.isRunning(runId);
    const display = displayState(recorded, {
      process: live,
      // Only a record that says running (or has not said anything yet) needs the lock to tell who writes it.
      lock: !live && (recorded === 'running' || recorded === 'new') && runLockHeld(dir),
    });
    const node: RunNode = { kind: 'run', runId, dir, state: display.state };
    if (cached?.error !== undefined) node.error = cached.error;
    return { node, manifest, display, side: this.sideFiles(dir), ...(cached?.summary === undefined ? {} : { summary: cached.summary }) };
  }

  /** training.json and lineage.json, read again only when they changed. */
  private sideFiles(dir: string): SideFiles {
    const key = [trainingFile(dir), lineageFile(dir)].map((file) => fileStamp(file) ?? '-').join('|');
    const cached = this.sideCache.get(dir);
    if (cached?.key === key) return cached;
    const side: SideFiles = { key };
    try {
      const training = readTraining(dir);
      if (training) side.training = training;
    } catch (error) {
      side.error = describeError(error);
    }
    try {
      const lineage = readLineage(dir);
      if (lineage) side.lineage = lineage;
    } catch (error) {
      this.options.log.warn(`runs view: ${describeError(error)}`);
    }
    this.sideCache.set(dir, side);
    return side;
  }

  private fold(runId: string, dir: string, manifest: RunManifest, key: string): CachedRead {
    const started = performance.now();
    let store: RunStore | undefined;
    try {
      store = RunStore.open(dir, { readOnly: true });
      const summary = summarizeRun(foldRun(store.events(), manifest.seedFile.rows));
      const readMs = performance.now() - started;
      this.options.log.trace(`runs view: read ${runId} in ${readMs.toFixed(0)} ms`);
      return { key, summary, readAt: Date.now(), readMs };
    } catch (error) {
      this.options.log.warn(`runs view: cannot read run ${runId} (${dir}): ${describeError(error)}`);
      return { key, error: describeError(error), readAt: Date.now(), readMs: performance.now() - started };
    } finally {
      store?.close();
    }
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
      below.length === 0 || below.some((segment) => /[[\]{}*?,]/.test(segment))
        ? '**'
        : `{${[...prefixes, `${prefixes.at(-1)}/**`].join(',')}}`;
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(base), pattern));
    const onChange = (): void => this.refresh();
    this.watcher = vscode.Disposable.from(
      watcher,
      watcher.onDidCreate(onChange),
      watcher.onDidChange(onChange),
      watcher.onDidDelete(onChange),
    );
  }
}

// ---- helpers -----------------------------------------------------------------------------------------------------

function sameEntry(a: RunEntry, b: RunEntry | undefined): boolean {
  return (
    b !== undefined &&
    a.node.runId === b.node.runId &&
    a.node.dir === b.node.dir &&
    a.node.state === b.node.state &&
    a.node.error === b.node.error &&
    a.display.interrupted === b.display.interrupted &&
    // Folds are cached objects: the same object means the same numbers.
    a.summary === b.summary &&
    a.side === b.side &&
    (a.side.training === undefined || displayStatus(a.side.training) === trainingState(b))
  );
}

function trainingState(entry: RunEntry): string | undefined {
  return entry.side.training === undefined ? undefined : displayStatus(entry.side.training);
}

const TRAINING_ICONS: Record<string, [string, string?]> = {
  starting: ['loading~spin'],
  validating_files: ['loading~spin'],
  queued: ['watch'],
  running: ['sync~spin'],
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash'],
  interrupted: ['debug-pause'],
};

/** `Training` with `running · step 40 · loss 0.83`, or `succeeded → ft:...`; its menu depends on what it made. */
function trainingItem(node: TrainingNode): vscode.TreeItem {
  const item = new vscode.TreeItem('Training', vscode.TreeItemCollapsibleState.None);
  item.id = `training:${node.dir}`;
  item.description = trainingSummary(node.record, node.status as ReturnType<typeof displayStatus>);
  const [icon, color] = TRAINING_ICONS[node.status] ?? ['rocket'];
  item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
  const made = node.record.fineTunedModel !== undefined ? '-model' : node.record.outputDir !== undefined ? '-output' : '';
  item.contextValue = `training-${node.status}${node.status === 'succeeded' ? made : ''}`;
  const r = node.record;
  const lines = [
    `**Training** · ${escapeMarkdown(node.status)}`,
    `Trainer: ${escapeMarkdown(r.trainer)} · base model ${escapeMarkdown(r.baseModel)}`,
    ...(r.examples !== undefined ? [`Examples: ${r.examples}`] : []),
    ...(r.jobId ? [`Job: ${escapeMarkdown(r.jobId)} on ${escapeMarkdown(r.baseUrl ?? '')}`] : []),
    ...(r.fineTunedModel ? [`Model: ${escapeMarkdown(r.fineTunedModel)}`] : []),
    ...(r.outputDir ? [`Output: ${escapeMarkdown(r.outputDir)}`] : []),
    ...(r.lastEvent ? [`Latest: ${escapeMarkdown(r.lastEvent)}`] : []),
    ...(r.error ? [`Error: ${escapeMarkdown(r.error)}`] : []),
    `Started: ${escapeMarkdown(r.startedAt)}${r.endedAt ? ` · ended ${escapeMarkdown(r.endedAt)}` : ''}`,
  ];
  const tooltip = new vscode.MarkdownString(lines.join('  \n'));
  tooltip.isTrusted = false;
  tooltip.supportHtml = false;
  tooltip.supportThemeIcons = false;
  item.tooltip = tooltip;
  return item;
}

function experimentsItem(count: number): vscode.TreeItem {
  const item = new vscode.TreeItem('Experiments', vscode.TreeItemCollapsibleState.Collapsed);
  item.id = 'experiments';
  item.description = `${count} saved`;
  item.iconPath = new vscode.ThemeIcon('beaker');
  item.contextValue = 'experiments';
  item.tooltip = 'Budget sweeps and evaluations saved beside the runs';
  return item;
}

/** `sweep-seeds-1a2b3c4d` with `9 cells · accepted 3–12 · precision 80%–100%`; a click opens its view. */
function experimentItem(entry: ExperimentEntry): vscode.TreeItem {
  const item = new vscode.TreeItem(entry.id, vscode.TreeItemCollapsibleState.None);
  item.id = `experiment:${entry.file}`;
  item.description = entry.description;
  const sweep = entry.kind === 'sweep';
  item.iconPath = entry.error !== undefined ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : new vscode.ThemeIcon(sweep ? 'graph' : 'checklist');
  item.contextValue = `experiment-${entry.kind}`;
  const tooltip = new vscode.MarkdownString(entry.details.map(escapeMarkdown).join('  \n'));
  // The text quotes models and paths from result files: no command links, no HTML, no icons.
  tooltip.isTrusted = false;
  tooltip.supportHtml = false;
  tooltip.supportThemeIcons = false;
  item.tooltip = tooltip;
  item.command = { command: sweep ? 'svd.showSweep' : 'svd.showEvaluation', title: 'Open', arguments: [entry.file] };
  return item;
}

function detailItem(node: DetailNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
  item.id = `detail:${node.runId}:${node.label}`;
  if (node.description !== undefined) item.description = node.description;
  if (node.icon !== undefined) item.iconPath = new vscode.ThemeIcon(node.icon);
  item.contextValue = node.runId === '' ? 'runs-error' : 'run-detail';
  return item;
}

function stateIcon(state: RunView['state']): vscode.ThemeIcon {
  switch (state) {
    case 'running':
      return new vscode.ThemeIcon('sync~spin');
    case 'finished':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'stopped':
      return new vscode.ThemeIcon('debug-pause');
    case 'failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    case 'new':
      return new vscode.ThemeIcon('circle-outline');
  }
}

/** Changes whenever the pipeline or a reviewer appends: the two record files' sizes and mtimes. */
function recordKey(dir: string): string {
  return RECORD_FILES.map((name) => fileStamp(path.join(dir, name)) ?? '-').join('|');
}

function comparablePath(file: string): string {
  const resolved = path.resolve(file);
  return process.platform === 'win32' || process.platform === 'darwin' ? resolved.toLowerCase() : resolved;
}
