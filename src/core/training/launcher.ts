// Runs a trainer as a child process and turns its log into metrics. No shell anywhere: arguments travel as an array,
// so paths with spaces or quotes arrive as written. The child leads its own process group, so cancelling also stops
// the workers it started (accelerate, torchrun).
import { spawn } from 'node:child_process';
import { SvdError } from '../base/errors';
import { withoutApiKeys } from '../base/redact';

export interface TrainMetrics {
  step?: number;
  loss?: number;
  learningRate?: number;
  epoch?: number;
  evalLoss?: number;
}

export interface LaunchOptions {
  executable: string;
  args: string[];
  cwd: string;
  /** Added to the inherited environment, which never carries the model server's API key (see withoutApiKeys). */
  env?: Record<string, string>;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
  onMetrics?: (m: TrainMetrics) => void;
  /** The number of training steps, once the training bar shows it. */
  onTotalSteps?: (total: number) => void;
  /** Between SIGTERM and SIGKILL on cancel; default 10 s, so the trainer can finish writing a checkpoint. */
  graceMs?: number;
}

export interface LaunchResult {
  exitCode: number | null;
  signal: string | null;
  cancelled: boolean;
}

export function launchTrainer(options: LaunchOptions): Promise<LaunchResult> {
  if (options.signal?.aborted) return Promise.resolve({ exitCode: null, signal: null, cancelled: true });
  return new Promise((resolve, reject) => {
    const child = spawn(options.executable, options.args, {
      cwd: options.cwd,
      env: { ...withoutApiKeys(process.env), PYTHONUNBUFFERED: '1', ...options.env },
      detached: process.platform !== 'win32',
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const parser = new TrainLogParser();
    let total: number | undefined;
    const report = (metrics: TrainMetrics | undefined) => {
      if (parser.totalSteps !== undefined && parser.totalSteps !== total) {
        total = parser.totalSteps;
        options.onTotalSteps?.(total);
      }
      if (metrics) options.onMetrics?.(metrics);
    };
    const handleLine = (line: string) => {
      options.onLine?.(line);
      report(parser.parse(line));
    };
    // A bar being redrawn is not yet a line, but its step is already current.
    const handlePartial = (text: string) => report(parser.parse(text, { progressOnly: true }));
    const flushers = [child.stdout, child.stderr].map((stream) => splitLines(stream, handleLine, handlePartial));

    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        if (process.platform === 'win32') child.kill(sig);
        else process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => {
      cancelled = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), options.graceMs ?? 10_000);
      killTimer.unref();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
    };

    child.once('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      const code = error.code === 'ENOENT' ? 'not_found' : 'internal';
      reject(new SvdError(code, `cannot start trainer "${options.executable}": ${error.message}`, { cause: error }));
    });
    child.once('close', (exitCode, signal) => {
      cleanup();
      for (const flush of flushers) flush();
      resolve({ exitCode, signal, cancelled });
    });
  });
}

/** Calls `onLine` per line; tqdm redraws with \r, so that ends a line too. Returns a flush for the last part. */
function splitLines(
  stream: NodeJS.ReadableStream,
  onLine: (line: string) => void,
  onPartial: (text: string) => void,
): () => void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (pending + chunk).split(/\r\n|\r|\n/);
    pending = parts.pop() ?? '';
    for (const part of parts) if (part.trim() !== '') onLine(part);
    if (pending !== '') onPartial(pending);
  });
  return () => {
    if (pending.trim() !== '') onLine(pending);
    pending = '';
  };
}

// `'loss': 1.23`, `'loss': '1.23'` and `'loss': np.float64(1.23)` all occur across transformers versions.
const DICT_VALUE = /'([A-Za-z_]+)':\s*(?:np\.float\d+\()?'?(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)'?\)?/g;
// The training bar has no description ("Map:", "Loading checkpoint shards:" and the like do).
const PROGRESS = /^\s*\d+%\|[^|]*\|\s*(\d+)\/(\d+)\b/;

/** Reads TRL / transformers / LLaMA-Factory console output. */
export class TrainLogParser {
  private step: number | undefined;
  private trainTotal: number | undefined;

  /** Steps of the training bar, once one was seen. */
  get totalSteps(): number | undefined {
    return this.trainTotal;
  }

  parse(line: string, options: { progressOnly?: boolean } = {}): TrainMetrics | undefined {
    const progress = PROGRESS.exec(line);
    if (progress) {
      const [current, total] = [Number(progress[1]), Number(progress[2])];
      // The first bar is training; later bars with another total are evaluation passes.
      this.trainTotal ??= total;
      if (total !== this.trainTotal || current === this.step) return undefined;
      this.step = current;
      return { step: current };
    }
    if (options.progressOnly) return undefined;
    const trimmed = line.trim();
    if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return undefined;
    const values = new Map<string, number>();
    for (const match of trimmed.matchAll(DICT_VALUE)) values.set(match[1]!, Number(match[2]));
    const metrics: TrainMetrics = {};
    const set = (key: keyof TrainMetrics, name: string) => {
      const value = values.get(name);
      if (value !== undefined && !Number.isNaN(value)) metrics[key] = value;
    };
    set('loss', 'loss');
    set('learningRate', 'learning_rate');
    set('epoch', 'epoch');
    set('evalLoss', 'eval_loss');
    if (Object.keys(metrics).length === 0) return undefined;
    // LLaMA-Factory's own callback names the step; otherwise it is the last one the bar showed.
    const step = values.get('current_steps') ?? values.get('step') ?? this.step;
    return step === undefined ? metrics : { step, ...metrics };
  }
}

export interface TemplateValues {
  data: string;
  baseModel: string;
  output: string;
  validation?: string;
}

/** Fills {data}, {base_model}, {output}, {validation} inside each argument of a custom command; never re-splits. */
export function expandTemplate(template: string[], values: TemplateValues): string[] {
  const table: Record<string, string | undefined> = {
    data: values.data,
    base_model: values.baseModel,
    output: values.output,
    validation: values.validation,
  };
  return template.map((arg) =>
    arg.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_whole, name: string) => {
      if (!Object.prototype.hasOwnProperty.call(table, name)) {
        throw new SvdError(
          'bad_config',
          `unknown placeholder {${name}} in the train command; use {data}, {base_model}, {output} or {validation}`,
        );
      }
      const value = table[name];
      if (value === undefined) {
        throw new SvdError('bad_config', `the train command uses {${name}} but the export has no ${name} file`);
      }
      return value;
    }),
  );
}
