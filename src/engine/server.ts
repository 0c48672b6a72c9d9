// The embedded engine's child process: loads a GGUF with llama.cpp (node-llama-cpp) and serves the OpenAI chat
// protocol on 127.0.0.1. It runs apart from the CLI and the extension host because a malformed model file can
// abort the whole process. Its first stdout line is the ready line the host waits for (see protocol.ts).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import {
  ChatCompletionRequestSchema,
  type ChatCompletionRequest,
  type EngineSettings,
  parseEngineSettings,
  type ReadyLine,
} from './protocol';
import { issueText } from '../core/base/zodIssues';
import { type Engine, HttpError, errorMessage, loadEngine, type ChoiceResult, type ChoiceStream, type Job } from './generation';

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const PARENT_POLL_MS = 1000;

// ---- errors answered in OpenAI's shape ----

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function errorBody(error: HttpError): { error: { message: string; type: string; code: string; param: null } } {
  return { error: { message: error.message, type: error.type, code: error.code, param: null } };
}

// ---- HTTP ----

function tokenDigest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  // Hashing first makes the comparison constant-time whatever the lengths.
  return match?.[1] !== undefined && timingSafeEqual(tokenDigest(match[1].trim()), expected);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `Request body over ${MAX_BODY_BYTES} bytes.`, 'body_too_large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function parseRequest(req: IncomingMessage): Promise<ChatCompletionRequest> {
  let json: unknown;
  try {
    json = JSON.parse(await readBody(req));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, `The body is not JSON: ${errorMessage(error)}`, 'invalid_json');
  }
  const parsed = ChatCompletionRequestSchema.safeParse(json);
  if (!parsed.success) throw new HttpError(400, `Invalid request: ${issueText(parsed.error, '(body)')}`, 'invalid_request');
  return parsed.data;
}

function completionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}

/** Runs all choices at once (the pool decides how many really run); the first failure cancels the rest. */
async function runChoices(
  engine: Engine,
  job: Job,
  n: number,
  signal: AbortSignal,
  stream?: (index: number) => ChoiceStream,
): Promise<ChoiceResult[]> {
  const siblings = new AbortController();
  const forward = (): void => siblings.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  try {
    return await Promise.all(
      Array.from({ length: n }, (_, index) =>
        engine.generate(job, index, siblings.signal, stream?.(index)).catch((error: unknown) => {
          siblings.abort(error);
          throw error;
        }),
      ),
    );
  } finally {
    signal.removeEventListener('abort', forward);
  }
}

async function chatCompletions(engine: Engine, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const request = await parseRequest(req);
  if (request.model !== undefined && request.model !== engine.modelId) {
    const message = `The model '${request.model}' does not exist here; this engine serves '${engine.modelId}'.`;
    throw new HttpError(404, message, 'model_not_found');
  }
  const job = await engine.prepare(request);
  const n = request.n ?? 1;

  // A client that goes away stops the generation and frees its sequences.
  const abandoned = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abandoned.abort(new Error('client closed the connection'));
  });

  const id = completionId();
  const created = Math.floor(Date.now() / 1000);

  if (!request.stream) {
    const results = await runChoices(engine, job, n, abandoned.signal);
    const completionTokens = results.reduce((sum, result) => sum + result.completionTokens, 0);
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: engine.modelId,
      choices: results.map((result, index) => ({
        index,
        message: {
          role: 'assistant',
          content: result.content,
          ...(result.reasoning !== '' ? { reasoning_content: result.reasoning } : {}),
        },
        logprobs: null,
        finish_reason: result.finishReason,
      })),
      usage: {
        prompt_tokens: job.promptTokens,
        completion_tokens: completionTokens,
        total_tokens: job.promptTokens + completionTokens,
      },
    });
    return;
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (payload: unknown): void => {
    if (!res.writableEnded) res.write(`data: ${JSON.stringify(payload)}\n\n`);
  };
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): void =>
    send({ id, object: 'chat.completion.chunk', created, model: engine.modelId, choices, ...extra });
  const delta = (index: number, content: Record<string, string>): void =>
    chunk([{ index, delta: content, logprobs: null, finish_reason: null }]);

  for (let index = 0; index < n; index++) delta(index, { role: 'assistant', content: '' });
  try {
    const results = await runChoices(engine, job, n, abandoned.signal, (index) => ({
      onContent: (text) => delta(index, { content: text }),
      onReasoning: (text) => delta(index, { reasoning_content: text }),
    }));
    results.forEach((result, index) =>
      chunk([{ index, delta: {}, logprobs: null, finish_reason: result.finishReason }]),
    );
    if (request.stream_options?.include_usage) {
      const completionTokens = results.reduce((sum, result) => sum + result.completionTokens, 0);
      chunk([], {
        usage: {
          prompt_tokens: job.promptTokens,
          completion_tokens: completionTokens,
          total_tokens: job.promptTokens + completionTokens,
        },
      });
    }
  } catch (error) {
    if (abandoned.signal.aborted) return;
    const failure = error instanceof HttpError ? error : new HttpError(500, errorMessage(error), 'engine_error');
    send(errorBody(failure));
  }
  if (!res.writableEnded) res.end('data: [DONE]\n\n');
}

