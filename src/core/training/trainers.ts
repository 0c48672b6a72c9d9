// Files for existing local trainers (TRL's SFTTrainer, LLaMA-Factory) that fine-tune a base model on an exported run.
// We write a config and name the command to launch; the training itself is always the trainer's own code.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SvdError } from '../base/errors';
import { writeFileAtomic } from '../record/atomicFile';
import { TRL_SCRIPT } from './trlScript';

export type LocalTrainer = 'trl' | 'llamafactory';
export const LOCAL_TRAINERS: readonly LocalTrainer[] = ['trl', 'llamafactory'];

export interface TrainDefaults {
  maxSteps: number;
  learningRate: number;
  batchSize: number;
  scheduler: 'cosine';
  optimizer: 'adamw_torch';
}

/** The method's SFT settings for Qwen3 (ALGORITHM.md, "5. Train"), keyed by model size in billions. */
const METHOD_ROWS: readonly { maxParamsB: number; maxSteps: number; learningRate: number }[] = [
  { maxParamsB: 1.7, maxSteps: 2000, learningRate: 3e-5 }, // 0.6B row
  { maxParamsB: 6, maxSteps: 4000, learningRate: 2e-5 }, // 4B row
  { maxParamsB: Infinity, maxSteps: 2000, learningRate: 5e-6 }, // 8B row
];
const METHOD_BATCH = 64;

/** Parameter count in billions from a model name or path ("Qwen/Qwen3-0.6B", "qwen3-4b-instruct", "x-500M"). */
export function parseParamsB(baseModel: string): number | undefined {
  // Only the last path segment: a folder like "/data/8b-runs/my-model" must not decide the size.
  const name = baseModel.split(/[\\/]/).filter(Boolean).pop() ?? '';
  const match = /(?:^|[^a-z0-9.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z])/i.exec(name);
  if (!match) return undefined;
  const value = Number(match[1]);
  return match[2]!.toLowerCase() === 'm' ? value / 1000 : value;
}

export function defaultsForModel(baseModel: string): TrainDefaults {
  const paramsB = parseParamsB(baseModel);
  if (paramsB === undefined) {
    throw new SvdError(
      'bad_config',
      `cannot tell the size of "${baseModel}" from its name (expected e.g. 0.6B, 4B, 8B): set max steps and learning rate explicitly (svd train: --max-steps and --learning-rate)`,
    );
  }
  const row = METHOD_ROWS.find((r) => paramsB <= r.maxParamsB)!;
  return {
    maxSteps: row.maxSteps,
    learningRate: row.learningRate,
    batchSize: METHOD_BATCH,
    scheduler: 'cosine',
    optimizer: 'adamw_torch',
  };
}

export interface TrainerFilesOptions {
  trainer: LocalTrainer;
  runDir: string;
  baseModel: string;
  /** trl: prompt-completion JSONL; llamafactory: sharegpt JSONL next to its dataset_info.json. */
  dataFile: string;
  validationFile?: string;
  outputDir: string;
  lora?: boolean;
  overrides?: Partial<TrainDefaults>;
  /** GPUs; above 1, TRL runs under `accelerate launch` and LLaMA-Factory under torchrun. */
  processes?: number;
  /** The Python that runs TRL (default python3); with processes > 1 it runs accelerate as a module. */
  python?: string;
  /** LLaMA-Factory chat template; default from the model name (qwen3 for Qwen3). */
  template?: string;
  /** Longest tokenised example kept (TRL max_length, LLaMA-Factory cutoff_len); thinking traces are long. Default 16384. */
  cutoffLen?: number;
}

export interface TrainerFiles {
  /** Written, inside <runDir>/train/. */
  files: string[];
  /** What to launch, without a shell; `env` is added to the inherited environment. */
  command: { executable: string; args: string[]; env?: Record<string, string> };
}

