// The servers a run may use, as the user lists them: `--endpoints FILE` (a JSON array, an object with `endpoints`, or
// JSON lines), or the editor's `svd.endpoints` setting. Keys are never written here: an entry names the environment
// variable that holds its key (apiKeyEnv), so the file can be shared and committed.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SvdError, describeError } from '../base/errors';
import { issueText } from '../base/zodIssues';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const EndpointEntrySchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. http://10.0.0.2:8000/v1' })
    .refine((url) => {
      const parsed = new URL(url);
      return parsed.username === '' && parsed.password === '';
    }, 'credentials do not belong in the URL: put the key in an environment variable and name it in apiKeyEnv'),
  /** The model's name on this server; default the run's --model. */
  model: z.string().min(1).optional(),
  weight: z.number().positive().max(1000).default(1),
  maxConcurrency: z.number().int().min(1).max(1024).optional(),
  apiKeyEnv: z.string().regex(ENV_NAME, 'expected an environment variable name, e.g. REPLICA_KEY').optional(),
}, {
  error: (issue) =>
    issue.code === 'unrecognized_keys' && issue.keys.some((k) => /key|token|secret|password/i.test(k))
      ? `keys are never kept here: put the key in an environment variable and name it in apiKeyEnv (found ${issue.keys.join(', ')})`
      : undefined,
});
export type EndpointEntry = z.infer<typeof EndpointEntrySchema>;
export type EndpointEntryInput = z.input<typeof EndpointEntrySchema>;

/** The entries of the `svd.endpoints` setting (and of a file, entry by entry). */
export const EndpointListSchema = z.array(EndpointEntrySchema);

/** An endpoint ready to be asked: its key read from the environment by name. */
export interface EndpointSpec {
  url: string;
  model: string;
  weight: number;
  maxConcurrency?: number;
  apiKey?: string;
}

/** Reads and checks an endpoints file; errors say `file:line: field: problem`. */
export function readEndpointsFile(file: string): EndpointEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SvdError('bad_config', `--endpoints: cannot read ${file}: ${describeError(error)}`);
  }
  return parseEndpoints(text, file);
}

export function parseEndpoints(text: string, file: string): EndpointEntry[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new SvdError('bad_config', `${file}: no endpoints listed`);
  const items: { value: unknown; line: number }[] = [];
  const whole = wholeJson(trimmed);
  if (trimmed.startsWith('[') || (whole.ok && !isJsonLines(trimmed)) || (!whole.ok && !trimmed.includes('\n'))) {
    if (!whole.ok) throw new SvdError('bad_config', `${file}: not valid JSON: ${whole.error}`);
    const value = whole.value;
    const wrapped = value !== null && typeof value === 'object' && 'endpoints' in value;
    const list = Array.isArray(value) ? value : wrapped ? (value as { endpoints: unknown }).endpoints : [value];
    if (!Array.isArray(list)) throw new SvdError('bad_config', `${file}: endpoints: expected an array of endpoints`);
    const lines = Array.isArray(value) || wrapped ? elementLines(text, Array.isArray(value) ? 1 : 2) : [firstLine(text)];
    list.forEach((entry, i) => items.push({ value: entry, line: lines[i] ?? 1 }));
  } else {
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith('//')) return;
      try {
        items.push({ value: JSON.parse(line), line: i + 1 });
      } catch (error) {
        throw new SvdError('bad_config', `${file}:${i + 1}: not valid JSON: ${describeError(error)}`);
      }
    });
  }
  if (items.length === 0) throw new SvdError('bad_config', `${file}: no endpoints listed`);
  return items.map(({ value, line }) => {
    const parsed = EndpointEntrySchema.safeParse(value);
    if (!parsed.success) throw new SvdError('bad_config', `${file}:${line}: ${entryProblem(parsed.error)}`);
    return parsed.data;
  });
}

/** A key in the file is refused with the way to give it instead. */
function entryProblem(error: z.ZodError): string {
  const keyField = error.issues.find((issue) => issue.code === 'unrecognized_keys' && issue.keys.some((k) => /key|token|secret/i.test(k)));
  if (keyField) return 'keys are never kept in this file: put the key in an environment variable and name it in apiKeyEnv';
  return issueText(error);
}

function wholeJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}

function firstLine(text: string): number {
  return text.slice(0, text.search(/\S/)).split('\n').length;
}

function isJsonLines(text: string): boolean {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.length > 1 && lines.every((l) => l.trim().startsWith('{') && l.trim().endsWith('}'));
}

/** The line on which each element of the array at `depth` (1: the top level; 2: inside the top object) begins. */
function elementLines(text: string, depth: number): number[] {
  const lines: number[] = [];
  let level = 0;
  let line = 1;
  let inString = false;
  let escaped = false;
  let arrayDepth = -1;
  for (const ch of text) {
    if (ch === '\n') line++;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      if (level === depth && arrayDepth === depth - 1) lines.push(line);
      if (ch === '[' && level === depth - 1 && arrayDepth === -1) arrayDepth = level;
      level++;
    } else if (ch === ']' || ch === '}') level--;
  }
  return lines;
}

/**
 * The endpoints of a run: each entry's model defaults to the run's, and its key comes from the environment variable
 * it names (absent: the default key variables). A named variable that is unset is an error, not a silent keyless call.
 * Entries come checked (a file, a setting) or from --base-url, which may carry user:password@ for Basic auth.
 */
export function endpointSpecs(
  entries: readonly EndpointEntry[],
  defaults: { model?: string; apiKey?: string },
  env: NodeJS.ProcessEnv = process.env,
  where = 'endpoints',
): EndpointSpec[] {
  return entries.map((entry, i) => {
    const model = entry.model ?? defaults.model;
    if (!model) throw new SvdError('bad_config', `${where}[${i}]: model: required when the run names no --model`);
    let apiKey = defaults.apiKey;
    if (entry.apiKeyEnv !== undefined) {
      apiKey = env[entry.apiKeyEnv];
      if (!apiKey) throw new SvdError('bad_config', `${where}[${i}]: apiKeyEnv: the environment variable ${entry.apiKeyEnv} is not set`);
    }
    return {
      url: entry.url,
      model,
      weight: entry.weight,
      ...(entry.maxConcurrency !== undefined ? { maxConcurrency: entry.maxConcurrency } : {}),
      ...(apiKey ? { apiKey } : {}),
    };
  });
}

/** The model a run over these endpoints is named by: --model, else the one model all entries name. */
export function runModelOf(entries: readonly EndpointEntry[], model: string | undefined, where: string): string {
  if (model) return model;
  const named = [...new Set(entries.map((e) => e.model).filter((m): m is string => m !== undefined))];
  if (named.length === 1 && entries.every((e) => e.model !== undefined)) return named[0]!;
  throw new SvdError(
    'bad_config',
    `--model: required with ${where} unless every endpoint names the same model (it is part of the run's identity)`,
  );
}
