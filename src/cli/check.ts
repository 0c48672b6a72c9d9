// `svd check`: one answer against one gold answer (or a coding answer against its tests), or against a seed row
// (`--row`), with the checker the audit and the evaluations use. Prints `equivalent` or `different`; exit 0 / 1, 2
// for bad usage. Many answers at once: `--pairs` (checkPairs.ts).
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { createAnswerChecker } from '../core/check/index';
import { asCodingAnswer, taskFromRow, type CheckTask } from '../core/check/tasks';
import { SvdError, describeError } from '../core/base/errors';
import { DOMAINS, type Domain, type Gold } from '../core/base/types';
import { commandCheckPairs } from './checkPairs';
import type { Io as FullIo } from './io';

export interface CheckFlags {
  /** Required for one answer against --gold / --tests; with --row and --pairs, the default for rows without one. */
  domain?: Domain;
  gold?: string;
  answer?: string;
  row?: string;
  pairs?: string;
  jobs?: number;
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

function positiveInteger(flag: string) {
  return (value: string): number => {
    const n = positive(flag)(value);
    if (!Number.isInteger(n)) throw new SvdError('bad_config', `${flag}: expected a whole number, got "${value}"`);
    return n;
  };
}

/** The one row of a `--row` file: a JSON object, or a JSONL file with one non-blank line. */
function readRow(file: string): { row: unknown; line: number } {
  const text = readText('--row', file).replace(/^\uFEFF/, '');
  try {
    const row: unknown = JSON.parse(text);
    return { row, line: text.slice(0, text.search(/\S|$/)).split('\n').length };
  } catch {
    // Not one JSON value: one line of JSONL, or the reason it is not.
  }
  const lines = text.split('\n').map((content, i) => ({ content, line: i + 1 })).filter((l) => l.content.trim() !== '');
  if (lines.length === 0) throw new SvdError('bad_seed_file', `${file}: no row in the file`);
  if (lines.length > 1) throw new SvdError('bad_seed_file', `${file}: ${lines.length} rows; --row takes one (use --pairs for many)`);
  const only = lines[0]!;
  try {
    return { row: JSON.parse(only.content), line: only.line };
  } catch (error) {
    throw new SvdError('bad_seed_file', `${file}:${only.line}: not valid JSON: ${describeError(error)}`, { cause: error });
  }
}

function rowTask(flags: CheckFlags, answer: string): CheckTask {
  for (const [flag, value] of [['--gold', flags.gold], ['--tests', flags.tests], ['--entry-point', flags.entryPoint], ['--question', flags.question]] as const) {
    if (value !== undefined) throw new SvdError('bad_config', `${flag}: the row gives it; leave it out with --row`);
  }
  const file = flags.row!;
  const { row, line } = readRow(file);
  const task = taskFromRow(row, answer, { file, line, domain: flags.domain });
  if ('message' in task) {
    throw new SvdError('bad_seed_file', `${file}:${line}: ${task.field === undefined ? '' : `field ${JSON.stringify(task.field)}: `}${task.message}`);
  }
  return task;
}

function flagTask(flags: CheckFlags, answer: string, stdinOnce: () => string): CheckTask {
  if (flags.domain === undefined) throw new SvdError('bad_config', '--domain: required with --gold or --tests (or give --row FILE)');
  const gold: Gold = {};
  if (flags.gold !== undefined) gold.answer = textOf('--gold', flags.gold, stdinOnce).trim();
  let text = answer;
  if (flags.domain === 'coding') {
    if (flags.tests === undefined) throw new SvdError('bad_config', '--tests: required with --domain coding (a file of asserts, or of a check(candidate) function)');
    gold.tests = readText('--tests', flags.tests);
    if (flags.entryPoint !== undefined) gold.entryPoint = flags.entryPoint;
    text = asCodingAnswer(answer);
  } else if (gold.answer === undefined || gold.answer === '') {
    throw new SvdError('bad_config', `--gold: required with --domain ${flags.domain}`);
  }
  const question = flags.question === undefined ? undefined : textOf('--question', flags.question, stdinOnce);
  return { domain: flags.domain, text, gold, ...(question === undefined ? {} : { question }) };
}

export async function commandCheck(flags: CheckFlags, io: Io, readStdin: () => string = () => readFileSync(0, 'utf8')): Promise<number> {
  if (flags.pairs !== undefined) {
    for (const [flag, value] of [['--answer', flags.answer], ['--row', flags.row], ['--gold', flags.gold], ['--tests', flags.tests], ['--entry-point', flags.entryPoint], ['--question', flags.question]] as const) {
      if (value !== undefined) throw new SvdError('bad_config', `${flag}: not with --pairs, whose lines carry their answers and gold`);
    }
    const timeoutMs = flags.timeout === undefined ? undefined : flags.timeout * 1000;
    return commandCheckPairs(flags.pairs, { domain: flags.domain, jobs: flags.jobs, timeoutMs, memoryMb: flags.memory }, io);
  }
  if (flags.answer === undefined) throw new SvdError('bad_config', '--answer: required (or give --pairs FILE)');
  let stdinUsed = false;
  const stdinOnce = () => {
    if (stdinUsed) throw new SvdError('bad_config', 'only one of --answer, --gold and --question can be read from standard input (-)');
    stdinUsed = true;
    return readStdin();
  };
  const answer = textOf('--answer', flags.answer, stdinOnce);
  const task = flags.row !== undefined ? rowTask(flags, answer) : flagTask(flags, answer, stdinOnce);
  const { domain, gold, question } = task;

  const checker = createAnswerChecker({ codeWorkers: 1 });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await checker.check(domain, task.text, gold, {
      question,
      timeoutMs: flags.timeout === undefined ? undefined : flags.timeout * 1000,
      memoryMb: flags.memory,
      signal: controller.signal,
    });
    if (!result) {
      const missing = flags.row !== undefined ? `the row in ${flags.row} has no ${domain === 'coding' ? 'tests' : 'gold answer'}` : `give --gold${domain === 'coding' ? ' or --tests' : ''}`;
      throw new SvdError('bad_config', `nothing to check a ${domain} answer against: ${missing}`);
    }
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
    .description(
      'check one answer against the gold answer (math, science), its tests (coding) or a seed row (--row): prints equivalent or different, exit 0 or 1; or many at once (--pairs), one JSON result per line',
    )
    .addOption(new Option('--domain <domain>', 'math | science | coding; with --row and --pairs, for rows and lines without one').choices([...DOMAINS]))
    .option('--answer <text>', 'the answer: model output (the last \\boxed{}, option letter or code block counts), @FILE, or - for standard input')
    .option('--row <file>', 'a seed row as JSON (one object, or a JSONL file of one line), in any layout a seed file may use; its gold is what the answer is checked against')
    .option('--pairs <file>', 'JSONL, one check per line: {"gold", "answer", "domain"?, "tests"?, "entry_point"?, "id"?} or {"row": {...}, "answer"}; - for standard input. Prints one JSON result per line, in order; exit 0 when every line was checked, 2 when a line was bad, 11 when code had no sandbox')
    .option('--jobs <n>', 'with --pairs: code checks at once (default 2)', positiveInteger('--jobs'))
    .option('--gold <text>', 'math, science: the gold answer (LaTeX, or an option letter), @FILE or -')
    .option('--tests <file>', 'coding: the tests (asserts, or a check(candidate) function)')
    .option('--entry-point <name>', 'coding: the function check(candidate) is called with')
    .option('--question <text>', "coding: the question, @FILE or -; when it is code (HumanEval's prompt) it runs before the answer")
    .option('--timeout <seconds>', 'coding: time limit (default 10)', positive('--timeout'))
    .option('--memory <mb>', 'coding: memory limit (default 512)', positive('--memory'))
    .option('--json', 'print the whole result as JSON instead of the one word')
    .action(async (flags: CheckFlags) => setCode(await commandCheck(flags, io)));
}
