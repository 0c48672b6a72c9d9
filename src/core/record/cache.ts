// The response cache: model samples keyed by exactly what was asked, shared by every run in a runs folder, so a
// rerun or a sibling run with the same prompts and sampling costs no model call. Same file discipline as the run
// store (one O_APPEND write per line, offset index, torn tail cut off), so several runs may share it at once.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { SvdError } from '../base/errors';
import { issueText } from '../base/zodIssues';
import { AppendLog } from './appendLog';
import type { Sample, SampleRequest } from '../base/types';

const CACHE_FILE = 'samples.jsonl';
// Bumped when the key's recipe changes, so old entries stop matching instead of answering the wrong request.
const KEY_VERSION = 1;

export const SampleSchema = z.object({
  text: z.string(),
  reasoning: z.string().optional(),
  finishReason: z.string(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
});

const CacheLine = z.object({ k: z.string().min(1), s: SampleSchema });
type CacheLine = z.infer<typeof CacheLine>;

/** `.svd/cache` beside `.svd/runs`. */
export function defaultCacheDir(runsDir: string): string {
  return path.join(path.dirname(path.resolve(runsDir)), 'cache');
}

/** JSON with object keys sorted at every depth, so equal values always give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The cache key of the `index`-th sample of `request`. `purpose` is left out: it only labels usage, and the same
 * messages sent with the same sampling are the same request whatever step sent them. An absent or empty `stop`
 * means the same to the server, so both give one key.
 */
export function sampleKey(model: string, request: SampleRequest, index: number): string {
  return sampleKeys(model, request, [index])[0]!;
}

/** The keys of several samples of one request; the request is serialised once. */
export function sampleKeys(model: string, request: SampleRequest, indices: readonly number[]): string[] {
  const identity = canonicalJson({
    v: KEY_VERSION,
    model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    temperature: request.temperature,
    topP: request.topP,
    maxTokens: request.maxTokens,
    stop: request.stop?.length ? request.stop : null,
  });
  const prefix = createHash('sha256').update(identity);
  return indices.map((index) => prefix.copy().update(`#${index}`).digest('hex'));
}

export class ResponseCache {
  private constructor(private readonly log: AppendLog<CacheLine>) {}

  static open(dir: string): ResponseCache {
    fs.mkdirSync(dir, { recursive: true });
    return new ResponseCache(AppendLog.open(path.join(dir, CACHE_FILE), { schema: CacheLine, keyOf: (line) => line.k, deferWrites: 'always' }));
  }

  get size(): number {
    return this.log.size;
  }

  /** A torn last line was found on open and cut off. */
  get droppedTail(): boolean {
    return this.log.droppedTail;
  }

  /** A miss first looks for samples other processes cached since the last look. */
  get(key: string): Sample | undefined {
    const hit = this.log.read(key) ?? (this.log.refresh().length ? this.log.read(key) : undefined);
    return hit?.s;
  }

  /** Stores a sample; a key already cached keeps its first sample. */
  put(key: string, sample: Sample): void {
    const parsed = CacheLine.safeParse({ k: key, s: sample });
    if (!parsed.success) {
      throw new SvdError('internal', `invalid sample for the response cache: ${issueText(parsed.error)}`);
    }
    this.log.append(parsed.data);
  }

  close(): void {
    this.log.close();
  }
}
