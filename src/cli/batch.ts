// `svd batch prepare|import|run`: the method through batch services, one wave at a time (generation, then each
// stage's round of votes for the candidates still in play), in the OpenAI batch line format that the OpenAI Batch API,
// `vllm run-batch` and other tools read. The work is core's (core/method/batch); this module reads flags and prints.
import { Option, type Command } from 'commander';
import { createAnswerChecker } from '../core/check/index';
import { PRESETS, type RunConfigInput } from '../core/base/config';
import { EXIT_CODES, SvdError } from '../core/base/errors';
import { apiKeyFromEnv } from '../core/base/redact';
import { runBatchApi } from '../core/method/batch/batchApi';
import { importBatch, runWave, type BatchRunSpec } from '../core/method/batch/wave';
import { MAX_BYTES_PER_FILE, MAX_LINES_PER_FILE } from '../core/method/batch/waveFiles';
import { checkRunId, resolveRunDir } from '../core/record/store';
import { budgetOptions, priceOptions, priceTable, runCostOptions, type CostFlags } from './cost';
import { eventStream } from './events';
import type { Io } from './io';
import { fraction, integer, methodConfig, runsDirOf, samplingOptions, seedReadingOptions, type MethodFlags, type RegisterCommand } from './options';
import { screeningOptions, screeningRequest, type ScreeningFlags } from './screen';
import path from 'node:path';

interface BatchRunFlags extends Omit<MethodFlags, 'batch'>, ScreeningFlags, CostFlags {
  model?: string;
  candidates?: number;
  votes?: number;
  runsDir?: string;
  run?: string;
  paper?: boolean;
  audit?: 'auto' | 'off';
  maxLines?: number;
  maxMb?: number;
  json?: boolean;
}

interface PrepareFlags extends BatchRunFlags {
  out: string;
}

interface DriveFlags extends BatchRunFlags {
  baseUrl: string;
  pollInterval?: number;
}

/** The run options of `svd run` that say what the run is (no server, no concurrency: a batch service has its own). */
function runOptions(command: Command): void {
  command
    .requiredOption('--model <name>', 'model name at the batch service')
    .option('--candidates <n>', 'candidate solutions per seed (default 4)', integer('--candidates'))
    .option('--votes <v>', 'judge votes per stage, all must say yes (default 3)', integer('--votes'))
    .option('--paper', "the paper's budget: 8 candidates, 5 votes")
    .option('--config <file>', "a JSON file of the method's parameters (candidates, votes, selection, generation, judge, ...)")
    .addOption(new Option('--selection <mode>', 'first_valid (default) or keep_all').choices(['first_valid', 'keep_all']));
  seedReadingOptions(command);
  screeningOptions(command);
  command
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--run <id>', 'run id (default: derived from the seed file and settings, as `svd run` derives it)');
  samplingOptions(command);
  command
    .addOption(new Option('--audit <mode>', "auto (default): check candidates against the seeds' gold, when they carry it; off").choices(['auto', 'off']))
    .option('--max-lines <n>', `requests per file at most (default ${MAX_LINES_PER_FILE})`, integer('--max-lines'))
    .option('--max-mb <n>', `megabytes per file at most (default ${MAX_BYTES_PER_FILE / 1024 / 1024})`, fraction('--max-mb'))
    .option('--json', 'machine-readable output');
  // A batch API's requests are reserved at the table's batch price.
  priceOptions(command);
  budgetOptions(command);
}

function batchCost(spec: BatchRunSpec, flags: BatchRunFlags) {
  return runCostOptions(flags, priceTable(flags, spec.runsDir), spec.model);
}

