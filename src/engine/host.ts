// The parent side of the embedded engine: starts the child process (server.ts), waits for its ready line, and
// owns its life. The child dies with us (it watches our pipe), and a crash, even llama.cpp aborting on a bad
// model file, reaches callers as an SvdError('engine') instead of taking their process down.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { SvdError } from '../core/base/errors';
import { ENGINE_ENV, HealthSchema, ReadyLineSchema, type Backend, type GpuChoice } from './protocol';

export interface EngineOptions {
  modelPath: string;
  /** Defaults to the machine's core count (see protocol.ts for why never llama.cpp's own default). */
  threads?: number;
  /** Tokens per sequence. */
  contextSize?: number;
  /** Sequences generating at once. */
  parallel?: number;
  /** Upper bound on generated tokens per choice. */
  maxTokens?: number;
  /** Where to compute (default auto: the best GPU this machine has, else the CPU). */
  gpu?: GpuChoice;
  /** The id served at /v1/models; the file name without `.gguf` when absent. */
  modelName?: string;
  /** Default `process.execPath`; under VS Code that is Electron, run as plain Node through ELECTRON_RUN_AS_NODE. */
  execPath?: string;
  /** Default: `engine.js` next to the running bundle. Tests pass `src/engine/server.ts` with tsx in `execArgv`. */
  entry?: string;
  execArgv?: string[];
  /** Default 120 s: loading a large model from a slow disk takes a while. */
  startTimeoutMs?: number;
  /** Receives the child's log lines (stderr and stray stdout). */
  log?: (line: string) => void;
}

export interface EngineExit {
  code: number | null;
  signal: string | null;
  /** True when `stop()` asked for it. */
  expected: boolean;
}

export interface EmbeddedEngine {
  /** `http://127.0.0.1:PORT/v1` */
  baseURL: string;
  /** The bearer token every request must carry; new on every start. */
  apiKey: string;
  model: string;
  pid: number;
  /** What it computes on, as it said when ready. */
  backend: Backend;
  health(): Promise<boolean>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(): Promise<void>;
  onExit(listener: (info: EngineExit) => void): { dispose(): void };
}

const DEFAULT_START_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 3_000;
const HEALTH_TIMEOUT_MS = 5_000;
/** Lines of the child's stderr kept to explain a failed start. */
const STDERR_TAIL_LINES = 12;

type EngineChild = ChildProcessByStdio<Writable, Readable, Readable>;

export async function startEngine(options: EngineOptions): Promise<EmbeddedEngine> {
  const modelPath = resolve(options.modelPath);
  if (!existsSync(modelPath) || !statSync(modelPath).isFile()) {
    throw new SvdError('engine', `The embedded engine's model file does not exist: ${modelPath}`);
  }
  const entry = resolve(options.entry ?? join(__dirname, 'engine.js'));
  if (!existsSync(entry)) throw new SvdError('engine', `The embedded engine's entry is missing: ${entry}`);

  const token = randomBytes(24).toString('base64url');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ELECTRON_RUN_AS_NODE: '1',
    [ENGINE_ENV.model]: modelPath,
    [ENGINE_ENV.port]: '0',
    [ENGINE_ENV.token]: token,
    [ENGINE_ENV.watchParent]: '1',
  };
  const setNumber = (key: keyof typeof ENGINE_ENV, value: number | undefined): void => {
    if (value !== undefined) env[ENGINE_ENV[key]] = String(value);
  };
  setNumber('threads', options.threads);
  setNumber('contextSize', options.contextSize);
  setNumber('parallel', options.parallel);
  setNumber('maxTokens', options.maxTokens);
  if (options.modelName !== undefined) env[ENGINE_ENV.modelName] = options.modelName;
  if (options.gpu !== undefined) env[ENGINE_ENV.gpu] = options.gpu;

  const log = options.log ?? (() => undefined);
  const child: EngineChild = spawn(options.execPath ?? process.execPath, [...(options.execArgv ?? []), entry], {
    env,
    // stdin stays open as the child's lifeline: when this process dies, the pipe closes and the child exits.
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });

  const stderrTail: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    log(line);
  });
  // A child that cannot read stdin is already gone; the exit handler reports it.
  child.stdin.on('error', () => undefined);

  const listeners = new Set<(info: EngineExit) => void>();
  let stopping = false;
  let exitInfo: EngineExit | undefined;
  const exited = new Promise<EngineExit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal, expected: stopping };
      for (const listener of [...listeners]) listener(exitInfo);
      resolveExit(exitInfo);
    });
  });

  let ready: { port: number; model: string; backend: Backend };
  try {
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    ready = await waitForReady(child, exited, modelPath, stderrTail, timeoutMs, log);
  } catch (error) {
    stopping = true;
    if (exitInfo === undefined) child.kill('SIGKILL');
    throw error;
  }

  const baseURL = `http://127.0.0.1:${ready.port}/v1`;
  const pid = child.pid ?? -1;

  const stop = async (): Promise<void> => {
    if (exitInfo !== undefined) return;
    stopping = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  const health = async (): Promise<boolean> => {
    if (exitInfo !== undefined) return false;
    try {
      const response = await fetch(`http://127.0.0.1:${ready.port}/health`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
      });
      if (!response.ok) return false;
      const parsed = HealthSchema.safeParse(await response.json());
      return parsed.success && parsed.data.ok;
    } catch {
      return false;
    }
  };

  const onExit = (listener: (info: EngineExit) => void): { dispose(): void } => {
    listeners.add(listener);
    return { dispose: () => void listeners.delete(listener) };
  };

  return { baseURL, apiKey: token, model: ready.model, pid, backend: ready.backend, health, stop, onExit };
}

/** Resolves with the child's ready line; rejects with SvdError('engine') on an error line, an exit or a timeout. */
function waitForReady(
  child: EngineChild,
  exited: Promise<EngineExit>,
  modelPath: string,
  stderrTail: readonly string[],
  timeoutMs: number,
  log: (line: string) => void,
): Promise<{ port: number; model: string; backend: Backend }> {
  return new Promise((resolveReady, rejectReady) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const detail = (): string => (stderrTail.length > 0 ? `\n${stderrTail.join('\n')}` : '');

    const fail = (message: string, cause?: unknown): void =>
      settle(() => rejectReady(new SvdError('engine', message, cause === undefined ? undefined : { cause })));

    const timer = setTimeout(
      () => fail(`The embedded engine did not start within ${timeoutMs} ms (model ${modelPath}).${detail()}`),
      timeoutMs,
    );

    createInterface({ input: child.stdout }).on('line', (line) => {
      if (settled) return log(line);
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        return log(line);
      }
      const parsed = ReadyLineSchema.safeParse(json);
      if (!parsed.success) return log(line);
      const message = parsed.data;
      if ('error' in message) {
        fail(`The embedded engine failed to start: ${message.error}`);
      } else {
        settle(() => resolveReady({ port: message.port, model: message.model, backend: message.backend }));
      }
    });

    child.once('error', (error) => fail(`The embedded engine could not be started: ${error.message}`, error));

    void exited.then(({ code, signal }) => {
      // An abort (SIGABRT, exit 134) while loading is llama.cpp rejecting the file.
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      const crashed = signal === 'SIGABRT' || signal === 'SIGSEGV' || code === 134 || code === 139;
      const hint = crashed ? ' The model file is probably corrupt or not a model llama.cpp supports.' : '';
      fail(`The embedded engine ${how} while loading ${modelPath}.${hint}${detail()}`);
    });
  });
}
