// The method's parameters: one zod schema, defaults from the method (ALGORITHM.md), a `paper` preset.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SvdError } from './errors';
import { issueText } from './zodIssues';

// The bounds here are the only ones: the editor's settings are built from these fields, and a test holds the
// settings' contribution in package.json to them.
const sampling = (temperature: number, maxTokens: number) =>
  z.object({
    temperature: z.number().min(0).max(2).default(temperature),
    topP: z.number().gt(0).max(1).default(0.95),
    maxTokens: z.number().int().min(16).max(1_000_000).default(maxTokens),
  });

/** Sampling of candidates. */
export const GenerationSamplingSchema = sampling(0.8, 16384);
/** Sampling of judge votes. */
export const JudgeSamplingSchema = sampling(0.6, 8192);

/** Seed questions and model responses are untrusted text: past these sizes (UTF-8 bytes) they are not taken whole. */
export const DEFAULT_MAX_QUESTION_BYTES = 256 * 1024;
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export const RunConfigSchema = z.object({
  /** n: candidate solutions per seed. */
  candidates: z.number().int().min(1).max(64).default(4),
  /** v: judge samples per stage; a stage passes only when all v say yes. */
  votes: z.number().int().min(1).max(32).default(3),
  selection: z.enum(['first_valid', 'keep_all']).default('first_valid'),
  generation: GenerationSamplingSchema.prefault({}),
  judge: JudgeSamplingSchema.prefault({}),
  /** Model requests in flight at once. */
  concurrency: z.number().int().min(1).max(1024).default(8),
  requestTimeoutMs: z.number().int().min(1000).default(600_000),
  maxRetries: z.number().int().min(0).max(20).default(5),
  /** Ask for n samples in one request (`n`); off for servers that ignore or reject it. */
  batchSamples: z.boolean().default(true),
  /**
   * auto (also when absent): when a seed carries gold, each valid candidate is checked against it and the result
   * recorded (a `truth` event), for measuring the judges. It never changes what the method accepts. off: never.
   */
  audit: z.enum(['auto', 'off']).optional(),
  /** A folder whose `<domain>/<template>.md` files replace the built-in prompts. */
  promptsDir: z.string().optional(),
  /**
   * A seed whose question is longer (UTF-8 bytes) is a bad row (`file:line`), so one huge row cannot swell every
   * prompt. Absent: DEFAULT_MAX_QUESTION_BYTES.
   */
  maxQuestionBytes: z.number().int().min(1024).max(64 * 1024 * 1024).optional(),
  /** A response (its text, and its reasoning) longer than this is stored cut, with a marker. Absent: the default. */
  maxResponseBytes: z.number().int().min(1024).max(256 * 1024 * 1024).optional(),
});

export type RunConfig = z.infer<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;

export const PRESETS = {
  default: {},
  paper: { candidates: 8, votes: 5 },
} satisfies Record<string, RunConfigInput>;
export type PresetName = keyof typeof PRESETS;

/** Validates user input into a config; the error names each bad field and what it must be. */
export function parseRunConfig(input: unknown, source = 'config'): RunConfig {
  const result = RunConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new SvdError('bad_config', `${source}: ${issueText(result.error)}`);
}

/**
 * The parameters that decide what a run produces. Concurrency, timeouts and retries change only how fast it goes,
 * and the audit only measures, so a run may be resumed with other values for them.
 */
export function methodFingerprint(config: RunConfig, model: string, promptsHash: string): string {
  const identity = {
    model,
    candidates: config.candidates,
    votes: config.votes,
    selection: config.selection,
    generation: config.generation,
    judge: config.judge,
    prompts: promptsHash,
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}
