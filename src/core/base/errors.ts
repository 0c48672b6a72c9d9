// Typed errors for every failure a user can act on. The CLI maps `code` to a distinct exit status;
// the extension maps it to a message. Never match on message text: switch on `code`.

export type ErrorCode =
  | 'bad_config' // a config value or CLI flag is invalid
  | 'bad_seed_file' // the seed file cannot be read or has no usable row
  | 'unreachable' // the model server cannot be reached (after retries)
  | 'unknown_model' // the server does not serve the requested model
  | 'auth' // 401/403 from the server
  | 'run_mismatch' // an existing run was started with another seed file or config
  | 'run_locked' // another live process is writing the run
  | 'not_found' // a run, candidate or file named by the user does not exist
  | 'aborted' // cancelled by the user; the run is resumable
  | 'engine' // the embedded engine failed to start or crashed
  | 'no_sandbox' // code would have to run, and no sandbox can be made on this machine
  | 'budget' // the run stopped at its cost budget; the same command with a larger one resumes it
  | 'internal';

export const EXIT_CODES: Record<ErrorCode, number> = {
  internal: 1,
  bad_config: 2,
  bad_seed_file: 3,
  unreachable: 4,
  unknown_model: 5,
  auth: 6,
  run_mismatch: 7,
  not_found: 8,
  engine: 9,
  run_locked: 10,
  no_sandbox: 11,
  budget: 12,
  aborted: 130,
};

export class SvdError extends Error {
  override readonly name = 'SvdError';
  /** The message as the editor says it, where its advice differs: a setting or a button where the CLI's names a flag. */
  readonly editorMessage?: string;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; editorMessage?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.editorMessage !== undefined) this.editorMessage = options.editorMessage;
  }
}

/** What a user can do about a failure, in the words of each front end: a flag in a terminal, a setting in the editor. */
export interface Advice {
  cli: string;
  editor: string;
}

/** An error whose message ends with advice worded for the terminal, and for the editor in `editorMessage`. */
export function advisedError(code: ErrorCode, statement: string, advice: Advice, options: { cause?: unknown } = {}): SvdError {
  return new SvdError(code, `${statement} ${advice.cli}`, { ...options, editorMessage: `${statement} ${advice.editor}` });
}

export function isSvdError(error: unknown, code?: ErrorCode): error is SvdError {
  return error instanceof SvdError && (code === undefined || error.code === code);
}

/** A one-line description of any thrown value, for logs and records. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
