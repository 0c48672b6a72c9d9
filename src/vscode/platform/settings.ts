// The extension's settings, read through one zod schema. No vscode import: the caller passes a getter, so the
// validation runs under plain Node in tests. An invalid value names the setting and says what it must be.
import path from 'node:path';
import { z } from 'zod';
import type { RunConfigInput } from '../../core/base/config';
import { SvdError } from '../../core/base/errors';
import { issueText } from '../../core/base/zodIssues';

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

const SETTINGS = {
  'endpoint.baseUrl': url.default(''),
  'endpoint.model': z.string().trim().default(''),
  candidates: z.number().int().min(1).max(64).default(4),
  votes: z.number().int().min(1).max(32).default(3),
  concurrency: z.number().int().min(1).max(1024).default(8),
  selection: z.enum(['first_valid', 'keep_all']).default('first_valid'),
  'generation.temperature': z.number().min(0).max(2).default(0.8),
  'generation.topP': z.number().gt(0).max(1).default(0.95),
  'generation.maxTokens': z.number().int().min(16).default(16384),
  'judge.temperature': z.number().min(0).max(2).default(0.6),
  'judge.topP': z.number().gt(0).max(1).default(0.95),
  'judge.maxTokens': z.number().int().min(16).default(8192),
  promptsFolder: z.string().trim().default(''),
  runsFolder: z.string().trim().min(1, 'must name a folder').default('.svd/runs'),
  'engine.modelPath': z.string().trim().default(''),
  'engine.threads': z.number().int().min(0).default(0),
  'engine.parallelSequences': z.number().int().min(1).max(64).default(2),
  'engine.contextSize': z.number().int().min(0).default(0),
  'train.python': z.string().trim().default(''),
  'train.customCommand': z.array(z.string()).default([]),
  'train.baseUrl': url.default(''),
  'train.pollInterval': z.number().min(0.1).max(3600).default(5),
} as const;

type SettingKey = keyof typeof SETTINGS;
type SettingValues = { [K in SettingKey]: z.output<(typeof SETTINGS)[K]> };

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export interface ExtensionSettings {
  /** Undefined: the embedded engine. */
  baseUrl?: string;
  model?: string;
  config: RunConfigInput;
  runsDir: string;
  engine: { modelPath?: string; threads?: number; parallel: number; contextSize?: number };
  train: { python?: string; customCommand: string[]; baseUrl?: string; pollMs: number };
}

/** Reads and checks every setting; `get` returns the user's value or undefined. */
export function readSettings(get: (key: string) => unknown, workspaceRoot: string): ExtensionSettings {
  const values = {} as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of SETTING_KEYS) {
    const result = SETTINGS[key].safeParse(get(key) ?? undefined);
    if (result.success) values[key] = result.data;
    else problems.push(`svd.${key}: ${issueText(result.error, '')} (got ${JSON.stringify(get(key))})`);
  }
  if (problems.length > 0) {
    throw new SvdError('bad_config', `Invalid setting ${problems.join('; ')}. Fix it in Settings (search "svd.").`);
  }
  const v = values as SettingValues;
  const inWorkspace = (p: string) => (path.isAbsolute(p) ? p : path.join(workspaceRoot, p));
  return {
    baseUrl: v['endpoint.baseUrl'] || undefined,
    model: v['endpoint.model'] || undefined,
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
    },
    train: {
      python: v['train.python'] || undefined,
      customCommand: v['train.customCommand'],
      baseUrl: v['train.baseUrl'] || undefined,
      pollMs: Math.round(v['train.pollInterval'] * 1000),
    },
  };
}
