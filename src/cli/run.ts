// `svd run SEEDS`: the method on a seed file, with a live progress line, the funnel at the end, and `--events` for
// tools. Running it again resumes.
import { Option } from 'commander';
import { createAnswerChecker } from '../core/check/index';
import { PRESETS, type RunConfigInput } from '../core/base/config';
import { EXIT_CODES } from '../core/base/errors';
import { runPipeline } from '../core/method/pipeline';
import { funnelJson, formatFunnel } from '../core/record/status';
import { RunStore, checkRunId } from '../core/record/store';
import { foldRun } from '../core/record/runview';
import type { RunStreamEvent } from '../protocol/cliEvents';
import { resolveEndpoint, type EndpointFlags } from './endpoint';
import { eventStream } from './events';
import type { Io } from './io';
import {
  embeddedEngineOptions,
  integer,
  methodConfig,
  requestOptions,
  runsDirOf,
  seedReadingOptions,
  type MethodFlags,
  type RegisterCommand,
} from './options';
import { ProgressLine } from './progress';
import { screeningOptions, screeningRequest, type ScreeningFlags } from './screen';

interface RunFlags extends MethodFlags, EndpointFlags, ScreeningFlags {
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
    .option('--base-url <url>', 'OpenAI-compatible server, e.g. http://localhost:8000/v1 (default: the embedded engine)')
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
    .include(requestOptions)
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
  // Before the engine starts: a bad id must fail at once, not after a model download.
  if (flags.run !== undefined) checkRunId(flags.run, { source: '--run' });
  const screening = screeningRequest(flags);

  const events = eventStream<RunStreamEvent>(io, flags.events);
  const { emit } = events;
  const controller = new AbortController();
  const endpoint = await resolveEndpoint(flags, io, { quiet: flags.json, events, onEngineDeath: () => controller.abort() });
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT_CODES.aborted);
    if (!flags.events) io.err('\nstopping: finishing the records of requests already answered (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const quiet = flags.json || flags.events;
  const progress = new ProgressLine(io.isTTY && !quiet, (text) => process.stderr.write(text), !flags.events);
  const checker = createAnswerChecker();
  try {
    const result = await runPipeline({
      seedsFile: seeds,
      seedOptions: { domain: flags.domain, questionField: flags.questionField },
      runsDir: runsDirOf(flags),
      runId: flags.run,
      config,
      screening,
      endpoint: endpoint.endpoint,
      signal: controller.signal,
      checker,
      onProblem: events.onProblem,
      onNotice: events.onNotice,
      onStart: (info) => {
        emit({ type: 'start', ...info });
        if (quiet) return;
        io.out(`run ${info.runId}${info.resumed ? ' (resuming)' : ''}`);
        io.out(`folder ${info.dir}`);
        io.out(`seeds ${info.seedsTotal}, model ${endpoint.endpoint.model}, n=${config.candidates}, v=${config.votes}`);
        if (info.screening) {
          const { flagged, duplicates, dropped } = info.screening;
          io.out(`screening: ${flagged} seed(s) match an evaluation item, ${duplicates} repeat another, ${dropped} left out`);
        }
      },
      onProgress: (p) => {
        emit({ type: 'progress', ...p });
        progress.update(p);
      },
    });
    progress.done();
    const engineFailure = endpoint.failure();
    if (engineFailure) throw engineFailure;
    const store = RunStore.open(result.dir, { readOnly: true });
    const view = foldRun(store.events(), result.seedsTotal);
    store.close();
    const summary = { ...funnelJson(view), runId: result.runId, dir: result.dir, state: result.state };
    if (flags.events) emit({ type: 'result', ...summary });
    else if (flags.json) io.out(JSON.stringify(summary));
    else {
      io.out(formatFunnel(view));
      if (result.state === 'stopped') io.out(`stopped: run the same command again to resume run ${result.runId}`);
      else if (view.funnel.seedsPending > 0) {
        io.out(`${view.funnel.seedsPending} seed(s) hit errors and are pending: run the same command again to retry them`);
      }
    }
    return result.state === 'stopped' ? EXIT_CODES.aborted : 0;
  } finally {
    progress.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await checker.close();
    await endpoint.dispose();
  }
}
