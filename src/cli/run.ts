// `svd run SEEDS`: the method on a seed file, with a live progress line, the funnel at the end, and `--events` for
// tools. Running it again resumes.
import { Option } from 'commander';
import { createAnswerChecker } from '../core/check/index';
import { PRESETS, type RunConfigInput } from '../core/base/config';
import { EXIT_CODES } from '../core/base/errors';
import { withoutCredentials } from '../core/base/redact';
import { runPipeline } from '../core/method/pipeline';
import { finishedRun, planRun, type RunResult, type RunStartInfo, type RunTarget } from '../core/method/runPlan';
import { funnelJson, formatFunnel } from '../core/record/status';
import { RunStore, checkRunId, readRunManifest, type RunManifest } from '../core/record/store';
import { foldRunStreaming, type RunSummary } from '../core/record/streamFold';
import type { RunStreamEvent } from '../protocol/cliEvents';
import { endpointTarget, resolveEndpoint, serverOptions, type EndpointFlags, type ResolvedEndpoint } from './endpoint';
import { eventStream } from './events';
import type { Io } from './io';
import {
  embeddedEngineOptions,
  integer,
  methodConfig,
  requestOptions,
  samplingOptions,
  runsDirOf,
  seedReadingOptions,
  type MethodFlags,
  type RegisterCommand,
} from './options';
import { ProgressLine } from './progress';
import { screeningOptions, screeningRequest, type ScreeningFlags } from './screen';
import { budgetOptions, costLines, priceOptions, priceTable, runCostOptions, viewCost, type CostFlags } from './cost';
import type { PriceEntry } from '../core/method/cost';

interface RunFlags extends MethodFlags, EndpointFlags, ScreeningFlags, CostFlags {
  candidates?: number;
  votes?: number;
  runsDir?: string;
  run?: string;
  paper?: boolean;
  json?: boolean;
  events?: boolean;
  audit?: 'auto' | 'off';
}

export const registerRunCommand: RegisterCommand = (program, io, setCode) => {
  program
    .command('run')
    .description('run the method on a seed file (JSONL, JSON array or CSV); running it again resumes')
    .argument('<seeds>', 'seed file')
    .include(serverOptions)
    .option('--model <name>', 'model name on the server')
    .include(embeddedEngineOptions)
    .option('--candidates <n>', 'candidate solutions per seed (default 4)', integer('--candidates'))
    .option('--votes <v>', 'judge votes per stage, all must say yes (default 3)', integer('--votes'))
    .option('--concurrency <c>', 'model requests in flight (default 8)', integer('--concurrency'))
    .option('--paper', "the paper's budget: 8 candidates, 5 votes")
    .option('--config <file>', "a JSON file of the method's parameters (candidates, votes, selection, generation, judge, ...)")
    .addOption(new Option('--selection <mode>', 'first_valid (default) or keep_all').choices(['first_valid', 'keep_all']))
    .include(seedReadingOptions)
    .include(screeningOptions)
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--run <id>', 'run id (default: derived from the seed file and settings)')
    .include(samplingOptions)
    .include(requestOptions)
    .include(priceOptions)
    .include(budgetOptions)
    .option('--json', 'machine-readable output')
    .option('--events', 'JSON lines on stdout as the run goes (start, progress, problem, notice, result), for tools')
    .addOption(
      new Option('--audit <mode>', "auto (default): check candidates against the seeds' gold, when they carry it; off").choices(['auto', 'off']),
    )
    .action(async (seeds: string, flags: RunFlags) => setCode(await commandRun(seeds, flags, io)));
};

async function commandRun(seeds: string, flags: RunFlags, io: Io): Promise<number> {
  const extra: RunConfigInput = {};
  if (flags.candidates !== undefined) extra.candidates = flags.candidates;
  if (flags.votes !== undefined) extra.votes = flags.votes;
  if (flags.audit !== undefined) extra.audit = flags.audit;
  const config = methodConfig(flags, extra, flags.paper ? PRESETS.paper : PRESETS.default);
  if (flags.run !== undefined) checkRunId(flags.run, { source: '--run' });
  const screening = screeningRequest(flags);
  // A bad price table fails before anything slow.
  const prices = priceTable(flags, runsDirOf(flags));

  const events = eventStream<RunStreamEvent>(io, flags.events);
  const { emit } = events;
  const quiet = flags.json || flags.events;
  // The seed file and the run's identity before anything slow (a download, the engine, a request): a wrong file fails
  // at once with its own error, and a finished run is reported as it stands, with the server not asked at all.
  const target = endpointTarget(flags);
  const plan = await planRun({
    seedsFile: seeds,
    seedOptions: { domain: flags.domain, questionField: flags.questionField },
    runsDir: runsDirOf(flags),
    runId: flags.run,
    config,
    target,
    screening,
    onProblem: events.onProblem,
    onNotice: events.onNotice,
  });
  if (plan.skippedRows > 0) io.err(`${skippedText(plan.skippedRows, plan.fileRows)} (see the warnings above)`);
  const moved = plan.found && serverMoved(plan.found.manifest, target);
  if (moved) events.onNotice(plan.finished ? `${moved}, where it is not run again` : `${moved}; it goes on there`);
  const onStart = (info: RunStartInfo) => {
    emit({ type: 'start', ...info });
    if (quiet) return;
    const how = info.alreadyFinished ? ' is finished already: nothing is asked of the model' : info.resumed ? ' (resuming)' : '';
    io.out(`run ${info.runId}${how}`);
    io.out(`folder ${info.dir}`);
    const skipped = info.skippedRows > 0 ? ` (${skippedText(info.skippedRows, info.fileRows)})` : '';
    io.out(`seeds ${info.seedsTotal}${skipped}, model ${target.model}, n=${config.candidates}, v=${config.votes}`);
    if (info.screening) {
      const { flagged, duplicates, dropped } = info.screening;
      io.out(`screening: ${flagged} seed(s) match an evaluation item, ${duplicates} repeat another, ${dropped} left out`);
    }
  };
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT_CODES.aborted);
    if (!flags.events) io.err('\nstopping: finishing the records of requests already answered (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const checker = createAnswerChecker();
  const progress = new ProgressLine(io.isTTY && !quiet, (text) => process.stderr.write(text), !flags.events);
  let endpoint: ResolvedEndpoint | undefined;
  try {
    if (plan.finished) {
      const result = await finishedRun(plan, { onStart, checker, onNotice: events.onNotice, signal: controller.signal });
      return report(result, flags, io, emit, prices);
    }
    if (flags.maxCost !== undefined) runCostOptions(flags, prices, target.model);
    endpoint = await resolveEndpoint(flags, io, { quiet: flags.json, events, signal: controller.signal, onEngineDeath: () => controller.abort() });
    const result = await runPipeline({
      seedsFile: seeds,
      seedOptions: plan.seedOptions,
      runsDir: runsDirOf(flags),
      runId: flags.run,
      config,
      screening,
      endpoint: endpoint.endpoint,
      signal: controller.signal,
      checker,
      plan,
      cost: runCostOptions(flags, prices, endpoint.endpoint.model),
      summarize: true,
      onProblem: events.onProblem,
      onNotice: events.onNotice,
      onStart,
      onProgress: (p) => {
        emit({ type: 'progress', ...p });
        progress.update(p);
      },
    });
    progress.done();
    const engineFailure = endpoint.failure();
    if (engineFailure) throw engineFailure;
    return report(result, flags, io, emit, prices);
  } finally {
    progress.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await checker.close();
    await endpoint?.dispose();
  }
}

