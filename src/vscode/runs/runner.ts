// Runs execute in a child process (the bundled CLI, under the editor's own runtime), never on the extension host's
// thread: the editor never stutters, and a crash of the engine cannot take the host down. The child reports what
// happens as its `--events` stream (src/protocol/cliEvents.ts); a stop is SIGTERM, which the CLI turns into a clean, resumable stop.
import type { RunConfigInput } from '../../core/base/config';
import type { Progress } from '../../core/method/pipeline';
import { screeningCliArgs, type ScreeningRequest } from '../../core/method/screening';
import { RunStreamEvent, type RunStartEvent } from '../../protocol/cliEvents';
import { CliProcess, endpointArgs, type CliEndpoint, type CliError } from '../platform/cliProcess';
import type { EndpointEntry } from '../../core/method/endpointsFile';

export interface RunRequest {
  seedFile: string;
  runsDir: string;
  runId?: string;
  config: RunConfigInput;
  /** Undefined: the embedded engine. */
  baseUrl?: string;
  model?: string;
  apiKey?: string;
  engine: CliEndpoint['engine'];
  /** Where the embedded engine's default model is kept. */
  modelsDir: string;
  cwd: string;
  /** Several servers (svd.endpoints), and the keys stored for those that name no key variable. */
  endpoints?: EndpointEntry[];
  endpointKeys?: (string | undefined)[];
  /** Seeds checked against evaluation files (and for duplicates) before the run. */
  screening?: ScreeningRequest;
  /** The cost budget (USD) and the price table; no part of the run's identity. */
  cost?: { maxCost?: number; prices?: string };
}

export interface RunOutcome {
  runId?: string;
  dir?: string;
  /** finished | stopped | failed */
  state: 'finished' | 'stopped' | 'failed';
  exitCode: number | null;
  error?: CliError;
  /** The run was finished before: nothing was asked of the model, nothing written. */
  alreadyFinished: boolean;
  /** Rows of the seed file that were skipped, and all its rows (once the run said them). */
  skippedRows?: number;
  fileRows?: number;
  /** Seeds of the run, those done and the answers accepted, as the run's result said them. */
  funnel?: { seeds: number; seedsDone: number; acceptedFinal: number };
  /** `budget`: stopped at its cost budget, having spent `spent` of it (USD, over all the run's sessions). */
  stopReason?: 'budget';
  spent?: { usd: number; maxUsd: number };
}

export interface RunHandlers {
  /** Each event of the run's stream, in order (`done` reports how it ended). */
  onMessage?: (message: RunStreamEvent) => void;
  onLog?: (line: string) => void;
}

/** One run in its child process: `svd run --events`, read line by line. */
export class ActiveRun {
  runId: string | undefined;
  dir: string | undefined;
  lastProgress: Progress | undefined;
  /** What the run's `start` said. */
  started: RunStartEvent | undefined;
  /** What the embedded engine computes on (`CPU, 2 threads`, `CUDA: ...`), once it said; undefined for a server. */
  backend: string | undefined;
  readonly done: Promise<RunOutcome>;
  private readonly process: CliProcess<RunStreamEvent>;

  constructor(cliPath: string, request: RunRequest, handlers: RunHandlers) {
    const args = ['run', request.seedFile, '--events', ...(request.runId ? ['--run', request.runId] : []), ...endpointArgs(request), ...screeningCliArgs(request.screening), ...costArgs(request.cost)];
    this.process = new CliProcess(
      {
        cliPath,
        args,
        config: request.config,
        runsDir: request.runsDir,
        apiKey: request.apiKey,
        modelsDir: request.modelsDir,
        cwd: request.cwd,
        ...(request.endpoints?.length ? { endpoints: { entries: request.endpoints, keys: request.endpointKeys ?? [] } } : {}),
      },
      RunStreamEvent,
      {
        onEvent: (event) => {
          if (event.type === 'start') {
            this.runId = event.runId;
            this.dir = event.dir;
            this.started = event;
          } else if (event.type === 'progress') {
            this.lastProgress = event;
          } else if (event.type === 'engine') {
            this.backend = event.backend;
          }
          handlers.onMessage?.(event);
        },
        onBadLine: (line, reason) => handlers.onLog?.(`svd run printed a line that is not one of its events (${reason}): ${line}`),
        onStderr: (line) => handlers.onLog?.(line),
      },
    );
    this.done = this.process.done.then((outcome) => {
      const { exitCode, result } = outcome;
      const state: RunOutcome['state'] =
        result?.state === 'finished' && exitCode === 0 ? 'finished' : outcome.stopped || result?.state === 'stopped' ? 'stopped' : 'failed';
      const failure = outcome.error ?? { code: 'internal' as const, message: `the run process ended with code ${exitCode} and no result` };
      const done: RunOutcome = { runId: this.runId, dir: this.dir, state, exitCode, error: state === 'failed' ? failure : undefined, alreadyFinished: result?.alreadyFinished ?? false };
      if (this.started) Object.assign(done, { skippedRows: this.started.skippedRows, fileRows: this.started.fileRows });
      if (result) {
        const { seeds, seedsDone, acceptedFinal } = result.funnel;
        done.funnel = { seeds, seedsDone, acceptedFinal };
        if (result.stopReason) done.stopReason = result.stopReason;
        const cost = result.cost;
        if (result.stopReason && cost?.total != null && cost.maxUsd !== undefined) done.spent = { usd: cost.total, maxUsd: cost.maxUsd };
      }
      return done;
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

function costArgs(cost: RunRequest['cost']): string[] {
  return [...(cost?.maxCost !== undefined ? ['--max-cost', String(cost.maxCost)] : []), ...(cost?.prices ? ['--prices', cost.prices] : [])];
}