const LORA = { r: 16, alpha: 32, dropout: 0.05, targetModules: 'all-linear' } as const;
// The method's learning rates are for full fine-tuning. A LoRA adapter learns best at about ten times the full
// fine-tuning rate (the usual finding for rank-16 adapters on all linear layers); a rate the user gives is kept.
const LORA_LR_FACTOR = 10;
const LOGGING_STEPS = 10;
const DEFAULT_CUTOFF = 16384;

/** Every 10 steps, but at least ten reports in a short training (a few steps on a test model). */
function loggingSteps(maxSteps: number): number {
  return Math.max(1, Math.min(LOGGING_STEPS, Math.floor(maxSteps / 10)));
}

export function writeTrainerFiles(options: TrainerFilesOptions): TrainerFiles {
  const settings = resolveSettings(options);
  const trainDir = path.join(path.resolve(options.runDir), 'train');
  fs.mkdirSync(trainDir, { recursive: true });
  return options.trainer === 'trl'
    ? writeTrlFiles(options, settings, trainDir)
    : writeLlamaFactoryFiles(options, settings, trainDir);
}

interface Settings extends TrainDefaults {
  processes: number;
  perDevice: number;
  gradAccum: number;
  saveSteps: number;
}

function resolveSettings(options: TrainerFilesOptions): Settings {
  const o = options.overrides ?? {};
  // An unknown size is fine when the user gave the numbers the size would have chosen.
  const base: TrainDefaults =
    o.maxSteps !== undefined && o.learningRate !== undefined
      ? { maxSteps: o.maxSteps, learningRate: o.learningRate, batchSize: METHOD_BATCH, scheduler: 'cosine', optimizer: 'adamw_torch' }
      : defaultsForModel(options.baseModel);
  const merged: TrainDefaults = { ...base, ...o };
  if (options.lora && o.learningRate === undefined) merged.learningRate = base.learningRate * LORA_LR_FACTOR;
  const processes = options.processes ?? 1;
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new SvdError('bad_config', `${name} must be a positive integer, got ${v}`);
  };
  positiveInt('max steps', merged.maxSteps);
  positiveInt('batch size', merged.batchSize);
  positiveInt('processes', processes);
  if (options.cutoffLen !== undefined) positiveInt('max length', options.cutoffLen);
  if (!(merged.learningRate > 0 && Number.isFinite(merged.learningRate))) {
    throw new SvdError('bad_config', `learning rate must be a positive number, got ${merged.learningRate}`);
  }
  if (merged.batchSize % processes !== 0) {
    throw new SvdError('bad_config', `batch size ${merged.batchSize} does not divide across ${processes} processes`);
  }
  // Global batch = per_device * grad_accum * processes; per_device is the largest divisor that fits a typical GPU.
  const perProcess = merged.batchSize / processes;
  const cap = (parseParamsB(options.baseModel) ?? 4) <= 1.7 ? 8 : 4;
  let perDevice = Math.min(cap, perProcess);
  while (perProcess % perDevice !== 0) perDevice--;
  const saveSteps = Math.max(1, Math.min(500, Math.ceil(merged.maxSteps / 4)));
  return { ...merged, processes, perDevice, gradAccum: perProcess / perDevice, saveSteps };
}

