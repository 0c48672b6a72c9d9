// The `--events` stream: with the flag on, every line on stdout is an event of the command's stream, as
// src/protocol/cliEvents.ts defines it. Events are written only here and typed by that schema, so an event or a field
// is added in one place, and the readers' schema is the writer's.
import { errorEvent, type CliStreamEvent, type NoticeEvent, type ProblemEvent } from '../protocol/cliEvents';
import type { ErrorCode } from '../core/base/errors';
import { formatProblem } from '../core/method/seeds';
import type { SeedProblem } from '../core/base/types';
import type { Io } from './io';

export interface EventStream<E extends CliStreamEvent> {
  /** Writes the event when `--events` is on. */
  emit(event: E): void;
  /** A skipped seed row: an event, and a warning on stderr. */
  onProblem(problem: SeedProblem): void;
  /** Something the user should know: an event, and a note on stderr. */
  onNotice(message: string): void;
}

export function eventStream<E extends CliStreamEvent>(io: Pick<Io, 'out' | 'err'>, enabled: boolean | undefined): EventStream<E> {
  // Problems and notices are events of every stream.
  const write = (event: E | ProblemEvent | NoticeEvent) => {
    if (enabled) io.out(JSON.stringify(event));
  };
  return {
    emit: write,
    onProblem: (problem) => {
      const text = formatProblem(problem);
      write({ type: 'problem', ...problem, text });
      io.err(`warning: ${text} (row skipped)`);
    },
    onNotice: (message) => {
      write({ type: 'notice', message });
      io.err(`note: ${message}`);
    },
  };
}

/** The failure that ended the command, as its stream's last line (the `error:` line on stderr is for people). */
export function writeErrorEvent(io: Pick<Io, 'out'>, code: ErrorCode, message: string, editorMessage?: string): void {
  io.out(JSON.stringify(errorEvent(code, message, editorMessage)));
}
