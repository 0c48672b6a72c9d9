// The embedded engine's child process: loads a GGUF with llama.cpp (node-llama-cpp) and serves the OpenAI chat
// protocol on 127.0.0.1. It runs apart from the CLI and the extension host because a malformed model file can
// abort the whole process. Its first stdout line is the ready line the host waits for (see protocol.ts).
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  ChatHistoryItem,
  GbnfJsonSchema,
  Llama,
  LlamaChat,
  LlamaChatResponseChunk,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import type * as NodeLlamaCpp from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import { z } from 'zod';
import {
  ChatCompletionRequestSchema,
  type ChatCompletionRequest,
  type EngineSettings,
  type Health,
  messageText,
  modelIdFromPath,
  parseEngineSettings,
  type ReadyLine,
} from './protocol';
import { issueText } from '../core/base/zodIssues';

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const GRAMMAR_CACHE_SIZE = 32;
/** Tries per choice when structured output fails validation and sampling is random. */
const STRUCTURED_ATTEMPTS = 3;
const PARENT_POLL_MS = 1000;
const DEFAULT_CONTEXT_SIZE = 4096;

/** ESM-only, so a real dynamic import; esbuild leaves it as is because node-llama-cpp is external to the bundle. */
async function loadNodeLlamaCpp(): Promise<typeof NodeLlamaCpp> {
  return await import('node-llama-cpp');
}

// ---- errors answered in OpenAI's shape ----

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly type = status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function errorBody(error: HttpError): { error: { message: string; type: string; code: string; param: null } } {
  return { error: { message: error.message, type: error.type, code: error.code, param: null } };
}

// ---- a pool of sequences: each choice holds one while it generates, the rest wait in turn ----

interface Slot {
  sequence: LlamaContextSequence;
  chat: LlamaChat;
}

interface Waiter {
  grant(slot: Slot): void;
}

class SequencePool {
  private readonly free: Slot[];
  private readonly waiting: Waiter[] = [];

  constructor(private readonly slots: readonly Slot[]) {
    this.free = [...slots];
  }

  acquire(signal: AbortSignal): Promise<Slot> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (granted) => {
          signal.removeEventListener('abort', onAbort);
          resolve(granted);
        },
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next.grant(slot);
    else this.free.push(slot);
  }

  stats(): Health['sequences'] {
    return { total: this.slots.length, busy: this.slots.length - this.free.length, queued: this.waiting.length };
  }
}

// ---- the engine: model, context, pool, and one request's generation ----

type Validator = (parsed: unknown) => string | undefined;

interface StructuredOutput {
  grammar: LlamaGrammar;
  validate: Validator;
}

interface Job {
  history: ChatHistoryItem[];
  promptTokens: number;
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number | undefined;
  stop: string[];
  structured: StructuredOutput | undefined;
}

interface ChoiceResult {
  content: string;
  reasoning: string;
  finishReason: 'stop' | 'length';
  completionTokens: number;
}

interface ChoiceStream {
  onContent(text: string): void;
  onReasoning(text: string): void;
}

class Engine {
  private readonly grammars = new Map<string, StructuredOutput>();

  constructor(
    readonly settings: EngineSettings,
    /** Tokens per sequence, as created. */
    readonly contextSize: number,
    readonly modelId: string,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    readonly pool: SequencePool,
    private readonly chatForCounting: LlamaChat,
  ) {}

