// A running session's model usage, recorded every few seconds (see UsageEvent): readers of a live run see requests
// move, and a session killed before its end still counts what it sent.
import type { UsageCounts } from '../record/events';
import type { RunStore } from '../record/store';
import type { Purpose } from '../base/types';

/** How often a running session records its usage so far (only when it moved). */
export const USAGE_CHECKPOINT_MS = 2_000;

export class UsageCheckpoints {
  private timer: NodeJS.Timeout | undefined;
  /** The usage the last checkpoint recorded: another is written only when something moved. */
  private lastKey = '';
  private seq = 0;

  constructor(
    private readonly store: Pick<RunStore, 'append'>,
    private readonly usage: () => Record<Purpose, UsageCounts>,
    private readonly startedAt: number,
    private readonly everyMs = USAGE_CHECKPOINT_MS,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.write(), this.everyMs);
    this.timer.unref();
  }

  /** Before the session's end event, which carries the same totals. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  write(): void {
    const usage = this.usage();
    const key = JSON.stringify(usage);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.store.append({ id: `usage:${Date.now()}:${this.seq++}`, type: 'usage', usage, wallMs: Date.now() - this.startedAt });
  }
}
