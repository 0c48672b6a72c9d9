// `svd check --pairs FILE`: many answers in one process, one JSON result per input line, in input order. A bad line
// gets a result with an error naming its line and field, and the rest go on; code checks share the checker's
// worker pool, a bounded number of lines in flight.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createAnswerChecker } from '../core/check/index';
import { taskFromPair, type CheckTask } from '../core/check/tasks';
import type { CheckOptions, CheckOutcome, CheckResult } from '../core/base/checker';
import { EXIT_CODES, SvdError, describeError, isSvdError } from '../core/base/errors';
import type { Domain } from '../core/base/types';
import type { Io as FullIo } from './io';

type Io = Pick<FullIo, 'out' | 'err'>;

export interface PairsFlags {
  /** For lines without a domain of their own. */
  domain?: Domain;
  /** Code checks at once (default 2). */
  jobs?: number;
  timeoutMs?: number;
  memoryMb?: number;
}

/** One output line: the input's line number, then the verdict or the error. */
export type PairResult =
  | ({ line: number; id?: string; domain: Domain } & CheckResult)
  | { line: number; id?: string; error: string };

/** Lines in flight beyond the code workers: enough to keep them busy, few enough to bound memory. */
const IN_FLIGHT_PER_WORKER = 8;

function openLines(file: string, readStdin: () => NodeJS.ReadableStream): AsyncIterable<string> {
  if (file === '-') return createInterface({ input: readStdin(), crlfDelay: Infinity });
  try {
    if (statSync(file).isDirectory()) throw new SvdError('bad_config', `--pairs: ${file} is a folder, not a JSONL file`);
  } catch (error) {
    if (isSvdError(error)) throw error;
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SvdError(missing ? 'not_found' : 'bad_config', `--pairs: cannot read ${file}: ${describeError(error)}`, { cause: error });
  }
  return createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
}

/**
 * Exit 0 when every line was checked, whatever the verdicts; 2 when some line could not be read as a pair (each
 * such line has its error in the output); 11 when code could not run for want of a sandbox (outcome `unchecked`).
 */
export async function commandCheckPairs(
  file: string,
  flags: PairsFlags,
  io: Io,
  readStdin: () => NodeJS.ReadableStream = () => process.stdin,
): Promise<number> {
  const lines = openLines(file, readStdin);
  const workers = flags.jobs ?? 2;
  const checker = createAnswerChecker({ codeWorkers: workers, timeoutMs: flags.timeoutMs, memoryMb: flags.memoryMb });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const counts = new Map<CheckOutcome | 'bad line', number>();
  const count = (key: CheckOutcome | 'bad line') => counts.set(key, (counts.get(key) ?? 0) + 1);
  const options: CheckOptions = { signal: controller.signal };

  const checkLine = async (raw: string, line: number): Promise<PairResult> => {
    const fail = (message: string, id?: string): PairResult => {
      count('bad line');
      return { line, ...(id === undefined ? {} : { id }), error: `${file}:${line}: ${message}` };
    };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return fail(`not valid JSON: ${describeError(error)}`);
    }
    const task = taskFromPair(value, { file, line, domain: flags.domain });
    if ('message' in task) return fail(task.field === undefined ? task.message : `field ${JSON.stringify(task.field)}: ${task.message}`);
    return run(task, line, fail);
  };

  const run = async (task: CheckTask, line: number, fail: (message: string, id?: string) => PairResult): Promise<PairResult> => {
    let result: CheckResult | undefined;
    try {
      result = await checker.check(task.domain, task.text, task.gold, { ...options, question: task.question });
    } catch (error) {
      if (controller.signal.aborted) throw new SvdError('aborted', 'stopped; the lines before this one were checked', { cause: error });
      return fail(`the check failed: ${describeError(error)}`, task.id);
    }
    if (result === undefined) return fail(`nothing to check a ${task.domain} answer against`, task.id);
    count(result.outcome);
    return { line, ...(task.id === undefined ? {} : { id: task.id }), domain: task.domain, ...result };
  };

  const inFlight: Array<Promise<PairResult>> = [];
  const limit = Math.max(1, workers) * IN_FLIGHT_PER_WORKER;
  let total = 0;
  try {
    let line = 0;
    try {
      for await (const raw of lines) {
        line++;
        const text = line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
        if (text.trim() === '') continue;
        if (controller.signal.aborted) throw new SvdError('aborted', `stopped at line ${line}`);
        total++;
        const result = checkLine(text, line);
        // Handled here so that a line failing (stopped) before its turn is not an unhandled rejection; it still
        // throws where it is awaited, in order.
        result.catch(() => undefined);
        inFlight.push(result);
        while (inFlight.length >= limit) io.out(JSON.stringify(await inFlight.shift()!));
      }
    } catch (error) {
      if (isSvdError(error)) throw error;
      throw new SvdError('bad_config', `--pairs: cannot read ${file}: ${describeError(error)}`, { cause: error });
    }
    while (inFlight.length > 0) io.out(JSON.stringify(await inFlight.shift()!));
  } finally {
    // Results still in flight when reading stops are dropped, but their runs must end before the checker closes.
    await Promise.allSettled(inFlight);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await checker.close();
  }

  const summary = [...counts].map(([key, n]) => `${n} ${key === 'bad line' && n > 1 ? 'bad lines' : key}`).join(', ');
  io.err(`${total} ${total === 1 ? 'line' : 'lines'}${summary === '' ? '' : `: ${summary}`}`);
  if ((counts.get('bad line') ?? 0) > 0) return EXIT_CODES.bad_config;
  if ((counts.get('unchecked') ?? 0) > 0) {
    io.err('some code was not run: no sandbox on this machine; install bubblewrap (bwrap) to run code checks');
    return EXIT_CODES.no_sandbox;
  }
  return 0;
}
