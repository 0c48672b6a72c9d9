// `svd check`: one answer against one gold answer (or a coding answer against its tests), with the checker the
// audit and the evaluations use. Prints `equivalent` or `different`; exit 0 / 1, 2 for bad usage.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { candidateCode } from '../core/check/code';
import { createAnswerChecker } from '../core/check/index';
import { SvdError, describeError } from '../core/errors';
import { DOMAINS, type Domain, type Gold } from '../core/types';
import type { Io as FullIo } from './io';

export interface CheckFlags {
  domain: Domain;
  gold?: string;
  answer: string;
  tests?: string;
  entryPoint?: string;
  question?: string;
  timeout?: number;
  memory?: number;
  json?: boolean;
}

type Io = Pick<FullIo, 'out' | 'err'>;

/** `@file` is the file's text, `-` standard input, anything else the text itself. */
function textOf(flag: string, value: string, readStdin: () => string): string {
  if (value === '-') return readStdin();
  if (!value.startsWith('@')) return value;
  return readText(flag, value.slice(1));
}

function readText(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SvdError(missing ? 'not_found' : 'bad_config', `${flag}: cannot read ${file}: ${describeError(error)}`, { cause: error });
  }
}

function positive(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new SvdError('bad_config', `${flag}: expected a positive number, got "${value}"`);
    return n;
  };
}

export async function commandCheck(flags: CheckFlags, io: Io, readStdin: () => string = () => readFileSync(0, 'utf8')): Promise<number> {
  let stdinUsed = false;
  const stdinOnce = () => {
    if (stdinUsed) throw new SvdError('bad_config', 'only one of --answer, --gold and --question can be read from standard input (-)');
    stdinUsed = true;
    return readStdin();
  };
  let answer = textOf('--answer', flags.answer, stdinOnce);
  const gold: Gold = {};
  if (flags.gold !== undefined) gold.answer = textOf('--gold', flags.gold, stdinOnce).trim();
  if (flags.domain === 'coding') {
    if (flags.tests === undefined) throw new SvdError('bad_config', '--tests: required with --domain coding (a file of asserts, or of a check(candidate) function)');
    gold.tests = readText('--tests', flags.tests);
    if (flags.entryPoint !== undefined) gold.entryPoint = flags.entryPoint;
    // A plain source file is a program as it stands; model output carries it in a code block.
    if (candidateCode(answer) === undefined) answer = `\`\`\`python\n${answer}\n\`\`\``;
  } else if (gold.answer === undefined || gold.answer === '') {
    throw new SvdError('bad_config', `--gold: required with --domain ${flags.domain}`);
  }
  const question = flags.question === undefined ? undefined : textOf('--question', flags.question, stdinOnce);

  const checker = createAnswerChecker({ codeWorkers: 1 });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await checker.check(flags.domain, answer, gold, {
      question,
      timeoutMs: flags.timeout === undefined ? undefined : flags.timeout * 1000,
      memoryMb: flags.memory,
      signal: controller.signal,
    });
    if (!result) throw new SvdError('bad_config', `nothing to check a ${flags.domain} answer against: give --gold${flags.domain === 'coding' ? ' or --tests' : ''}`);
    if (result.outcome === 'unchecked') throw new SvdError('no_sandbox', `${result.detail}; install bubblewrap (bwrap) to run code checks`);
    if (flags.json) io.out(JSON.stringify(result));
    else io.out(result.correct ? 'equivalent' : 'different');
    io.err(`${result.outcome}: ${result.detail}`);
    return result.correct ? 0 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await checker.close();
  }
}

export function registerCheckCommand(program: Command, io: Io, setCode: (code: number) => void): void {
  program
    .command('check')
    .description("check one answer against the gold answer (math, science) or run it with the tests (coding): prints equivalent or different, exit 0 or 1")
    .addOption(new Option('--domain <domain>', 'math | science | coding').choices([...DOMAINS]).makeOptionMandatory())
    .requiredOption('--answer <text>', 'the answer: model output (the last \\boxed{}, option letter or code block counts), @FILE, or - for standard input')
    .option('--gold <text>', 'math, science: the gold answer (LaTeX, or an option letter), @FILE or -')
    .option('--tests <file>', 'coding: the tests (asserts, or a check(candidate) function)')
    .option('--entry-point <name>', 'coding: the function check(candidate) is called with')
    .option('--question <text>', "coding: the question, @FILE or -; when it is code (HumanEval's prompt) it runs before the answer")
    .option('--timeout <seconds>', 'coding: time limit (default 10)', positive('--timeout'))
    .option('--memory <mb>', 'coding: memory limit (default 512)', positive('--memory'))
    .option('--json', 'print the whole result as JSON instead of the one word')
    .action(async (flags: CheckFlags) => setCode(await commandCheck(flags, io)));
}
