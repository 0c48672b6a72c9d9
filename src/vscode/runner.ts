// Runs execute in a child process (the bundled CLI, under the editor's own runtime), never on the extension host's
// thread: the editor never stutters, and a crash of the engine cannot take the host down. The child reports what
// happens as JSON lines; a stop is SIGTERM, which the CLI turns into a clean, resumable stop.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { RunConfigInput } from '../core/config';
import type { Progress } from '../core/pipeline';

export interface RunRequest {
  seedFile: string;
  runsDir: string;
  runId?: string;
  config: RunConfigInput;
  /** Undefined: the embedded engine. */
  baseUrl?: string;
  model?: string;
  apiKey?: string;
  engine: { modelPath?: string; threads?: number; parallel: number; contextSize?: number };
  /** Where the embedded engine's default model is kept. */
  modelsDir: string;
  cwd: string;
}

const RunMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), runId: z.string(), dir: z.string(), resumed: z.boolean(), seedsTotal: z.number() }),
  z.object({
    type: z.literal('progress'),
    seedsTotal: z.number(),
    seedsDone: z.number(),
    accepted: z.number(),
    candidates: z.number(),
    requests: z.number(),
    requestsPerSecond: z.number(),
    elapsedMs: z.number(),
    etaMs: z.number().optional(),
  }),
  z.object({ type: z.literal('problem'), text: z.string() }).loose(),
  z.object({ type: z.literal('notice'), message: z.string() }),
  z.object({ type: z.literal('download'), received: z.number(), total: z.number().optional(), resumedFrom: z.number() }),
  z.object({ type: z.literal('engine'), model: z.string(), pid: z.number() }),
  z.object({ type: z.literal('result'), runId: z.string(), dir: z.string(), state: z.string() }).loose(),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type RunMessage = z.infer<typeof RunMessage>;

export interface RunOutcome {
  runId?: string;
  dir?: string;
  /** finished | stopped | failed */
  state: 'finished' | 'stopped' | 'failed';
  exitCode: number | null;
  error?: { code: string; message: string };
}

export interface RunHandlers {
  onMessage?: (message: RunMessage) => void;
  onLog?: (line: string) => void;
}

/** One run in its child process. */
export class ActiveRun {
  runId: string | undefined;
  dir: string | undefined;
  lastProgress: Progress | undefined;
  readonly done: Promise<RunOutcome>;
  private readonly child: ChildProcessWithoutNullStreams;
  private stopping = false;

  constructor(cliPath: string, request: RunRequest, handlers: RunHandlers) {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-run-'));
    const configFile = path.join(scratch, 'config.json');
    writeFileSync(configFile, JSON.stringify(request.config));
    const args = [cliPath, 'run', request.seedFile, '--events', '--config', configFile, '--runs-dir', request.runsDir];
    if (request.runId) args.push('--run', request.runId);
    if (request.baseUrl) {
      args.push('--base-url', request.baseUrl, '--model', request.model ?? '');
    } else {
      if (request.model) args.push('--model', request.model);
      if (request.engine.modelPath) args.push('--model-path', request.engine.modelPath);
      if (request.engine.threads) args.push('--threads', String(request.engine.threads));
      args.push('--parallel', String(request.engine.parallel));
      if (request.engine.contextSize) args.push('--context', String(request.engine.contextSize));
    }
    // The key travels in the environment only: never in arguments, settings, run files or logs.
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1', SVD_MODELS_DIR: request.modelsDir, SVD_API_KEY: request.apiKey ?? '' };
    delete env.OPENAI_API_KEY;
    this.child = spawn(process.execPath, args, { cwd: request.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });

    let error: RunOutcome['error'];
    let result: { state: string } | undefined;
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let parsed: RunMessage;
      try {
        parsed = RunMessage.parse(JSON.parse(line));
      } catch {
        handlers.onLog?.(line);
        return;
      }
      if (parsed.type === 'start') {
        this.runId = parsed.runId;
        this.dir = parsed.dir;
      } else if (parsed.type === 'progress') {
        this.lastProgress = parsed;
      } else if (parsed.type === 'error') {
        error = { code: parsed.code, message: parsed.message };
      } else if (parsed.type === 'result') {
        result = parsed;
      }
      handlers.onMessage?.(parsed);
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => handlers.onLog?.(line));
    this.done = new Promise<RunOutcome>((resolve) => {
      const finish = (exitCode: number | null, spawnError?: Error) => {
        rmSync(scratch, { recursive: true, force: true });
        if (spawnError) error = { code: 'internal', message: spawnError.message };
        const state: RunOutcome['state'] =
          result?.state === 'finished' && exitCode === 0 ? 'finished' : this.stopping || result?.state === 'stopped' ? 'stopped' : 'failed';
        resolve({ runId: this.runId, dir: this.dir, state, exitCode, error: state === 'failed' ? (error ?? { code: 'internal', message: `the run process ended with code ${exitCode}` }) : undefined });
      };
      this.child.on('error', (e) => finish(null, e));
      this.child.on('close', (code) => finish(code));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks the run to stop; it records what was answered and exits, resumable. */
  stop(): void {
    if (this.stopping || this.child.exitCode !== null) return;
    this.stopping = true;
    this.child.kill('SIGTERM');
    // A child that does not stop in time is ended; its record stays consistent whatever the moment.
    setTimeout(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }, 15_000).unref();
  }
}
