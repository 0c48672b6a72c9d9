// The review panel's host side: serves the review app (webview-ui), answers its requests from the run's record,
// records a reviewer's overrides in the run, runs a coding candidate's tests on request, and posts what the run
// appends while the panel is open, the run's training job and its loss included.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { createAnswerChecker, type ClosableAnswerChecker } from '../../core/check/index';
import { describeError, isSvdError } from '../../core/base/errors';
import type { IndexChanges, ReviewIndex } from '../../core/record/reviewIndex';
import { makeOverride } from '../../core/record/overrides';
import { seedIdOfCandidate } from '../../core/record/runview';
import { appendOverride, readRunManifest, RunStore, type RunManifest } from '../../core/record/store';
import {
  displayStatus,
  isTerminalStatus,
  readTraining,
  trainingFile,
  trainingSummary,
  type TrainingRecord,
} from '../../core/training/record';
import { MetricsSeries } from '../../core/training/metricsSeries';
import { screeningMarks, type Screening } from '../../core/record/screening';
import { MAX_PAGE_SEEDS, MAX_TRAINING_POINTS, parseWebviewMessage, type HostMessage, type ReviewScreening, type TrainingView } from '../../protocol/review';
import { ReviewTestRuns, type NewTruthEvent } from '../../protocol/reviewFeed';
import { ReviewIndexFeed } from '../../protocol/reviewIndexFeed';
import type { SeedRow } from '../../protocol/reviewRows';
import { acquireRunIndex, BUILD_SLICE_MS, FIRST_BUILD_MS, releaseRunIndex, saveRunIndexSoon } from '../runs/runIndexes';
import { reviewHtml, reviewNonce } from './html';
import { reviewPrice } from './reviewPrice';

export const REVIEW_VIEW_TYPE = 'svd.review';
const TITLE_PREFIX = 'Review: ';
/** How often an open panel looks for records the run appended. */
const LIVE_EVERY_MS = 400;
/** While the index builds, the panel hears of the seeds it gained at most this often. */
const BUILD_POST_EVERY_MS = 1_000;

const reviews = new Map<string, Review>();

export interface ReviewDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
}

/** Opens (or reveals) the review of a run. */
export function openReviewPanel(deps: ReviewDeps, runId: string, dir: string): vscode.WebviewPanel {
  const existing = reviews.get(dir);
  if (existing) {
    existing.panel.reveal();
    return existing.panel;
  }
  const panel = vscode.window.createWebviewPanel(REVIEW_VIEW_TYPE, `${TITLE_PREFIX}${runId}`, vscode.ViewColumn.Active, panelOptions(deps));
  return new Review(deps, panel, runId, dir).panel;
}

/** Restores review panels after a reload: the run is named in the panel's title. */
export function registerReviewSerializer(deps: ReviewDeps, runDirOf: (runId: string) => string | undefined): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(REVIEW_VIEW_TYPE, {
    async deserializeWebviewPanel(panel) {
      const runId = panel.title.startsWith(TITLE_PREFIX) ? panel.title.slice(TITLE_PREFIX.length) : '';
      const dir = runId ? runDirOf(runId) : undefined;
      if (!dir) {
        panel.dispose();
        return;
      }
      panel.webview.options = panelOptions(deps);
      new Review(deps, panel, runId, dir);
    },
  });
}

export function reviewPanelFor(dir: string): vscode.WebviewPanel | undefined {
  return reviews.get(dir)?.panel;
}

function panelOptions(deps: ReviewDeps): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(deps.extensionUri, 'dist', 'webview')], retainContextWhenHidden: false };
}

class Review {
  private readonly manifest: RunManifest;
  private readonly index: ReviewIndex<SeedRow>;
  private readonly feed: ReviewIndexFeed;
  /** Opened on the first "Run tests" that records a truth: opening it reads the whole record. */
  private storeValue: RunStore | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timer: NodeJS.Timeout;
  private building: NodeJS.Timeout | undefined;
  /** Changes heard while the index builds, posted together. */
  private heard: IndexChanges | undefined;
  private heardPostedAt = 0;
  private unreadable = false;
  /** Set while an override is recorded: its answer goes first, then the update. */
  private holding = false;
  private readonly metrics: MetricsSeries;
  /** What the training record was when last posted: its size and mtime, and its status as shown. */
  private trainingKey: string | undefined;
  /** Made on the first "Run tests", closed with the panel. */
  private checker: ClosableAnswerChecker | undefined;
  private testRuns: ReviewTestRuns | undefined;
  private disposed = false;