function createHandler(engine: Engine, token: string, log: (line: string) => void) {
  const expected = tokenDigest(token);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (!authorized(req, expected)) {
        throw new HttpError(401, 'Missing or wrong bearer token.', 'invalid_api_key', 'authentication_error');
      }
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
      const method = req.method ?? 'GET';
      if (path === '/health' && method === 'GET') return sendJson(res, 200, engine.health());
      if (path === '/v1/models' && method === 'GET') {
        return sendJson(res, 200, { object: 'list', data: [modelEntry(engine.modelId)] });
      }
      if (path === `/v1/models/${encodeURIComponent(engine.modelId)}` && method === 'GET') {
        return sendJson(res, 200, modelEntry(engine.modelId));
      }
      if (path === '/v1/chat/completions' && method === 'POST') return await chatCompletions(engine, req, res);
      throw new HttpError(404, `No route for ${method} ${path || '/'}.`, 'not_found');
    } catch (error) {
      if (res.headersSent || res.destroyed) return;
      if (error instanceof HttpError) return sendJson(res, error.status, errorBody(error));
      // A cancelled client never reads the answer; anything else is the engine's fault.
      log(`request failed: ${errorMessage(error)}`);
      sendJson(res, 500, errorBody(new HttpError(500, errorMessage(error), 'engine_error')));
    }
  };
}

function modelEntry(id: string): { id: string; object: 'model'; created: number; owned_by: string } {
  return { id, object: 'model', created: 0, owned_by: 'embedded' };
}

// ---- start-up ----

function printLine(line: ReadyLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function logLine(line: string): void {
  process.stderr.write(`${line.replace(/\s+$/, '')}\n`);
}

/** No orphans: the host holds our stdin open, and a parent that dies closes it (or changes our ppid). */
function watchParent(): void {
  const parent = process.ppid;
  const leave = (): never => process.exit(0);
  process.stdin.on('end', leave);
  process.stdin.on('close', leave);
  process.stdin.on('error', leave);
  process.stdin.resume();
  setInterval(() => {
    if (process.ppid !== parent) leave();
  }, PARENT_POLL_MS).unref();
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function main(): Promise<void> {
  let settings: EngineSettings;
  try {
    settings = parseEngineSettings(process.argv.slice(2), process.env);
  } catch (error) {
    const message = error instanceof z.ZodError ? issueText(error, '(settings)') : errorMessage(error);
    printLine({ error: `invalid engine settings: ${message}` });
    process.exit(2);
  }
  if (settings.watchParent) watchParent();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));

  let engine: Engine;
  try {
    engine = await loadEngine(settings, logLine);
  } catch (error) {
    printLine({ error: `could not load the model ${settings.modelPath}: ${errorMessage(error)}` });
    process.exit(1);
  }

  const ownToken = settings.token === undefined;
  const token = settings.token ?? randomBytes(24).toString('base64url');
  const handler = createHandler(engine, token, logLine);
  const server = createServer((req, res) => void handler(req, res));
  let port: number;
  try {
    port = await listen(server, settings.port);
  } catch (error) {
    printLine({ error: `could not listen on 127.0.0.1:${settings.port}: ${errorMessage(error)}` });
    process.exit(1);
  }
  printLine({ ready: true, port, model: engine.modelId, threads: settings.threads, backend: engine.backend, ...(ownToken ? { token } : {}) });
}

void main();
