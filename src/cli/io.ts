// Where the CLI writes, and the `--events` stream (one JSON object per line on stdout) that tools and the editor read.
import { redactText } from '../core/base/redact';
import { formatProblem } from '../core/method/seeds';
import type { SeedProblem } from '../core/base/types';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal: a live progress line may redraw itself there. */
  isTTY: boolean;
}

/** The same streams, every line redacted (see core/redact.ts): nothing the CLI prints or streams holds a secret. */
export function redactingIo(io: Io): Io {
  return { out: (text) => io.out(redactText(text)), err: (text) => io.err(redactText(text)), isTTY: io.isTTY };
}

export interface EventStream {
  /** Writes the event when `--events` is on. */
  emit(event: Record<string, unknown>): void;
  /** A skipped seed row: an event, and a warning on stderr. */
  onProblem(problem: SeedProblem): void;
  /** Something the user should know: an event, and a note on stderr. */
  onNotice(message: string): void;
}

export function eventStream(io: Io, enabled: boolean | undefined): EventStream {
  const emit = (event: Record<string, unknown>) => {
    if (enabled) io.out(JSON.stringify(event));
  };
  return {
    emit,
    onProblem: (problem) => {
      emit({ type: 'problem', ...problem, text: formatProblem(problem) });
      io.err(`warning: ${formatProblem(problem)} (row skipped)`);
    },
    onNotice: (message) => {
      emit({ type: 'notice', message });
      io.err(`note: ${message}`);
    },
  };
}
