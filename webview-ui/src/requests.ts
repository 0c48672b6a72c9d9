// Requests to the host and the time each may take: every request gets an id and a deadline, and one the host has not
// answered by then is reported once, so the panel can say so instead of waiting forever. No DOM: timers are given.

/** What the panel asks of the host and waits for: `ready` (answered by `init`), a page, an override, a test run. */
export type RequestKind = 'ready' | 'page' | 'override' | 'tests';

/**
 * How long each kind may take. Pages and overrides are a fold and an append on the host; tests run a program in a
 * sandbox (10 s a run by default) behind other checks, so they get longer.
 */
export const ANSWER_WITHIN_MS: Readonly<Record<RequestKind, number>> = {
  ready: 15_000,
  page: 15_000,
  override: 15_000,
  tests: 120_000,
};

/** What `ready` waits as: request ids on the wire start at 1. */
export const READY_REQUEST = 0;

/** A request whose deadline passed, with what it asked for in words ("accept s1#2"). */
export interface ExpiredRequest {
  requestId: number;
  kind: RequestKind;
  what: string;
}

export interface Timers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const globalTimers: Timers = {
  setTimeout: (run, ms) => globalThis.setTimeout(run, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

export class HostRequests {
  private nextId = 1;
  private readonly waiting = new Map<number, { kind: RequestKind; what: string; timer: unknown }>();

  constructor(
    private readonly onExpire: (expired: ExpiredRequest) => void,
    private readonly within: Readonly<Record<RequestKind, number>> = ANSWER_WITHIN_MS,
    private readonly timers: Timers = globalTimers,
  ) {}

  /**
   * The deadline of an answer, for a fresh request id (one sequence for every kind, as the host sees them) or for
   * one given (`ready` carries none on the wire and waits as READY_REQUEST).
   */
  open(kind: RequestKind, what: string, requestId = this.nextId++): number {
    this.settle(requestId);
    const timer = this.timers.setTimeout(() => {
      if (!this.waiting.delete(requestId)) return;
      this.onExpire({ requestId, kind, what });
    }, this.within[kind]);
    this.waiting.set(requestId, { kind, what, timer });
    return requestId;
  }

  /** The answer came. @returns whether it was awaited: false for an answer after its deadline, or to nothing asked. */
  settle(requestId: number): boolean {
    const entry = this.waiting.get(requestId);
    if (!entry) return false;
    this.timers.clearTimeout(entry.timer);
    this.waiting.delete(requestId);
    return true;
  }

  /** No answer is wanted any more (a page of a filter left behind): its deadline goes, and no report. */
  cancel(requestId: number): void {
    this.settle(requestId);
  }

  /** Requests still within their deadline. */
  get size(): number {
    return this.waiting.size;
  }
}
