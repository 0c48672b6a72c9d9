// The only module that talks to a model server (its client comes from openaiClient.ts). It owns retries (the openai
// client's own are off so that a retry wait never holds a concurrency slot), the concurrency bound, timeouts,
// cancellation and usage counting.
import { z } from 'zod';
import { Slots, abortableSleep, watchAbort } from '../base/abort';
import { SvdError, type ErrorCode } from '../base/errors';
import type { UsageCounts } from '../record/events';
import { redactText } from '../base/redact';
import { PURPOSES, type Purpose, type Sample, type SampleRequest } from '../base/types';
import { issueText } from '../base/zodIssues';
import { CompletionSchema, ModelListSchema, hasAnswer, shapeProblem, textOrUndefined, type Completion } from './chatResponse';
import { keepAliveFetch } from './httpTransport';
import { classifyApiError, createOpenAIClient, isLocalServer, type OpenAIClient } from './openaiClient';
import { ServerTraits } from './serverTraits';

export interface RetryInfo {
  purpose: Purpose;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface ModelClientOptions {
  baseURL: string;
  model: string;
  /** Callers pass SVD_API_KEY ?? OPENAI_API_KEY; without one a placeholder is sent, which local servers accept. */
  apiKey?: string;
  concurrency: number;
  timeoutMs: number;
  maxRetries: number;
  batchSamples: boolean;
  retryBaseMs?: number;
  retryMaxMs?: number;
  onRetry?: (info: RetryInfo) => void;
  /** Something the user should know that does not stop the work (a server that refuses `n > 1`), said once. */
  onNotice?: (message: string) => void;
  /** What servers have shown they cannot do; shared by the clients of one command. Default: this client's own. */
  traits?: ServerTraits;
  /** Replaces the built-in keep-alive HTTP transport (tests, proxies). */
  fetch?: typeof fetch;
}

export type ModelCallErrorKind =
  | 'bad_request'
  | 'server'
  | 'timeout'
  | 'invalid_response'
  | 'unreachable'
  | 'unknown_model'
  | 'auth';

const FATAL_KINDS: ReadonlySet<ModelCallErrorKind> = new Set(['unreachable', 'unknown_model', 'auth']);
const RETRYABLE_KINDS: ReadonlySet<ModelCallErrorKind> = new Set(['server', 'timeout', 'invalid_response', 'unreachable']);

/**
 * A failed model call. It is an SvdError so that the fatal kinds (which end the whole run) reach the CLI and the
 * extension with their own error code; the other kinds carry `internal` and are handled per seed.
 */
export class ModelCallError extends SvdError {
  readonly kind: ModelCallErrorKind;
  readonly status?: number;
  /** The kind of failure that a later attempt may not repeat (also true once this call's retries are spent). */
  readonly retryable: boolean;
  /** The server cannot serve this run at all: unreachable, unknown model, rejected key. */
  readonly fatal: boolean;

  constructor(kind: ModelCallErrorKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    const fatal = FATAL_KINDS.has(kind);
    // Redacted where the text is born: a server may quote the key (or a URL with credentials) in its error body.
    super(fatal ? (kind as ErrorCode) : 'internal', redactText(message), { cause: options.cause });
    this.kind = kind;
    if (options.status !== undefined) this.status = options.status;
    this.retryable = RETRYABLE_KINDS.has(kind);
    this.fatal = fatal;
  }
}

const OptionsSchema = z.object({
  baseURL: z.url(),
  concurrency: z.number().int().min(1),
  timeoutMs: z.number().positive(),
  maxRetries: z.number().int().min(0),
  retryBaseMs: z.number().nonnegative(),
  retryMaxMs: z.number().nonnegative(),
});

/** Server-given waits are honoured up to this, or up to retryMaxMs when that is larger. */
const RETRY_AFTER_CEILING_MS = 60_000;
/** A probe should answer quickly, so it retries less than run traffic. */
const PROBE_MAX_RETRIES = 2;
export interface ChatBody {
  model: string;
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  temperature: number;
  top_p: number;
  max_tokens: number;
  stop?: string[];
  n?: number;
}

/** A request's chat completions body: the same sent online and written into a batch line. */
export function chatBody(model: string, request: SampleRequest, n = 1): ChatBody {
  const body: ChatBody = { model, messages: request.messages, temperature: request.temperature, top_p: request.topP, max_tokens: request.maxTokens };
  if (request.stop && request.stop.length > 0) body.stop = request.stop;
  // Only ask for n when it matters: some servers reject the field outright.
  if (n > 1) body.n = n;
  return body;
}

export class ModelClient {
  private readonly client: OpenAIClient;
  private readonly slots: Slots;
  private readonly counts: Record<Purpose, UsageCounts>;
  private readonly baseURL: string;
  private readonly model: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly batchSamples: boolean;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly hasKey: boolean;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;
  private readonly onNotice: ((message: string) => void) | undefined;
  private readonly traits: ServerTraits;

