// The default model for the embedded engine, fetched on first use into a per-user cache: resumed where a broken
// download stopped (HTTP Range), checked against the publisher's SHA-256, and moved into place only when whole.
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { SvdError, advisedError, describeError } from '../core/base/errors';
import { modelIdFromPath } from './protocol';

export interface ModelSource {
  /** File name in the cache. */
  file: string;
  url: string;
  /** Expected SHA-256 (hex). When absent, the hash the server publishes for the file (Hugging Face's X-Linked-Etag) is used. */
  sha256?: string;
}

/** Qwen3-0.6B, the method's smallest model, in the quantisation its publisher ships for it (Q8_0, about 640 MB). */
export const DEFAULT_MODEL: ModelSource = {
  file: 'Qwen3-0.6B-Q8_0.gguf',
  url: 'https://huggingface.co/Qwen/Qwen3-0.6B-GGUF/resolve/main/Qwen3-0.6B-Q8_0.gguf',
};

/** The default model's source: SVD_MODEL_URL points its download at a mirror (the same file, checked the same way). */
export function defaultModelSource(env: NodeJS.ProcessEnv = process.env): ModelSource {
  const url = env.SVD_MODEL_URL?.trim();
  return url ? { ...DEFAULT_MODEL, url } : DEFAULT_MODEL;
}

/**
 * The name the embedded engine serves a model under (modelIdFromPath), known before it starts: a run's id is
 * worked out, and a finished run found, without a download or an engine start. The default model's without a path.
 */
export function embeddedModelName(modelPath?: string): string {
  return modelIdFromPath(modelPath ?? DEFAULT_MODEL.file);
}

export interface DownloadProgress {
  received: number;
  total?: number;
  resumedFrom: number;
}

export interface EnsureModelOptions {
  source?: ModelSource;
  cacheDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  fetch?: typeof fetch;
}

/** Where models are kept: SVD_MODELS_DIR, else the platform's per-user cache folder. */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SVD_MODELS_DIR) return env.SVD_MODELS_DIR;
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local'), 'svd', 'models');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'svd', 'models');
  return path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'svd', 'models');
}

/** Ways around the download, in each front end's words. */
const HOW_TO_AVOID = {
  cli: 'Point at a local GGUF file instead (--model-path FILE), or use a server (--base-url URL, e.g. Ollama at http://localhost:11434/v1).',
  editor: 'Point the setting svd.engine.modelPath at a local GGUF file, or choose a server with "SVD: Select Model Endpoint" (e.g. Ollama).',
};

/** The model's path, downloading it first when it is not in the cache yet. */
export async function ensureModel(options: EnsureModelOptions = {}): Promise<string> {
  const source = options.source ?? defaultModelSource();
  const dir = options.cacheDir ?? defaultModelsDir();
  const target = path.join(dir, source.file);
  const verified = `${target}.sha256`;
  if (existsSync(target) && existsSync(verified)) return target;
  mkdirSync(dir, { recursive: true });
  const part = `${target}.part`;
  const doFetch = options.fetch ?? fetch;
  const resumeFrom = existsSync(part) ? statSync(part).size : 0;

  let response: Response;
  try {
    response = await doFetch(source.url, {
      headers: resumeFrom > 0 ? { Range: `bytes=${resumeFrom}-` } : {},
      signal: options.signal,
      redirect: 'follow',
    });
  } catch (error) {
    if (options.signal?.aborted) throw new SvdError('aborted', 'the model download was stopped; it resumes next time');
    throw advisedError('engine', `Could not download the default model from ${source.url} (${describeError(error)}).`, HOW_TO_AVOID, { cause: error });
  }
  if (response.status === 416 && resumeFrom > 0) {
    // The part is already whole (or the server changed the file): check it below, or start over.
  } else if (!response.ok || !response.body) {
    throw advisedError('engine', `Could not download the default model from ${source.url}: HTTP ${response.status}.`, HOW_TO_AVOID);
  }
  const expected = (source.sha256 ?? publishedSha256(response))?.toLowerCase();
  const appending = response.status === 206;
  const start = appending ? resumeFrom : 0;
  const length = Number(response.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? start + length : undefined;

  if (response.status !== 416) {
    let received = start;
    options.onProgress?.({ received, total, resumedFrom: start });
    const counter = new TransformCounter((n) => {
      received += n;
      options.onProgress?.({ received, total, resumedFrom: start });
    });
    try {
      await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), counter, createWriteStream(part, { flags: appending ? 'a' : 'w' }));
    } catch (error) {
      if (options.signal?.aborted) throw new SvdError('aborted', 'the model download was stopped; it resumes next time');
      throw advisedError('engine', `The model download from ${source.url} broke off at ${received} bytes (${describeError(error)}); it resumes where it stopped next time.`, HOW_TO_AVOID, { cause: error });
    }
  }

  const actual = await sha256File(part);
  if (expected && actual !== expected) {
    rmSync(part, { force: true });
    throw new SvdError('engine', `The downloaded model ${source.file} failed its checksum (expected ${expected}, got ${actual}); the partial file was removed, run again to download it anew.`);
  }
  renameSync(part, target);
  writeFileSync(verified, `${actual}  ${source.file}\n`);
  return target;
}

/** Hugging Face serves LFS files with their SHA-256 as the linked ETag. */
function publishedSha256(response: Response): string | undefined {
  const tag = response.headers.get('x-linked-etag') ?? response.headers.get('etag') ?? '';
  const hex = /^(?:W\/)?"?([0-9a-fA-F]{64})"?$/.exec(tag.trim());
  return hex?.[1];
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The hash recorded when a model was verified, for display. */
export function recordedSha256(modelPath: string): string | undefined {
  const file = `${modelPath}.sha256`;
  return existsSync(file) ? readFileSync(file, 'utf8').split(/\s+/)[0] : undefined;
}

class TransformCounter extends Transform {
  constructor(private readonly onBytes: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.onBytes(chunk.length);
    callback(null, chunk);
  }
}