export const registerBatchCommands: RegisterCommand = (program, io, setCode) => {
  const batch = program
    .command('batch')
    .description('run the method through a batch API (OpenAI, `vllm run-batch`), one wave of requests at a time');

  (batch.command('prepare') as typeof program)
    .description("write the next wave's requests as JSONL files (the OpenAI batch line format)")
    .argument('<seeds>', 'seed file')
    .requiredOption('--out <dir>', 'folder for the request files')
    .include(runOptions)
    .action(async (seeds: string, flags: PrepareFlags) => setCode(await withStop((signal) => commandPrepare(seeds, flags, io, signal))));

  (batch.command('import') as typeof program)
    .description('record the answers of batch output and error files (OpenAI or vLLM lines, any order); failed or missing requests go into the next wave')
    .argument('<run>', 'run id or folder')
    .argument('<files...>', 'output and error files')
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .option('--json', 'machine-readable output')
    .action(async (run: string, files: string[], flags: { runsDir?: string; json?: boolean }) =>
      setCode(await withStop((signal) => commandImport(run, files, flags, io, signal))),
    );

  (batch.command('run') as typeof program)
    .description('drive the waves through a Batch API (upload, create, poll, download, next wave); running it again resumes, Ctrl-C cancels the open batches')
    .argument('<seeds>', 'seed file')
    .requiredOption('--base-url <url>', 'the Batch API, e.g. https://api.openai.com/v1')
    .option('--poll-interval <seconds>', 'between polls of the open batches (default 30)', fraction('--poll-interval'))
    .include(runOptions)
    .action(async (seeds: string, flags: DriveFlags) => setCode(await withStop((signal) => commandRun(seeds, flags, io, signal))));
};

function specOf(seeds: string, flags: BatchRunFlags): BatchRunSpec {
  const extra: RunConfigInput = {};
  if (flags.candidates !== undefined) extra.candidates = flags.candidates;
  if (flags.votes !== undefined) extra.votes = flags.votes;
  if (flags.audit !== undefined) extra.audit = flags.audit;
  const config = methodConfig({ ...flags, batch: true }, extra, flags.paper ? PRESETS.paper : PRESETS.default);
  if (flags.run !== undefined) checkRunId(flags.run, { source: '--run' });
  const screening = screeningRequest(flags);
  const seedOptions = { ...(flags.domain ? { domain: flags.domain } : {}), ...(flags.questionField ? { questionField: flags.questionField } : {}) };
  return {
    seedsFile: path.resolve(seeds),
    ...(Object.keys(seedOptions).length > 0 ? { seedOptions } : {}),
    ...(screening ? { screening: { ...screening, against: screening.against.map((file) => path.resolve(file)) } } : {}),
    config,
    model: flags.model!,
    runsDir: runsDirOf(flags),
    ...(flags.run !== undefined ? { runId: flags.run } : {}),
  };
}

function fileLimits(flags: BatchRunFlags): { maxLines?: number; maxBytes?: number } {
  if (flags.maxLines !== undefined && flags.maxLines < 1) throw new SvdError('bad_config', `--max-lines: at least 1, got ${flags.maxLines}`);
  if (flags.maxMb !== undefined && !(flags.maxMb > 0)) throw new SvdError('bad_config', `--max-mb: more than 0, got ${flags.maxMb}`);
  return {
    ...(flags.maxLines !== undefined ? { maxLines: flags.maxLines } : {}),
    ...(flags.maxMb !== undefined ? { maxBytes: Math.floor(flags.maxMb * 1024 * 1024) } : {}),
  };
}

