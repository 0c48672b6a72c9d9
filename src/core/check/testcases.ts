// Coding answers checked on input/output cases (LiveCodeBench, APPS, CodeContests): the candidate's last Python
// code block runs on every case of the row inside one sandboxed program, harness.ts, under LiveCodeBench's rules
// (LiveCodeBench/LiveCodeBench, lcb_runner/evaluation/testing_util.py and compute_code_generation_metrics.py).
// The verdict is made here, from the digests of the outputs (see harness.ts for why).
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { GoldTestCases } from '../base/types';
import { candidateCode, toCheckResult, type CodeRunner } from './code';
import { HARNESS } from './harness';
import type { CheckOptions, CheckResult } from '../base/checker';

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
  kind: z.enum(['error', 'timeout', 'output', 'syntax', 'missing', 'gold']),
  case: z.number().int().nonnegative().optional(),
  stage: z.string().optional(),
  detail: z.string().optional(),
  line: z.number().int().nullable().optional(),
});
const CandidateReport = z.object({ digests: z.array(z.string()), previews: z.array(z.string()), failure: Failure.nullable() });
type CandidateReport = z.infer<typeof CandidateReport>;
const ExpectedReport = z.union([z.object({ expected: z.array(z.array(z.string())) }), z.object({ gold: z.string() })]);

/** The harness's report: the last line that starts with this run's nonce, read against its schema. */
export function parseReport<T>(output: string, nonce: string, schema: z.ZodType<T>): T | undefined {
  const prefix = `${nonce} `;
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith(prefix)) continue;
    try {
      const parsed = schema.safeParse(JSON.parse(line.slice(prefix.length)));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const nonce = () => randomBytes(16).toString('hex');
type Expected = { digests: string[][] } | { result: Omit<CheckResult, 'extracted'> };

// The gold's digests, computed once per set of outputs (eval and the audit check many candidates of one seed).
const EXPECTED_KEPT = 256;
const expectedCache = new Map<string, Promise<Expected>>();

function expectedDigests(runner: CodeRunner, gold: GoldTestCases): Promise<Expected> {
  const outputs = gold.cases.map((testCase) => testCase.output);
  const key = createHash('sha256').update(JSON.stringify([gold.kind, gold.unwrap === true, outputs])).digest('hex');
  let found = expectedCache.get(key);
  if (!found) {
    // Shared by every check of the seed, so no one check's signal stops it; the runner's close() does.
    found = computeExpected(runner, gold.kind, gold.unwrap === true, outputs);
    expectedCache.set(key, found);
    if (expectedCache.size > EXPECTED_KEPT) expectedCache.delete(expectedCache.keys().next().value!);
    // Only digests are kept: a run that failed (no sandbox, cancelled) is tried again next time.
    found.then((expected) => 'result' in expected && expectedCache.delete(key), () => expectedCache.delete(key));
  }
  return found;
}

async function computeExpected(runner: CodeRunner, mode: GoldTestCases['kind'], unwrap: boolean, outputs: string[]): Promise<Expected> {
  const id = nonce();
  const timeoutMs = 30_000;
  const result = await runner.run(HARNESS, { stdin: JSON.stringify({ nonce: id, expected_only: true, mode, unwrap, outputs }), timeoutMs });
  if (result.status !== 'finished') return { result: toCheckResult(result, timeoutMs) };
  const report = parseReport(result.output, id, ExpectedReport);
  if (!report) return { result: { outcome: 'error', correct: false, detail: "the seed's expected outputs could not be read", durationMs: result.durationMs } };
  if ('gold' in report) return { result: { outcome: 'error', correct: false, detail: `the seed's test cases are not JSON: ${report.gold}`, durationMs: result.durationMs } };
  if (report.expected.length !== outputs.length) return { result: { outcome: 'error', correct: false, detail: "the seed's expected outputs could not be read", durationMs: result.durationMs } };
  return { digests: report.expected };
}

/** The candidate's final code block on the gold's cases. Rejects with SvdError('aborted') when cancelled. */
export async function checkTestCases(runner: CodeRunner, text: string, gold: GoldTestCases, options: TestCaseCheckOptions = {}): Promise<CheckResult> {
  const code = candidateCode(text);
  if (code === undefined || code.trim() === '') return { outcome: 'error', correct: false, detail: 'no fenced code block', durationMs: 0 };
  const expected = await expectedDigests(runner, gold);
  if ('result' in expected) return { ...expected.result, extracted: code };
  const caseTimeoutMs = options.caseTimeoutMs ?? CASE_TIMEOUT_MS;
  const id = nonce();
  const payload = {
    nonce: id,
    mode: gold.kind,
    fn_name: gold.fnName ?? '',
    code,
    inputs: gold.cases.map((testCase) => testCase.input),
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
  if (result.status !== 'finished') return { ...toCheckResult(result, timeoutMs), extracted: code };
  const report = parseReport(result.output, id, CandidateReport);
  if (!report) {
    return { outcome: 'error', correct: false, detail: 'the test harness gave no report', output: result.output, durationMs: result.durationMs, extracted: code };
  }
  return { ...verdict(report, gold, expected.digests, caseTimeoutMs), durationMs: result.durationMs, extracted: code };
}

function verdict(report: CandidateReport, gold: GoldTestCases, expected: string[][], caseTimeoutMs: number): Pick<CheckResult, 'outcome' | 'correct' | 'detail' | 'output'> {
  const total = gold.cases.length;
  // The first failing case decides, as in LCB: a wrong answer before the case that raised or timed out wins.
  for (const [index, digest] of report.digests.entries()) {
    if (index >= total) break;
    if (expected[index]!.includes(digest)) continue;
    const want = gold.cases[index]!.output;
    return {
      outcome: 'fail',
      correct: false,
      detail: `case ${index + 1} of ${total}: wrong answer`,
      output: `got ${JSON.stringify(report.previews[index] ?? '')}, expected ${JSON.stringify(want.length > 100 ? `${want.slice(0, 100)}...` : want)}`,
    };
  }
  const { failure } = report;
  if (failure === null) {
    const cases = total === 1 ? '1 test case' : `${total} test cases`;
    return report.digests.length === total
      ? { outcome: 'pass', correct: true, detail: `passed ${cases}` }
      : { outcome: 'error', correct: false, detail: `the test harness ran ${report.digests.length} of ${cases}` };
  }
  const at = failure.case === undefined ? '' : `case ${failure.case + 1} of ${total}: `;
  const line = failure.line !== undefined && failure.line !== null && failure.line > 0 ? ` at line ${failure.line}` : '';
  switch (failure.kind) {
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
