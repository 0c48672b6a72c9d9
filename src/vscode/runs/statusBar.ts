// One status bar item while runs go: the most recent run's progress, and how many run at once.
import * as vscode from 'vscode';
import type { Progress } from '../../core/method/pipeline';
import { Disposable } from '../platform/lifecycle';
import { statusBarText, statusBarTooltip, type StatusBarRun } from './present';

/** Progress arrives per sample; the item is redrawn at most this often. */
const RENDER_INTERVAL_MS = 250;

export class RunStatusBar extends Disposable {
  private readonly item = this._register(
    vscode.window.createStatusBarItem('svd.runStatus', vscode.StatusBarAlignment.Left, 10),
  );
  /** In start order: the last one is the most recent. */
  private readonly runs = new Map<string, Omit<StatusBarRun, 'runId'>>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.item.name = 'Self-Verified Distillation';
    this.item.command = 'svd.showLog';
    this._register({ dispose: () => clearTimeout(this.timer) });
  }

  /** `backend`: what the embedded engine computes on, when it serves the run. */
  update(runId: string, progress: Progress, backend?: string): void {
    if (this.isDisposed) return;
    this.runs.set(runId, { progress, ...(backend !== undefined ? { backend } : {}) });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, RENDER_INTERVAL_MS);
    // The first update shows at once, so a run that just started is visible without waiting.
    if (!this.item.text) this.render();
  }

  clear(runId: string): void {
    if (this.isDisposed || !this.runs.delete(runId)) return;
    this.render();
  }

  private render(): void {
    if (this.isDisposed) return;
    const runs = [...this.runs].map(([runId, run]) => ({ runId, ...run }));
    const text = statusBarText(runs);
    if (text === undefined) {
      this.item.hide();
      this.item.text = '';
      return;
    }
    this.item.text = text;
    this.item.tooltip = statusBarTooltip(runs);
    this.item.show();
  }
}