async function commandPrepare(seeds: string, flags: PrepareFlags, io: Io, signal: AbortSignal): Promise<number> {
  const spec = specOf(seeds, flags);
  const events = eventStream(io, false);
  const checker = createAnswerChecker();
  try {
    const cost = batchCost(spec, flags);
    const wave = await runWave({ spec, out: { dir: path.resolve(flags.out), ...fileLimits(flags) }, signal, checker, onProblem: events.onProblem, onNotice: events.onNotice, cost });
    const budget = wave.stopReason === 'budget' ? { stopReason: 'budget' } : {};
    if (flags.json) io.out(JSON.stringify({ run: wave.runId, files: wave.files, done: wave.done, ...budget }));
    else if (wave.done) io.out(`run ${wave.runId} is finished: ${wave.accepted} accepted of ${wave.seedsTotal} seeds; nothing more to ask`);
    else {
      io.out(`run ${wave.runId}, wave ${wave.wave}: ${wave.requests} request(s); ${wave.seedsDone} of ${wave.seedsTotal} seeds done`);
      for (const file of wave.files) io.out(file);
      if (wave.stopReason === 'budget') io.out(`stopped for budget: only the requests that fit under --max-cost were written; a larger one asks the rest`);
      if (wave.files.length > 0) io.out(`then: svd batch import ${wave.runId} OUTPUT.jsonl [ERRORS.jsonl]${flags.runsDir ? ` --runs-dir ${flags.runsDir}` : ''}`);
    }
    // Nothing fit: stopped for budget, as `svd run` exits.
    return wave.stopReason === 'budget' && wave.files.length === 0 ? EXIT_CODES.budget : 0;
  } finally {
    await checker.close();
  }
}

async function commandImport(run: string, files: string[], flags: { runsDir?: string; json?: boolean }, io: Io, signal: AbortSignal): Promise<number> {
  const runDir = resolveRunDir(run, runsDirOf(flags));
  const events = eventStream(io, false);
  const checker = createAnswerChecker();
  try {
    const result = await importBatch({ runDir, files: files.map((file) => path.resolve(file)), signal, checker, onNotice: events.onNotice });
    const { runId, imported, repeated, failed, failures, seedsDone, seedsTotal, accepted, done, pending } = result;
    if (flags.json) io.out(JSON.stringify({ run: runId, imported, repeated, failed, failures, seedsDone, seedsTotal, accepted, pending, done }));
    else {
      io.out(`run ${runId}: ${imported} answer(s) kept${repeated ? `, ${repeated} kept already` : ''}${failed ? `, ${failed} failed (asked again in the next wave)` : ''}`);
      for (const failure of failures) io.err(`  ${failure}`);
      io.out(done ? `finished: ${accepted} accepted of ${seedsTotal} seeds` : `${seedsDone} of ${seedsTotal} seeds done, ${accepted} accepted; the next wave asks ${pending} request(s): svd batch prepare`);
    }
    return 0;
  } finally {
    await checker.close();
  }
}

async function commandRun(seeds: string, flags: DriveFlags, io: Io, signal: AbortSignal): Promise<number> {
  const spec = specOf(seeds, flags);
  const events = eventStream(io, false);
  const checker = createAnswerChecker();
  const pollMs = (flags.pollInterval ?? 30) * 1000;
  const cost = batchCost(spec, flags);
  if (!(pollMs >= 0)) throw new SvdError('bad_config', `--poll-interval: 0 or more, got ${flags.pollInterval}`);
  try {
    const result = await runBatchApi({
      spec,
      baseURL: flags.baseUrl,
      apiKey: apiKeyFromEnv(),
      pollMs,
      cost,
      ...fileLimits(flags),
      signal,
      checker,
      onProblem: events.onProblem,
      onNotice: events.onNotice,
      onReport: (line) => io.err(line),
      onStart: (info) => {
        if (!flags.json) io.out(`run ${info.runId}${info.resumed ? ' (resuming)' : ''}\nfolder ${info.dir}`);
      },
    });
    if (flags.json) io.out(JSON.stringify({ run: result.runId, waves: result.waves, done: result.done, seedsDone: result.seedsDone, seedsTotal: result.seedsTotal, accepted: result.accepted }));
    else io.out(`run ${result.runId} finished after ${result.waves} wave(s): ${result.accepted} accepted of ${result.seedsTotal} seeds`);
    return 0;
  } finally {
    await checker.close();
  }
}

/** SIGINT / SIGTERM abort the command's signal once; a second one quits at once. */
async function withStop(command: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  let stops = 0;
  const stop = () => {
    stops++;
    if (stops > 1) process.exit(EXIT_CODES.aborted);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await command(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
