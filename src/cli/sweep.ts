// `svd sweep SEEDS --candidates 1,4,8 --votes 1,3,5`: the method once per budget of the grid on the same seeds, a
// table of what each budget buys (accepted answers, and with gold the judges' precision and recall) and costs.
import path from 'node:path';
import { createAnswerChecker } from '../core/check/index';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../core/base/config';
import { EXIT_CODES, SvdError } from '../core/base/errors';
import type { Endpoint } from '../core/method/pipeline';
import { count, ratio } from '../core/record/status';
import { SWEEP_CSV, SWEEP_JSON, runSweep, type SweepResult } from '../core/experiments/sweep';
import type { Domain } from '../core/base/types';
import { ProgressLine } from './progress';
import { eventStream, type Io } from './io';


/** The flags `svd run`, `svd sweep` and `svd eval` share for the method's parameters. */
export interface MethodFlags {
  concurrency?: number;
  selection?: 'first_valid' | 'keep_all';
  prompts?: string;
  config?: string;
  timeout?: number;
  retries?: number;
  batch: boolean;
  domain?: Domain;
  questionField?: string;
}

export interface SweepFlags extends MethodFlags {
  candidates: number[];
  votes: number[];
  limit?: number;
  out?: string;
  json?: boolean;
  /** JSON lines on stdout as the sweep goes (start, cell, progress, problem, notice, result), for tools. */
  events?: boolean;
}

/** What the sweep needs from the CLI around it. */
export interface SweepDeps {
  runsDir: string;
  /** `--config FILE`, read and checked. */
  readConfigFile(file: string | undefined): RunConfigInput;
  /** The server of --base-url, or the embedded engine started for the sweep. */
  resolveEndpoint(onEngineDeath: () => void): Promise<{ endpoint: Endpoint; failure(): Error | undefined; dispose(): Promise<void> }>;
}

/** `1,4,8` -> [1, 4, 8]. */
export function integerList(flag: string) {
  return (value: string): number[] => {
    const items = value.split(',').map((item) => item.trim());
    if (items.length === 0 || items.some((item) => !/^\d+$/.test(item) || Number(item) < 1)) {
      throw new SvdError('bad_config', `${flag}: expected whole numbers from 1 separated by commas, e.g. 1,4,8; got "${value}"`);
    }
    return items.map(Number);
  };
}

/**
 * The method's parameters, each layer over the one before: `preset` (e.g. --paper), `--config FILE`, `extra` (the
 * command's own flags), then the flags every command shares.
 */
export function methodConfig(
  flags: MethodFlags,
  readConfigFile: SweepDeps['readConfigFile'],
  extra: RunConfigInput = {},
  preset: RunConfigInput = {},
): RunConfig {
  const input: RunConfigInput = { ...preset, ...readConfigFile(flags.config), ...extra };
  if (flags.concurrency !== undefined) input.concurrency = flags.concurrency;
  if (flags.selection !== undefined) input.selection = flags.selection;
  if (flags.prompts !== undefined) input.promptsDir = path.resolve(flags.prompts);
  if (flags.timeout !== undefined) input.requestTimeoutMs = flags.timeout * 1000;
  if (flags.retries !== undefined) input.maxRetries = flags.retries;
  input.batchSamples = flags.batch;
  return parseRunConfig(input, 'options');
}

export async function commandSweep(seeds: string, flags: SweepFlags, io: Io, deps: SweepDeps, signal: AbortSignal): Promise<number> {
  const config = methodConfig(flags, deps.readConfigFile);
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal.addEventListener('abort', stop, { once: true });
  const endpoint = await deps.resolveEndpoint(stop);
  const checker = createAnswerChecker();
  const events = eventStream(io, flags.events);
  const { emit } = events;
  const quiet = flags.json || flags.events;
  const progress = new ProgressLine(io.isTTY && !quiet, (text) => process.stderr.write(text), !flags.events);
  try {
    const result = await runSweep({
      seedsFile: seeds,
      seedOptions: { domain: flags.domain, questionField: flags.questionField },
      runsDir: deps.runsDir,
      candidates: flags.candidates,
      votes: flags.votes,
      limit: flags.limit,
      config,
      endpoint: endpoint.endpoint,
      checker,
      signal: controller.signal,
      outDir: flags.out === undefined ? undefined : path.resolve(flags.out),
      onProblem: events.onProblem,
      onNotice: events.onNotice,
      onStart: (info) => {
        emit({ type: 'start', ...info });
        if (quiet) return;
        io.out(`sweep ${info.id}`);
        io.out(`folder ${info.dir}`);
        io.out(`cells ${info.cells.map((cell) => cell.name).join(' ')}, model ${endpoint.endpoint.model}`);
      },
      onCellStart: (info) => {
        emit({ type: 'cell', ...info });
        if (!quiet) io.err(`cell ${info.name} (${info.index + 1}/${info.total})${info.done ? ': finished earlier' : ''}`);
      },
      onProgress: (p) => {
        emit({ type: 'progress', ...p });
        progress.update(p);
      },
      onCellEnd: () => progress.done(),
    });
    progress.done();
    const failure = endpoint.failure();
    if (failure) throw failure;
    if (flags.events) io.out(JSON.stringify({ type: 'result', ...result }));
    else if (flags.json) io.out(JSON.stringify(result));
    else {
      io.out(formatSweep(result));
      io.out(`results ${path.join(result.dir, SWEEP_JSON)} ${path.join(result.dir, SWEEP_CSV)}`);
      if (flags.out) io.out(`copied to ${path.resolve(flags.out)}`);
      if (result.state === 'stopped') io.out('stopped: run the same command again to resume the sweep');
    }
    return result.state === 'stopped' ? EXIT_CODES.aborted : 0;
  } finally {
    progress.done();
    signal.removeEventListener('abort', stop);
    await checker.close();
    await endpoint.dispose();
  }
}

/** The sweep as a table: one row per cell, in the order they ran. */
export function formatSweep(result: SweepResult): string {
  const header = ['cell', 'state', 'accepted', 'precision', 'recall', 'false acc.', 'false rej.', 'requests', 'cached', 'tokens'];
  const rows = result.cells.map((cell) => [
    cell.name,
    cell.state,
    count(cell.accepted),
    result.audited ? ratio(cell.precision) : '-',
    result.audited ? ratio(cell.recall) : '-',
    result.audited ? count(cell.falseAccepts) : '-',
    result.audited ? count(cell.falseRejects) : '-',
    count(cell.requests),
    count(cell.cachedSamples),
    count(cell.promptTokens + cell.completionTokens),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const render = (cells: string[]) =>
    cells.map((text, column) => (column < 2 ? text.padEnd(widths[column]!) : text.padStart(widths[column]!))).join('  ').trimEnd();
  const lines = [render(header), ...rows.map(render)];
  if (!result.audited) lines.push('(precision and recall need seeds with gold answers or tests)');
  lines.push('requests: sent to the model (cache hits excluded); cached: samples reused from smaller cells or earlier runs');
  return lines.join('\n');
}
