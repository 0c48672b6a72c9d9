// The extension's settings, read through one zod schema per setting. No vscode import: the caller passes a getter,
// so the validation runs under plain Node in tests. An invalid value names the setting and says what it must be.
// The method's settings are the run config's own fields and the engine's share its limits, so their bounds are
// written once; package.json's contribution is held to this table by test/unit/vscode/package-settings.test.ts.
import path from 'node:path';
import { z } from 'zod';
import { GenerationSamplingSchema, JudgeSamplingSchema, RunConfigSchema, type RunConfigInput } from '../../core/base/config';
import { SvdError } from '../../core/base/errors';
import { issueText } from '../../core/base/zodIssues';
import { EndpointListSchema, type EndpointEntry } from '../../core/method/endpointsFile';
import { ENGINE_LIMITS, GpuChoiceSchema, type GpuChoice } from '../../engine/protocol';

const url = z
  .string()
  .trim()
  .refine((value) => value === '' || /^https?:\/\/[^\s]+$/i.test(value), 'must be an http(s) URL such as http://localhost:8000/v1, or empty for the embedded engine')
  // Settings are plain files (often in a repository): a password there is no secret, and it would reach the CLI's
  // arguments, which any process can read.
  .refine(
    (value) => !/^https?:\/\/[^/?#]*@/i.test(value),
    'must not hold credentials (user:password@): remove them and store the key with "SVD: Set API Key"',
  );

const run = RunConfigSchema.shape;
const generation = GenerationSamplingSchema.shape;
const judge = JudgeSamplingSchema.shape;

/** Each setting (its key without `svd.`) and what it may be. */
export const SETTING_SCHEMAS = {
  'endpoint.baseUrl': url.default(''),
  'endpoint.model': z.string().trim().default(''),
  endpoints: EndpointListSchema.default([]),
  candidates: run.candidates,
  votes: run.votes,
  concurrency: run.concurrency,
  selection: run.selection,
  'generation.temperature': generation.temperature,
  'generation.topP': generation.topP,
  'generation.maxTokens': generation.maxTokens,
  'judge.temperature': judge.temperature,
  'judge.topP': judge.topP,
  'judge.maxTokens': judge.maxTokens,
  promptsFolder: z.string().trim().default(''),
  runsFolder: z.string().trim().min(1, 'must name a folder').default('.svd/runs'),
  'engine.modelPath': z.string().trim().default(''),
  'engine.threads': z.number().int().min(0).max(ENGINE_LIMITS.threads).default(0),
  'engine.parallelSequences': z.number().int().min(1).max(ENGINE_LIMITS.parallel).default(2),
  'engine.contextSize': z.number().int().min(0).max(ENGINE_LIMITS.contextSize).default(0),
  'engine.gpu': GpuChoiceSchema.default('auto'),
  'train.python': z.string().trim().default(''),
  'train.customCommand': z.array(z.string()).default([]),
  'train.baseUrl': url.default(''),
  'train.pollInterval': z.number().min(0.1).max(3600).default(5),
  'decontaminate.against': z.array(z.string().trim().min(1, 'must name a file')).default([]),
  'decontaminate.drop': z.boolean().default(true),
  'publish.hubUrl': url.default(''),
  'budget.maxCost': z.number().min(0).default(0),
  prices: z.string().trim().default(''),
} as const;

/**
 * The settings cannot be used: no folder is open (runs are kept in it), or a setting is invalid. A `bad_config`
 * error, reported with a button to the settings; a command that meets one declines for `reason`.
 */
export class SettingsError extends SvdError {
  constructor(
    readonly reason: 'no_workspace' | 'invalid_settings',
    message: string,
  ) {
    super('bad_config', message);
  }
}

type SettingKey = keyof typeof SETTING_SCHEMAS;
type SettingValues = { [K in SettingKey]: z.output<(typeof SETTING_SCHEMAS)[K]> };

export const SETTING_KEYS = Object.keys(SETTING_SCHEMAS) as SettingKey[];

export interface ExtensionSettings {
  /** Undefined: the embedded engine. */
  baseUrl?: string;
  model?: string;
  /** Several servers for a run (with or instead of baseUrl); keys by environment variable name or SecretStorage. */
  endpoints?: EndpointEntry[];
  config: RunConfigInput;
  runsDir: string;
  engine: { modelPath?: string; threads?: number; parallel: number; contextSize?: number; gpu: GpuChoice };
  train: { python?: string; customCommand: string[]; baseUrl?: string; pollMs: number };
  /** Evaluation files a new run's seeds are checked against, and whether the seeds that match are left out. */
  decontaminate: { against: string[]; drop: boolean };
  /** Undefined: the Hugging Face Hub. */
  publish: { hubUrl?: string };
  /** A run's cost budget in USD (undefined: none) and its price table (undefined: the CLI's default). */
  cost?: { maxCost?: number; prices?: string };
}

/** Reads and checks every setting; `get` returns the user's value or undefined. */
export function readSettings(get: (key: string) => unknown, workspaceRoot: string): ExtensionSettings {
  const values = {} as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of SETTING_KEYS) {
    const result = SETTING_SCHEMAS[key].safeParse(get(key) ?? undefined);
    if (result.success) values[key] = result.data;
    // svd.endpoints may hold a key put there by mistake: its value is not repeated.
    else problems.push(`svd.${key}: ${issueText(result.error, '')}${key === 'endpoints' ? '' : ` (got ${JSON.stringify(get(key))})`}`);
  }
  if (problems.length > 0) {
    throw new SettingsError('invalid_settings', `Invalid setting ${problems.join('; ')}. Fix it in Settings (search "svd.").`);
  }
  const v = values as SettingValues;
  const inWorkspace = (p: string) => (path.isAbsolute(p) ? p : path.join(workspaceRoot, p));
  return {
    baseUrl: v['endpoint.baseUrl'] || undefined,
    model: v['endpoint.model'] || undefined,
    endpoints: v.endpoints,
    config: {
      candidates: v.candidates,
      votes: v.votes,
      concurrency: v.concurrency,
      selection: v.selection,
      generation: { temperature: v['generation.temperature'], topP: v['generation.topP'], maxTokens: v['generation.maxTokens'] },
      judge: { temperature: v['judge.temperature'], topP: v['judge.topP'], maxTokens: v['judge.maxTokens'] },
      promptsDir: v.promptsFolder ? inWorkspace(v.promptsFolder) : undefined,
    },
    runsDir: inWorkspace(v.runsFolder),
    engine: {
      modelPath: v['engine.modelPath'] ? inWorkspace(v['engine.modelPath']) : undefined,
      threads: v['engine.threads'] || undefined,
      parallel: v['engine.parallelSequences'],
      contextSize: v['engine.contextSize'] || undefined,
      gpu: v['engine.gpu'],
    },
    train: {
      python: v['train.python'] || undefined,
      customCommand: v['train.customCommand'],
      baseUrl: v['train.baseUrl'] || undefined,
      pollMs: Math.round(v['train.pollInterval'] * 1000),
    },
    decontaminate: { against: v['decontaminate.against'].map(inWorkspace), drop: v['decontaminate.drop'] },
    publish: { ...(v['publish.hubUrl'] ? { hubUrl: v['publish.hubUrl'] } : {}) },
    cost: { ...(v['budget.maxCost'] > 0 ? { maxCost: v['budget.maxCost'] } : {}), ...(v.prices ? { prices: inWorkspace(v.prices) } : {}) },
  };
}
