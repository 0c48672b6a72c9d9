// What a command resolves with, for tests and for anyone calling `executeCommand`:
//   - its value, when it did its work;
//   - a Declined, when it chose not to: the user cancelled, there was nothing to act on, Restricted Mode, no folder
//     or an invalid setting, or a request it refuses as it stands (a run that is still going);
//   - a Failed, when it broke: an error it met (its code) or an unexpected exception (`internal`).
// Every error is reported to the user by the command itself (its message, with the buttons its code calls for).
// Errors are returned, not rethrown, because the workbench reports a command that rejects on its own as well (a
// dialog from the palette, a notification from a view's toolbar or a CodeLens): a rethrow would show each twice.
// No `vscode` import: plain Node tests use these types and guards.
import { describeError, isSvdError, SvdError, type ErrorCode } from '../../core/base/errors';

export const DECLINE_REASONS = ['cancelled', 'restricted', 'no_workspace', 'invalid_settings', 'nothing_to_do', 'refused'] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

export interface Declined {
  readonly declined: DeclineReason;
  /** What the user was told, when they were told something. */
  readonly message?: string;
  /** The error behind a refusal (`run_locked`, `not_found`, `bad_config`, ...). */
  readonly code?: ErrorCode;
}

export interface Failed {
  /** `internal` for anything that is not an SvdError: a bug. */
  readonly failed: ErrorCode;
  readonly message: string;
}

export type CommandResult<T> = T | Declined | Failed;

export function isDeclined(value: unknown): value is Declined {
  return typeof value === 'object' && value !== null && typeof (value as Declined).declined === 'string';
}

export function isFailed(value: unknown): value is Failed {
  return typeof value === 'object' && value !== null && typeof (value as Failed).failed === 'string';
}

export function declined(reason: DeclineReason, error?: SvdError): Declined {
  return { declined: reason, ...(error ? { message: error.message, code: error.code } : {}) };
}

export function failure(error: unknown): Failed {
  return { failed: isSvdError(error) ? error.code : 'internal', message: describeError(error) };
}

/**
 * Thrown inside a command to decline from any depth (a picker the user closed, a precondition). With an error, the
 * error is reported as any other would be, unless `reported` says the command told the user in its own words;
 * without one, the user has been told already or has nothing to be told.
 */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  readonly reported: boolean;
  constructor(
    readonly reason: DeclineReason,
    readonly error?: SvdError,
    options: { reported?: boolean } = {},
  ) {
    super(error?.message ?? reason);
    this.reported = options.reported ?? error === undefined;
  }

  get result(): Declined {
    return declined(this.reason, this.error);
  }
}

/** A refusal of the request as it stands, reported with `code`'s buttons. */
export function refuse(code: ErrorCode, message: string): Refusal {
  return new Refusal('refused', new SvdError(code, message));
}

/** The answer to a prompt that needs one: a prompt dismissed (or answered empty) declines the command as cancelled. */
export function answered<T>(value: T | undefined | null | ''): T {
  if (value === undefined || value === null || value === '') throw new Refusal('cancelled');
  return value as T;
}

/** The answer to a prompt that may be left empty: only a prompt dismissed declines the command. */
export function answeredOrEmpty<T>(value: T | undefined): T {
  if (value === undefined) throw new Refusal('cancelled');
  return value;
}
