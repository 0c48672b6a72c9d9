// Where the CLI writes: stdout for results (and the `--events` stream, events.ts), stderr for people.
import { redactText } from '../core/base/redact';

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