  constructor(options: ModelClientOptions) {
    const checked = OptionsSchema.safeParse({
      baseURL: options.baseURL,
      concurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      maxRetries: options.maxRetries,
      retryBaseMs: options.retryBaseMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 30_000,
    });
    if (!checked.success) {
      throw new SvdError('bad_config', `model client: ${issueText(checked.error)}`);
    }
    const o = checked.data;
    const { client, baseURL } = createOpenAIClient({
      baseURL: o.baseURL,
      apiKey: options.apiKey,
      timeoutMs: o.timeoutMs,
      fetch: options.fetch ?? keepAliveFetch(),
    });
    this.client = client;
    this.baseURL = baseURL;
    this.model = options.model;
    this.timeoutMs = o.timeoutMs;
    this.maxRetries = o.maxRetries;
    this.retryBaseMs = o.retryBaseMs;
    this.retryMaxMs = o.retryMaxMs;
    this.batchSamples = options.batchSamples;
    this.onRetry = options.onRetry;
    this.onNotice = options.onNotice;
    this.traits = options.traits ?? new ServerTraits();
    this.hasKey = Boolean(options.apiKey);
    this.slots = new Slots(o.concurrency, () => abortedError());
    this.counts = Object.fromEntries(
      PURPOSES.map((p) => [p, { requests: 0, promptTokens: 0, completionTokens: 0, cachedSamples: 0, retries: 0 }]),
    ) as Record<Purpose, UsageCounts>;
  }

  /** HTTP requests in flight now. */
  get inFlight(): number {
    return this.slots.used;
  }

  /** Model traffic so far, per purpose (cachedSamples stays 0: cache hits are counted by the caller). */
  usage(): Record<Purpose, UsageCounts> {
    return Object.fromEntries(PURPOSES.map((p) => [p, { ...this.counts[p] }])) as Record<Purpose, UsageCounts>;
  }

  /**
   * Exactly n samples for the request. One request with `n` when batchSamples; when the server returns fewer
   * choices, the missing ones are requested separately (n=1 each, concurrently). A server that refuses `n > 1`
   * is asked one sample per request from then on.
   */
  async complete(request: SampleRequest, n: number, signal?: AbortSignal): Promise<Sample[]> {
    if (!Number.isInteger(n) || n < 1) throw new SvdError('internal', `complete: n must be a positive integer, got ${n}`);
    throwIfAborted(signal);
    if (this.batchSamples && n > 1 && this.traits.takesBatches(this.baseURL)) {
      const first = await this.sendBatch(request, n, signal);
      if (first.length >= n) return first.slice(0, n);
      const rest = await this.group(n - first.length, (s) => this.send(request, 1, s), signal);
      return [...first, ...rest.flat()];
    }
    const all = await this.group(n, (s) => this.send(request, 1, s), signal);
    return all.flat();
  }

