// The answer checker: picks the check that fits the domain and the gold. It measures (audit, sweep, eval) and is
// never used to decide what becomes training data.
import type { Domain, Gold } from '../base/types';
import { checkChoice, choiceLetter } from './choice';
import { CodeRunner } from './code';
import { checkExact, isWordAnswer } from './exact';
import { checkMath } from './math';
import { checkTestCases } from './testcases';
import type { AnswerChecker, CheckOptions, CheckResult } from '../base/checker';

export interface AnswerCheckerOptions {
  /** Coding: programs run at once (default 2). */
  codeWorkers?: number;
  /** Coding: default wall-clock limit per run (10 s); CheckOptions.timeoutMs overrides it per check. */
  timeoutMs?: number;
  /** Coding: default address-space limit per run (512 MB); CheckOptions.memoryMb overrides it per check. */
  memoryMb?: number;
}

export type ClosableAnswerChecker = AnswerChecker & {
  /** Stops code runs in flight (their checks reject as aborted) and waits until no process is left. */
  close(): Promise<void>;
};

function present(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/**
 * math: the last \boxed{} against gold.answer. science: the option letter when gold.answer is one (A-J); a short
 * answer in words by exact match, normalised as SQuAD does (exact.ts); a number or a formula as math. coding: the
 * last code block run with gold.tests (gold.entryPoint names the function HumanEval's check() calls), else on
 * gold.testCases under LiveCodeBench's rules (testcases.ts). undefined when the gold has nothing for the domain.
 */
export function createAnswerChecker(options: AnswerCheckerOptions = {}): ClosableAnswerChecker {
  const runner = new CodeRunner({ workers: options.codeWorkers, timeoutMs: options.timeoutMs, memoryMb: options.memoryMb });
  return {
    async check(domain: Domain, text: string, gold: Gold, checkOptions?: CheckOptions): Promise<CheckResult | undefined> {
      switch (domain) {
        case 'math':
          return present(gold.answer) ? checkMath(text, gold.answer) : undefined;
        case 'science': {
          if (!present(gold.answer)) return undefined;
          const letter = choiceLetter(gold.answer);
          if (letter !== undefined) return checkChoice(text, letter);
          return isWordAnswer(gold.answer) ? checkExact(text, gold.answer) : checkMath(text, gold.answer);
        }
        case 'coding':
          if (present(gold.tests)) return runner.check(text, { tests: gold.tests, entryPoint: gold.entryPoint }, checkOptions);
          if (gold.testCases !== undefined && gold.testCases.cases.length > 0) {
            return checkTestCases(runner, text, gold.testCases, { memoryMb: checkOptions?.memoryMb, signal: checkOptions?.signal });
          }
          return undefined;
      }
    },
    close: () => runner.close(),
  };
}
