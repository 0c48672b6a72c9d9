// `svd`: the method from a terminal or CI. Parses arguments, shows progress, maps errors to exit codes; the work
// itself is core's.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import { createAnswerChecker } from '../core/check/index';
import { PRESETS, parseRunConfig, type RunConfigInput } from '../core/base/config';
import { EXIT_CODES, SvdError, describeError, isSvdError } from '../core/base/errors';
import { EXPORT_FORMATS, exportRun, planExport, runProtection, type ExportFormat, type ExportOptions } from '../core/training/export';
import { ModelClient } from '../core/method/model';
import { makeOverride } from '../core/record/overrides';
import { runPipeline, type Endpoint } from '../core/method/pipeline';
import { funnelJson, formatFunnel } from '../core/record/status';
import { RunStore, checkRunId, defaultRunsDir, listRuns, resolveRunDir } from '../core/record/store';
import { foldRun } from '../core/record/runview';
import { DOMAINS, type Domain, type OverrideAction } from '../core/base/types';
import { registerCheckCommand } from './check';
import { DownloadBar, ProgressLine } from './progress';
import { TRAINERS, commandTrain, type TrainFlags } from './train';
import { collect, commandEval, type EvalFlags } from './eval';
import { commandSweep, integerList, methodConfig, type SweepFlags } from './sweep';
import { ensureModel } from '../engine/download';
import { startEngine } from '../engine/host';
import { eventStream, redactingIo, type Io } from './io';
import { addSecretsFromEnv, apiKeyFromEnv, withoutCredentials } from '../core/base/redact';

const VERSION = '0.1.0';

function integer(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new SvdError('bad_config', `${flag}: expected a whole number, got "${value}"`);
    return Number(value);
  };
}

function fraction(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new SvdError('bad_config', `${flag}: expected a number, got "${value}"`);
    return n;
  };
}

function domainOf(value: string): Domain {
  const v = value.toLowerCase();
  if ((DOMAINS as readonly string[]).includes(v)) return v as Domain;
  throw new SvdError('bad_config', `--domain: unknown domain "${value}" (expected ${DOMAINS.join(', ')})`);
}

function runsDirOf(opts: { runsDir?: string }): string {
  return path.resolve(opts.runsDir ?? defaultRunsDir(process.cwd()));
}


interface RunFlags {
  baseUrl?: string;
  model?: string;
  modelPath?: string;
  candidates?: number;
  votes?: number;
  concurrency?: number;
  runsDir?: string;
  run?: string;
  domain?: Domain;
  questionField?: string;
  selection?: 'first_valid' | 'keep_all';
  prompts?: string;
  paper?: boolean;
  batch: boolean;
  timeout?: number;
  retries?: number;
  threads?: number;
  parallel?: number;
  context?: number;
  json?: boolean;
  events?: boolean;
  config?: string;
  audit?: 'auto' | 'off';
}

