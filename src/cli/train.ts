// `svd train RUN`: exports the run's accepted answers in the trainer's format, then hands them to an existing
// trainer (an OpenAI-compatible fine-tuning API, TRL, LLaMA-Factory or the user's own command). Never a trainer of
// its own.
import path from 'node:path';
import { Option } from 'commander';
import { SvdError, describeError } from '../core/base/errors';
import { expandTemplate, launchTrainer } from '../core/training/launcher';
import { apiKeyFromEnv, withoutCredentials } from '../core/base/redact';
import { RunStore, resolveRunDir } from '../core/record/store';
import { exportTrainingData, TRAINERS, type Trainer } from '../core/training/record';
import { followApiJob, startApiJob } from '../core/training/apiJob';
import { LocalTrainingLog } from '../core/training/localTraining';
import { pythonPreflight, writeTrainerFiles, type LocalTrainer } from '../core/training/trainers';
import type { Io as FullIo } from './io';
import { fraction, integer, runsDirOf, withStopSignal, type RegisterCommand } from './options';

interface TrainFlags {
  trainer: Trainer;
  baseModel?: string;
  baseUrl?: string;
  dryRun?: boolean;
  epochs?: number;
  lrMultiplier?: number;
  batchSize?: number;
  lora?: boolean;
  maxSteps?: number;
  learningRate?: number;
  maxLength?: number;
  processes?: number;
  python?: string;
  command?: string;
  valFraction?: number;
  runsDir?: string;
}

type Io = Pick<FullIo, 'out' | 'err'>;

export const registerTrainCommand: RegisterCommand = (program, io, setCode) => {
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
    .option('--batch-size <n>', 'batch size (trl / llamafactory: the global batch, default 64)', integer('--batch-size'))
    .option('--max-steps <n>', 'trl / llamafactory: training steps (default: the method\'s, by model size)', integer('--max-steps'))
    .option('--learning-rate <lr>', 'trl / llamafactory: peak learning rate (default: the method\'s, by model size)', fraction('--learning-rate'))
    .option('--max-length <tokens>', 'trl / llamafactory: longest example in tokens, longer ones are cut (default 16384)', integer('--max-length'))
    .option('--lora', 'trl / llamafactory: train a LoRA adapter (rank 16, all linear layers, ten times the learning rate) instead of the full model')
    .option('--processes <n>', 'trl / llamafactory: GPUs (accelerate / torchrun processes)', integer('--processes'))
    .option('--python <path>', 'trl / llamafactory: the Python interpreter (default python3)')
    .option('--command <json>', 'custom: the command as a JSON array; {data} {base_model} {output} {validation} are filled in')
    .option('--val-fraction <f>', 'share of seeds held out for validation', fraction('--val-fraction'))
    .option('--runs-dir <dir>', 'where runs are kept (default .svd/runs)')
    .action(async (run: string, flags: TrainFlags) => {
      setCode(await withStopSignal((signal) => commandTrain(resolveRunDir(run, runsDirOf(flags)), flags, io, apiKeyFromEnv(), signal)));
    });
};

