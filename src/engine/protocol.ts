// What crosses the embedded engine's process boundaries, validated on arrival: the OpenAI request bodies the
// server accepts, the settings the host hands the child (environment and argv), and the child's ready line.
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';

// ---- HTTP: POST /v1/chat/completions ----

const TextPartSchema = z.object({ type: z.literal('text'), text: z.string() });

export const ChatMessageSchema = z.object({
  // `developer` is the newer name some clients send for `system`.
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(TextPartSchema)]).nullable(),
});
export type ChatMessageBody = z.infer<typeof ChatMessageSchema>;

export const ResponseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().optional(),
      schema: z.record(z.string(), z.unknown()),
      strict: z.boolean().nullish(),
    }),
  }),
]);
export type ResponseFormat = z.infer<typeof ResponseFormatSchema>;

/** Sampling fields beyond these (logprobs, tools, ...) are ignored, as most local servers do. */
export const ChatCompletionRequestSchema = z.object({
  model: z.string().optional(),
  messages: z.array(ChatMessageSchema).min(1),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(16)]).nullish(),
  seed: z.number().int().nullish(),
  n: z.number().int().min(1).max(64).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  response_format: ResponseFormatSchema.nullish(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

/** The flat text of a message; parts are joined because the engine only reads text. */
export function messageText(message: ChatMessageBody): string {
  if (message.content === null) return '';
  if (typeof message.content === 'string') return message.content;
  return message.content.map((part) => part.text).join('');
}

// ---- host -> child settings ----

/** Environment variables the host sets for the child; argv flags of the same meaning override them. */
export const ENGINE_ENV = {
  model: 'SVD_ENGINE_MODEL',
  modelName: 'SVD_ENGINE_MODEL_NAME',
  port: 'SVD_ENGINE_PORT',
  token: 'SVD_ENGINE_TOKEN',
  threads: 'SVD_ENGINE_THREADS',
  contextSize: 'SVD_ENGINE_CONTEXT_SIZE',
  parallel: 'SVD_ENGINE_PARALLEL',
  maxTokens: 'SVD_ENGINE_MAX_TOKENS',
  gpu: 'SVD_ENGINE_GPU',
  watchParent: 'SVD_ENGINE_WATCH_PARENT',
} as const;

const positiveInt = z.coerce.number().int().min(1);

/** The engine's upper bounds, which the editor's settings share (there 0 also means "the engine's default"). */
export const ENGINE_LIMITS = { threads: 1024, contextSize: 1_048_576, parallel: 64 } as const;

/**
 * Where the engine computes: `auto` takes the best GPU this machine has (Metal on Apple silicon, else CUDA, then
 * Vulkan) and the CPU without one; a named GPU is used when it loads, else the CPU, saying why; `off` is the CPU.
 * The one list: the CLI's `--gpu` and the editor's `svd.engine.gpu` are built from it.
 */
export const GPU_CHOICES = ['auto', 'cuda', 'vulkan', 'metal', 'off'] as const;
export const GpuChoiceSchema = z.enum(GPU_CHOICES);
export type GpuChoice = z.infer<typeof GpuChoiceSchema>;
export type GpuKind = Exclude<GpuChoice, 'auto' | 'off'>;

export const EngineSettingsSchema = z.object({
  modelPath: z.string().min(1, 'a model path is required (--model or SVD_ENGINE_MODEL)'),
  /** The id served at /v1/models; the file name without `.gguf` when absent. */
  modelName: z.string().min(1).optional(),
  port: z.coerce.number().int().min(0).max(65535).default(0),
  /** Every request must carry it; a random one is made (and printed in the ready line) when absent. */
  token: z.string().min(16, 'the bearer token must have at least 16 characters').optional(),
  /**
   * llama.cpp's own default (max(4, cores)) oversubscribes small machines badly (0.3 instead of 22 tokens/s on
   * 2 cores), so the real core count is the default here.
   */
  threads: positiveInt.max(ENGINE_LIMITS.threads).default(() => availableParallelism()),
  /** Tokens per sequence, prompt plus completion; default min(4096, what the model was trained on). */
  contextSize: positiveInt.max(ENGINE_LIMITS.contextSize).optional(),
  /** Sequences generating at once; further choices and requests queue. */
  parallel: positiveInt.max(ENGINE_LIMITS.parallel).default(1),
  /** Upper bound on generated tokens per choice, whatever a request asks. */
  maxTokens: positiveInt.optional(),
  gpu: GpuChoiceSchema.default('auto'),
  /** Exit when the parent goes away (stdin closes or the parent pid changes). */
  watchParent: z.boolean().default(false),
});
export type EngineSettings = z.infer<typeof EngineSettingsSchema>;

/** Reads settings from argv flags over environment variables; throws a ZodError naming the bad ones. */
export function parseEngineSettings(argv: readonly string[], env: NodeJS.ProcessEnv): EngineSettings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      model: { type: 'string' },
      'model-name': { type: 'string' },
      port: { type: 'string' },
      token: { type: 'string' },
      threads: { type: 'string' },
      'context-size': { type: 'string' },
      parallel: { type: 'string' },
      'max-tokens': { type: 'string' },
      gpu: { type: 'string' },
      'watch-parent': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  const pick = (flag: string | undefined, name: keyof typeof ENGINE_ENV): string | undefined => {
    const value = flag ?? env[ENGINE_ENV[name]];
    return value === undefined || value === '' ? undefined : value;
  };
  return EngineSettingsSchema.parse({
    modelPath: pick(values.model, 'model') ?? '',
    modelName: pick(values['model-name'], 'modelName'),
    port: pick(values.port, 'port'),
    token: pick(values.token, 'token'),
    threads: pick(values.threads, 'threads'),
    contextSize: pick(values['context-size'], 'contextSize'),
    parallel: pick(values.parallel, 'parallel'),
    maxTokens: pick(values['max-tokens'], 'maxTokens'),
    gpu: pick(values.gpu, 'gpu'),
    watchParent: values['watch-parent'] === true || env[ENGINE_ENV.watchParent] === '1',
  });
}