  constructor(
    private readonly deps: ReviewDeps,
    readonly panel: vscode.WebviewPanel,
    private readonly runId: string,
    private readonly dir: string,
  ) {
    reviews.set(dir, this);
    this.manifest = readRunManifest(dir);
    const media = vscode.Uri.joinPath(deps.extensionUri, 'dist', 'webview');
    // The page first: the webview loads while the host reads the record.
    panel.webview.html = reviewHtml({
      cspSource: panel.webview.cspSource,
      nonce: reviewNonce(),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'review.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'review.css')).toString(),
      title: runId,
    });
    this.index = acquireRunIndex(dir);
    this.feed = new ReviewIndexFeed(runId, this.index, {
      canOverride: true,
      totalSeeds: this.manifest.seedFile.rows,
      skippedRows: this.manifest.seedFile.skippedRows,
      ...reviewScreening(this.manifest.screening),
      price: reviewPrice(dir, this.manifest.model.model, deps.log),
    });
    this.disposables.push(
      { dispose: this.index.onChange((changes) => this.heardChanges(changes)).dispose },
      panel.webview.onDidReceiveMessage((data) => void this.receive(data)),
      panel.onDidDispose(() => this.dispose()),
    );
    this.advance(FIRST_BUILD_MS);
    if (!this.index.complete) this.keepBuilding();
    this.metrics = MetricsSeries.ofRun(dir);
    this.timer = setInterval(() => this.live(), LIVE_EVERY_MS);
  }

  /**
   * Reads what the record gained, for about `budgetMs`; what changed reaches the panel through `heardChanges`. A
   * record that cannot be read is said once; the panel keeps what it has.
   */
  private advance(budgetMs?: number): boolean {
    if (this.unreadable) return false;
    try {
      this.index.advance(budgetMs);
      return true;
    } catch (error) {
      this.unreadable = true;
      this.deps.log.warn(`review ${this.runId}: ${describeError(error)}`);
      return false;
    }
  }

  /** A first open of a large run: the rest of the record is read in slices, the host answering in between. */
  private keepBuilding(): void {
    const started = Date.now();
    const slice = () => {
      this.building = undefined;
      if (this.disposed) return;
      if (!this.advance(BUILD_SLICE_MS)) return;
      if (this.index.complete) {
        this.flushHeard();
        saveRunIndexSoon(this.dir);
        this.deps.log.info(`review ${this.runId}: indexed ${this.index.count()} seeds in ${Date.now() - started} ms more`);
      } else this.building = setTimeout(slice, 0);
    };
    this.building = setTimeout(slice, 0);
  }

  private heardChanges(changes: IndexChanges): void {
    if (this.heard) {
      for (const id of changes.seeds) this.heard.seeds.add(id);
      this.heard.run ||= changes.run;
      this.heard.reset ||= changes.reset;
    } else this.heard = { seeds: new Set(changes.seeds), run: changes.run, reset: changes.reset };
    // While building, the panel hears of it now and then; afterwards at once.
    if (this.holding) return;
    if (this.index.complete || Date.now() - this.heardPostedAt >= BUILD_POST_EVERY_MS) this.flushHeard();
  }

  private flushHeard(): void {
    const heard = this.heard;
    this.heard = undefined;
    if (!heard) return;
    this.heardPostedAt = Date.now();
    const update = this.feed.update(heard);
    if (update) this.post(update);
  }

  private store(): RunStore {
    this.storeValue ??= RunStore.open(this.dir);
    return this.storeValue;
  }

  private post(message: HostMessage): void {
    // A check can end after the panel closed.
    if (this.disposed) return;
    void this.panel.webview.postMessage(message);
  }

  private async receive(data: unknown): Promise<void> {
    const message = parseWebviewMessage(data);
    if (!message) {
      this.deps.log.warn(`review ${this.runId}: dropped a message that is not part of the protocol`);
      return;
    }
    switch (message.type) {
      case 'ready':
        this.post(this.feed.init());
        // A webview loaded again (shown after being hidden) starts without the training it had.
        this.trainingKey = undefined;
        this.postTraining();
        return;
      case 'requestPage':
        this.post(this.feed.page(message));
        return;
      case 'override': {
        try {
          const event = makeOverride(this.feed.hasCandidate, message.candidateId, message.action, message.note);
          appendOverride(this.dir, event);
          // The live update follows the answer, as the panel expects. (While a first build runs, the override is
          // read once the build reaches it.)
          this.holding = true;
          try {
            this.advance(this.index.complete ? undefined : BUILD_SLICE_MS);
          } finally {
            this.holding = false;
          }
          this.deps.log.info(`review ${this.runId}: ${message.candidateId} ${message.action}${message.note ? ` (${message.note})` : ''}`);
          const seedId = seedIdOfCandidate(message.candidateId);
          const update = this.heard ? this.feed.update(this.heard) : undefined;
          this.heard = undefined;
          this.post({ type: 'overrideResult', requestId: message.requestId, candidateId: message.candidateId, ok: true, seed: seedId === undefined ? undefined : this.feed.seed(seedId) });
          if (update) this.post(update);
        } catch (error) {
          this.post({ type: 'overrideResult', requestId: message.requestId, candidateId: message.candidateId, ok: false, error: describeError(error) });
        }
        return;
      }
      case 'runTests': {
        const outcome = await this.tests().run(message.candidateId);
        if (outcome.ok) {
          this.deps.log.info(`review ${this.runId}: tests of ${message.candidateId}: ${outcome.truth.outcome}${outcome.recorded ? ' (recorded)' : ''}`);
          this.post({ type: 'testResult', requestId: message.requestId, candidateId: message.candidateId, ok: true, truth: outcome.truth, recorded: outcome.recorded });
        } else {
          this.post({ type: 'testResult', requestId: message.requestId, candidateId: message.candidateId, ok: false, error: outcome.error });
        }
        return;
      }
      case 'export':
        await vscode.commands.executeCommand('svd.export', this.runId);
        return;
      case 'train':
        await vscode.commands.executeCommand('svd.train', this.runId);
        return;
      case 'openLink': {
        const open = 'Open';
        const answer = await vscode.window.showWarningMessage(`Open a link from model output?`, { modal: true, detail: message.href }, open);
        if (answer === open) await vscode.env.openExternal(vscode.Uri.parse(message.href, true));
        return;
      }
    }
  }

