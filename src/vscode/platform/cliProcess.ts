// `svd sweep` and `svd eval` from the editor: the bundled CLI in a child process under the editor's own runtime, as
// runs go (runner.ts), so the extension host never does the work. The child's output arrives line by line; a stop
// is SIGTERM, which the CLI turns into a clean stop (a sweep resumes from its finished cells). No `vscode` import.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunConfigInput } from '../../core/base/config';
import { EXIT_CODES, type ErrorCode } from '../../core/base/errors';

export interface CliEndpoint {
  /** Undefined: the embedded engine. */
  baseUrl?: string;
  model?: string;
  engine: { modelPath?: string; threads?: number; parallel: number; contextSize?: number };
}

export interface CliRequest {
  cliPath: string;
  /** The command and its own arguments, e.g. `['sweep', seeds, '--candidates', '1,4,8']`. */
  args: string[];
  /** Written to a scratch file and passed as `--config FILE`. */
  config: RunConfigInput;
  runsDir: string;
  apiKey?: string;
  /** Where the embedded engine's default model is kept. */
  modelsDir: string;
  cwd: string;
}

export interface CliOutcome {
  exitCode: number | null;
  /** Ended by stop(), or by the CLI's own exit status for a stop. */
  stopped: boolean;
  /** Set when it failed: the code its exit status stands for, and its last `error:` line. */
  error?: { code: ErrorCode; message: string };
  /** Its last stdout lines (up to STDOUT_KEPT), in order: a long run's progress lines are not all kept. */
  stdout: string[];
}

export interface CliHandlers {
  onStdout?: (line: string) => void;
  onStderr?: (line: string) => void;
}

const STDOUT_KEPT = 100;

const CODE_OF_EXIT = new Map<number, ErrorCode>(Object.entries(EXIT_CODES).map(([code, exit]) => [exit, code as ErrorCode]));

/** The endpoint as `svd run`, `svd sweep` take it: a server and model, or the embedded engine's flags. */
export function endpointArgs(endpoint: CliEndpoint): string[] {
  if (endpoint.baseUrl) return ['--base-url', endpoint.baseUrl, '--model', endpoint.model ?? ''];
  const args: string[] = [];
  if (endpoint.model) args.push('--model', endpoint.model);
  if (endpoint.engine.modelPath) args.push('--model-path', endpoint.engine.modelPath);
  if (endpoint.engine.threads) args.push('--threads', String(endpoint.engine.threads));
  args.push('--parallel', String(endpoint.engine.parallel));
  if (endpoint.engine.contextSize) args.push('--context', String(endpoint.engine.contextSize));
  return args;
}

export class CliProcess {
  readonly done: Promise<CliOutcome>;
  private readonly child: ChildProcessWithoutNullStreams;
  private stopping = false;

  constructor(request: CliRequest, handlers: CliHandlers = {}) {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-cli-'));
    const configFile = path.join(scratch, 'config.json');
    writeFileSync(configFile, JSON.stringify(request.config));
    const args = [request.cliPath, ...request.args, '--config', configFile, '--runs-dir', request.runsDir];
    // The key travels in the environment only: never in arguments, settings, result files or logs.
    const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1', SVD_MODELS_DIR: request.modelsDir, SVD_API_KEY: request.apiKey ?? '' };
    delete env.OPENAI_API_KEY;
    this.child = spawn(process.execPath, args, { cwd: request.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });

    const stdout: string[] = [];
    let lastError: string | undefined;
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      stdout.push(line);
      if (stdout.length > STDOUT_KEPT) stdout.shift();
      handlers.onStdout?.(line);
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      if (line.startsWith('error: ')) lastError = line.slice('error: '.length);
      handlers.onStderr?.(line);
    });
    this.done = new Promise<CliOutcome>((resolve) => {
      let settled = false;
      const finish = (exitCode: number | null, spawnError?: Error) => {
        if (settled) return;
        settled = true;
        rmSync(scratch, { recursive: true, force: true });
        const stopped = this.stopping || exitCode === EXIT_CODES.aborted;
        if (exitCode === 0 || (stopped && spawnError === undefined)) {
          resolve({ exitCode, stopped, stdout });
          return;
        }
        const code = spawnError ? 'internal' : (CODE_OF_EXIT.get(exitCode ?? -1) ?? 'internal');
        const message = spawnError?.message ?? lastError ?? `the svd process ended with code ${exitCode}`;
        resolve({ exitCode, stopped: false, error: { code, message }, stdout });
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
