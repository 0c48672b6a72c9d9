// Several OpenAI-compatible servers behind one client. Each request goes to the usable endpoint with the fewest
// requests in flight for its weight; one `complete` (a seed's n candidates, a candidate's votes of a stage) stays on
// one endpoint, so its shared prompt hits that server's prefix cache. An endpoint that fails (refused, timed out, a
// run of 5xx) is taken out with exponential backoff and probed back in; the request that failed on it is sent to
// another at once. Concurrency per endpoint adapts on 429 (AIMD). The pool decides where, the endpoints' own clients
// (model.ts, with no retries of their own) decide how.
import { watchAbort } from '../base/abort';
import { SvdError } from '../base/errors';
import { PURPOSES, type Purpose, type Sample, type SampleRequest } from '../base/types';
import { withoutCredentials } from '../base/redact';
import type { UsageCounts } from '../record/events';
import { ModelCallError, type RetryInfo } from './model';

/** What a run asks of its model: one server's client (a ModelClient), or a pool of several. */
export interface ModelPort {
  complete(request: SampleRequest, n: number, signal?: AbortSignal): Promise<Sample[]>;
  probe(signal?: AbortSignal): Promise<void>;
  usage(): Record<Purpose, UsageCounts>;
  /** Each server's requests, errors and state, where there are several. */
  endpoints?(): EndpointStatus[];
  /** Ends what the client keeps running beside its requests (a pool's probes). */
  close?(): void;
}

/** What the pool needs of one endpoint's client (a ModelClient built with maxRetries 0; fakes in tests). */
export interface MemberClient {
  complete(request: SampleRequest, n: number, signal?: AbortSignal): Promise<Sample[]>;
  probe(signal?: AbortSignal): Promise<void>;
  /** Answers when the server answers at all: the pool's probe of an endpoint taken out. */
  listModels(signal?: AbortSignal): Promise<string[]>;
  usage(): Record<Purpose, UsageCounts>;
}

export interface PoolMember {
  /** The server's URL (shown without credentials). */
  url: string;
  client: MemberClient;
  /** Share of the traffic, relative to the others (default 1). */
  weight?: number;
  /** Requests in flight on it at most (default: the pool's concurrency). */
  maxConcurrency?: number;
}