async function commandTrain(runDir: string, flags: TrainFlags, io: Io, apiKey: string | undefined, signal: AbortSignal): Promise<number> {
  const store = RunStore.open(runDir, { readOnly: true });
  const manifest = store.manifest;
  store.close();
  const trainDir = path.join(runDir, 'train');
  const { summary, train, validation } = exportTrainingData(runDir, flags.trainer, { valFraction: flags.valFraction });
  io.out(`data\t${summary.rows} examples\t${train}`);
  if (validation) io.out(`validation\t${validation}`);
  const baseModel = flags.baseModel ?? manifest.model.model;
  const output = path.join(trainDir, 'output');

  if (flags.trainer === 'openai') {
    const baseURL = flags.baseUrl ?? 'https://api.openai.com/v1';
    if (flags.dryRun) {
      io.out(`would upload ${train} to ${withoutCredentials(baseURL)} and fine-tune ${baseModel}`);
      return 0;
    }
    // The job is recorded in the run (training.json), so the editor shows it and can follow it too.
    const { jobId } = await startApiJob({
      runDir,
      baseUrl: baseURL,
      apiKey,
      baseModel,
      trainingFile: train,
      validationFile: validation,
      examples: summary.rows,
      epochs: flags.epochs,
      learningRateMultiplier: flags.lrMultiplier,
      batchSize: flags.batchSize,
      signal,
    });
    io.out(`job\t${jobId!}`);
    const final = await followApiJob({
      runDir,
      apiKey,
      baseUrl: baseURL,
      signal,
      onUpdate: (_record, events) => {
        for (const event of events) io.err(`${event.at} ${event.level} ${event.message}`);
      },
    });
    io.out(`status\t${final.status}`);
    if (final.fineTunedModel) io.out(`model\t${final.fineTunedModel}`);
    if (final.status !== 'succeeded') {
      io.err(`error: the fine-tuning job ended ${final.status}${final.error ? `: ${final.error}` : ''}`);
      return 1;
    }
    return 0;
  }

  let command: { executable: string; args: string[] };
  if (flags.trainer === 'custom') {
    if (!flags.command) throw new SvdError('bad_config', '--command: required with --trainer custom, a JSON array such as ["python","train.py","--data","{data}"]');
    let template: unknown;
    try {
      template = JSON.parse(flags.command);
    } catch {
      throw new SvdError('bad_config', '--command: expected a JSON array of strings');
    }
    if (!Array.isArray(template) || template.length === 0 || !template.every((a) => typeof a === 'string')) {
      throw new SvdError('bad_config', '--command: expected a non-empty JSON array of strings');
    }
    const [executable, ...args] = expandTemplate(template as string[], { data: train, baseModel, output, validation });
    command = { executable: executable!, args };
  } else {
    const files = writeTrainerFiles({
      trainer: flags.trainer as LocalTrainer,
      runDir,
      baseModel,
      dataFile: train,
      validationFile: validation,
      outputDir: output,
      lora: flags.lora,
      overrides: {
        ...(flags.maxSteps !== undefined ? { maxSteps: flags.maxSteps } : {}),
        ...(flags.learningRate !== undefined ? { learningRate: flags.learningRate } : {}),
        ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
      },
      ...(flags.maxLength !== undefined ? { cutoffLen: flags.maxLength } : {}),
      processes: flags.processes,
      python: flags.python,
    });
    for (const file of files.files) io.out(`file\t${file}`);
    command = files.command;
  }
  io.out(`command\t${[command.executable, ...command.args].map((a) => JSON.stringify(a)).join(' ')}`);
  if (flags.dryRun) return 0;
  // The run keeps the trainer's log, its metrics and the outcome (training.json), for the editor and for later.
  const record = new LocalTrainingLog(runDir, { trainer: flags.trainer, baseModel, dataFile: train, examples: summary.rows, outputDir: output });
  // A closed terminal (an editor's task ended) hangs up: stop the trainer too, quietly, as nobody reads the output.
  let say: Io = io;
  const hangup = new AbortController();
  const onHangup = () => {
    say = { out: () => undefined, err: () => undefined };
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    hangup.abort();
  };
  process.once('SIGHUP', onHangup);
  const stop = AbortSignal.any([signal, hangup.signal]);
  try {
    if (flags.trainer !== 'custom') {
      const check = await pythonPreflight(flags.python ?? 'python3', { trainer: flags.trainer as LocalTrainer, lora: flags.lora, processes: flags.processes });
      if (!check.ok) throw new SvdError('bad_config', `the trainer cannot start: ${check.missing.join(', ')} missing. ${check.hint}`);
    }
    if (stop.aborted) {
      record.finish('cancelled');
      return 130;
    }
    record.running();
    const result = await launchTrainer({
      ...command,
      cwd: trainDir,
      signal: stop,
      onLine: (line) => {
        record.line(line);
        say.err(line);
      },
      onMetrics: (m) => {
        record.metrics(m);
        say.out(`metrics\t${JSON.stringify(m)}`);
      },
      onTotalSteps: (total) => record.totalSteps(total),
    });
    if (result.cancelled) {
      record.finish('cancelled', result.exitCode === null ? {} : { exitCode: result.exitCode });
      return 130;
    }
    const exitCode = result.exitCode ?? 1;
    if (exitCode === 0) record.finish('succeeded', { exitCode });
    else record.finish('failed', { exitCode, error: `the trainer exited with ${result.signal ? `signal ${result.signal}` : `code ${exitCode}`}` });
    return exitCode;
  } catch (error) {
    record.finish('failed', { error: describeError(error) });
    throw error;
  } finally {
    process.off('SIGHUP', onHangup);
  }
}
