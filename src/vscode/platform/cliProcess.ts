// `svd run`, `svd sweep` and `svd eval` from the editor: the bundled CLI in a child process under the editor's own
// runtime, so the extension host never does the work. The child's `--events` stream is read line by line with the
// command's schema (src/protocol/cliEvents.ts); why it failed comes from its `error` event, never from its stderr,
// which is only logged. A stop is SIGTERM, which the CLI turns into a clean, resumable stop. No `vscode` import.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ZodType } from 'zod';
import type { RunConfigInput } from '../../core/base/config';
import { EXIT_CODES, type ErrorCode } from '../../core/base/errors';
import { readEventLine, type CliStreamEvent, type ErrorEvent } from '../../protocol/cliEvents';
import type { GpuChoice } from '../../engine/protocol';
import type { ExtensionSettings } from './settings';
import type { EndpointEntry } from '../../core/method/endpointsFile';

export interface CliEndpoint {
  /** Undefined: the embedded engine. */
  baseUrl?: string;
  model?: string;
  /** The engine's settings; `gpu` absent: the engine's default (auto). */
  engine: Omit<ExtensionSettings['engine'], 'gpu'> & { gpu?: GpuChoice };
}

export interface CliRequest {
  cliPath: string;
  /** The command and its own arguments, e.g. `['sweep', seeds, '--candidates', '1,4,8']`. */
  args: string[];
  /** Written to a scratch file and passed as `--config FILE`. */
  config: RunConfigInput;
  runsDir: string;
  apiKey?: string;
  /** Servers to spread the command over: written to a scratch file for `--endpoints`; `keys[i]` (from SecretStorage) reaches the CLI in the environment only. */
  endpoints?: { entries: EndpointEntry[]; keys: (string | undefined)[] };
  /** Where the embedded engine's default model is kept. */
  modelsDir: string;
  cwd: string;
}

/** Why the command failed, as its error event said (or its exit status, when it died without one). */
export type CliError = Pick<ErrorEvent, 'code' | 'message'>;

export interface CliOutcome<E extends CliStreamEvent> {
  exitCode: number | null;
  /** Ended by stop(), or by the CLI's own exit status for a stop. */
  stopped: boolean;
  /** Set when it failed: its `error` event; else (it died without one) the code its exit status stands for. */
  error?: CliError;
  /** Its `result` event, when it printed one. */
  result?: Extract<E, { type: 'result' }>;
}

export interface CliHandlers<E extends CliStreamEvent> {
  /** Each event of the stream, in order. */
  onEvent?: (event: E) => void;
  /** A stdout line that is not an event of the stream: dropped, and reported here with the reason. */
  onBadLine?: (line: string, reason: string) => void;
  /** The CLI's lines for people (progress notes, warnings, the `error:` line): for the log only. */
  onStderr?: (line: string) => void;
}

const CODE_OF_EXIT = new Map<number, ErrorCode>(Object.entries(EXIT_CODES).map(([code, exit]) => [exit, code as ErrorCode]));

/**
 * svd.endpoints for a command's `--endpoints`: a server that names no key variable gets the key stored for its
 * address, if any (it reaches the CLI in the environment only).
 */
export async function endpointsRequest(
  entries: readonly EndpointEntry[],
  apiKeyFor: (url: string) => Promise<string | undefined>,
): Promise<NonNullable<CliRequest['endpoints']>> {
  return { entries: [...entries], keys: await Promise.all(entries.map((e) => (e.apiKeyEnv ? undefined : apiKeyFor(e.url)))) };
}

/** svd.endpoints as a file for `--endpoints`; a stored key goes into `env` under a variable the file names. */
export function endpointsFile(scratch: string, endpoints: NonNullable<CliRequest['endpoints']>, env: NodeJS.ProcessEnv): string {
  const entries = endpoints.entries.map((entry, i) => {
    const key = endpoints.keys[i];
    if (entry.apiKeyEnv !== undefined || !key) return entry;
    const name = `SVD_ENDPOINT_KEY_${i}`;
    env[name] = key;
    return { ...entry, apiKeyEnv: name };
  });
  const file = path.join(scratch, 'endpoints.json');
  writeFileSync(file, JSON.stringify(entries));
  return file;
}

