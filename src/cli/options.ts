// What several commands share: flag parsers, option groups, the method's parameters from flags and `--config`, and
// the stop signal. Each written once, so a flag means the same in every command that takes it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { z } from 'zod';
import { GenerationSamplingSchema, JudgeSamplingSchema, parseRunConfig, type RunConfig, type RunConfigInput } from '../core/base/config';
import { SvdError, describeError } from '../core/base/errors';
import { issueText } from '../core/base/zodIssues';
import { defaultRunsDir } from '../core/record/store';
import { DOMAINS, type Domain } from '../core/base/types';
import { GPU_CHOICES } from '../engine/protocol';
import type { Io } from './io';

/** Registers one command (or a few that belong together) on the program. */
export type RegisterCommand = (program: SvdCommand, io: Io, setCode: (code: number) => void) => void;

/** The program and its commands: `include` adds an option group. */
export class SvdCommand extends Command {
  override createCommand(name?: string): SvdCommand {
    return new SvdCommand(name);
  }

  include(group: (command: Command) => void): this {
    group(this);
    return this;
  }
}

export function integer(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new SvdError('bad_config', `${flag}: expected a whole number, got "${value}"`);
    return Number(value);
  };
}

export function fraction(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new SvdError('bad_config', `${flag}: expected a number, got "${value}"`);
    return n;
  };
}

/** `1,4,8` -> [1, 4, 8]. */
export function integerList(flag: string) {
  return (value: string): number[] => {
    const items = value.split(',').map((item) => item.trim());
    if (items.length === 0 || items.some((item) => !/^\d+$/.test(item) || Number(item) < 1)) {
      throw new SvdError('bad_config', `${flag}: expected whole numbers from 1 separated by commas, e.g. 1,4,8; got "${value}"`);
    }
    return items.map(Number);
  };
}

/** Commander's collector for options given more than once. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function domainOf(value: string): Domain {
  const v = value.toLowerCase();
  if ((DOMAINS as readonly string[]).includes(v)) return v as Domain;
  throw new SvdError('bad_config', `--domain: unknown domain "${value}" (expected ${DOMAINS.join(', ')})`);
}

export function runsDirOf(opts: { runsDir?: string }): string {
  return path.resolve(opts.runsDir ?? defaultRunsDir(process.cwd()));
}

export function embeddedEngineOptions(command: Command): void {
  command
    .option('--model-path <file>', 'embedded engine: a local GGUF (default: Qwen3-0.6B, downloaded once)')
    .option('--threads <n>', 'embedded engine: CPU threads (default: the core count)', integer('--threads'))
    .option('--parallel <n>', 'embedded engine: sequences generated at once', integer('--parallel'))
    .option('--context <tokens>', 'embedded engine: context size per sequence', integer('--context'))
    .addOption(
      new Option('--gpu <backend>', 'embedded engine: auto (default: the best GPU here, else the CPU), a GPU, or off').choices(GPU_CHOICES),
    );
}

export function seedReadingOptions(command: Command): void {
  command
    .option('--domain <domain>', 'domain for rows without a domain field: math, science or coding', domainOf)
    .option('--question-field <name>', 'the field that holds the question')
    .option('--prompts <dir>', 'folder of prompt templates that replace the built-in ones');
}

/** Sampling of candidates and judges, otherwise only in `--config`; the bounds are the config's own. */
export function samplingOptions(command: Command): void {
  command
    .option('--max-tokens <n>', 'most tokens a candidate may take, thinking included (default 16384)', bounded('--max-tokens', GenerationSamplingSchema.shape.maxTokens))
    .option('--judge-max-tokens <n>', 'most tokens a judge vote may take, thinking included (default 8192)', bounded('--judge-max-tokens', JudgeSamplingSchema.shape.maxTokens))
    .option('--temperature <t>', "candidates' sampling temperature (default 0.8, the method's)", bounded('--temperature', GenerationSamplingSchema.shape.temperature));
}

/** A number checked against the config field it sets, so the flag's bounds are the config's and the error names the flag. */
function bounded(flag: string, field: z.ZodType) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new SvdError('bad_config', `${flag}: expected a number, got "${value}"`);
    const checked = field.safeParse(n);
    if (!checked.success) throw new SvdError('bad_config', `${flag}: ${issueText(checked.error, '')} (got ${value})`);
    return n;
  };
}

export function requestOptions(command: Command): void {
  command
    .option('--timeout <seconds>', 'per-request timeout', integer('--timeout'))
    .option('--retries <n>', 'retries per request', integer('--retries'))
    .option('--no-batch', 'one request per sample instead of `n` samples per request');
}

/** The flags `svd run`, `svd sweep` and `svd eval` share for the method's parameters. */
export interface MethodFlags {
  concurrency?: number;
  selection?: 'first_valid' | 'keep_all';
  prompts?: string;
  config?: string;
  timeout?: number;
  retries?: number;
  batch: boolean;
  domain?: Domain;
  questionField?: string;
  maxTokens?: number;
  judgeMaxTokens?: number;
  temperature?: number;
}

/** `--config FILE`: a JSON object of the method's parameters (see RunConfigSchema); flags given too win. */
export function readConfigFile(file: string | undefined): RunConfigInput {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SvdError('bad_config', `--config: cannot read ${file}: ${describeError(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SvdError('bad_config', `${file}: not valid JSON: ${describeError(error)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SvdError('bad_config', `${file}: expected a JSON object`);
  // Validated here so that errors name the file; parsed again with the flags merged in.
  parseRunConfig(value, file);
  return value as RunConfigInput;
}

/**
 * The method's parameters, each layer over the one before: `preset` (e.g. --paper), `--config FILE`, `extra` (the
 * command's own flags), then the flags every command shares.
 */
export function methodConfig(flags: MethodFlags, extra: RunConfigInput = {}, preset: RunConfigInput = {}): RunConfig {
  const input: RunConfigInput = { ...preset, ...readConfigFile(flags.config), ...extra };
  if (flags.concurrency !== undefined) input.concurrency = flags.concurrency;
  if (flags.selection !== undefined) input.selection = flags.selection;
  if (flags.prompts !== undefined) input.promptsDir = path.resolve(flags.prompts);
  if (flags.timeout !== undefined) input.requestTimeoutMs = flags.timeout * 1000;
  if (flags.retries !== undefined) input.maxRetries = flags.retries;
  // Over `--config`'s sampling field by field, so a file's top_p stays when a flag sets the length.
  if (flags.maxTokens !== undefined || flags.temperature !== undefined) {
    input.generation = {
      ...input.generation,
      ...(flags.maxTokens !== undefined ? { maxTokens: flags.maxTokens } : {}),
      ...(flags.temperature !== undefined ? { temperature: flags.temperature } : {}),
    };
  }
  if (flags.judgeMaxTokens !== undefined) input.judge = { ...input.judge, maxTokens: flags.judgeMaxTokens };
  input.batchSamples = flags.batch;
  return parseRunConfig(input, 'options');
}

/** Runs `command` with a signal that SIGINT / SIGTERM abort, so a stop leaves resumable records. */
export async function withStopSignal(command: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await command(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