/** `--config FILE`: a JSON object of the method's parameters (see RunConfigSchema); flags given too win. */
function readConfigFile(file: string | undefined): RunConfigInput {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SvdError('bad_config', `--config: cannot read ${file}: ${describeError(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SvdError('bad_config', `${file}: not valid JSON: ${describeError(error)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SvdError('bad_config', `${file}: expected a JSON object`);
  // Validated here so that errors name the file; parsed again with the flags merged in.
  parseRunConfig(value, file);
  return value as RunConfigInput;
}

async function commandRun(seeds: string, flags: RunFlags, io: Io): Promise<number> {
  const extra: RunConfigInput = {};
  if (flags.candidates !== undefined) extra.candidates = flags.candidates;
  if (flags.votes !== undefined) extra.votes = flags.votes;
  if (flags.audit !== undefined) extra.audit = flags.audit;
  const config = methodConfig(flags, readConfigFile, extra, flags.paper ? PRESETS.paper : PRESETS.default);
  // Before the engine starts: a bad id must fail at once, not after a model download.
  if (flags.run !== undefined) checkRunId(flags.run, { source: '--run' });

  const controller = new AbortController();
  const endpoint = await resolveEndpoint(flags, io, () => controller.abort());
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT_CODES.aborted);
    if (!flags.events) io.err('\nstopping: finishing the records of requests already answered (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const events = eventStream(io, flags.events);
  const { emit } = events;
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
    if (flags.json || flags.events) {
      const summary = { ...funnelJson(view), runId: result.runId, dir: result.dir, state: result.state };
      io.out(JSON.stringify(flags.events ? { type: 'result', ...summary } : summary));
    } else {
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

/** Runs `command` with a signal that SIGINT / SIGTERM abort, so a stop leaves resumable records. */
async function withStopSignal(command: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await command(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

interface ResolvedEndpoint {
  endpoint: Endpoint;
  /** Set when the embedded engine died under the run: the reason to report instead of a plain stop. */
  failure(): SvdError | undefined;
  dispose(): Promise<void>;
}

/** A server named by --base-url, else the embedded engine on --model-path or the default model. */
async function resolveEndpoint(flags: RunFlags, io: Io, onEngineDeath: () => void): Promise<ResolvedEndpoint> {
  if (flags.baseUrl) {
    if (!flags.model) throw new SvdError('bad_config', '--model: required with --base-url (list them with `svd models --base-url URL`)');
    return {
      endpoint: { baseURL: flags.baseUrl, model: flags.model, apiKey: apiKeyFromEnv(), engine: 'server' },
      failure: () => undefined,
      dispose: async () => {},
    };
  }
  let modelPath = flags.modelPath;
  if (!modelPath) {
    const bar = new DownloadBar(io.isTTY && !flags.json, (text) => process.stderr.write(text));
    modelPath = await ensureModel({
      onProgress: (p) => {
        if (flags.events) io.out(JSON.stringify({ type: 'download', ...p }));
        bar.update(p);
      },
    });
    bar.done();
  }
  io.err(`starting the embedded engine on ${modelPath}`);
  const engine = await startEngine({
    modelPath,
    threads: flags.threads,
    parallel: flags.parallel,
    contextSize: flags.context,
    log: (line) => {
      if (process.env.SVD_DEBUG) io.err(`engine: ${line}`);
    },
  });
  io.err(`embedded engine ready: model ${engine.model}, pid ${engine.pid}`);
  if (flags.events) io.out(JSON.stringify({ type: 'engine', model: engine.model, pid: engine.pid }));
  let failure: SvdError | undefined;
  const exit = engine.onExit((info) => {
    if (info.expected) return;
    failure = new SvdError(
      'engine',
      `the embedded engine stopped unexpectedly (${info.signal ?? `exit code ${info.code}`}); the run's records are intact: run the same command again to resume`,
    );
    onEngineDeath();
  });
  return {
    endpoint: { baseURL: engine.baseURL, model: flags.model ?? engine.model, apiKey: engine.apiKey, engine: 'embedded' },
    failure: () => failure,
    dispose: async () => {
      exit.dispose();
      await engine.stop();
    },
  };
}

function commandStatus(run: string, flags: { runsDir?: string; json?: boolean }, io: Io): number {
  const dir = resolveRunDir(run, runsDirOf(flags));
  const store = RunStore.open(dir, { readOnly: true });
  try {
    const view = foldRun(store.events(), store.manifest.seedFile.rows);
    if (flags.json) {
      io.out(JSON.stringify({ runId: store.manifest.id, dir, model: store.manifest.model.model, ...funnelJson(view) }));
    } else {
      io.out(`run ${store.manifest.id} (${view.state})`);
      io.out(`seed file ${store.manifest.seedFile.path}`);
      io.out(`model ${store.manifest.model.model}, n=${store.manifest.config.candidates}, v=${store.manifest.config.votes}`);
      io.out(formatFunnel(view));
    }
  } finally {
    store.close();
  }
  return 0;
}

function commandRuns(flags: { runsDir?: string; json?: boolean }, io: Io): number {
  const runsDir = runsDirOf(flags);
  const runs = listRuns(runsDir);
  const rows = runs.map((run) => {
    const store = RunStore.open(run.dir, { readOnly: true });
    const view = foldRun(store.events(), run.manifest.seedFile.rows);
    store.close();
    return { id: run.id, dir: run.dir, state: view.state, seeds: view.funnel.seeds, done: view.funnel.seedsDone, accepted: view.funnel.acceptedFinal };
  });
  if (flags.json) io.out(JSON.stringify(rows));
  else if (rows.length === 0) io.out(`no runs in ${runsDir}`);
  else for (const r of rows) io.out(`${r.id}\t${r.state}\t${r.done}/${r.seeds} seeds\t${r.accepted} accepted`);
  return 0;
}

interface ExportFlags {
  format: ExportFormat;
  out: string;
  stripThinking?: boolean;
  overrides: boolean;
  valFraction?: number;
  splitSeed?: number;
  runsDir?: string;
  json?: boolean;
  force?: boolean;
}

function commandExport(run: string, flags: ExportFlags, io: Io): number {
  const dir = resolveRunDir(run, runsDirOf(flags));
  const store = RunStore.open(dir, { readOnly: true });
  try {
    if (flags.valFraction !== undefined && !(flags.valFraction >= 0 && flags.valFraction < 1)) {
      throw new SvdError('bad_config', `--val-fraction: expected a number from 0 up to (not including) 1, got ${flags.valFraction}`);
    }
    const options: ExportOptions = {
      format: flags.format,
      out: path.resolve(flags.out),
      thinking: flags.stripThinking ? 'strip' : 'keep',
      applyOverrides: flags.overrides,
      valFraction: flags.valFraction,
      splitSeed: flags.splitSeed,
      protect: runProtection(store),
      replace: flags.force === true,
    };
    const { existing } = planExport(options);
    if (existing.length > 0 && !flags.force) {
      const which = existing.join(' and ');
      throw new SvdError('bad_config', `--out: ${which} already ${existing.length === 1 ? 'exists' : 'exist'}: pass --force to replace it, or choose another file`);
    }
    const summary = exportRun(store.events(), options);
    if (flags.json) io.out(JSON.stringify(summary));
    else {
      for (const file of summary.files) io.out(`${file.split}\t${file.rows} rows\t${file.path}`);
      if (summary.datasetInfo) io.out(`dataset_info\t${summary.datasetInfo}`);
      const domains = Object.entries(summary.perDomain).filter(([, n]) => n > 0).map(([d, n]) => `${d} ${n}`);
      io.out(`${summary.rows} examples (${domains.join(', ') || 'none'}), about ${summary.approxTokens} tokens`);
      if (summary.rows === 0) io.err('warning: the run has no accepted answer yet: the file is empty');
    }
  } finally {
    store.close();
  }
  return 0;
}

function commandOverride(run: string, candidate: string, action: OverrideAction, flags: { note?: string; runsDir?: string }, io: Io): number {
  const dir = resolveRunDir(run, runsDirOf(flags));
  const store = RunStore.open(dir);
  try {
    const event = makeOverride((id) => store.has(`cand:${id}`), candidate, action, flags.note);
    store.append(event);
    io.out(action === 'clear' ? `${candidate}: override cleared` : `${candidate}: ${action}ed by hand`);
  } finally {
    store.close();
  }
  return 0;
}

async function commandModels(flags: { baseUrl: string; json?: boolean }, io: Io): Promise<number> {
  const client = new ModelClient({
    baseURL: flags.baseUrl,
    model: '',
    apiKey: apiKeyFromEnv(),
    concurrency: 1,
    timeoutMs: 30_000,
    maxRetries: 2,
    batchSamples: false,
  });
  const models = await client.listModels();
  if (flags.json) io.out(JSON.stringify(models));
  else if (models.length === 0) io.out(`${withoutCredentials(flags.baseUrl)} serves no model`);
  else for (const model of models) io.out(model);
  return 0;
}

/** Options that several commands take, each group written once. */
class SvdCommand extends Command {
  override createCommand(name?: string): SvdCommand {
    return new SvdCommand(name);
  }

  include(group: (command: Command) => void): this {
    group(this);
    return this;
  }
}

function embeddedEngineOptions(command: Command): void {
  command
    .option('--model-path <file>', 'embedded engine: a local GGUF (default: Qwen3-0.6B, downloaded once)')
    .option('--threads <n>', 'embedded engine: CPU threads (default: the core count)', integer('--threads'))
    .option('--parallel <n>', 'embedded engine: sequences generated at once', integer('--parallel'))
    .option('--context <tokens>', 'embedded engine: context size per sequence', integer('--context'));
}

function seedReadingOptions(command: Command): void {
  command
    .option('--domain <domain>', 'domain for rows without a domain field: math, science or coding', domainOf)
    .option('--question-field <name>', 'the field that holds the question')
    .option('--prompts <dir>', 'folder of prompt templates that replace the built-in ones');
}

function requestOptions(command: Command): void {
  command
    .option('--timeout <seconds>', 'per-request timeout', integer('--timeout'))
    .option('--retries <n>', 'retries per request', integer('--retries'))
    .option('--no-batch', 'one request per sample instead of `n` samples per request');
}

export function buildProgram(io: Io, setCode: (code: number) => void): Command {
  const program = new SvdCommand('svd')
    .description('Self-verified distillation: a model writes candidate answers, judges them itself, and keeps the verified ones.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError();

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
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--run <id>', 'run id (default: derived from the seed file and settings)')
    .include(requestOptions)
    .option('--json', 'machine-readable output')
    .option('--events', 'JSON lines on stdout as the run goes (start, progress, problem, notice, result), for tools')
    .addOption(
      new Option('--audit <mode>', "auto (default): check candidates against the seeds' gold, when they carry it; off").choices(['auto', 'off']),
    )
    .action(async (seeds: string, flags: RunFlags) => setCode(await commandRun(seeds, flags, io)));

  program
    .command('status')
    .description("a run's funnel, requests, tokens and wall time")
    .argument('<run>', 'run id or folder')
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--json', 'machine-readable output')
    .action((run: string, flags) => setCode(commandStatus(run, flags, io)));

  program
    .command('runs')
    .description('list the runs')
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--json', 'machine-readable output')
    .action((flags) => setCode(commandRuns(flags, io)));

  program
    .command('export')
    .description('write the accepted answers as training data')
    .argument('<run>', 'run id or folder')
    .addOption(new Option('--format <format>', 'training data format').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .requiredOption('--out <file>', 'output file (.jsonl)')
    .option('--strip-thinking', 'drop the thinking trace (kept by default, as the method trains on it)')
    .option('--no-overrides', 'ignore manual accept/reject decisions')
    .option('--val-fraction <f>', 'share of seeds held out for validation (writes .train.jsonl and .val.jsonl)', fraction('--val-fraction'))
    .option('--split-seed <n>', 'seed of the train/validation split', integer('--split-seed'))
    .option('--force', "replace the output file if it exists (never the run's own files or its seed file)")
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--json', 'machine-readable output')
    .action((run: string, flags: ExportFlags) => setCode(commandExport(run, flags, io)));

  program
    .command('override')
    .description("overrule the judges on one candidate: accept, reject, or clear a previous decision")
    .argument('<run>', 'run id or folder')
    .argument('<candidate>', 'candidate id (<seed id>#<index>)')
    .addArgument(new Argument('<action>', 'accept | reject | clear').choices(['accept', 'reject', 'clear']))
    .option('--note <text>', 'why')
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .action((run: string, candidate: string, action: OverrideAction, flags) => setCode(commandOverride(run, candidate, action, flags, io)));

  program
    .command('train')
    .description("train on a run's accepted answers with an existing trainer: an OpenAI-compatible fine-tuning API, TRL, LLaMA-Factory or your own command")
    .argument('<run>', 'run id or folder')
    .addOption(new Option('--trainer <trainer>', 'openai | trl | llamafactory | custom').choices([...TRAINERS]).makeOptionMandatory())
    .option('--base-model <name>', "the model to train (default: the run's model)")
    .option('--base-url <url>', 'openai: the fine-tuning server (default https://api.openai.com/v1)')
    .option('--dry-run', "write the trainer's files into the run's folder and print them, without launching")
    .option('--epochs <n>', 'openai: epochs', integer('--epochs'))
    .option('--lr-multiplier <x>', 'openai: learning-rate multiplier', fraction('--lr-multiplier'))
    .option('--batch-size <n>', 'openai: batch size', integer('--batch-size'))
    .option('--lora', 'trl / llamafactory: train a LoRA adapter (rank 16, all linear layers, ten times the learning rate) instead of the full model')
    .option('--processes <n>', 'trl / llamafactory: GPUs (accelerate / torchrun processes)', integer('--processes'))
    .option('--python <path>', 'trl / llamafactory: the Python interpreter (default python3)')
    .option('--command <json>', 'custom: the command as a JSON array; {data} {base_model} {output} {validation} are filled in')
    .option('--val-fraction <f>', 'share of seeds held out for validation', fraction('--val-fraction'))
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .action(async (run: string, flags: TrainFlags & { runsDir?: string }) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        setCode(await commandTrain(resolveRunDir(run, runsDirOf(flags)), flags, io, apiKeyFromEnv(), controller.signal));
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });

  program
    .command('sweep')
    .description("run the method once per budget of a grid (n candidates x v votes) on the same seeds; with gold, the judges' precision and recall")
    .argument('<seeds>', 'seed file')
    .requiredOption('--candidates <list>', 'values of n, e.g. 1,4,8', integerList('--candidates'))
    .requiredOption('--votes <list>', 'values of v, e.g. 1,3,5', integerList('--votes'))
    .option('--base-url <url>', 'OpenAI-compatible server (default: the embedded engine)')
    .option('--model <name>', 'model name on the server')
    .include(embeddedEngineOptions)
    .option('--limit <n>', 'only the first N seeds', integer('--limit'))
    .option('--out <dir>', "also write sweep.json and sweep.csv here (they are always in the sweep's folder)")
    .option('--concurrency <c>', 'model requests in flight (default 8)', integer('--concurrency'))
    .option('--config <file>', "a JSON file of the method's other parameters")
    .addOption(new Option('--selection <mode>', 'first_valid (default) or keep_all').choices(['first_valid', 'keep_all']))
    .include(seedReadingOptions)
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs); the sweep is a folder of runs there')
    .include(requestOptions)
    .option('--json', 'machine-readable output')
    .option('--events', 'JSON lines on stdout as the sweep goes (start, cell, progress, problem, notice, result), for tools')
    .action(async (seeds: string, flags: SweepFlags & Omit<RunFlags, 'candidates' | 'votes'>) => {
      const { baseUrl, model, modelPath, threads, parallel, context, json, events, batch } = flags;
      const engineFlags: RunFlags = { baseUrl, model, modelPath, threads, parallel, context, json: json || events, events, batch };
      const deps = {
        runsDir: runsDirOf(flags),
        readConfigFile,
        resolveEndpoint: (onEngineDeath: () => void) => resolveEndpoint(engineFlags, io, onEngineDeath),
      };
      setCode(await withStopSignal((signal) => commandSweep(seeds, flags, io, deps, signal)));
    });

  program
    .command('eval')
    .description('pass@1 of one or more models on a labeled seed file; --ttc adds the test-time baseline (n candidates and the cascade per question)')
    .argument('<seeds>', 'seed file whose rows carry gold (answer or tests); rows without are skipped')
    .requiredOption('--base-url <url>', 'OpenAI-compatible server; once, or once per --model', collect)
    .requiredOption('--model <name>', 'model to evaluate; repeat it to compare models side by side', collect)
    .option('--samples <k>', 'samples per question; pass@1 is their mean (default 1)', integer('--samples'))
    .option('--ttc', 'also the test-time baseline: n candidates, the same cascade, the first that passes answers')
    .option('--candidates <n>', 'test-time baseline: candidates per question (default 4)', integer('--candidates'))
    .option('--votes <v>', 'test-time baseline: judge votes per stage (default 3)', integer('--votes'))
    .option('--limit <n>', 'only the first N labeled questions', integer('--limit'))
    .option('--concurrency <c>', 'model requests in flight (default 8)', integer('--concurrency'))
    .option('--config <file>', "a JSON file of the method's parameters (generation sampling, judge sampling, ...)")
    .include(seedReadingOptions)
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs); evaluations go beside it, in evals/')
    .include(requestOptions)
    .option('--json', 'machine-readable output')
    .option('--events', 'JSON lines on stdout as it goes (progress, problem, notice, result), for tools')
    .action(async (seeds: string, flags: EvalFlags & { runsDir?: string }) => {
      const deps = { runsDir: runsDirOf(flags), readConfigFile, apiKey: apiKeyFromEnv() };
      setCode(await withStopSignal((signal) => commandEval(seeds, flags, io, deps, signal)));
    });

  program
    .command('models')
    .description('list the models a server serves')
    .requiredOption('--base-url <url>', 'OpenAI-compatible server')
    .option('--json', 'machine-readable output')
    .action(async (flags) => setCode(await commandModels(flags, io)));

  registerCheckCommand(program, io, setCode);

  return program;
}

export async function main(argv: string[], rawIo: Io): Promise<number> {
  addSecretsFromEnv(process.env);
  const io = redactingIo(rawIo);
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : EXIT_CODES.bad_config;
    }
    if (isSvdError(error)) {
      io.err(`error: ${error.message}`);
      if (argv.includes('--events')) io.out(JSON.stringify({ type: 'error', code: error.code, message: error.message }));
      return EXIT_CODES[error.code];
    }
    io.err(`error: ${describeError(error)}`);
    if (error instanceof Error && error.stack && process.env.SVD_DEBUG) io.err(error.stack);
    return EXIT_CODES.internal;
  }
}

if (require.main === module) {
  const io: Io = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    isTTY: Boolean(process.stderr.isTTY),
  };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