  /**
   * One request for n samples. A refusal (400, 422) may be the server's refusal of `n > 1` itself, which some
   * OpenAI-compatible providers answer: the same request with one sample tells. When that one is answered, the
   * server takes no batches (said once per server) and its sample is the first of the n; when it is refused too,
   * the request itself is at fault and that refusal is the error.
   */
  private async sendBatch(request: SampleRequest, n: number, signal?: AbortSignal): Promise<Sample[]> {
    try {
      return await this.send(request, n, signal);
    } catch (error) {
      if (!(error instanceof ModelCallError) || error.kind !== 'bad_request') throw error;
      const single = await this.send(request, 1, signal);
      if (this.traits.refusedBatches(this.baseURL)) {
        this.onNotice?.(
          `${this.baseURL} does not take n > 1 (it answered ${error.status ?? 400} to a request for ${n} samples and ` +
            'took the same request for one): asking it for one sample per request from now on',
        );
      }
      return single;
    }
  }

  private get probeRetries(): number {
    return Math.min(this.maxRetries, PROBE_MAX_RETRIES);
  }

  /** The model ids the server lists at GET /models. */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    return this.listWithRetries(this.maxRetries, signal);
  }

  /** Throws SvdError 'unreachable' | 'unknown_model' | 'auth' when the server cannot serve this model. */
  async probe(signal?: AbortSignal): Promise<void> {
    let listed: string[] | undefined;
    try {
      listed = await this.listWithRetries(this.probeRetries, signal);
    } catch (error) {
      // Some servers have no /models route; a chat request below tells whether the model is served.
      if (!(error instanceof ModelCallError) || error.fatal) throw error;
    }
    if (listed?.includes(this.model)) return;
    // Not listed is not proof: some servers accept names they do not list (aliases, single-model servers).
    const request: ChatBody = {
      model: this.model,
      messages: [{ role: 'user', content: 'Reply with OK.' }],
      temperature: 0,
      top_p: 1,
      max_tokens: 1,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.chatOnce(request, signal);
        return;
      } catch (error) {
        if (!(error instanceof ModelCallError)) throw error;
        if (error.kind === 'unknown_model' && listed !== undefined) {
          const served = listed.length > 0 ? listed.slice(0, 10).join(', ') : 'none';
          throw new ModelCallError('unknown_model', `${error.message} It lists: ${served}.`, {
            status: error.status,
            cause: error,
          });
        }
        if (error.fatal) throw error;
        // A rejected tiny request (400) still shows that the route and the model exist.
        if (error.kind === 'bad_request') return;
        if (attempt >= this.probeRetries) {
          throw new ModelCallError('unreachable', `The model server at ${this.baseURL} did not answer properly: ${error.message}`, {
            status: error.status,
            cause: error,
          });
        }
        await sleep(this.backoff(attempt, error), signal);
      }
    }
  }

  /** Runs `count` sibling requests; the first failure cancels the others so a failed call stops spending. */
  private async group<T>(count: number, run: (signal: AbortSignal | undefined) => Promise<T>, signal?: AbortSignal): Promise<T[]> {
    // One request has no siblings to cancel: the caller's signal will do.
    if (count === 1) {
      try {
        return [await run(signal)];
      } catch (error) {
        throw signal?.aborted ? abortedError() : error;
      }
    }
    const siblings = new AbortController();
    const stop = signal ? watchAbort(signal, () => siblings.abort()) : undefined;
    try {
      return await Promise.all(
        Array.from({ length: count }, () =>
          run(siblings.signal).catch((error: unknown) => {
            siblings.abort();
            throw signal?.aborted ? abortedError() : error;
          }),
        ),
      );
    } finally {
      stop?.();
    }
  }

  /** One logical request: retried until it succeeds, fails for good or is cancelled. */
  private async send(request: SampleRequest, n: number, signal?: AbortSignal): Promise<Sample[]> {
    const counts = this.counts[request.purpose];
    const body = chatBody(this.model, request, n);
    for (let attempt = 0; ; attempt++) {
      await this.slots.acquire(signal);
      let response: Completion;
      try {
        counts.requests += 1;
        response = await this.chatOnce(body, signal);
        // `content: null` with no reasoning either is no answer: an empty one must not be recorded (or cached) as
        // the model's word, so it fails like a broken response and is asked again (now, or when a run resumes).
        if (!response.choices.some(hasAnswer)) {
          throw new ModelCallError('invalid_response', `${this.baseURL}/chat/completions answered no content (content: null)`);
        }
      } catch (error) {
        this.slots.release();
        if (!(error instanceof ModelCallError) || !error.retryable || attempt >= this.maxRetries) throw error;
        const delayMs = this.backoff(attempt, error);
        counts.retries += 1;
        this.onRetry?.({ purpose: request.purpose, attempt: attempt + 1, delayMs, reason: error.message });
        await sleep(delayMs, signal);
        continue;
      }
      this.slots.release();
      return this.toSamples(response, n, counts);
    }
  }

  /** Choices without an answer are left out; `complete` asks for them again. */
  private toSamples(response: Completion, n: number, counts: UsageCounts): Sample[] {
    const choices = response.choices
      .map((choice, position) => ({ choice, order: choice.index ?? position }))
      .filter(({ choice }) => hasAnswer(choice))
      .sort((a, b) => a.order - b.order)
      .slice(0, n);
    const promptTokens = Math.round(response.usage?.prompt_tokens ?? 0);
    const completionTotal = Math.round(response.usage?.completion_tokens ?? 0);
    counts.promptTokens += promptTokens;
    counts.completionTokens += completionTotal;
    // The server reports totals only: split them so that the samples' counts add up to the request's.
    const share = Math.floor(completionTotal / choices.length);
    const remainder = completionTotal - share * choices.length;
    return choices.map(({ choice }, i) => {
      const sample: Sample = {
        text: choice.message.content ?? '',
        finishReason: choice.finish_reason ?? 'unknown',
        promptTokens,
        completionTokens: share + (i < remainder ? 1 : 0),
      };
      const reasoning = textOrUndefined(choice.message.reasoning_content) ?? textOrUndefined(choice.message.reasoning);
      if (reasoning !== undefined) sample.reasoning = reasoning;
      return sample;
    });
  }

  /** One HTTP chat request, with its own timeout, mapped to a ModelCallError or SvdError('aborted'). */
  private async chatOnce(body: ChatBody, signal?: AbortSignal): Promise<Completion> {
    const raw = await this.withDeadline(signal, (attemptSignal) =>
      this.client.chat.completions.create(body, { signal: attemptSignal, maxRetries: 0, timeout: this.timeoutMs }),
    );
    const parsed = CompletionSchema.safeParse(raw);
    if (!parsed.success) {
      const problem = shapeProblem(parsed.error);
      throw new ModelCallError('invalid_response', `${this.baseURL}/chat/completions answered an unexpected shape: ${problem}`);
    }
    return parsed.data;
  }

  private async listWithRetries(maxRetries: number, signal?: AbortSignal): Promise<string[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        const raw = await this.withDeadline(signal, (attemptSignal) =>
          this.client.get<unknown>('/models', { signal: attemptSignal, maxRetries: 0, timeout: this.timeoutMs }),
        );
        const parsed = ModelListSchema.safeParse(raw);
        if (!parsed.success) {
          const problem = shapeProblem(parsed.error);
          throw new ModelCallError('invalid_response', `${this.baseURL}/models answered an unexpected shape: ${problem}`);
        }
        return parsed.data.data.map((m) => m.id);
      } catch (error) {
        // A 404 here means the server has no /models route, not that the model is unknown.
        const noRoute = error instanceof ModelCallError && error.kind === 'unknown_model';
        const mapped = noRoute
          ? new ModelCallError('bad_request', `${this.baseURL}/models does not exist (404)`, { status: 404, cause: error })
          : error;
        if (!(mapped instanceof ModelCallError) || !mapped.retryable || attempt >= maxRetries) throw mapped;
        await sleep(this.backoff(attempt, mapped), signal);
      }
    }
  }

  /**
   * Runs one HTTP attempt under its own controller: the caller's signal and the timeout both abort it. A fresh
   * controller per attempt also keeps the caller's long-lived signal free of the client's leftover listeners.
   */
  private async withDeadline<T>(signal: AbortSignal | undefined, call: (attemptSignal: AbortSignal) => Promise<T>): Promise<T> {
    throwIfAborted(signal);
    const controller = new AbortController();
    const stop = signal ? watchAbort(signal, () => controller.abort()) : undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    try {
      return await call(controller.signal);
    } catch (error) {
      if (signal?.aborted) throw abortedError(error);
      throw this.classify(error, timedOut);
    } finally {
      clearTimeout(timer);
      stop?.();
    }
  }

  private classify(error: unknown, timedOut: boolean): unknown {
    if (error instanceof SvdError) return error;
    const target = this.baseURL;
    if (timedOut) return new ModelCallError('timeout', `${target}: no answer within ${this.timeoutMs} ms`, { cause: error });
    const failure = classifyApiError(error);
    if (!failure) return error;
    const { status, code, detail } = failure;
    const cause = { cause: error, ...(status !== undefined ? { status } : {}) };
    switch (failure.kind) {
      case 'timeout':
        return new ModelCallError('timeout', `${target}: no answer within ${this.timeoutMs} ms`, cause);
      case 'aborted':
        // Our controller aborts only for the timer or the caller's signal, handled above; anything else is a lost answer.
        return new ModelCallError('server', `${target}: the request was cut off`, cause);
      case 'unreachable':
        return new ModelCallError('unreachable', `Cannot reach the model server at ${target} (${code}). ${isLocalServer(target) ? 'Is it running, and is the URL right?' : 'Is this machine online, and is the URL right?'}`, cause);
      case 'connection':
        return new ModelCallError('server', `${target}: the connection failed${code ? ` (${code})` : ''}: ${failure.message}`, cause);
      case 'auth': {
        const key = this.hasKey
          ? 'the API key was rejected; set SVD_API_KEY (or OPENAI_API_KEY) to a key this server accepts'
          : 'the server needs an API key; set SVD_API_KEY (or OPENAI_API_KEY)';
        return new ModelCallError('auth', `${target} answered ${status}: ${key}. (${detail})`, cause);
      }
      case 'not_found':
        return new ModelCallError(
          'unknown_model',
          `${target} answered 404 for model "${this.model}": the server does not serve it, ` +
            `or the base URL is wrong (it usually ends in /v1). (${detail})`,
          cause,
        );
      case 'server':
        return new RetryableStatus(`${target} answered ${status}: ${detail}`, status ?? 0, failure.retryAfterMs, error);
      case 'rejected':
        return new ModelCallError('bad_request', `${target} rejected the request (${status}): ${detail}`, cause);
      case 'invalid_json':
        return new ModelCallError('invalid_response', `${target} answered with invalid JSON: ${failure.message}`, cause);
    }
  }

  /** Full-jitter exponential backoff, unless the server said how long to wait. */
  private backoff(attempt: number, error: ModelCallError): number {
    if (error instanceof RetryableStatus && error.retryAfterMs !== undefined) {
      return Math.min(error.retryAfterMs, Math.max(this.retryMaxMs, RETRY_AFTER_CEILING_MS));
    }
    const cap = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** attempt);
    return Math.random() * cap;
  }
}

/** A retryable HTTP status, carrying the server's requested wait. */
class RetryableStatus extends ModelCallError {
  constructor(
    message: string,
    status: number,
    readonly retryAfterMs: number | undefined,
    cause: unknown,
  ) {
    super('server', message, { status, cause });
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return abortableSleep(ms, signal, () => abortedError());
}

function abortedError(cause?: unknown): SvdError {
  return new SvdError('aborted', 'The model request was cancelled', cause === undefined ? undefined : { cause });
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortedError();
}
