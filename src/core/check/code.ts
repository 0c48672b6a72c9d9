// Coding answers: the candidate's last Python code block, run with the row's tests in the sandbox.
// Layouts as in the reference harnesses: HumanEval `prompt + completion + "\n" + tests` (the tests end with
// `check(entry_point)`), MBPP `solution + "\n" + tests` (bare asserts).
import { lastCodeBlock } from '../method/answer';
import { SvdError } from '../base/errors';
import { splitTrace } from '../method/trace';
import { NOT_CHECKED } from '../base/checker';
import { DEFAULT_MEMORY_MB, DEFAULT_OUTPUT_LIMIT, DEFAULT_TIMEOUT_MS, runPython, type SandboxOptions, type SandboxResult } from './sandbox';
import type { CheckOptions, CheckResult } from '../base/checker';

export interface CodeTask {
  tests: string;
  entryPoint?: string;
  /** The seed's question; used only when it is code (see CheckOptions.question). */
  question?: string;
}

const PYTHON_LANGUAGES = new Set(['', 'python', 'python3', 'py', 'py3']);
const PYTHON_BLOCK = /^[ \t]*(`{3,}|~{3,})[ \t]*(?:python3?|py3?)\b[^\n]*\n([\s\S]*?)\n[ \t]*\1[ \t]*$/gm;

/** The program in the candidate's text: its last fenced code block, unless that one is in another language
 * (sample output, a shell line) and an earlier Python block exists. */
export function candidateCode(text: string): string | undefined {
  const answer = splitTrace({ text }).answer;
  const last = lastCodeBlock(answer);
  if (!last) return undefined;
  if (PYTHON_LANGUAGES.has(last.language.toLowerCase())) return last.code;
  let python: string | undefined;
  for (const match of answer.matchAll(PYTHON_BLOCK)) python = match[2];
  return python ?? last.code;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The program that runs: the candidate's code placed with the tests as the task's harness expects. */
export function buildProgram(code: string, task: CodeTask): string {
  const entry = task.entryPoint?.trim() || undefined;
  const checkHarness = /^def\s+check\s*\(/m.test(task.tests);
  const defines = entry !== undefined && new RegExp(`^(?:async\\s+def|def|class)\\s+${escapeRegExp(entry)}\\b`, 'm').test(code);
  const promptIsCode =
    task.question !== undefined && entry !== undefined && new RegExp(`^def\\s+${escapeRegExp(entry)}\\s*\\(`, 'm').test(task.question);
  let program: string;
  if (promptIsCode) {
    // The prompt ends inside the function: a bare body continues it; a whole function redefines it (the later def
    // wins) and still finds the prompt's imports and helpers.
    const prompt = task.question!.endsWith('\n') ? task.question! : `${task.question}\n`;
    program = defines ? `${prompt}\n${code}` : `${prompt}${indentBody(code)}`;
  } else {
    // Without the prompt, a HumanEval-style function may still name typing's List, Tuple, ...
    program = checkHarness && !/^\s*(?:from\s+typing\s+import|import\s+typing)/m.test(code) ? `from typing import *\n${code}` : code;
  }
  program += `\n${task.tests}`;
  if (checkHarness && entry !== undefined && !new RegExp(`^check\\s*\\(\\s*${escapeRegExp(entry)}\\s*\\)`, 'm').test(task.tests)) {
    program += `\ncheck(${entry})\n`;
  }
  return program.endsWith('\n') ? program : `${program}\n`;
}

/** A function body given without its indentation is indented under the prompt's `def`. */
function indentBody(code: string): string {
  const lines = code.replace(/^(?:[ \t]*\n)+/, '').split('\n');
  const first = lines[0] ?? '';
  if (/^[ \t]/.test(first)) return lines.join('\n');
  return lines.map((line) => (line.trim() === '' ? line : `    ${line}`)).join('\n');
}

export interface CodeRunnerOptions {
  /** Programs run at once (default 2). */
  workers?: number;
  timeoutMs?: number;
  memoryMb?: number;
  python?: string;
}

/** Runs code checks, at most `workers` at once; the rest wait their turn. close() stops them all. */
export class CodeRunner {
  private readonly workers: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly closing = new AbortController();
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly options: CodeRunnerOptions = {}) {
    this.workers = Math.max(1, Math.floor(options.workers ?? 2));
  }

  /** The candidate's final code block against the task's tests. Rejects with SvdError('aborted') when cancelled. */
  async check(text: string, task: CodeTask, options: CheckOptions = {}): Promise<CheckResult> {
    const code = candidateCode(text);
    if (code === undefined || code.trim() === '') {
      return { outcome: 'error', correct: false, detail: 'no fenced code block', durationMs: 0 };
    }
    const program = buildProgram(code, { ...task, question: task.question ?? options.question });
    const result = await this.run(program, options);
    return { ...toCheckResult(result, options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS), extracted: code };
  }

  /** One program, when a worker is free. Rejects with SvdError('aborted') when cancelled or closed. */
  async run(
    program: string,
    options: Pick<CheckOptions, 'timeoutMs' | 'memoryMb' | 'signal'> & Pick<SandboxOptions, 'stdin' | 'outputLimit'> = {},
  ): Promise<SandboxResult> {
    const { signal, dispose } = anySignal([options.signal, this.closing.signal]);
    const task = (async () => {
      await this.acquire(signal);
      try {
        const result = await runPython(program, {
          timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          memoryMb: options.memoryMb ?? this.options.memoryMb ?? DEFAULT_MEMORY_MB,
          python: this.options.python,
          stdin: options.stdin,
          outputLimit: options.outputLimit,
          signal,
        });
        if (result.status === 'aborted') throw cancelled();
        return result;
      } finally {
        this.release();
      }
    })();
    this.running.add(task);
    try {
      return await task;
    } finally {
      this.running.delete(task);
      dispose();
    }
  }

  /** Stops running programs, refuses queued ones, and waits until every process is gone. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.running]);
  }

  private acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(cancelled());
    if (this.active < this.workers) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(cancelled());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}

function cancelled(): SvdError {
  return new SvdError('aborted', 'the code check was cancelled');
}

// One listener per signal, however many checks wait on it: a caller may pass the same signal to thousands.
const watchers = new WeakMap<AbortSignal, Set<() => void>>();

function watch(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = watchers.get(signal);
  if (!callbacks) {
    const set = new Set<() => void>();
    callbacks = set;
    watchers.set(signal, set);
    signal.addEventListener('abort', () => [...set].forEach((f) => f()), { once: true });
  }
  callbacks.add(callback);
  return () => callbacks.delete(callback);
}

/** A signal that aborts when any of the given ones does; dispose() unhooks it from them. */
function anySignal(signals: Array<AbortSignal | undefined>): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const unwatch: Array<() => void> = [];
  for (const source of signals) {
    if (!source) continue;
    if (source.aborted) controller.abort();
    else unwatch.push(watch(source, abort));
  }
  return { signal: controller.signal, dispose: () => unwatch.forEach((f) => f()) };
}

function lastLine(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const line = lines[lines.length - 1] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** ` at line 12 (assert f(3) == 4)`: the innermost line of the program in a traceback. */
function failedAt(output: string): string {
  let found: RegExpExecArray | undefined;
  for (const match of output.matchAll(/File "program\.py", line (\d+)[^\n]*\n[ \t]*([^\n]*)/g)) found = match;
  if (!found) return '';
  const source = found[2]!.trim();
  return ` at line ${found[1]}${source ? ` (${source.length > 120 ? `${source.slice(0, 117)}...` : source})` : ''}`;
}

/** How a sandbox run reads as a check; test-case runs use it for every end but a finished harness. */
export function toCheckResult(result: SandboxResult, timeoutMs: number): Omit<CheckResult, 'extracted'> {
  const base = { output: result.output, durationMs: result.durationMs };
  const why = lastLine(result.output);
  switch (result.status) {
    case 'finished':
      return { ...base, outcome: 'pass', correct: true, detail: 'passed the tests' };
    case 'assertion':
      return { ...base, outcome: 'fail', correct: false, detail: `a test failed${failedAt(result.output)}${why && why !== 'AssertionError' ? `: ${why}` : ''}` };
    case 'syntax':
      return { ...base, outcome: 'error', correct: false, detail: `does not compile: ${why}` };
    case 'exception':
      return { ...base, outcome: 'error', correct: false, detail: `raised ${why}` };
    case 'exit':
      return { ...base, outcome: 'error', correct: false, detail: 'exited before the tests ended' };
    case 'timeout':
      return { ...base, outcome: 'timeout', correct: false, detail: `ran past ${timeoutMs / 1000} s` };
    case 'killed':
      if (result.signal === 'SIGXCPU') return { ...base, outcome: 'timeout', correct: false, detail: 'ran past its CPU time' };
      return {
        ...base,
        outcome: 'error',
        correct: false,
        detail: `killed by ${result.signal ?? `exit code ${result.exitCode}`} (over the memory limit?)`,
      };
    case 'output':
      return { ...base, outcome: 'error', correct: false, detail: `printed more than ${DEFAULT_OUTPUT_LIMIT >> 20} MB` };
    case 'unavailable':
      return { ...base, outcome: 'error', correct: false, detail: why || 'the Python interpreter could not be started' };
    case 'unsandboxed':
      return { ...base, outcome: 'unchecked', correct: false, detail: result.output || NOT_CHECKED };
    case 'aborted':
      throw cancelled();
  }
}
