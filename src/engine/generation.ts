// The embedded engine's generation: the model and its context, a pool of sequences that choices take turns on, and
// one request's generation (sampling, stop strings, structured output checked against its schema). server.ts
// serves it over HTTP.
import { randomInt } from 'node:crypto';
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
import { issueText } from '../core/base/zodIssues';
import { openBackend, type BackendPort } from './backend';
import { messageText, modelIdFromPath, type Backend, type ChatCompletionRequest, type EngineSettings, type Health } from './protocol';

const GRAMMAR_CACHE_SIZE = 32;
/** Tries per choice when structured output fails validation and sampling is random. */
const STRUCTURED_ATTEMPTS = 3;
const DEFAULT_CONTEXT_SIZE = 4096;

/** ESM-only, so a real dynamic import; esbuild leaves it as is because node-llama-cpp is external to the bundle. */
export async function loadNodeLlamaCpp(): Promise<typeof NodeLlamaCpp> {
  return await import('node-llama-cpp');
}

/** node-llama-cpp's binaries behind the backend port: prebuilt only, with llama.cpp's warnings sent to `log`. */
export function llamaPort(llamaCpp: typeof NodeLlamaCpp, threads: number, log: (line: string) => void): BackendPort<Llama> {
  return {
    open: (gpu) =>
      llamaCpp.getLlama({
        gpu,
        // Never a build from source: it needs a toolchain and minutes, and would start unasked.
        build: 'never',
        progressLogs: false,
        maxThreads: threads,
        logLevel: llamaCpp.LlamaLogLevel.warn,
        logger: (level, message) => log(`[llama.cpp ${level}] ${message}`),
      }),
    kind: (llama) => llama.gpu,
    devices: (llama) => llama.getGpuDeviceNames(),
    close: (llama) => llama.dispose(),
  };
}

/** A failure answered in OpenAI's error shape, with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly type = status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
  }
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

export interface Job {
  history: ChatHistoryItem[];
  promptTokens: number;
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number | undefined;
  stop: string[];
  structured: StructuredOutput | undefined;
}

export interface ChoiceResult {
  content: string;
  reasoning: string;
  finishReason: 'stop' | 'length';
  completionTokens: number;
}

export interface ChoiceStream {
  onContent(text: string): void;
  onReasoning(text: string): void;
}

export class Engine {
  private readonly grammars = new Map<string, StructuredOutput>();

  constructor(
    readonly settings: EngineSettings,
    /** Tokens per sequence, as created. */
    readonly contextSize: number,
    readonly modelId: string,
    readonly backend: Backend,
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
    return { ok: true, model: this.modelId, threads: this.settings.threads, backend: this.backend, sequences: this.pool.stats() };
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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Loads the model on the backend the settings ask for (the CPU when that GPU fails), makes the sequences and runs
 * one token through them; `log` hears llama.cpp's warnings and why a GPU was not used. */
export async function loadEngine(settings: EngineSettings, log: (line: string) => void): Promise<Engine> {
  const llamaCpp = await loadNodeLlamaCpp();
  const port = llamaPort(llamaCpp, settings.threads, log);
  const opened = await openBackend(settings.gpu, settings.threads, port, (llama) => loadOn(llamaCpp, llama, settings), log);
  const { model, first, slots } = opened.value;
  const modelId = settings.modelName ?? modelIdFromPath(settings.modelPath);
  return new Engine(settings, first.sequence.contextSize, modelId, opened.backend, opened.llama, model, new SequencePool(slots), first.chat);
}

async function loadOn(
  llamaCpp: typeof NodeLlamaCpp,
  llama: Llama,
  settings: EngineSettings,
): Promise<{ model: LlamaModel; first: Slot; slots: Slot[] }> {
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
  // use does it here, where the host reports a bad model instead of a server that died mid-run (and a GPU that
  // cannot run the model fails here, where the CPU can take over).
  await first.chat.generateResponse(
    [
      { type: 'user', text: 'hi' },
      { type: 'model', response: [] },
    ],
    { maxTokens: 1, temperature: 0 },
  );
  await first.sequence.clearHistory();
  return { model, first, slots };
}
