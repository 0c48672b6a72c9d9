// The `--events` streams of `svd run`, `svd sweep` and `svd eval`: one JSON object per line on stdout, for tools and
// the editor. The CLI writes them only through these types (src/cli/events.ts); the editor reads them only through
// these schemas (src/vscode/platform/cliProcess.ts). Pure: no node and no vscode imports.
//
// Order of a stream: `download` lines while the embedded engine's default model downloads, then `engine` once it
// serves (run and sweep without --base-url); `problem` for each seed row skipped; `start` (run, sweep); then, as the
// work goes, `progress` (and a `cell` as each cell of a sweep begins). `notice` may come at any point. The last line
// is `result` when the command ended on its own or was stopped (a stopped run or sweep says so in its state; a
// stopped evaluation ends with an `aborted` error), and `error` when it failed, from a bad flag on: that event, not
// the text on stderr, is how a reader learns why. The lines for people stay on stderr.
import * as z from 'zod';
import { EXIT_CODES, type ErrorCode } from '../core/base/errors';
import { EndpointStatusSchema } from './endpoints';

const count = z.number().int().nonnegative();
const ERROR_CODES = Object.keys(EXIT_CODES) as [ErrorCode, ...ErrorCode[]];

// ---------------------------------------------------------------- events more than one stream carries

/** A seed row that cannot be used and is skipped (a warning on stderr too). */
export const ProblemEvent = z.strictObject({
  type: z.literal('problem'),
  /** The seed file. */
  file: z.string(),
  /** The row's line in the file. */
  line: count,
  /** The field at fault, when one is (e.g. `question`, `domain`, `id`). */
  field: z.string().optional(),
  message: z.string(),
  /** The problem as one line for people: `file:line: field "x": message`. */
  text: z.string(),
});
export type ProblemEvent = z.infer<typeof ProblemEvent>;

/** Something the user should know that does not stop the work (a note on stderr too), e.g. a new run started. */
export const NoticeEvent = z.strictObject({
  type: z.literal('notice'),
  message: z.string(),
});
export type NoticeEvent = z.infer<typeof NoticeEvent>;

/** The embedded engine's default model downloading (its first use only); bytes so far. */
export const DownloadEvent = z.strictObject({
  type: z.literal('download'),
  received: count,
  /** Absent when the server gave no length. */
  total: count.optional(),
  /** Bytes a previous, interrupted download had kept. */
  resumedFrom: count,
});
export type DownloadEvent = z.infer<typeof DownloadEvent>;

/** The embedded engine is up and serving `model` in process `pid`, on `backend`. */
export const EngineEvent = z.strictObject({
  type: z.literal('engine'),
  model: z.string(),
  pid: z.number().int().positive(),
  /** What it computes on, in a few words: `CPU, 2 threads`, `CUDA: NVIDIA GeForce RTX 4090`. */
  backend: z.string(),
  /** Why the CPU runs where a GPU was asked for or failed. */
  fallback: z.string().optional(),
});
export type EngineEvent = z.infer<typeof EngineEvent>;

/** A run's progress, every half second and after every seed. */
export const RunProgressEvent = z.strictObject({
  type: z.literal('progress'),
  seedsTotal: count,
  seedsDone: count,
  /** Seeds with an accepted answer so far. */
  accepted: count,
  /** Candidates generated so far. */
  candidates: count,
  /** Requests sent to the model (cache hits excluded). */
  requests: count,
  requestsPerSecond: z.number().nonnegative(),
  elapsedMs: z.number().nonnegative(),
  /** Estimated time to finish, from this session's pace; absent until a seed finished. */
  etaMs: z.number().nonnegative().optional(),
  /** USD spent over all the run's sessions, at the price table's price; absent when the model has no price. */
  costUsd: z.number().nonnegative().optional(),
  /** Each server, when the run has several. */
  endpoints: z.array(EndpointStatusSchema).optional(),
});
export type RunProgressEvent = z.infer<typeof RunProgressEvent>;

/**
 * The command failed; always the last line. `code` says what went wrong (the same codes as core's SvdError: switch
 * on it, never on the message); `exitCode` is the status the process exits with (EXIT_CODES[code]); `message` is
 * the same text as the `error:` line on stderr, for people.
 */
