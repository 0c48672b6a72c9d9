// The live progress line: redrawn in place on a terminal, a plain line every few seconds elsewhere (CI logs).
import type { Progress } from '../core/method/pipeline';
import { formatDuration } from '../core/record/status';
import { formatUsd } from '../core/method/cost';
import type { DownloadProgress } from '../engine/download';

const PLAIN_EVERY_MS = 5000;


export function formatProgress(p: Progress): string {
  const pct = p.seedsTotal > 0 ? Math.floor((100 * p.seedsDone) / p.seedsTotal) : 100;
  const eta = p.etaMs === undefined ? '--' : formatDuration(p.etaMs);
  const cost = p.costUsd === undefined ? '' : `  spent ${formatUsd(p.costUsd)}`;
  return `${p.seedsDone}/${p.seedsTotal} seeds (${pct}%)  ${p.requestsPerSecond.toFixed(1)} req/s  accepted ${p.accepted}${cost}  ETA ${eta}`;
}

export class ProgressLine {
  private lastPlain = 0;
  private drawn = false;

  constructor(
    private readonly tty: boolean,
    private readonly write: (text: string) => void,
    private readonly enabled = true,
  ) {}

  update(progress: Progress): void {
    if (!this.enabled) return;
    if (this.tty) {
      this.write(`\r\x1b[2K${formatProgress(progress)}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain >= PLAIN_EVERY_MS) {
      this.lastPlain = now;
      this.write(`${formatProgress(progress)}\n`);
    }
  }

  /** Ends the line so that later output starts on a fresh one. */
  done(): void {
    if (this.drawn) this.write('\n');
    this.drawn = false;
  }
}

/** The default model's download: a bar on a terminal, a line per 10% elsewhere. */
export class DownloadBar {
  private lastTenth = -1;
  private drawn = false;

  constructor(
    private readonly tty: boolean,
    private readonly write: (text: string) => void,
  ) {}

  update(p: DownloadProgress): void {
    const mb = (n: number) => (n / 1e6).toFixed(0);
    const fraction = p.total ? p.received / p.total : undefined;
    const label = `downloading the default model: ${mb(p.received)}${p.total ? `/${mb(p.total)}` : ''} MB${p.resumedFrom ? ` (resumed at ${mb(p.resumedFrom)} MB)` : ''}`;
    if (this.tty) {
      const width = 30;
      const filled = fraction === undefined ? 0 : Math.round(fraction * width);
      this.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${label}`);
      this.drawn = true;
      return;
    }
    const tenth = fraction === undefined ? 0 : Math.floor(fraction * 10);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.write(`${label}\n`);
    }
  }

  done(): void {
    if (this.drawn) this.write('\n');
    this.drawn = false;
  }
}