  /** Turns a validated request into generation parameters; throws HttpError 400 for what cannot be served. */
  async prepare(request: ChatCompletionRequest): Promise<Job> {
    const history: ChatHistoryItem[] = request.messages.map((message): ChatHistoryItem => {
      const text = messageText(message);
      if (message.role === 'assistant') return { type: 'model', response: [text] };
      if (message.role === 'user') return { type: 'user', text };
      return { type: 'system', text };
    });
    history.push({ type: 'model', response: [] });

    const prompt = this.chatForCounting.chatWrapper.generateContextState({ chatHistory: history });
    const promptTokens = prompt.contextText.tokenize(this.model.tokenizer).length;
    const room = this.contextSize - promptTokens;
    if (room < 1) {
      throw new HttpError(
        400,
        `The prompt is ${promptTokens} tokens; the engine's context holds ${this.contextSize} per sequence.`,
        'context_length_exceeded',
      );
    }
    const requested = request.max_completion_tokens ?? request.max_tokens ?? Number.POSITIVE_INFINITY;
    const maxTokens = Math.min(requested, room, this.settings.maxTokens ?? Number.POSITIVE_INFINITY);
    const stop = request.stop == null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop;

    return {
      history,
      promptTokens,
      maxTokens,
      temperature: request.temperature ?? 1,
      topP: request.top_p ?? 1,
      seed: request.seed ?? undefined,
      stop,
      structured: await this.structuredOutput(request.response_format),
    };
  }

  private async structuredOutput(
    format: ChatCompletionRequest['response_format'],
  ): Promise<StructuredOutput | undefined> {
    if (format == null || format.type === 'text') return undefined;
    const key = format.type === 'json_object' ? 'json_object' : JSON.stringify(format.json_schema.schema);
    const cached = this.grammars.get(key);
    if (cached) return cached;

    let structured: StructuredOutput;
    if (format.type === 'json_object') {
      const grammar = await this.llama.getGrammarFor('json');
      const isObject = (parsed: unknown): boolean =>
        typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      structured = { grammar, validate: (parsed) => (isObject(parsed) ? undefined : 'not a JSON object') };
    } else {
      const schema = format.json_schema.schema;
      try {
        // The grammar constrains the shape; the library rejects schema features it cannot express.
        const grammar = await this.llama.createGrammarForJsonSchema<GbnfJsonSchema>(schema as GbnfJsonSchema);
        structured = { grammar, validate: schemaValidator(schema, (text) => grammar.parse(text)) };
      } catch (error) {
        const message = `response_format.json_schema cannot be served: ${errorMessage(error)}`;
        throw new HttpError(400, message, 'invalid_json_schema');
      }
    }
    if (this.grammars.size >= GRAMMAR_CACHE_SIZE) {
      const oldest = this.grammars.keys().next();
      if (!oldest.done) this.grammars.delete(oldest.value);
    }
    this.grammars.set(key, structured);
    return structured;
  }

  /** Generates choice `index` on the first free sequence; rejects with the signal's reason once it fires. */
  async generate(job: Job, index: number, signal: AbortSignal, stream?: ChoiceStream): Promise<ChoiceResult> {
    const slot = await this.pool.acquire(signal);
    try {
      // A fixed request seed still gives each choice its own sample.
      const baseSeed = job.seed === undefined ? randomInt(0, 2 ** 31) : (job.seed + index) >>> 0;
      const randomSampling = job.temperature > 0;
      const attempts = job.structured && randomSampling && !stream ? STRUCTURED_ATTEMPTS : 1;
      let problem = '';
      for (let attempt = 0; attempt < attempts; attempt++) {
        const result = await this.generateOnce(slot, job, (baseSeed + attempt * 7919) >>> 0, signal, stream);
        if (!job.structured || result.finishReason === 'length') return result;
        problem = checkStructured(result.content, job.structured.validate);
        if (problem === '') return result;
      }
      const message = `The model's output did not match response_format: ${problem}`;
      throw new HttpError(500, message, 'invalid_structured_output');
    } finally {
      this.pool.release(slot);
    }
  }

