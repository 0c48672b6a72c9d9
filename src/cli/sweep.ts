// `svd sweep SEEDS --candidates 1,4,8 --votes 1,3,5`: the method once per budget of the grid on the same seeds, a
// table of what each budget buys (accepted answers, and with gold the judges' precision and recall) and costs.
import path from 'node:path';
import { Option } from 'commander';
import { createAnswerChecker } from '../core/check/index';
import { EXIT_CODES } from '../core/base/errors';
import { count, ratio } from '../core/record/status';
import { SWEEP_CSV, SWEEP_JSON, runSweep, type SweepResult } from '../core/experiments/sweep';
import type { SweepStreamEvent } from '../protocol/cliEvents';
import { scanSeeds } from '../core/method/seeds';
import { endpointTarget, resolveEndpoint, serverOptions, type EndpointFlags } from './endpoint';
import { eventStream } from './events';
import type { Io } from './io';
import {
  embeddedEngineOptions,
  integer,
  integerList,
  methodConfig,
  requestOptions,
  samplingOptions,
  runsDirOf,
  seedReadingOptions,
  withStopSignal,
  type MethodFlags,
  type RegisterCommand,
} from './options';
import { ProgressLine } from './progress';
import { budgetOptions, priceOptions, priceTable, runCostOptions, type CostFlags } from './cost';

interface SweepFlags extends MethodFlags, EndpointFlags, CostFlags {
  candidates: number[];
  votes: number[];
  limit?: number;
  out?: string;
  runsDir?: string;
  json?: boolean;
  /** JSON lines on stdout as the sweep goes (start, cell, progress, problem, notice, result), for tools. */
  events?: boolean;
}

export const registerSweepCommand: RegisterCommand = (program, io, setCode) => {
  program
    .command('sweep')
    .description("run the method once per budget of a grid (n candidates x v votes) on the same seeds; with gold, the judges' precision and recall")
    .argument('<seeds>', 'seed file')
    .requiredOption('--candidates <list>', 'values of n, e.g. 1,4,8', integerList('--candidates'))
    .requiredOption('--votes <list>', 'values of v, e.g. 1,3,5', integerList('--votes'))
    .include(serverOptions)
    .option('--model <name>', 'model name on the server')
    .include(embeddedEngineOptions)
    .option('--limit <n>', 'only the first N seeds', integer('--limit'))
    .option('--out <dir>', "also write sweep.json and sweep.csv here (they are always in the sweep's folder)")
    .option('--concurrency <c>', 'model requests in flight (default 8)', integer('--concurrency'))
    .option('--config <file>', "a JSON file of the method's other parameters")
    .addOption(new Option('--selection <mode>', 'first_valid (default) or keep_all').choices(['first_valid', 'keep_all']))
    .include(seedReadingOptions)
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs); the sweep is a folder of runs there')
    .include(samplingOptions)
    .include(requestOptions)
    .option('--json', 'machine-readable output')
    .option('--events', 'JSON lines on stdout as the sweep goes (start, cell, progress, problem, notice, result), for tools')
    .include(priceOptions)
    .include(budgetOptions)
    .action(async (seeds: string, flags: SweepFlags) => setCode(await withStopSignal((signal) => commandSweep(seeds, flags, io, signal))));
};

async function commandSweep(seeds: string, flags: SweepFlags, io: Io, signal: AbortSignal): Promise<number> {
  const config = methodConfig(flags);
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal.addEventListener('abort', stop, { once: true });
  const events = eventStream<SweepStreamEvent>(io, flags.events);
  const { emit } = events;
  const quiet = flags.json || flags.events;
  // A file that is no seed file fails here, before a download or an engine start (the sweep reads it again).
  await scanSeeds({ file: seeds, domain: flags.domain, questionField: flags.questionField, maxQuestionBytes: config.maxQuestionBytes });
  const prices = priceTable(flags, runsDirOf(flags));
  if (flags.maxCost !== undefined) runCostOptions(flags, prices, endpointTarget(flags).model);
  const endpoint = await resolveEndpoint(flags, io, { quiet, events, signal, onEngineDeath: stop });
  const checker = createAnswerChecker();
  const progress = new ProgressLine(io.isTTY && !quiet, (text) => process.stderr.write(text), !flags.events);
  try {
    const result = await runSweep({
      seedsFile: seeds,
      seedOptions: { domain: flags.domain, questionField: flags.questionField },
      runsDir: runsDirOf(flags),
      candidates: flags.candidates,
      votes: flags.votes,
      limit: flags.limit,
      config,
      endpoint: endpoint.endpoint,
      checker,
      signal: controller.signal,
      cost: runCostOptions(flags, prices, endpoint.endpoint.model),
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
    if (flags.events) emit({ type: 'result', ...result });
    else if (flags.json) io.out(JSON.stringify(result));
    else {
      io.out(formatSweep(result));
      io.out(`results ${path.join(result.dir, SWEEP_JSON)} ${path.join(result.dir, SWEEP_CSV)}`);
      if (flags.out) io.out(`copied to ${path.resolve(flags.out)}`);
      if (result.stopReason === 'budget') io.out('stopped for budget: run the same command with a larger --max-cost to resume the sweep');
      else if (result.state === 'stopped') io.out('stopped: run the same command again to resume the sweep');
    }
    if (result.stopReason === 'budget') return EXIT_CODES.budget;
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