  private tests(): ReviewTestRuns {
    if (!this.testRuns) {
      this.checker = createAnswerChecker();
      this.testRuns = new ReviewTestRuns(this.feed, { checker: this.checker, record: (event) => this.recordTruth(event) });
    }
    return this.testRuns;
  }

  /**
   * Records a result of "Run tests" as the candidate's truth, unless a pipeline is writing the run (it holds the
   * run's lock, and audits on its own): taking the lock for the one append keeps the two from racing.
   */
  private recordTruth(event: NewTruthEvent): boolean {
    let store: RunStore;
    try {
      store = this.store();
      store.lock();
    } catch (error) {
      if (!isSvdError(error, 'run_locked')) this.deps.log.warn(`review ${this.runId}: ${describeError(error)}`);
      return false;
    }
    try {
      const recorded = store.append(event);
      this.advance();
      return recorded !== undefined;
    } catch (error) {
      this.deps.log.warn(`review ${this.runId}: could not record the tests of ${event.candidateId}: ${describeError(error)}`);
      return false;
    } finally {
      store.unlock();
    }
  }

  /** Posts what the run appended since the last look (a pipeline in another process, or another reviewer). */
  private live(): void {
    if (!this.panel.visible) return;
    this.postTraining();
    // While the first build goes on, its slices read what comes.
    if (this.building !== undefined) return;
    if (!this.advance(BUILD_SLICE_MS)) return;
    if (!this.index.complete) this.keepBuilding();
    else saveRunIndexSoon(this.dir);
  }

  /** Posts the run's training when its record or metrics changed since the last post (or on first look). */
  private postTraining(): void {
    let record: TrainingRecord | undefined;
    let key: string;
    try {
      const stat = fs.statSync(trainingFile(this.dir), { throwIfNoEntry: false });
      record = stat ? readTraining(this.dir) : undefined;
      key = stat && record ? `${stat.size}:${stat.mtimeMs}:${displayStatus(record)}` : 'none';
    } catch (error) {
      this.deps.log.warn(`review ${this.runId}: ${describeError(error)}`);
      return;
    }
    const grew = this.metrics.refresh();
    if (key === this.trainingKey && !grew) return;
    this.trainingKey = key;
    this.post({ type: 'training', training: record ? trainingView(record, this.metrics) : null });
  }

  private dispose(): void {
    this.disposed = true;
    clearInterval(this.timer);
    if (this.building !== undefined) clearTimeout(this.building);
    reviews.delete(this.dir);
    this.testRuns?.dispose();
    void this.checker?.close().catch((error: unknown) => this.deps.log.warn(`review ${this.runId}: ${describeError(error)}`));
    for (const d of this.disposables) d.dispose();
    releaseRunIndex(this.dir);
    this.storeValue?.close();
  }
}

function trainingView(record: TrainingRecord, metrics: MetricsSeries): TrainingView {
  const status = displayStatus(record);
  return {
    trainer: record.trainer,
    status,
    active: !isTerminalStatus(status) && status !== 'interrupted',
    baseModel: record.baseModel.slice(0, 2_000),
    summary: trainingSummary(record, status).slice(0, 4_000),
    ...(record.lastEvent ? { lastEvent: record.lastEvent.slice(0, 4_000) } : {}),
    ...(record.fineTunedModel ? { fineTunedModel: record.fineTunedModel.slice(0, 2_000) } : {}),
    ...(record.outputDir ? { outputDir: record.outputDir.slice(0, 4_000) } : {}),
    ...(record.totalSteps ? { totalSteps: record.totalSteps } : {}),
    points: metrics.series(MAX_TRAINING_POINTS).map((p) => ({ step: Math.max(0, Math.round(p.step)), ...(p.loss !== undefined ? { loss: p.loss } : {}), ...(p.evalLoss !== undefined ? { evalLoss: p.evalLoss } : {}) })),
  };
}

/** The run's seed screening as the panel shows it: a mark on each flagged seed, the ones left out listed. */
export function reviewScreening(screening: Screening | undefined): { screening?: { marks: Map<string, string>; summary: ReviewScreening } } {
  if (!screening) return {};
  const marks = screeningMarks(screening);
  const dropped = screening.dropped.slice(0, MAX_PAGE_SEEDS).map((seed) => ({ seed, why: marks.get(seed) ?? 'dropped' }));
  return { screening: { marks, summary: { flagged: screening.flagged.length, duplicates: screening.duplicates.length, dropped, droppedTotal: screening.dropped.length } } };
}
