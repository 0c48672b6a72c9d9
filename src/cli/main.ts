// `svd`: the method from a terminal or CI. Builds the program from the commands (each in its own module, the work
// itself core's) and maps errors to exit codes; with --events the failure is also the stream's last event.
import { CommanderError } from 'commander';
import { EXIT_CODES, describeError, isSvdError } from '../core/base/errors';
import { addSecretsFromEnv } from '../core/base/redact';
import { registerBatchCommands } from './batch';
import { registerCheckCommand } from './check';
import { registerEvalCommand } from './eval';
import { writeErrorEvent } from './events';
import { registerExportCommand } from './export';
import { redactingIo, type Io } from './io';
import { registerModelsCommand } from './models';
import { SvdCommand } from './options';
import { registerOverrideCommand } from './override';
import { registerPublishCommand } from './publish';
import { registerRunCommand } from './run';
import { registerScreenCommands } from './screen';
import { registerStatusCommands } from './status';
import { registerSweepCommand } from './sweep';
import { registerTrainCommand } from './train';

const VERSION = '0.1.0';

export function buildProgram(io: Io, setCode: (code: number) => void): SvdCommand {
  const program = new SvdCommand('svd')
    .description('Self-verified distillation: a model writes candidate answers, judges them itself, and keeps the verified ones.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError();
  // In the order `svd --help` lists them.
  for (const register of [
    registerRunCommand,
    registerBatchCommands,
    registerScreenCommands,
    registerStatusCommands,
    registerExportCommand,
    registerOverrideCommand,
    registerTrainCommand,
    registerPublishCommand,
    registerSweepCommand,
    registerEvalCommand,
    registerModelsCommand,
    registerCheckCommand,
  ]) {
    register(program, io, setCode);
  }
  return program;
}

export async function main(argv: string[], rawIo: Io): Promise<number> {
  addSecretsFromEnv(process.env);
  const io = redactingIo(rawIo);
  // Read from the arguments, not the parsed flags: a failure before parsing ends is reported on the stream too.
  const events = argv.includes('--events');
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the usage error on stderr already.
      if (error.exitCode === 0) return 0;
      if (events) writeErrorEvent(io, 'bad_config', error.message.replace(/^error: /, ''));
      return EXIT_CODES.bad_config;
    }
    if (isSvdError(error)) {
      io.err(`error: ${error.message}`);
      if (events) writeErrorEvent(io, error.code, error.message, error.editorMessage);
      return EXIT_CODES[error.code];
    }
    io.err(`error: ${describeError(error)}`);
    if (error instanceof Error && error.stack && process.env.SVD_DEBUG) io.err(error.stack);
    if (events) writeErrorEvent(io, 'internal', describeError(error));
    return EXIT_CODES.internal;
  }
}

if (require.main === module) {
  const io: Io = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    isTTY: Boolean(process.stderr.isTTY),
  };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