function writeTrlFiles(options: TrainerFilesOptions, s: Settings, trainDir: string): TrainerFiles {
  const script = path.join(trainDir, 'train_sft.py');
  const configFile = path.join(trainDir, 'sft_config.json');
  const validation = options.validationFile ? path.resolve(options.validationFile) : undefined;
  const config = {
    model: options.baseModel,
    train_file: path.resolve(options.dataFile),
    validation_file: validation ?? null,
    output_dir: path.resolve(options.outputDir),
    max_steps: s.maxSteps,
    learning_rate: s.learningRate,
    per_device_train_batch_size: s.perDevice,
    gradient_accumulation_steps: s.gradAccum,
    lr_scheduler_type: s.scheduler,
    optim: s.optimizer,
    bf16: true,
    gradient_checkpointing: true,
    max_length: options.cutoffLen ?? DEFAULT_CUTOFF,
    logging_steps: loggingSteps(s.maxSteps),
    save_steps: s.saveSteps,
    ...(validation ? { eval_strategy: 'steps', eval_steps: s.saveSteps, per_device_eval_batch_size: s.perDevice } : {}),
    report_to: 'none',
    lora: options.lora
      ? { r: LORA.r, lora_alpha: LORA.alpha, lora_dropout: LORA.dropout, target_modules: LORA.targetModules }
      : null,
  };
  writeFileAtomic(script, TRL_SCRIPT);
  writeFileAtomic(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const scriptArgs = [script, '--config', configFile];
  const launch = ['--num_processes', String(s.processes), ...scriptArgs];
  // With a chosen Python, run its own accelerate rather than whichever `accelerate` is first on PATH.
  const command =
    s.processes === 1
      ? { executable: options.python ?? 'python3', args: scriptArgs }
      : options.python
        ? { executable: options.python, args: ['-m', 'accelerate.commands.launch', ...launch] }
        : { executable: 'accelerate', args: ['launch', ...launch] };
  return { files: [script, configFile], command };
}

function writeLlamaFactoryFiles(options: TrainerFilesOptions, s: Settings, trainDir: string): TrainerFiles {
  const yamlFile = path.join(trainDir, 'llamafactory_sft.yaml');
  const datasetDir = path.dirname(path.resolve(options.dataFile));
  const dataset = datasetName(options.dataFile);
  const evalDataset = options.validationFile ? datasetName(options.validationFile) : undefined;
  if (options.validationFile && path.dirname(path.resolve(options.validationFile)) !== datasetDir) {
    throw new SvdError('bad_config', 'LLaMA-Factory needs the train and validation files in the same folder');
  }
  const entries: [string, string | number | boolean][] = [
    ['stage', 'sft'],
    ['do_train', true],
    ['model_name_or_path', options.baseModel],
    ['trust_remote_code', true],
    ['finetuning_type', options.lora ? 'lora' : 'full'],
    ...(options.lora
      ? ([
          ['lora_rank', LORA.r],
          ['lora_alpha', LORA.alpha],
          ['lora_dropout', LORA.dropout],
          ['lora_target', 'all'],
        ] as [string, number | string][])
      : []),
    ['dataset', dataset],
    ['dataset_dir', datasetDir],
    ['template', options.template ?? templateFor(options.baseModel)],
    ['cutoff_len', options.cutoffLen ?? DEFAULT_CUTOFF],
    ['output_dir', path.resolve(options.outputDir)],
    ['overwrite_output_dir', true],
    ['per_device_train_batch_size', s.perDevice],
    ['gradient_accumulation_steps', s.gradAccum],
    ['learning_rate', s.learningRate],
    ['max_steps', s.maxSteps],
    ['lr_scheduler_type', s.scheduler],
    ['optim', s.optimizer],
    ['bf16', true],
    ['logging_steps', loggingSteps(s.maxSteps)],
    ['save_steps', s.saveSteps],
    ['plot_loss', true],
    ['report_to', 'none'],
    ...(evalDataset
      ? ([
          ['eval_dataset', evalDataset],
          ['per_device_eval_batch_size', s.perDevice],
          ['eval_strategy', 'steps'],
          ['eval_steps', s.saveSteps],
        ] as [string, number | string][])
      : []),
  ];
  const yaml = ['# LLaMA-Factory SFT on a Self-Verified Distillation export: llamafactory-cli train <this file>']
    .concat(entries.map(([key, value]) => `${key}: ${yamlScalar(value)}`))
    .join('\n');
  writeFileAtomic(yamlFile, `${yaml}\n`);
  // llamafactory-cli picks torchrun itself when told to; it reads the process count from the environment.
  const env = s.processes > 1 ? { FORCE_TORCHRUN: '1', NPROC_PER_NODE: String(s.processes) } : undefined;
  return {
    files: [yamlFile],
    command: { executable: 'llamafactory-cli', args: ['train', yamlFile], ...(env ? { env } : {}) },
  };
}

/** The dataset_info.json key that the export registered for this file. */
function datasetName(dataFile: string): string {
  const file = path.resolve(dataFile);
  const infoPath = path.join(path.dirname(file), 'dataset_info.json');
  let info: unknown;
  try {
    info = JSON.parse(fs.readFileSync(infoPath, 'utf8'));
  } catch {
    throw new SvdError('not_found', `${infoPath} is missing or not JSON: export the run with --format sharegpt first`);
  }
  if (info && typeof info === 'object' && !Array.isArray(info)) {
    for (const [name, entry] of Object.entries(info)) {
      if (entry && typeof entry === 'object' && (entry as { file_name?: unknown }).file_name === path.basename(file)) {
        return name;
      }
    }
  }
  throw new SvdError('not_found', `${infoPath} has no entry for ${path.basename(file)}: export it with --format sharegpt`);
}

function templateFor(baseModel: string): string {
  const name = baseModel.toLowerCase();
  if (/qwen-?3/.test(name)) return 'qwen3';
  if (/qwen/.test(name)) return 'qwen';
  throw new SvdError('bad_config', `no LLaMA-Factory template known for "${baseModel}": set the template explicitly`);
}

/** A YAML scalar: strings double-quoted with JSON escapes (valid YAML), floats never in exponent form. */
function yamlScalar(value: string | number | boolean): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = String(value);
  // PyYAML reads "5e-06" (no dot) as a string, so write plain decimals.
  if (/e/i.test(text)) text = value.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
  return text;
}