/** The run's funnel as its record says now: the `result` event, the `--json` object or the text for people. */
function report(result: RunResult, flags: RunFlags, io: Io, emit: (event: RunStreamEvent) => void, prices: readonly PriceEntry[]): number {
  // Folded by the pipeline through its own store where it ran (no second index of the record); streamed here for a
  // run found finished. Either way a run of 10^5 seeds is not held in memory to print its funnel.
  const view = result.summary ?? foldedSummary(result);
  const model = readRunManifest(result.dir).model.model;
  const { runId, dir, state, skippedRows, alreadyFinished, stopReason } = result;
  const cost = { ...viewCost(view, prices, model), ...(flags.maxCost === undefined ? {} : { maxUsd: flags.maxCost }) };
  const summary = { ...funnelJson(view), runId, dir, state, ...(stopReason ? { stopReason } : {}), cost, skippedRows, alreadyFinished };
  if (flags.events) emit({ type: 'result', ...summary, funnel: { ...summary.funnel } });
  else if (flags.json) io.out(JSON.stringify(summary));
  else {
    io.out(formatFunnel(view));
    for (const line of costLines(cost, cost.maxUsd)) io.out(line);
    const f = view.funnel;
    if (stopReason === 'budget') io.out(`stopped for budget at ${f.seedsDone} of ${f.seeds} seeds: run the same command with a larger --max-cost to resume run ${runId}`);
    else if (state === 'stopped') io.out(`stopped at ${f.seedsDone} of ${f.seeds} seeds: run the same command again to resume run ${runId}`);
    else if (f.seedsPending > 0) io.out(`${f.seedsPending} seed(s) hit errors and are pending: run the same command again to retry them`);
    else io.out(`run ${runId} ${alreadyFinished ? 'was finished already' : 'finished'}: ${acceptedText(f)}`);
    if (alreadyFinished) io.out(NEW_RUN_ADVICE);
  }
  if (stopReason === 'budget') return EXIT_CODES.budget;
  return state === 'stopped' ? EXIT_CODES.aborted : 0;
}

function foldedSummary(result: RunResult): RunSummary {
  const store = RunStore.open(result.dir, { readOnly: true });
  try {
    return foldRunStreaming(store, result.seedsTotal, { audit: true });
  } finally {
    store.close();
  }
}

const NEW_RUN_ADVICE = 'To run these seeds again as a run of its own, give it a new id (--run NAME).';

/** `3 of 8 rows skipped`. */
function skippedText(skipped: number, rows: number): string {
  return `${skipped} of ${rows} row${rows === 1 ? '' : 's'} skipped`;
}

/** `3 accepted of 6 seeds`. */
function acceptedText(f: { acceptedFinal: number; seeds: number }): string {
  return `${f.acceptedFinal} accepted of ${f.seeds} seed${f.seeds === 1 ? '' : 's'}`;
}

/**
 * Where the run found ran, when the flags name another place: a run's id covers the seeds, the model and the method,
 * not the server, so a run goes on on a replica at another address (and a finished one is not run again there).
 */
function serverMoved(found: RunManifest, target: RunTarget): string | undefined {
  const where = (engine: 'server' | 'embedded', baseURL: string | undefined) =>
    engine === 'embedded' ? 'the embedded engine' : baseURL === undefined ? 'a server' : withoutCredentials(baseURL).replace(/\/+$/, '');
  const servers = (engine: 'server' | 'embedded', baseURL: string | undefined, endpoints: string[] | undefined) =>
    endpoints && endpoints.length > 1 ? endpoints.map((url) => where(engine, url)).join(', ') : where(engine, baseURL);
  const was = servers(found.model.engine, found.model.baseURL, found.model.endpoints);
  const now = servers(target.engine, target.baseURL, target.endpoints);
  return was === now ? undefined : `run ${found.id} ran on ${was}; this command names ${now}`;
}