/** The endpoint as `svd run`, `svd sweep` take it: a server and model, or the embedded engine's flags. */
export function endpointArgs(endpoint: CliEndpoint): string[] {
  if (endpoint.baseUrl) return ['--base-url', endpoint.baseUrl, '--model', endpoint.model ?? ''];
  const args: string[] = [];
  if (endpoint.model) args.push('--model', endpoint.model);
  if (endpoint.engine.modelPath) args.push('--model-path', endpoint.engine.modelPath);
  if (endpoint.engine.threads) args.push('--threads', String(endpoint.engine.threads));
  args.push('--parallel', String(endpoint.engine.parallel));
  if (endpoint.engine.contextSize) args.push('--context', String(endpoint.engine.contextSize));
  if (endpoint.engine.gpu) args.push('--gpu', endpoint.engine.gpu);
  return args;
}

export class CliProcess<E extends CliStreamEvent> {
  readonly done: Promise<CliOutcome<E>>;
  private readonly child: ChildProcessWithoutNullStreams;
  private stopping = false;

  /** `stream`: the schema of the command's `--events` stream, which `request.args` must ask for. */
  constructor(request: CliRequest, stream: ZodType<E>, handlers: CliHandlers<E> = {}) {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-cli-'));
    const configFile = path.join(scratch, 'config.json');
    writeFileSync(configFile, JSON.stringify(request.config));
    const args = [request.cliPath, ...request.args, '--config', configFile, '--runs-dir', request.runsDir];
    // The key travels in the environment only: never in arguments, settings, result files or logs.
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1', SVD_MODELS_DIR: request.modelsDir, SVD_API_KEY: request.apiKey ?? '' };
    if (request.endpoints) args.push('--endpoints', endpointsFile(scratch, request.endpoints, env));
    delete env.OPENAI_API_KEY;
    this.child = spawn(process.execPath, args, { cwd: request.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });

    let failure: CliError | undefined;
    let result: CliOutcome<E>['result'];
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const read = readEventLine(stream, line);
      if (!read.ok) {
        handlers.onBadLine?.(line, read.reason);
        return;
      }
      const event: CliStreamEvent = read.event;
      // The editor's wording where it differs: a setting or a command, not a flag.
      if (event.type === 'error') failure = { code: event.code, message: event.editorMessage ?? event.message };
      else if (event.type === 'result') result = read.event as CliOutcome<E>['result'];
      handlers.onEvent?.(read.event);
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => handlers.onStderr?.(line));
    this.done = new Promise<CliOutcome<E>>((resolve) => {
      let settled = false;
      const finish = (exitCode: number | null, spawnError?: Error) => {
        if (settled) return;
        settled = true;
        rmSync(scratch, { recursive: true, force: true });
        const stopped = this.stopping || exitCode === EXIT_CODES.aborted;
        if (exitCode === 0 || (stopped && spawnError === undefined)) {
          resolve({ exitCode, stopped, result });
          return;
        }
        if (spawnError) {
          resolve({ exitCode, stopped: false, error: { code: 'internal', message: spawnError.message }, result });
          return;
        }
        // Without an error event the process died before it could say why (killed, out of memory): its exit status
        // is all there is to go on.
        const error = failure ?? {
          code: CODE_OF_EXIT.get(exitCode ?? -1) ?? 'internal',
          message: `svd ${request.args[0] ?? ''} ended with ${exitCode === null ? 'a signal' : `exit code ${exitCode}`} and no error report (its output is in the log)`,
        };
        resolve({ exitCode, stopped: false, error, result });
      };
      this.child.on('error', (e) => finish(null, e));
      this.child.on('close', (code) => finish(code));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks the process to stop; what it finished stays on disk. */
  stop(): void {
    if (this.stopping || this.child.exitCode !== null) return;
    this.stopping = true;
    this.child.kill('SIGTERM');
    // A child that does not stop in time is ended; what it wrote stays consistent whatever the moment.
    setTimeout(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }, 15_000).unref();
  }
}