export interface PreflightResult {
  ok: boolean;
  missing: string[];
  hint: string;
}

export interface PreflightOptions {
  trainer?: LocalTrainer;
  lora?: boolean;
  processes?: number;
  timeoutMs?: number;
}

const PIP_NAME: Record<string, string> = {
  torch: 'torch',
  transformers: 'transformers',
  datasets: 'datasets',
  trl: 'trl',
  peft: 'peft',
  accelerate: 'accelerate',
  llamafactory: 'llamafactory',
};

/** Checks that `python` can import what the trainer needs; never throws. */
export function pythonPreflight(
  python: string,
  trainerOrOptions: LocalTrainer | PreflightOptions = {},
): Promise<PreflightResult> {
  const options: PreflightOptions =
    typeof trainerOrOptions === 'string' ? { trainer: trainerOrOptions } : trainerOrOptions;
  const trainer = options.trainer ?? 'trl';
  const modules =
    trainer === 'llamafactory'
      ? ['torch', 'llamafactory']
      : ['torch', 'transformers', 'datasets', 'trl']
          .concat(options.lora ? ['peft'] : [])
          .concat((options.processes ?? 1) > 1 ? ['accelerate'] : []);
  // Each import on its own, so the answer names every missing package, not only the first.
  const code = [
    'import importlib.util, json, sys',
    `names = ${JSON.stringify(modules)}`,
    'print(json.dumps([n for n in names if importlib.util.find_spec(n) is None]))',
  ].join('\n');
  return new Promise((resolve) => {
    execFile(python, ['-c', code], { timeout: options.timeoutMs ?? 30_000, windowsHide: true }, (error, stdout) => {
      let missing: string[] | undefined;
      try {
        const parsed: unknown = JSON.parse(stdout.trim().split('\n').pop() ?? '');
        if (Array.isArray(parsed) && parsed.every((m) => typeof m === 'string')) missing = parsed;
      } catch {
        missing = undefined;
      }
      if (missing === undefined) {
        const why = (error as NodeJS.ErrnoException | null)?.code === 'ENOENT' ? 'was not found' : 'did not run';
        resolve({
          ok: false,
          missing: ['python'],
          hint: `"${python}" ${why}: install Python 3.10+ or set the Python path to an environment with ${modules.join(', ')}`,
        });
        return;
      }
      const packages = missing.map((m) => PIP_NAME[m] ?? m);
      resolve({
        ok: missing.length === 0,
        missing,
        hint: missing.length === 0 ? '' : `${python} -m pip install ${packages.join(' ')}`,
      });
    });
  });
}