export const ErrorEvent = z.strictObject({
  type: z.literal('error'),
  code: z.enum(ERROR_CODES),
  message: z.string(),
  /** The same failure as the editor words it, when its advice differs (a setting where the message names a flag). */
  editorMessage: z.string().optional(),
  exitCode: z.number().int(),
});
export type ErrorEvent = z.infer<typeof ErrorEvent>;

/** The error event for `code`: the one place an error event is built, so its exit status is always its code's. */
export function errorEvent(code: ErrorCode, message: string, editorMessage?: string): ErrorEvent {
  return { type: 'error', code, message, ...(editorMessage !== undefined && editorMessage !== message ? { editorMessage } : {}), exitCode: EXIT_CODES[code] };
}

// ---------------------------------------------------------------- svd run --events

/** The run's folder is known (before any model call). */
export const RunStartEvent = z.strictObject({
  type: z.literal('start'),
  runId: z.string(),
  dir: z.string(),
  /** The folder held records already: the run goes on from them. */
  resumed: z.boolean(),
  /** Seeds in the run. */
  seedsTotal: count,
  /** Rows of the seed file that are no usable seed and are skipped (each was a `problem` event before this one). */
  skippedRows: count,
  /** All the seed file's rows, usable or not: "3 of 8 rows skipped". */
  fileRows: count,
  /** The run was finished already: nothing is asked of the model, nothing is written; `result` follows. */
  alreadyFinished: z.boolean(),
  /** Seeds screened before the run: matching an evaluation item, repeating another, and left out. */
  screening: z.strictObject({ flagged: count, duplicates: count, dropped: count }).optional(),
});
export type RunStartEvent = z.infer<typeof RunStartEvent>;

/** A run's cost, as `svd status --json` and the `result` event carry it (core's method/cost.ts computes it). */
export const RunCostJson = z.strictObject({
  model: z.string(),
  /** USD; null when the model has no price (`unknown` says why). Never a silent 0. */
  total: z.number().nonnegative().nullable(),
  perStage: z.strictObject({
    generate: z.number().nonnegative().nullable(),
    cycle: z.number().nonnegative().nullable(),
    factuality: z.number().nonnegative().nullable(),
    correctness: z.number().nonnegative().nullable(),
  }),
  /** Total over the answers the method accepted; null when unknown or none was accepted. */
  perAccepted: z.number().nonnegative().nullable(),
  accepted: count,
  /** The part of the total that batch requests (`svd batch`) cost, at the batch price; absent when there were none. */
  batchTotal: z.number().nonnegative().optional(),
  priceFrom: z.string().optional(),
  unknown: z.string().optional(),
  /** The budget the session ran under (--max-cost), when it had one. */
  maxUsd: z.number().nonnegative().optional(),
});
export type RunCostJson = z.infer<typeof RunCostJson>;

/**
 * The run ended, finished or stopped (exit 0 or 130; 12 when it stopped at its cost budget). Carries what `svd run --json` prints (`svd status --json`'s
 * funnel, usage, wall time and audit, whose shape core's record/status.ts owns); the fields readers rely on are
 * pinned here.
 */
export const RunResultEvent = z.looseObject({
  type: z.literal('result'),
  runId: z.string(),
  dir: z.string(),
  state: z.enum(['finished', 'stopped']),
  /** `budget`: stopped at the cost budget; the same command with a larger one resumes it. */
  stopReason: z.enum(['budget']).optional(),
  cost: RunCostJson.optional(),
  funnel: z.looseObject({ seeds: count, seedsDone: count, acceptedFinal: count }),
  /** Rows of the seed file that were skipped. */
  skippedRows: count,
  /** As in `start`: the run was finished before this command, which asked nothing of the model. */
  alreadyFinished: z.boolean(),
});
export type RunResultEvent = z.infer<typeof RunResultEvent>;

export const RunStreamEvent = z.discriminatedUnion('type', [
  DownloadEvent,
  EngineEvent,
  ProblemEvent,
  RunStartEvent,
  RunProgressEvent,
  NoticeEvent,
  RunResultEvent,
  ErrorEvent,
]);
export type RunStreamEvent = z.infer<typeof RunStreamEvent>;

// ---------------------------------------------------------------- svd sweep --events

