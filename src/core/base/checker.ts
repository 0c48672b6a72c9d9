// What an answer checker says about one candidate. Checkers measure (audit, sweep, eval); they never decide what
// becomes training data.
import type { Domain, Gold } from './types';

/** pass: matches the gold answer / passes the tests; fail: does not; error: could not be checked (no answer found,
 * the code did not compile or crashed before the tests); timeout: the code ran past its limit; unchecked: the code
 * was not run, since no sandbox can be made on this machine (it says nothing of the answer). */
export type CheckOutcome = 'pass' | 'fail' | 'error' | 'timeout' | 'unchecked';

/** What a candidate's truth reads when its code was not run for want of a sandbox. */
export const NOT_CHECKED = 'not checked: no sandbox on this machine';

export interface CheckResult {
  outcome: CheckOutcome;
  /** outcome === 'pass'. */
  correct: boolean;
  /** What was compared: the extracted answer (math: the last \boxed{}; multiple choice: the letter). */
  extracted?: string;
  /** One line a person can read: why it was judged so. */
  detail: string;
  /** Coding: stdout and stderr of the run, cut to a few KB. */
  output?: string;
  durationMs: number;
}

export interface CheckOptions {
  /** Coding: wall-clock limit per run (default 10 s). */
  timeoutMs?: number;
  /** Coding: address-space limit per run (default 512 MB). */
  memoryMb?: number;
  /** Coding: the seed's question. Where it is code (HumanEval: imports, signature and docstring) it runs before the
   * candidate, so that a candidate that gives only the function's body, or leaves out the imports, still runs. */
  question?: string;
  signal?: AbortSignal;
}

/** Checks a candidate's text (the whole model output; the checker finds the final answer itself) against gold. */
export interface AnswerChecker {
  /** undefined when the gold has nothing to check this domain against (no answer, no tests). */
  check(domain: Domain, text: string, gold: Gold, options?: CheckOptions): Promise<CheckResult | undefined>;
}
