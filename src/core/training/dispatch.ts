// Starting a training: which trainer, whether one is still going, which server a fine-tuning job goes to, and how
// `svd train` is launched for a local trainer. The editor asks for what is missing and runs the launch as a task.
import { SvdError } from '../base/errors';
import { displayStatus, isTerminalStatus, readTraining, TRAINERS, type Trainer, type TrainingRecord } from './record';

/** Where fine-tuning jobs go when no server is set for them (nor for the model). */
export const DEFAULT_FINE_TUNING_URL = 'https://api.openai.com/v1';

export type LocalTrainer = Exclude<Trainer, 'openai'>;

/** The trainer a command argument names; undefined for anything else. */
export function trainerOf(value: unknown): Trainer | undefined {
  return typeof value === 'string' && (TRAINERS as readonly string[]).includes(value) ? (value as Trainer) : undefined;
}

/** The fine-tuning server: the one set for training, else the model endpoint, else OpenAI's. */
export function fineTuningServer(servers: { trainBaseUrl?: string | undefined; baseUrl?: string | undefined }): string {
  return servers.trainBaseUrl ?? servers.baseUrl ?? DEFAULT_FINE_TUNING_URL;
}

/**
 * The run's training that is still going, as its record says (started from this window or any other process); a
 * record that cannot be read, has ended, or whose process is gone counts as none.
 */
export function trainingInProgress(runDir: string): TrainingRecord | undefined {
  let record: TrainingRecord | undefined;
  try {
    record = readTraining(runDir);
  } catch {
    return undefined;
  }
  if (!record) return undefined;
  const status = displayStatus(record);
  return isTerminalStatus(status) || status === 'interrupted' ? undefined : record;
}

export interface LocalTrainerRequest {
  /** The bundled CLI (dist/cli.js). */
  cliPath: string;
  runDir: string;
  trainer: LocalTrainer;
  baseModel: string;
  /** The setting svd.train.customCommand: the custom trainer's command and its arguments. */
  customCommand: readonly string[];
  /** The Python for TRL and LLaMA-Factory; ignored by the custom trainer. */
  python: string;
}

/** `svd train`'s arguments (after the runtime) and environment, for a local trainer: it runs with no shell. */
export function localTrainerLaunch(request: LocalTrainerRequest): { args: string[]; env: Record<string, string> } {
  const args = [request.cliPath, 'train', request.runDir, '--trainer', request.trainer, '--base-model', request.baseModel];
  if (request.trainer === 'custom') {
    if (request.customCommand.length === 0) {
      throw new SvdError('bad_config', 'Set svd.train.customCommand: the command and its arguments, one per item ({data}, {base_model}, {output}, {validation} are filled in).');
    }
    args.push('--command', JSON.stringify(request.customCommand));
  } else {
    args.push('--python', request.python);
  }
  // The editor's own runtime is Electron: this makes it run the CLI as plain Node.
  return { args, env: { ELECTRON_RUN_AS_NODE: '1' } };
}