/** The sweep's folder is known; its cells, in the order they will run (the smallest budget first). */
export const SweepStartEvent = z.strictObject({
  type: z.literal('start'),
  id: z.string(),
  /** The folder that holds the cells' runs. */
  dir: z.string(),
  cells: z.array(z.strictObject({ name: z.string(), candidates: z.number().int().positive(), votes: z.number().int().positive() })),
});
export type SweepStartEvent = z.infer<typeof SweepStartEvent>;

/** A cell begins; the `progress` lines that follow are its run's. */
export const CellEvent = z.strictObject({
  type: z.literal('cell'),
  /** `n4v3`. */
  name: z.string(),
  /** 0-based position among the cells. */
  index: count,
  total: count,
  runId: z.string(),
  /** Finished by an earlier sweep: nothing to run. */
  done: z.boolean(),
});
export type CellEvent = z.infer<typeof CellEvent>;

/** The progress of the cell's run, as a run's, with the cell's name. */
export const SweepProgressEvent = RunProgressEvent.extend({
  /** `n4v3`. */
  cell: z.string(),
});
export type SweepProgressEvent = z.infer<typeof SweepProgressEvent>;

/**
 * The sweep ended, finished or stopped. Carries what `svd sweep --json` prints, the same object as the sweep's
 * sweep.json (core's experiments/sweep.ts owns its shape); the fields readers rely on are pinned here.
 */
export const SweepResultEvent = z.looseObject({
  type: z.literal('result'),
  id: z.string(),
  dir: z.string(),
  state: z.enum(['finished', 'stopped']),
  /** `budget`: stopped at the sweep's cost budget (exit 12); the same command with a larger one resumes it. */
  stopReason: z.enum(['budget']).optional(),
  cells: z.array(z.looseObject({ name: z.string() })),
});
export type SweepResultEvent = z.infer<typeof SweepResultEvent>;

export const SweepStreamEvent = z.discriminatedUnion('type', [
  DownloadEvent,
  EngineEvent,
  ProblemEvent,
  SweepStartEvent,
  CellEvent,
  SweepProgressEvent,
  NoticeEvent,
  SweepResultEvent,
  ErrorEvent,
]);
export type SweepStreamEvent = z.infer<typeof SweepStreamEvent>;

// ---------------------------------------------------------------- svd eval --events

/** Questions done for one model: `sample` while pass@1's samples are drawn, `ttc` during the test-time baseline. */
export const EvalProgressEvent = z.strictObject({
  type: z.literal('progress'),
  model: z.string(),
  phase: z.enum(['sample', 'ttc']),
  done: count,
  total: count,
});
export type EvalProgressEvent = z.infer<typeof EvalProgressEvent>;

/**
 * The evaluation ended. Carries what `svd eval --json` prints, the same object as the evaluation's result.json
 * (core's experiments/evaluate.ts owns its shape and schema); the fields readers rely on are pinned here.
 */
export const EvalResultEvent = z.looseObject({
  type: z.literal('result'),
  id: z.string(),
  dir: z.string(),
  models: z.array(z.looseObject({ model: z.string() })).min(1),
});
export type EvalResultEvent = z.infer<typeof EvalResultEvent>;

export const EvalStreamEvent = z.discriminatedUnion('type', [ProblemEvent, EvalProgressEvent, NoticeEvent, EvalResultEvent, ErrorEvent]);
export type EvalStreamEvent = z.infer<typeof EvalStreamEvent>;

// ---------------------------------------------------------------- reading a stream

/** Each command's stream, by the command's name. */
export const CLI_STREAMS = { run: RunStreamEvent, sweep: SweepStreamEvent, eval: EvalStreamEvent } as const;
export type CliCommandWithEvents = keyof typeof CLI_STREAMS;
export type CliStreamEvent = RunStreamEvent | SweepStreamEvent | EvalStreamEvent;

export type ReadEvent<E> = { ok: true; event: E } | { ok: false; reason: string };

/** One line of a stream: its event, or why it is not one (not JSON, or not an event the stream carries). */
export function readEventLine<E>(stream: z.ZodType<E>, line: string): ReadEvent<E> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = stream.safeParse(value);
  return parsed.success ? { ok: true, event: parsed.data } : { ok: false, reason: z.prettifyError(parsed.error) };
}
