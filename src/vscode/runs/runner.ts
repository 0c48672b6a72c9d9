// Runs execute in a child process (the bundled CLI, under the editor's own runtime), never on the extension host's
// thread: the editor never stutters, and a crash of the engine cannot take the host down. The child reports what
// happens as JSON lines; a stop is SIGTERM, which the CLI turns into a clean, resumable stop.
import { z } from 'zod';
import type { RunConfigInput } from '../../core/base/config';
import type { Progress } from '../../core/method/pipeline';
import { CliProcess, endpointArgs } from '../platform/cliProcess';

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

/** One run in its child process: `svd run --events`, read line by line. */
export class ActiveRun {
  runId: string | undefined;
  dir: string | undefined;
  lastProgress: Progress | undefined;
  readonly done: Promise<RunOutcome>;
  private readonly process: CliProcess;

  constructor(cliPath: string, request: RunRequest, handlers: RunHandlers) {
    const args = ['run', request.seedFile, '--events', ...(request.runId ? ['--run', request.runId] : []), ...endpointArgs(request)];
    let error: RunOutcome['error'];
    let result: { state: string } | undefined;
    this.process = new CliProcess(
      { cliPath, args, config: request.config, runsDir: request.runsDir, apiKey: request.apiKey, modelsDir: request.modelsDir, cwd: request.cwd },
      {
        onStdout: (line) => {
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
        },
        onStderr: (line) => handlers.onLog?.(line),
      },
    );
    this.done = this.process.done.then((outcome) => {
      const { exitCode } = outcome;
      const state: RunOutcome['state'] =
        result?.state === 'finished' && exitCode === 0 ? 'finished' : outcome.stopped || result?.state === 'stopped' ? 'stopped' : 'failed';
      const failure = error ?? outcome.error ?? { code: 'internal', message: `the run process ended with code ${exitCode}` };
      return { runId: this.runId, dir: this.dir, state, exitCode, error: state === 'failed' ? failure : undefined };
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Asks the run to stop; it records what was answered and exits, resumable. */
  stop(): void {
    this.process.stop();
  }
}