/** The id a model file is served under: its file name without the `.gguf` extension. */
export function modelIdFromPath(modelPath: string): string {
  return basename(modelPath).replace(/\.gguf$/i, '');
}

// ---- child -> host: the first JSON line on stdout ----

/** What the engine computes on: a GPU and its devices, or the CPU (`gpu: null`) and why, when a GPU was asked. */
export const BackendSchema = z.object({
  gpu: z.enum(['cuda', 'vulkan', 'metal']).nullable(),
  devices: z.array(z.string()),
  threads: z.number().int(),
  /** Why the CPU runs where a GPU was asked for or tried and failed. */
  fallback: z.string().optional(),
});
export type Backend = z.infer<typeof BackendSchema>;

const GPU_NAMES: Record<GpuKind, string> = { cuda: 'CUDA', vulkan: 'Vulkan', metal: 'Metal' };

export function gpuName(kind: GpuKind): string {
  return GPU_NAMES[kind];
}

/** The backend in a few words, as the CLI and the editor show it: `CPU, 2 threads`, `CUDA: NVIDIA GeForce RTX 4090`. */
export function describeBackend(backend: Backend): string {
  if (backend.gpu === null) return `CPU, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}`;
  const devices = backend.devices.length > 0 ? backend.devices.join(', ') : 'unnamed device';
  return `${gpuName(backend.gpu)}: ${devices}`;
}

export const ReadyLineSchema = z.union([
  z.object({
    ready: z.literal(true),
    port: z.number().int().min(1).max(65535),
    model: z.string(),
    threads: z.number().int(),
    backend: BackendSchema,
    /** Only when the child made its own token (nobody passed one). */
    token: z.string().optional(),
  }),
  z.object({ error: z.string() }),
]);
export type ReadyLine = z.infer<typeof ReadyLineSchema>;

/** GET /health */
export const HealthSchema = z.object({
  ok: z.boolean(),
  model: z.string(),
  threads: z.number().int(),
  backend: BackendSchema,
  sequences: z.object({ total: z.number().int(), busy: z.number().int(), queued: z.number().int() }),
});
export type Health = z.infer<typeof HealthSchema>;