/** Time as the pool sees it: real in a run, driven by hand in tests. */
export interface PoolClock {
  now(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const realClock: PoolClock = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    // A probe or a wake-up pending must not keep a finished command alive.
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export type EndpointState = 'up' | 'down' | 'probing';

/** One endpoint as status shows it. */
export interface EndpointStatus {
  url: string;
  state: EndpointState;
  /** Requests sent to it (each `complete`, once per attempt) and those that failed. */
  requests: number;
  errors: number;
  /** Of the errors, 429s. */
  throttled: number;
  inFlight: number;
  /** Its concurrency now (AIMD) and its ceiling. */
  limit: number;
  maxConcurrency: number;
}

export interface EndpointPoolOptions {
  members: PoolMember[];
  /** Requests in flight over all endpoints at most. */
  concurrency: number;
  /** Retries per request once every usable endpoint has failed it (failing over to another is free). */
  maxRetries: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** First wait before an endpoint taken out is probed; doubled each time it fails again, up to backoffMaxMs. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Consecutive 5xx answers that take an endpoint out. */
  serverErrorRun?: number;
  /** How long a probe may take. */
  probeTimeoutMs?: number;
  clock?: PoolClock;
  onRetry?: (info: RetryInfo) => void;
  onNotice?: (message: string) => void;
  /** Called when an endpoint changes state or concurrency (status lines, the progress stream). */
  onChange?: () => void;
}

interface Member {
  url: string;
  client: MemberClient;
  weight: number;
  maxConcurrency: number;
  limit: number;
  inFlight: number;
  state: EndpointState;
  /** Consecutive times taken out without a success between: the backoff's exponent. */
  outages: number;
  serverErrors: number;
  /** When it is probed next, while out. */
  probeAt: number;
  /** Until then it takes no new request (a 429's Retry-After). */
  pausedUntil: number;
  /** Successes since its limit last grew. */
  window: number;
  requests: number;
  errors: number;
  throttled: number;
  cancelProbe?: () => void;
}

interface Waiter {
  excluded: ReadonlySet<Member>;
  resolve: (member: Member | undefined) => void;
}

const RETRY_AFTER_CEILING_MS = 60_000;

export class EndpointPool {
  private readonly members: Member[];
  private readonly clock: PoolClock;
  private readonly waiters: Waiter[] = [];
  /** Woken on any change that may make an endpoint usable again. */
  private changeListeners: (() => void)[] = [];
  private readonly retries = Object.fromEntries(PURPOSES.map((p) => [p, 0])) as Record<Purpose, number>;
  private inFlightTotal = 0;
  private failedProbes = 0;
  private closed = false;
  private readonly o: Required<Omit<EndpointPoolOptions, 'members' | 'clock' | 'onRetry' | 'onNotice' | 'onChange'>>;

  constructor(private readonly options: EndpointPoolOptions) {
    if (options.members.length === 0) throw new SvdError('bad_config', 'an endpoint pool needs at least one endpoint');
    this.clock = options.clock ?? realClock;
    this.o = {
      concurrency: options.concurrency,
      maxRetries: options.maxRetries,
      retryBaseMs: options.retryBaseMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 30_000,
      backoffBaseMs: options.backoffBaseMs ?? 1000,
      backoffMaxMs: options.backoffMaxMs ?? 60_000,
      serverErrorRun: options.serverErrorRun ?? 3,
      probeTimeoutMs: options.probeTimeoutMs ?? 10_000,
    };
    this.members = options.members.map((m) => {
      const maxConcurrency = Math.max(1, Math.floor(m.maxConcurrency ?? options.concurrency));
      return {
        url: withoutCredentials(m.url).replace(/\/+$/, ''),
        client: m.client,
        weight: m.weight ?? 1,
        maxConcurrency,
        limit: maxConcurrency,
        inFlight: 0,
        state: 'up',
        outages: 0,
        serverErrors: 0,
        pausedUntil: 0,
        probeAt: 0,
        window: 0,
        requests: 0,
        errors: 0,
        throttled: 0,
      };
    });
  }

  get inFlight(): number {
    return this.inFlightTotal;
  }

  endpoints(): EndpointStatus[] {
    return this.members.map((m) => ({
      url: m.url,
      state: m.state,
      requests: m.requests,
      errors: m.errors,
      throttled: m.throttled,
      inFlight: m.inFlight,
      limit: m.limit,
      maxConcurrency: m.maxConcurrency,
    }));
  }

  /** The endpoints' traffic together, failovers counted as retries. */
  usage(): Record<Purpose, UsageCounts> {
    const total = Object.fromEntries(
      PURPOSES.map((p) => [p, { requests: 0, promptTokens: 0, completionTokens: 0, cachedSamples: 0, retries: this.retries[p] }]),
    ) as Record<Purpose, UsageCounts>;
    for (const member of this.members) {
      const usage = member.client.usage();
      for (const p of PURPOSES) {
        total[p].requests += usage[p].requests;
        total[p].promptTokens += usage[p].promptTokens;
        total[p].completionTokens += usage[p].completionTokens;
        total[p].retries += usage[p].retries;
      }
    }
    return total;
  }

  /**
   * Every endpoint asked at once. A rejected key or an unknown model is the user's to fix and fails the run; an
   * endpoint that does not answer is taken out (and probed later) unless none answers, which fails the run too.
   */
  async probe(signal?: AbortSignal): Promise<void> {
    const results = await Promise.allSettled(this.members.map((m) => m.client.probe(signal)));
    if (signal?.aborted) throw new SvdError('aborted', 'The model request was cancelled');
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{ member: this.members[i]!, error: r.reason as unknown }] : []));
    const wrong = failures.find(({ error }) => !(error instanceof ModelCallError) || (error.fatal && error.kind !== 'unreachable'));
    if (wrong) throw wrong.error;
    if (failures.length === this.members.length) throw failures[0]!.error;
    for (const { member, error } of failures) {
      this.options.onNotice?.(`${member.url} does not answer (${(error as Error).message}); the run goes on without it and tries it again later`);
      this.takeOut(member);
    }
  }

  /** Exactly n samples, all from one endpoint; failed over to another endpoint when the one asked fails. */
  async complete(request: SampleRequest, n: number, signal?: AbortSignal): Promise<Sample[]> {
    const failedOn = new Set<Member>();
    let attempt = 0;
    let lastError: unknown;
    for (let sends = 0; ; sends++) {
      const member = await this.acquire(failedOn, signal);
      if (!member) {
        // Every usable endpoint failed this request, or none is usable: a retry proper, after a wait.
        if (attempt >= this.o.maxRetries || this.closed) throw lastError ?? this.noEndpoint();
        const anyUp = this.members.some((m) => m.state === 'up');
        // With every endpoint out, the wait is for the next probe: each one that fails counts as a retry.
        const delayMs = anyUp ? this.backoff(attempt, lastError) : Math.max(0, Math.min(...this.members.map((m) => m.probeAt)) - this.clock.now());
        attempt++;
        failedOn.clear();
        this.retries[request.purpose] += 1;
        this.options.onRetry?.({ purpose: request.purpose, attempt, delayMs, reason: describe(lastError) ?? 'no endpoint is usable' });
        if (anyUp) await this.waitForChange(delayMs, signal);
        else await this.waitForRecovery(signal);
        continue;
      }
      if (sends > 0 && failedOn.size > 0) this.retries[request.purpose] += 1;
      try {
        const samples = await member.client.complete(request, n, signal);
        this.release(member);
        this.succeeded(member);
        return samples;
      } catch (error) {
        this.release(member);
        if (signal?.aborted || !(error instanceof ModelCallError)) throw error;
        member.errors += 1;
        this.failed(member, error);
        const endpointFault = error.kind === 'unreachable' || error.retryable;
        if (!endpointFault) throw error;
        lastError = error;
        failedOn.add(member);
      }
    }
  }

  /** Stops the probes pending, so a finished command exits at once. */
  close(): void {
    this.closed = true;
    for (const member of this.members) member.cancelProbe?.();
    this.notifyChange();
  }

  // ---- routing ----------------------------------------------------------------------------------------------------

  /** The endpoint for the next request (a slot taken on it), or undefined when none outside `excluded` is usable. */
  private acquire(excluded: ReadonlySet<Member>, signal?: AbortSignal): Promise<Member | undefined> {
    if (signal?.aborted) return Promise.reject(abortedError());
    const pick = this.pick(excluded);
    if (pick !== 'full') {
      if (pick) this.take(pick);
      return Promise.resolve(pick);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        excluded,
        resolve: (member) => {
          stop?.();
          resolve(member);
        },
      };
      this.waiters.push(waiter);
      const stop = signal
        ? watchAbort(signal, () => {
            const index = this.waiters.indexOf(waiter);
            if (index !== -1) this.waiters.splice(index, 1);
            reject(abortedError());
          })
        : undefined;
    });
  }

  /** The usable endpoint with the fewest requests in flight for its weight; 'full' when all of them are busy. */
  private pick(excluded: ReadonlySet<Member>): Member | undefined | 'full' {
    const now = this.clock.now();
    let best: Member | undefined;
    let usable = false;
    for (const m of this.members) {
      if (m.state !== 'up' || excluded.has(m)) continue;
      usable = true;
      if (m.pausedUntil > now || m.inFlight >= m.limit) continue;
      if (!best || m.inFlight / m.weight < best.inFlight / best.weight) best = m;
    }
    if (!usable) return undefined;
    if (!best || this.inFlightTotal >= this.o.concurrency) return 'full';
    return best;
  }

  private take(member: Member): void {
    member.inFlight += 1;
    member.requests += 1;
    this.inFlightTotal += 1;
  }

  private release(member: Member): void {
    member.inFlight -= 1;
    this.inFlightTotal -= 1;
    this.serveWaiters();
  }

  /** Hands freed capacity to the waiters in arrival order; tells those with no usable endpoint left. */
  private serveWaiters(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const pick = this.closed ? undefined : this.pick(waiter.excluded);
      if (pick === 'full') {
        // Nobody behind can be served either, unless this one was kept off endpoints that others may use.
        if (waiter.excluded.size === 0) return;
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      if (pick) this.take(pick);
      waiter.resolve(pick);
    }
  }

  // ---- health -----------------------------------------------------------------------------------------------------

  private succeeded(member: Member): void {
    member.serverErrors = 0;
    member.outages = 0;
    // Additive increase: one more slot per window of successes as large as the limit itself.
    member.window += 1;
    if (member.window >= member.limit && member.limit < member.maxConcurrency) {
      member.limit += 1;
      member.window = 0;
      this.changed();
    }
  }

  private failed(member: Member, error: ModelCallError): void {
    if (error.status === 429) {
      member.throttled += 1;
      // Multiplicative decrease, and no new request before the server's Retry-After.
      member.limit = Math.max(1, Math.floor(member.limit / 2));
      member.window = 0;
      const retryAfterMs = retryAfterOf(error);
      if (retryAfterMs !== undefined && retryAfterMs > 0) {
        const until = this.clock.now() + Math.min(retryAfterMs, RETRY_AFTER_CEILING_MS);
        if (until > member.pausedUntil) {
          member.pausedUntil = until;
          this.clock.after(until - this.clock.now(), () => this.changed());
        }
      }
      this.changed();
      return;
    }
    const noAnswer = error.kind === 'unreachable' || error.kind === 'timeout' || (error.kind === 'server' && error.status === undefined);
    if (error.kind === 'server' && error.status !== undefined && error.status >= 500) member.serverErrors += 1;
    if (noAnswer || member.serverErrors >= this.o.serverErrorRun) this.takeOut(member);
  }

  private takeOut(member: Member): void {
    if (member.state !== 'up') return;
    member.state = 'down';
    member.serverErrors = 0;
    const delayMs = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** member.outages);
    member.outages += 1;
    this.options.onNotice?.(`${member.url} taken out of the pool; probing it again in ${Math.round(delayMs / 100) / 10} s`);
    member.probeAt = this.clock.now() + delayMs;
    member.cancelProbe = this.clock.after(delayMs, () => void this.probeBack(member));
    this.changed();
  }

  /** Back in when it answers anything at all (a 404 from a server without /models included); else out for longer. */
  private async probeBack(member: Member): Promise<void> {
    if (this.closed) return;
    member.state = 'probing';
    this.changed();
    const controller = new AbortController();
    const cancel = this.clock.after(this.o.probeTimeoutMs, () => controller.abort());
    let alive: boolean;
    try {
      await member.client.listModels(controller.signal);
      alive = true;
    } catch (error) {
      alive = error instanceof ModelCallError && error.status !== undefined && error.status < 500;
    } finally {
      cancel();
    }
    if (this.closed) return;
    if (alive) {
      member.state = 'up';
      member.serverErrors = 0;
      this.options.onNotice?.(`${member.url} answers again: back in the pool`);
      this.changed();
      return;
    }
    this.failedProbes += 1;
    member.state = 'up';
    this.takeOut(member);
  }

  private changed(): void {
    this.options.onChange?.();
    this.serveWaiters();
    this.notifyChange();
  }

  private notifyChange(): void {
    const listeners = this.changeListeners;
    this.changeListeners = [];
    for (const listener of listeners) listener();
  }

  /** Resolves after `ms`, or earlier when an endpoint comes back or unpauses. */
  private waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortedError());
    return new Promise((resolve, reject) => {
      const done = () => {
        cancel();
        stop?.();
        this.changeListeners = this.changeListeners.filter((l) => l !== done);
        resolve();
      };
      const cancel = this.clock.after(ms, done);
      this.changeListeners.push(done);
      const stop = signal
        ? watchAbort(signal, () => {
            cancel();
            this.changeListeners = this.changeListeners.filter((l) => l !== done);
            reject(abortedError());
          })
        : undefined;
    });
  }

  /** Resolves when an endpoint is back in the pool, or a probe failed, or the pool closed. */
  private async waitForRecovery(signal?: AbortSignal): Promise<void> {
    const seen = this.failedProbes;
    while (!this.closed && this.failedProbes === seen && !this.members.some((m) => m.state === 'up')) {
      await this.waitForChange(this.o.backoffMaxMs, signal);
    }
  }

  /** Full-jitter exponential backoff, or the server's Retry-After. */
  private backoff(attempt: number, error: unknown): number {
    const retryAfterMs = error instanceof ModelCallError ? retryAfterOf(error) : undefined;
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, Math.max(this.o.retryMaxMs, RETRY_AFTER_CEILING_MS));
    return Math.random() * Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** attempt);
  }

  private noEndpoint(): ModelCallError {
    return new ModelCallError('unreachable', `No endpoint answers: ${this.members.map((m) => m.url).join(', ')}`);
  }
}

function retryAfterOf(error: ModelCallError): number | undefined {
  const value = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' ? value : undefined;
}

function describe(error: unknown): string | undefined {
  return error instanceof Error ? error.message : undefined;
}

function abortedError(): SvdError {
  return new SvdError('aborted', 'The model request was cancelled');
}
