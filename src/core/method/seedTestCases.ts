// A seed row's input/output test cases, kept as gold: LiveCodeBench rows (`test_cases` / `public_test_cases` plus
// `extra_test_cases`, each `{input, output, testtype}`, the method named by `entry_point` or `meta.func_name` /
// `metadata.func_name`) and APPS / CodeContests rows (`input_output`, a JSON string or object with `inputs`,
// `outputs` and, call-based, `fn_name`). Bounded, since the gold rides in the run record: at most MAX_CASES cases
// and MAX_CASE_BYTES in all; the cases past either are left out and counted. A malformed field makes the row bad.
import { z } from 'zod';
import type { GoldTestCase, GoldTestCases } from '../base/types';
import { firstIssue } from '../base/zodIssues';

export const MAX_CASES = 100;
export const MAX_CASE_BYTES = 1 << 20;

type RowProblem = { field?: string; message: string };

const LcbCase = z.object({ input: z.string(), output: z.string(), testtype: z.enum(['stdin', 'functional']) });
const LcbCases = z.array(LcbCase);
// APPS: stdin inputs and outputs are strings (or lists of lines); call-based inputs are argument lists.
const AppsInputOutput = z.object({
  inputs: z.array(z.unknown()),
  outputs: z.array(z.unknown()),
  fn_name: z.string().min(1).nullish(),
});

function parsed(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function issue(error: z.ZodError): string {
  const first = firstIssue(error);
  if (!first) return 'malformed';
  return first.path === '' ? first.message : `${first.message} at ${first.path}`;
}

function objectField(row: Record<string, unknown>, name: string): Record<string, unknown> | undefined {
  const value = parsed(row[name]);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function fnNameOf(row: Record<string, unknown>): string | undefined {
  const fromEntry = typeof row.entry_point === 'string' && row.entry_point.trim() !== '' ? row.entry_point.trim() : undefined;
  const meta = objectField(row, 'meta') ?? objectField(row, 'metadata');
  const fromMeta = typeof meta?.func_name === 'string' && meta.func_name.trim() !== '' ? meta.func_name.trim() : undefined;
  return fromEntry ?? fromMeta;
}

/** Cases in order until either bound is reached. */
function bounded(cases: GoldTestCase[]): { cases: GoldTestCase[]; omitted: number } {
  const kept: GoldTestCase[] = [];
  let bytes = 0;
  for (const testCase of cases) {
    bytes += Buffer.byteLength(testCase.input, 'utf8') + Buffer.byteLength(testCase.output, 'utf8');
    if (kept.length >= MAX_CASES || bytes > MAX_CASE_BYTES) break;
    kept.push(testCase);
  }
  return { cases: kept, omitted: cases.length - kept.length };
}

function finish(gold: Omit<GoldTestCases, 'cases' | 'omitted'>, cases: GoldTestCase[], field: string): GoldTestCases | RowProblem {
  const { cases: kept, omitted } = bounded(cases);
  if (kept.length === 0) return { field, message: `the first test case is over ${MAX_CASE_BYTES >> 20} MB` };
  if (gold.kind === 'functional') {
    // The harness reads each input line and the output as JSON (LCB's grade_call_based): checked here, once.
    for (const [index, testCase] of kept.entries()) {
      for (const text of [...testCase.input.split('\n'), testCase.output]) {
        try {
          JSON.parse(text);
        } catch {
          return { field, message: `case ${index + 1}: not one JSON value per line: ${JSON.stringify(text.slice(0, 60))}` };
        }
      }
    }
  }
  return { ...gold, cases: kept, ...(omitted > 0 ? { omitted } : {}) };
}

function lcbCases(row: Record<string, unknown>): GoldTestCases | RowProblem | undefined {
  const main = Object.hasOwn(row, 'test_cases') ? 'test_cases' : Object.hasOwn(row, 'public_test_cases') ? 'public_test_cases' : undefined;
  if (main === undefined || row[main] === null) return undefined;
  const all: Array<z.infer<typeof LcbCase>> = [];
  for (const field of [main, 'extra_test_cases']) {
    if (field === 'extra_test_cases' && (row[field] === undefined || row[field] === null)) continue;
    const result = LcbCases.safeParse(parsed(row[field]));
    if (!result.success) return { field, message: `expected a list of {input, output, testtype}: ${issue(result.error)}` };
    all.push(...result.data);
  }
  if (all.length === 0) return undefined;
  const kind = all[0]!.testtype;
  if (all.some((testCase) => testCase.testtype !== kind)) return { field: main, message: 'stdin and functional cases mixed in one row' };
  const fnName = fnNameOf(row);
  if (kind === 'functional' && fnName === undefined) return { field: 'entry_point', message: 'functional test cases need the method name (entry_point or meta.func_name)' };
  const cases = all.map(({ input, output }) => ({ input, output }));
  return finish(kind === 'functional' ? { kind, fnName } : { kind }, cases, main);
}

function appsText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((line) => typeof line === 'string')) return value.join('\n');
  return undefined;
}

function appsCases(row: Record<string, unknown>): GoldTestCases | RowProblem | undefined {
  const field = 'input_output';
  if (!Object.hasOwn(row, field) || row[field] === null || row[field] === '') return undefined;
  const result = AppsInputOutput.safeParse(parsed(row[field]));
  if (!result.success) return { field, message: `expected {inputs, outputs} (as JSON or an object): ${issue(result.error)}` };
  const { inputs, outputs, fn_name: fnName } = result.data;
  if (inputs.length !== outputs.length) return { field, message: `${inputs.length} inputs but ${outputs.length} outputs` };
  if (inputs.length === 0) return undefined;
  const cases: GoldTestCase[] = [];
  for (const [index, input] of inputs.entries()) {
    const output = outputs[index];
    if (fnName) {
      // Call-based: the arguments become LCB's one JSON value per line.
      const args = typeof input === 'string' ? input : Array.isArray(input) ? input.map((arg) => JSON.stringify(arg)).join('\n') : undefined;
      if (args === undefined) return { field, message: `inputs[${index}]: expected a list of arguments` };
      cases.push({ input: args, output: JSON.stringify(output) });
      continue;
    }
    const stdin = appsText(input);
    const stdout = appsText(output);
    if (stdin === undefined || stdout === undefined) return { field, message: `case ${index + 1}: expected text input and output` };
    cases.push({ input: stdin, output: stdout });
  }
  return finish(fnName ? { kind: 'functional', fnName, unwrap: true } : { kind: 'stdin' }, cases, field);
}

/** The row's test cases; undefined when it has none; a problem naming the field when they are malformed. */
export function testCasesOf(row: Record<string, unknown>): GoldTestCases | RowProblem | undefined {
  return lcbCases(row) ?? appsCases(row);
}
