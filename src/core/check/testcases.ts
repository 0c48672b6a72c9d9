// Coding answers checked on input/output cases (LiveCodeBench, APPS, CodeContests): the candidate's last Python
// code block runs on every case of the row inside one sandboxed program, harness.ts, under LiveCodeBench's rules
// (LiveCodeBench/LiveCodeBench, lcb_runner/evaluation/testing_util.py and compute_code_generation_metrics.py).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { GoldTestCases } from '../types';
import { candidateCode, toCheckResult, type CodeRunner } from './code';
import { HARNESS } from './harness';
import type { CheckOptions, CheckResult } from './types';

/** LiveCodeBench's time limit per test case (run_test's `timeout=6`). */
export const CASE_TIMEOUT_MS = 6_000;
/** Per case, each of stdout and stderr: past it the case fails for printing too much. */
export const CASE_OUTPUT_CAP = 4 << 20;
/** Competitive programs hold large tables; LCB sets no memory limit at all. */
export const TESTCASE_MEMORY_MB = 1024;

export interface TestCaseCheckOptions extends Pick<CheckOptions, 'memoryMb' | 'signal'> {
  /** Wall-clock limit per case (default CASE_TIMEOUT_MS). */
  caseTimeoutMs?: number;
}

const Failure = z.object({
  kind: z.enum(['wrong', 'error', 'timeout', 'output', 'syntax', 'missing', 'gold']),
  case: z.number().int().nonnegative().optional(),
  stage: z.string().optional(),
  detail: z.string().optional(),
  line: z.number().int().nullable().optional(),
  got: z.string().optional(),
  expected: z.string().optional(),
});
const Report = z.object({ passed: z.number().int().nonnegative(), total: z.number().int().nonnegative(), failure: Failure.nullable() });
type Report = z.infer<typeof Report>;

/** The harness's report: the last line that starts with this run's nonce. */
export function parseReport(output: string, nonce: string): Report | undefined {
  const prefix = `${nonce} `;
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith(prefix)) continue;
    try {
      const parsed = Report.safeParse(JSON.parse(line.slice(prefix.length)));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The candidate's final code block on the gold's cases. Rejects with SvdError('aborted') when cancelled. */
export async function checkTestCases(runner: CodeRunner, text: string, gold: GoldTestCases, options: TestCaseCheckOptions = {}): Promise<CheckResult> {
  const code = candidateCode(text);
  if (code === undefined || code.trim() === '') return { outcome: 'error', correct: false, detail: 'no fenced code block', durationMs: 0 };
  const caseTimeoutMs = options.caseTimeoutMs ?? CASE_TIMEOUT_MS;
  const nonce = randomBytes(16).toString('hex');
  const payload = {
    nonce,
    mode: gold.kind,
    fn_name: gold.fnName ?? '',
    unwrap: gold.unwrap === true,
    code,
    cases: gold.cases,
    timeout_s: caseTimeoutMs / 1000,
    output_cap: CASE_OUTPUT_CAP,
  };
  // LCB's global limit: (timeout + 1) s per case, plus 5 s (compute_code_generation_metrics.check_correctness).
  const timeoutMs = (caseTimeoutMs + 1000) * Math.max(1, gold.cases.length) + 5000;
  const result = await runner.run(HARNESS, {
    stdin: JSON.stringify(payload),
    timeoutMs,
    memoryMb: options.memoryMb ?? TESTCASE_MEMORY_MB,
    signal: options.signal,
  });
  const report = result.status === 'finished' ? parseReport(result.output, nonce) : undefined;
  if (result.status !== 'finished') return { ...toCheckResult(result, timeoutMs), extracted: code };
  if (!report) {
    return { outcome: 'error', correct: false, detail: 'the test harness gave no report', output: result.output, durationMs: result.durationMs, extracted: code };
  }
  return { ...fromReport(report, caseTimeoutMs), durationMs: result.durationMs, extracted: code };
}

function fromReport(report: Report, caseTimeoutMs: number): Pick<CheckResult, 'outcome' | 'correct' | 'detail' | 'output'> {
  const { failure, total } = report;
  const cases = total === 1 ? '1 test case' : `${total} test cases`;
  if (failure === null) {
    return report.passed === total
      ? { outcome: 'pass', correct: true, detail: `passed ${cases}` }
      : { outcome: 'error', correct: false, detail: `the test harness ran ${report.passed} of ${cases}` };
  }
  const at = failure.case === undefined ? '' : `case ${failure.case + 1} of ${total}: `;
  const line = failure.line !== undefined && failure.line !== null && failure.line > 0 ? ` at line ${failure.line}` : '';
  const shown = failure.got !== undefined ? `got ${JSON.stringify(failure.got)}, expected ${JSON.stringify(failure.expected ?? '')}` : undefined;
  switch (failure.kind) {
    case 'wrong':
      return { outcome: 'fail', correct: false, detail: `${at}wrong answer${failure.detail ? ` (${failure.detail})` : ''}`, ...(shown ? { output: shown } : {}) };
    case 'error':
      // A module the sandbox lacks (third-party packages stay out of it) says nothing of the answer.
      if (failure.detail?.startsWith('ModuleNotFoundError')) {
        return { outcome: 'error', correct: false, detail: `${at}cannot run here: ${failure.detail}${line}` };
      }
      return failure.stage === 'load'
        ? { outcome: 'error', correct: false, detail: `raised ${failure.detail ?? 'an exception'}${line} while loading` }
        : { outcome: 'fail', correct: false, detail: `${at}raised ${failure.detail ?? 'an exception'}${line}` };
    case 'timeout':
      return { outcome: 'timeout', correct: false, detail: `${at}ran past ${caseTimeoutMs / 1000} s` };
    case 'output':
      return { outcome: 'error', correct: false, detail: `${at}printed more than ${CASE_OUTPUT_CAP >> 20} MB` };
    case 'syntax':
      return { outcome: 'error', correct: false, detail: `does not compile: ${failure.detail ?? ''}` };
    case 'missing':
      return { outcome: 'error', correct: false, detail: failure.detail ?? 'nothing to call' };
    case 'gold':
      return { outcome: 'error', correct: false, detail: `the seed's test cases are not JSON: ${failure.detail ?? ''}` };
  }
}
