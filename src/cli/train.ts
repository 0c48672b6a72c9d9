// `svd train RUN`: exports the run's accepted answers in the trainer's format, then hands them to an existing
// trainer (an OpenAI-compatible fine-tuning API, TRL, LLaMA-Factory or the user's own command). Never a trainer of
// its own.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SvdError } from '../core/errors';
import { exportRun, type ExportFormat } from '../core/export';
import { followFineTune, startFineTune } from '../core/finetune';
import { expandTemplate, launchTrainer } from '../core/launcher';
import { RunStore } from '../core/store';
import { pythonPreflight, writeTrainerFiles, type LocalTrainer } from '../core/trainers';

export const TRAINERS = ['openai', 'trl', 'llamafactory', 'custom'] as const;
export type Trainer = (typeof TRAINERS)[number];

export interface TrainFlags {
  trainer: Trainer;
  baseModel?: string;
  baseUrl?: string;
  dryRun?: boolean;
  epochs?: number;
  lrMultiplier?: number;
  batchSize?: number;
  lora?: boolean;
  processes?: number;
  python?: string;
  command?: string;
  valFraction?: number;
}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const FORMAT_OF: Record<Trainer, ExportFormat> = { openai: 'openai', trl: 'trl', llamafactory: 'sharegpt', custom: 'openai' };

export async function commandTrain(runDir: string, flags: TrainFlags, io: Io, apiKey: string | undefined, signal: AbortSignal): Promise<number> {
  const store = RunStore.open(runDir, { readOnly: true });
  const manifest = store.manifest;
  const trainDir = path.join(runDir, 'train');
  mkdirSync(trainDir, { recursive: true });
  const format = FORMAT_OF[flags.trainer];
  let summary;
  try {
    summary = exportRun(store.events(), {
      format,
      out: path.join(trainDir, `data.${format}.jsonl`),
      valFraction: flags.valFraction,
      datasetName: `svd_${manifest.id.replace(/[^A-Za-z0-9_]/g, '_')}`,
    });
  } finally {
    store.close();
  }
  if (summary.rows === 0) throw new SvdError('bad_config', `run ${manifest.id} has no accepted answer to train on`);
  const train = summary.files.find((f) => f.split === 'train')!.path;
  const validation = summary.files.find((f) => f.split === 'validation')?.path;
  io.out(`data\t${summary.rows} examples\t${train}`);
  if (validation) io.out(`validation\t${validation}`);
  const baseModel = flags.baseModel ?? manifest.model.model;
  const output = path.join(trainDir, 'output');

  if (flags.trainer === 'openai') {
    const baseURL = flags.baseUrl ?? 'https://api.openai.com/v1';
    if (flags.dryRun) {
      io.out(`would upload ${train} to ${baseURL} and fine-tune ${baseModel}`);
      return 0;
    }
    const options = {
      baseURL,
      apiKey,
      baseModel,
      trainingFile: train,
      validationFile: validation,
      epochs: flags.epochs,
      learningRateMultiplier: flags.lrMultiplier,
      batchSize: flags.batchSize,
      signal,
    };
    const { jobId } = await startFineTune(options);
    io.out(`job\t${jobId}`);
    const final = await followFineTune({
      ...options,
      jobId,
      onStatus: (status) => {
        for (const event of status.events) io.err(`${event.at} ${event.level} ${event.message}`);
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
      processes: flags.processes,
      python: flags.python,
    });
    for (const file of files.files) io.out(`file\t${file}`);
    command = files.command;
  }
  io.out(`command\t${[command.executable, ...command.args].map((a) => JSON.stringify(a)).join(' ')}`);
  if (flags.dryRun) return 0;
  if (flags.trainer !== 'custom') {
    const check = await pythonPreflight(flags.python ?? 'python3', flags.trainer as LocalTrainer);
    if (!check.ok) throw new SvdError('bad_config', `the trainer cannot start: ${check.missing.join(', ')} missing. ${check.hint}`);
  }
  const result = await launchTrainer({
    ...command,
    cwd: trainDir,
    signal,
    onLine: (line) => io.err(line),
    onMetrics: (m) => io.out(`metrics\t${JSON.stringify(m)}`),
  });
  if (result.cancelled) return 130;
  return result.exitCode ?? 1;
}
