// The one module that imports the openai package: it builds the client for an OpenAI-compatible server (inference
// in model.ts, fine-tuning in training/finetune.ts) and says what a failed request means. Each caller words the
// failure in its own terms; what a status or a connection error is, and whether it is worth another try, is decided
// here once.
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, toFile } from 'openai';
import { z } from 'zod';
import { endpointAuth, secrets } from '../base/redact';

export type OpenAIClient = OpenAI;

export interface OpenAIClientOptions {
  baseURL: string;
  /** The caller's key, never the environment's: without one a placeholder is sent, which local servers accept. */
  apiKey?: string;
  /** What the URL is, for the error about credentials in it (see endpointAuth). */
  urlLabel?: string;
  /** Per request; the client's own default (10 minutes) when absent. */
  timeoutMs?: number;
  /** Replaces the global fetch (tests, proxies, a keep-alive transport). */
  fetch?: typeof fetch;
}

/**
 * The client, and the server's URL as messages may show it (without credentials, which become a Basic auth header,
 * and without a trailing slash). The key is registered for redaction. Retries are the caller's: the client makes
 * none, so that a retry's wait never holds a concurrency slot and a poll is retried at the next poll.
 */
export function createOpenAIClient(options: OpenAIClientOptions): { client: OpenAIClient; baseURL: string } {
  secrets.add(options.apiKey);
  const auth = endpointAuth(options.baseURL, options.apiKey, options.urlLabel);
  const baseURL = auth.baseURL.replace(/\/+$/, '');
  // Explicit nulls keep OPENAI_* environment settings meant for api.openai.com away from the configured server.
  const client = new OpenAI({
    baseURL,
    apiKey: options.apiKey || 'none',
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    ...(auth.headers ? { defaultHeaders: auth.headers } : {}),
    maxRetries: 0,
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    fetch: withServerErrorBodies(options.fetch ?? ((input, init) => fetch(input, init))),
  });
  return { client, baseURL };
}

/** The most of a server's error body that is kept: enough for its message, never a page of HTML. */
const ERROR_BODY_CHARS = 2000;

/**
 * Servers word a failure in different bodies: OpenAI's `{"error": {"message": ...}}`, a top-level `message` or
 * `detail` (vLLM, FastAPI), `{"error": "..."}` (Ollama), plain text. The client reads only the first, and for the
 * others says "404 status code (no body)"; put in its shape here, the server's own words reach the user.
 */
function withServerErrorBodies(inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    const headers = new Headers(response.headers);
    // The text is read, and so no longer encoded as the headers say.
    headers.delete('content-encoding');
    headers.delete('content-length');
    return new Response(openAIErrorBody(text) ?? text, { status: response.status, statusText: response.statusText, headers });
  };
}

/** A server's error body in OpenAI's shape; undefined when it has that shape already, or nothing to say. */
export function openAIErrorBody(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return JSON.stringify({ error: { message: trimmed.slice(0, ERROR_BODY_CHARS) } });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return JSON.stringify({ error: { message: trimmed.slice(0, ERROR_BODY_CHARS) } });
  const body = json as Record<string, unknown>;
  if (typeof body.error === 'object' && body.error !== null) return undefined;
  const said = [body.error, body.message, body.detail].find((value) => value !== undefined && value !== null);
  if (said === undefined) return JSON.stringify({ error: { message: trimmed.slice(0, ERROR_BODY_CHARS) } });
  const message = typeof said === 'string' ? said : JSON.stringify(said);
  return JSON.stringify({ error: { message: message.slice(0, ERROR_BODY_CHARS) } });
}

/** A file's content as the client uploads it (multipart, with its name). */
export function uploadable(content: Buffer, name: string): Promise<File> {
  return toFile(content, name);
}

// ---- what a failed request means -------------------------------------------------------------------------------

export type ApiFailureKind =
  /** The request's own signal cut it off. */
  | 'aborted'
  | 'timeout'
  /** Nothing answers at that address: connection refused, unknown host, no route. */
  | 'unreachable'
  /** The connection failed some other way (reset, TLS). */
  | 'connection'
  /** 401 or 403: the key is missing or rejected. */
  | 'auth'
  /** 404: no such route or model. */
  | 'not_found'
  /** 408, 409, 429 or >= 500: the server failed or asks to come back later. */
  | 'server'
  /** Any other status: the request itself was refused. */
  | 'rejected'
  /** The answer was not JSON. */
  | 'invalid_json';

export interface ApiFailure {
  kind: ApiFailureKind;
  /** Worth another try: a timeout, a failed connection, or a status that says so (408, 409, 429, >= 500). */
  retryable: boolean;
  status?: number;
  /** The system error code of a failed connection (ECONNREFUSED, ...). */
  code?: string;
  /** The client's own message (for a status: the status and the server's message). */
  message: string;
  /** The server's message from the error body, else the client's. */
  detail: string;
  /** The wait the server asked for (Retry-After), for `server` failures. */
  retryAfterMs?: number;
}

const RETRYABLE: ReadonlySet<ApiFailureKind> = new Set(['timeout', 'unreachable', 'connection', 'server']);

const REFUSED_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

/**
 * Whether the URL names this machine. Only there does a connection refused mean a server not started; elsewhere (a
 * cloud API) it means no network or a wrong address.
 */
export function isLocalServer(baseURL: string): boolean {
  let host: string;
  try {
    host = new URL(baseURL).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || host === '0.0.0.0' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Whether an HTTP status says to try again later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** What a request's failure means; undefined when `error` did not come from the client (a bug, a schema check). */
export function classifyApiError(error: unknown, now = Date.now()): ApiFailure | undefined {
  const failure = (kind: ApiFailureKind, rest: Partial<ApiFailure> & { message: string }): ApiFailure => ({
    kind,
    retryable: RETRYABLE.has(kind),
    detail: rest.message,
    ...rest,
  });
  if (error instanceof APIConnectionTimeoutError) return failure('timeout', { message: error.message });
  if (error instanceof APIUserAbortError) return failure('aborted', { message: error.message });
  if (error instanceof APIConnectionError) {
    const code = errorCode(error);
    const kind = code !== undefined && REFUSED_CODES.has(code) ? 'unreachable' : 'connection';
    return failure(kind, { message: error.message, ...(code !== undefined ? { code } : {}) });
  }
  if (error instanceof APIError) {
    const status = error.status ?? 0;
    const kind: ApiFailureKind =
      status === 401 || status === 403 ? 'auth' : status === 404 ? 'not_found' : isRetryableStatus(status) ? 'server' : 'rejected';
    const retryAfterMs = kind === 'server' ? parseRetryAfter(error.headers, now) : undefined;
    return failure(kind, {
      status,
      message: error.message,
      detail: serverMessage(error),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (error instanceof SyntaxError) return failure('invalid_json', { message: error.message });
  return undefined;
}

/**
 * The wait a response asks for: `retry-after-ms`, else `Retry-After` as seconds or an HTTP date.
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers.get('retry-after');
  if (after === null || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The system error code (ECONNREFUSED, ...) somewhere in the cause chain of a connection error. */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    if (current instanceof AggregateError) {
      const inner: unknown[] = current.errors;
      const found = inner.map(errorCode).find((c) => c !== undefined);
      if (found) return found;
    }
    current = current.cause;
  }
  return undefined;
}

const ServerErrorBody = z.object({ message: z.string() });

function serverMessage(error: APIError): string {
  const body = ServerErrorBody.safeParse(error.error);
  return body.success ? body.data.message : error.message;
}