  private async generateOnce(
    slot: Slot,
    job: Job,
    seed: number,
    signal: AbortSignal,
    stream: ChoiceStream | undefined,
  ): Promise<ChoiceResult> {
    // Counted from what is returned: the sequence's token meter counts decode steps, which can be many more
    // (24 for a grammar-bound "{}").
    let completionTokens = 0;
    const onResponseChunk = (chunk: LlamaChatResponseChunk): void => {
      completionTokens += chunk.tokens.length;
      if (!stream || chunk.text === '') return;
      if (chunk.type === undefined) stream.onContent(chunk.text);
      else if (chunk.segmentType === 'thought') stream.onReasoning(chunk.text);
    };
    const response = await slot.chat.generateResponse(structuredClone(job.history), {
      maxTokens: job.maxTokens,
      temperature: job.temperature,
      topP: job.topP,
      seed,
      customStopTriggers: job.stop,
      grammar: job.structured?.grammar,
      signal,
      onResponseChunk,
      // max_tokens is the only cap an OpenAI client expects, thinking included.
      budgets: { thoughtTokens: Number.POSITIVE_INFINITY, commentTokens: Number.POSITIVE_INFINITY },
    });
    if (signal.aborted) throw signal.reason;
    const reasoning = response.fullResponse
      .map((part) => (typeof part !== 'string' && part.segmentType === 'thought' ? part.text : ''))
      .join('');
    return {
      content: response.response,
      reasoning,
      finishReason: response.metadata.stopReason === 'maxTokens' ? 'length' : 'stop',
      completionTokens,
    };
  }

  health(): Health {
    return { ok: true, model: this.modelId, threads: this.settings.threads, sequences: this.pool.stats() };
  }
}

/** Validates parsed structured output against the request's JSON schema (the grammar leaves ranges unchecked). */
function schemaValidator(schema: Record<string, unknown>, grammarParse: (text: string) => unknown): Validator {
  let zodSchema: z.ZodType | undefined;
  try {
    zodSchema = z.fromJSONSchema(schema);
  } catch {
    zodSchema = undefined;
  }
  return (parsed) => {
    try {
      grammarParse(JSON.stringify(parsed));
    } catch (error) {
      return errorMessage(error);
    }
    if (!zodSchema) return undefined;
    const result = zodSchema.safeParse(parsed);
    return result.success ? undefined : issueText(result.error, '(body)');
  };
}

/** '' when the text parses and validates, else the problem. */
function checkStructured(text: string, validate: Validator): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `not JSON (${errorMessage(error)})`;
  }
  return validate(parsed) ?? '';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

async function loadEngine(settings: EngineSettings): Promise<Engine> {
  const llamaCpp = await loadNodeLlamaCpp();
  const llama = await llamaCpp.getLlama({
    gpu: false,
    build: 'never',
    maxThreads: settings.threads,
    logLevel: llamaCpp.LlamaLogLevel.warn,
    logger: (level, message) => logLine(`[llama.cpp ${level}] ${message}`),
  });
  const model = await llama.loadModel({ modelPath: settings.modelPath });
  const context = await model.createContext({
    contextSize: settings.contextSize ?? Math.min(DEFAULT_CONTEXT_SIZE, model.trainContextSize),
    sequences: settings.parallel,
    threads: settings.threads,
  });
  const slots: Slot[] = [];
  for (let i = 0; i < settings.parallel; i++) {
    const sequence = context.getSequence();
    slots.push({ sequence, chat: new llamaCpp.LlamaChat({ contextSequence: sequence }) });
  }
  const first = slots[0];
  if (!first) throw new Error('no sequence could be created');
  // Chat wrappers made and one token through the whole stack before "ready": a file that crashes llama.cpp on first
  // use does it here, where the host reports a bad model instead of a server that died mid-run.
  await first.chat.generateResponse(
    [
      { type: 'user', text: 'hi' },
      { type: 'model', response: [] },
    ],
    { maxTokens: 1, temperature: 0 },
  );
  await first.sequence.clearHistory();
  const modelId = settings.modelName ?? modelIdFromPath(settings.modelPath);
  return new Engine(settings, first.sequence.contextSize, modelId, llama, model, new SequencePool(slots), first.chat);
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
    const message = error instanceof z.ZodError ? issueText(error, '(body)') : errorMessage(error);
    printLine({ error: `invalid engine settings: ${message}` });
    process.exit(2);
  }
  if (settings.watchParent) watchParent();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));

  let engine: Engine;
  try {
    engine = await loadEngine(settings);
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
  printLine({ ready: true, port, model: engine.modelId, threads: settings.threads, ...(ownToken ? { token } : {}) });
}

void main();
