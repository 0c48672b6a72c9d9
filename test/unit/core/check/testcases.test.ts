// Input/output test cases under LiveCodeBench's rules: the LCB sample's canonical solutions pass and its wrong ones
// fail (read through the seed reader, as a run would), and a program that reads past its input, prints too much,
// runs too long or forges the harness's report gets the verdict it earned.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { CodeRunner } from '../../../../src/core/check/code';
import { createAnswerChecker } from '../../../../src/core/check/index';
import { checkTestCases } from '../../../../src/core/check/testcases';
import { MAX_CASES } from '../../../../src/core/method/seedTestCases';
import { readSeeds, type SeedRecord } from '../../../../src/core/method/seeds';
import type { GoldTestCases, Seed } from '../../../../src/core/base/types';
import type { RunEvent } from '../../../../src/core/record/events';
import { ReviewFeed, ReviewTestRuns } from '../../../../src/protocol/reviewFeed';
import { toReviewSeed } from '../../../../src/protocol/reviewSeeds';
import { foldRun } from '../../../../src/core/record/runview';
import { AUDIT, auditReviewRun } from '../../../webview/fixtures';

const SAMPLE = path.resolve(__dirname, '../../../fixtures/data/livecodebench_sample.jsonl');
const fence = (code: string) => `My solution:\n\n\`\`\`python\n${code}\n\`\`\`\n`;

async function records(text: string, file = 'seeds.jsonl'): Promise<SeedRecord[]> {
  const out: SeedRecord[] = [];
  for await (const record of readSeeds({ file, text })) out.push(record);
  return out;
}

const stdin = (cases: Array<[string, string]>): GoldTestCases => ({ kind: 'stdin', cases: cases.map(([input, output]) => ({ input, output })) });
const functional = (fnName: string, cases: Array<[string, string]>): GoldTestCases => ({ ...stdin(cases), kind: 'functional', fnName });

describe('the LiveCodeBench sample', () => {
  const runner = new CodeRunner({ workers: 2 });
  after(() => runner.close());
  const raw = readFileSync(SAMPLE, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as { id: string; meta: { wrong_solution: string } });

  test('the seed reader keeps every row: test_cases plus extra_test_cases as gold, the method for functional rows', async () => {
    const seeds = (await records(readFileSync(SAMPLE, 'utf8'), SAMPLE)).flatMap((r) => (r.kind === 'seed' ? [r.seed] : []));
    assert.equal(seeds.length, 64);
    const kinds = seeds.map((s) => s.gold?.testCases?.kind);
    assert.equal(kinds.filter((k) => k === 'stdin').length, 32);
    assert.equal(kinds.filter((k) => k === 'functional').length, 32);
    const flips = seeds.find((s) => s.id === 'lcb-leetcode-3526');
    assert.equal(flips?.gold?.testCases?.fnName, 'minFlips');
    assert.ok((flips?.gold?.testCases?.cases.length ?? 0) > 1, 'extra cases kept');
    assert.ok(seeds.every((s) => s.gold?.solution !== undefined && !s.question.includes('"testtype"')));
  });

  test('canonical solutions pass and one wrong solution per row fails, functional and stdin', async () => {
    const seeds = (await records(readFileSync(SAMPLE, 'utf8'), SAMPLE)).flatMap((r) => (r.kind === 'seed' ? [r.seed] : []));
    const wrongOf = new Map(raw.map((row) => [row.id, row.meta.wrong_solution]));
    // Correctness, not speed: 128 checks at once on a shared machine can take a case past LiveCodeBench's 6 s.
    const run = (seed: Seed, code: string) => checkTestCases(runner, fence(code), seed.gold!.testCases!, { caseTimeoutMs: 30_000 });
    const [right, wrong] = await Promise.all([
      Promise.all(seeds.map((seed) => run(seed, seed.gold!.solution!))),
      Promise.all(seeds.map((seed) => run(seed, wrongOf.get(seed.id)!))),
    ]);
    const notPassing = right.flatMap((r, i) => (r.correct ? [] : [`${seeds[i]!.id}: ${r.outcome} ${r.detail}`]));
    // One row's solution imports numpy, which the sandbox lets in where it is installed; where it is not, the row
    // says so instead of failing.
    const numpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
    assert.deepEqual(
      notPassing,
      numpy ? [] : ["lcb-atcoder-abc384_f: error case 1 of 3: cannot run here: ModuleNotFoundError(\"No module named 'numpy'\") at line 3"],
    );
    const passingWrong = wrong.flatMap((r, i) => (r.correct || r.outcome === 'unchecked' ? [seeds[i]!.id] : []));
    assert.deepEqual(passingWrong, []);
    assert.ok(wrong.filter((r) => r.outcome === 'fail').length >= 60, 'wrong answers read as fail');
  });
});

describe('the harness', () => {
  const runner = new CodeRunner({ workers: 2 });
  after(() => runner.close());
  const quick = { caseTimeoutMs: 1000 };

  test("stdin: LCB's comparison (strip, lines, Decimal tokens), and the first failing case ends the run", async () => {
    const gold = stdin([['3\n', '1.00 2\n'], ['4\n', 'Yes\n']]);
    const echo = 'n = int(input())\nprint("1.0", "2.000  ") if n == 3 else print("Yes  ")\n';
    assert.equal((await checkTestCases(runner, fence(echo), gold)).outcome, 'pass');
    const extra = await checkTestCases(runner, fence('print(1)\nprint(2)'), gold);
    assert.equal(extra.outcome, 'fail');
    assert.equal(extra.detail, 'case 1 of 2: wrong answer');
    const wrongSecond = await checkTestCases(runner, fence('n = int(input())\nprint("1 2" if n == 3 else "No")'), gold);
    assert.equal(wrongSecond.detail, 'case 2 of 2: wrong answer');
    assert.equal(wrongSecond.output, 'got "No\\\\n", expected "Yes\\n"');
    // A wrong answer before a crash is the verdict: the first failing case.
    const thenRaises = await checkTestCases(runner, fence('n = int(input())\nprint("0") if n == 3 else 1 / 0'), gold);
    assert.equal(thenRaises.detail, 'case 1 of 2: wrong answer');
    const nan = await checkTestCases(runner, fence('print("nan")'), stdin([['', 'nan']]));
    assert.equal(nan.outcome, 'pass', 'the same text matches even where Decimal says NaN != NaN');
    // SystemExit ends a case normally; LCB's prelude is there (no import of its own).
    const exits = await checkTestCases(runner, fence('print(gcd(4, 6))\nexit(1)'), stdin([['', '2']]));
    assert.equal(exits.outcome, 'pass');
  });

  test('programs written the usual competitive ways pass, as they would as python3 prog.py < input', async () => {
    const gold = stdin([['3\n1 2 3\n', '6\n'], ['2\n5 5\n', '10\n']]);
    const programs = [
      'import sys\ndata = sys.stdin.buffer.read().split()\nsys.stdout.buffer.write(str(sum(map(int, data[1:]))).encode() + b"\\n")',
      'data = open(0).read().split()\nprint(sum(map(int, data[1:])))',
      'import sys, threading\ndef main():\n    n = int(sys.stdin.readline())\n    print(sum(map(int, sys.stdin.readline().split())))\nthreading.stack_size(1 << 26)\nthreading.Thread(target=main).start()',
      'def main():\n    global total\n    total = sum(map(int, input().split()))\ninput()\nmain()\nprint(total)',
      'if __name__ == "__main__":\n    input()\n    print(sum(map(int, input().split())))',
      'import sys\ninput = sys.stdin.readline\nn = int(input())\nprint(sum(map(int, input().split())))',
    ];
    const results = await Promise.all(programs.map((program) => checkTestCases(runner, fence(program), gold)));
    assert.deepEqual(results.map((r) => r.detail), programs.map(() => 'passed 2 test cases'));
  });

  test('a program that reads more input than given sees EOF and fails at once', async () => {
    const gold = stdin([['1\n', '1\n']]);
    const result = await checkTestCases(runner, fence('a = input()\nb = input()\nprint(a)'), gold, quick);
    assert.equal(result.outcome, 'fail');
    assert.match(result.detail, /EOFError/);
    assert.ok(result.durationMs < 5000);
    const reads = await checkTestCases(runner, fence('import sys\nx = sys.stdin.read()\ny = sys.stdin.read()\nprint(x.strip() + y)'), gold, quick);
    assert.equal(reads.outcome, 'pass');
  });

  test('a program that prints too much fails cleanly, through print or straight to fd 1', async () => {
    const gold = stdin([['', 'x']]);
    const printed = await checkTestCases(runner, fence('while True:\n    print("x" * 1000)'), gold, quick);
    assert.equal(printed.outcome, 'error');
    assert.match(printed.detail, /^case 1 of 1: printed more than 4 MB/);
    const raw = await checkTestCases(runner, fence('import os\nwhile True:\n    os.write(1, b"x" * 65536)'), gold, quick);
    assert.equal(raw.outcome, 'error');
    assert.match(raw.detail, /printed more than/);
  });

  test('a program that runs past the per-case limit times out, even when it catches the alarm', async () => {
    const gold = stdin([['', '1'], ['', '1']]);
    const loops = await checkTestCases(runner, fence('while True:\n    pass'), gold, quick);
    assert.equal(loops.outcome, 'timeout');
    assert.equal(loops.detail, 'case 1 of 2: ran past 1 s');
    const stubborn = 'import time\nend = time.time() + 1.5\nwhile time.time() < end:\n    try:\n        while time.time() < end:\n            pass\n    except BaseException:\n        pass\nprint(1)';
    const caught = await checkTestCases(runner, fence(stubborn), gold, quick);
    assert.equal(caught.outcome, 'timeout');
  });

  test('functional: Solution().<method>(*JSON lines), tuples as lists, result compared as JSON', async () => {
    const gold = functional('pair', [['[1, 2]\n3', '[[1, 2], 3]'], ['[]\n0', '[[], 0]']]);
    const right = 'class Solution:\n    def pair(self, xs: List[int], k: int):\n        return (xs, k)';
    assert.equal((await checkTestCases(runner, fence(right), gold)).outcome, 'pass');
    const wrong = await checkTestCases(runner, fence(right.replace('(xs, k)', '(xs, k + 1)')), gold);
    assert.equal(wrong.outcome, 'fail');
    assert.equal(wrong.output, 'got "[[1, 2], 4]", expected "[[1, 2], 3]"');
    // Python's ==: True == 1 == 1.0; big integers compared exactly; a tuple inside a list is no list.
    const numbers = functional('f', [['0', '1'], ['1', '9007199254740993'], ['2', '[[1]]']]);
    const equalish = 'class Solution:\n    def f(self, x):\n        return [True, 9007199254740993, [[1.0]]][x]';
    assert.equal((await checkTestCases(runner, fence(equalish), numbers)).outcome, 'pass');
    const offByOne = await checkTestCases(runner, fence(equalish.replace('9007199254740993', '9007199254740992')), numbers);
    assert.equal(offByOne.detail, 'case 2 of 3: wrong answer');
    const tupled = await checkTestCases(runner, fence(equalish.replace('[[1.0]]', '[(1,)]')), numbers);
    assert.equal(tupled.detail, 'case 3 of 3: wrong answer');
    const raises = await checkTestCases(runner, fence('class Solution:\n    def pair(self, xs, k):\n        return xs[5]'), gold);
    assert.match(raises.detail, /^case 1 of 2: raised IndexError/);
    const missing = await checkTestCases(runner, fence('class Solution:\n    def other(self): pass'), gold);
    assert.deepEqual([missing.outcome, missing.detail], ['error', 'no pair to call']);
  });

  test("forgery: an object equal to everything, a fake report, an exit after one, a rewritten comparison, all fail", async () => {
    const gold = functional('f', [['1', '2']]);
    const equalsAll = 'class Any:\n    def __eq__(self, other): return True\nclass Solution:\n    def f(self, x): return Any()';
    assert.equal((await checkTestCases(runner, fence(equalsAll), gold)).correct, false);
    const fake = JSON.stringify({ passed: 1, total: 1, failure: null });
    const printsReport = `import os, sys\nclass Solution:\n    def f(self, x):\n        os.write(1, b"\\n${'0'.repeat(32)} ${fake.replace(/"/g, '\\"')}\\n")\n        sys.__stdout__.write("\\n" + sys.argv[1] + " ${fake.replace(/"/g, '\\"')}\\n")\n        return 0`;
    const printed = await checkTestCases(runner, fence(printsReport), gold);
    assert.equal(printed.outcome, 'fail');
    const exitsAfter = printsReport.replace('return 0', 'sys.__stdout__.flush()\n        os._exit(0)');
    const exited = await checkTestCases(runner, fence(exitsAfter), gold);
    assert.equal(exited.correct, false);
    // The harness's own functions, reached through the frames and replaced: the expected outputs are not there.
    const rewrites = [
      'import sys',
      'frame = sys._getframe()',
      'while frame is not None:',
      '    if "_canon_stdout" in frame.f_globals:',
      '        frame.f_globals["_canon_stdout"] = lambda text: ""',
      '        frame.f_globals["_digest"] = lambda text: "0" * 12',
      '    frame = frame.f_back',
      'print("wrong")',
    ].join('\n');
    const rewritten = await checkTestCases(runner, fence(rewrites), stdin([['', 'right'], ['', 'right']]));
    assert.deepEqual([rewritten.outcome, rewritten.detail], ['fail', 'case 1 of 2: wrong answer']);
  });
});

test('no sandbox here: the check reads "not checked", and the next one on a sandbox still runs', async () => {
  const gold = stdin([['2\n', '4\n']]);
  const calls: string[] = [];
  const noSandbox = {
    run: async (_program: string, options: { stdin?: string }) => {
      calls.push(options.stdin ?? '');
      return { status: 'unsandboxed' as const, output: 'not checked: no sandbox on this machine (test)', exitCode: null, signal: null, durationMs: 0 };
    },
  } as unknown as CodeRunner;
  const result = await checkTestCases(noSandbox, fence('print(int(input()) * 2)'), gold);
  assert.deepEqual([result.outcome, result.correct, result.detail], ['unchecked', false, 'not checked: no sandbox on this machine (test)']);
  assert.equal(calls.length, 1, 'the candidate does not run when the gold could not be read');
  const runner = new CodeRunner();
  try {
    assert.equal((await checkTestCases(runner, fence('print(int(input()) * 2)'), gold)).outcome, 'pass', 'a failed gold run is not cached');
  } finally {
    await runner.close();
  }
});

describe('seed rows with test cases', () => {
  const lcb = (patch: Record<string, unknown>) => JSON.stringify({ id: 'x', domain: 'coding', question: 'q', ...patch });

  test('APPS / CodeContests input_output, as JSON text or an object; call-based arguments become JSON lines', async () => {
    const rows = [
      lcb({ id: 'a', input_output: JSON.stringify({ inputs: ['1 2\n'], outputs: ['3\n'] }) }),
      lcb({ id: 'b', input_output: { inputs: [[1, 2]], outputs: [[3]], fn_name: 'add' } }),
    ].join('\n');
    const [a, b] = (await records(rows)).map((r) => (r.kind === 'seed' ? r.seed.gold?.testCases : r.problem));
    assert.deepEqual(a, { kind: 'stdin', cases: [{ input: '1 2\n', output: '3\n' }] });
    assert.deepEqual(b, { kind: 'functional', fnName: 'add', unwrap: true, cases: [{ input: '1\n2', output: '[3]' }] });
    const runner = new CodeRunner();
    try {
      const result = await checkTestCases(runner, fence('class Solution:\n    def add(self, a, b): return a + b'), b as GoldTestCases);
      assert.equal(result.outcome, 'pass', 'an output wrapped in a list of one matches (APPS)');
    } finally {
      await runner.close();
    }
  });

  test('malformed cases make a bad row naming file, line and field; too many are cut and counted', async () => {
    const rows = [
      lcb({ test_cases: [{ input: '1', output: '1' }] }),
      lcb({ test_cases: [{ input: '1', output: '1', testtype: 'functional' }] }),
      lcb({ test_cases: [{ input: '1', output: '1', testtype: 'stdin' }], extra_test_cases: [{ input: '[1]', output: '1', testtype: 'functional' }] }),
      lcb({ test_cases: [{ input: 'not json', output: '1', testtype: 'functional' }], entry_point: 'f' }),
      lcb({ input_output: '{"inputs": [1], "outputs": []}' }),
      lcb({ id: 'many', test_cases: Array.from({ length: MAX_CASES + 20 }, () => ({ input: '1', output: '1', testtype: 'stdin' })) }),
    ].join('\n');
    const out = await records(rows);
    const problems = out.flatMap((r) => (r.kind === 'problem' ? [`${r.problem.file}:${r.problem.line}: ${r.problem.field}: ${r.problem.message}`] : []));
    assert.equal(problems.length, 5);
    assert.match(problems[0]!, /^seeds\.jsonl:1: test_cases: expected a list of \{input, output, testtype\}/);
    assert.match(problems[1]!, /^seeds\.jsonl:2: entry_point: functional test cases need the method name/);
    assert.match(problems[2]!, /^seeds\.jsonl:3: test_cases: stdin and functional cases mixed/);
    assert.match(problems[3]!, /^seeds\.jsonl:4: test_cases: case 1: not one JSON value per line/);
    assert.match(problems[4]!, /^seeds\.jsonl:5: input_output: 1 inputs but 0 outputs/);
    const many = out.find((r) => r.kind === 'seed');
    assert.equal(many?.kind === 'seed' && many.seed.gold?.testCases?.cases.length, MAX_CASES);
    assert.equal(many?.kind === 'seed' && many.seed.gold?.testCases?.omitted, 20);
  });
});

test("the review shows a seed's test cases and its Run tests runs them", async () => {
  const events = auditReviewRun().events;
  const seed = events.find((e): e is Extract<RunEvent, { type: 'seed' }> => e.type === 'seed' && e.seedId === 'c1');
  assert.ok(seed);
  seed.gold = { testCases: functional('add', [['1\n2', '3'], ['-1\n1', '0']]) };
  const shown = foldRun(events).seeds.map((s) => toReviewSeed(s)).find((s) => s.id === 'c1');
  assert.equal(shown?.gold?.entryPoint, 'add');
  assert.match(shown?.gold?.tests ?? '', /^2 test cases \(functional: one JSON argument per line\)\n# case 1: input\n1\n2\n# expected\n3/);
  const feed = new ReviewFeed('r');
  feed.load(events);
  const checker = createAnswerChecker();
  try {
    const runs = new ReviewTestRuns(feed, { checker, record: () => false });
    const outcome = await runs.run(AUDIT.untested);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.error);
    assert.equal(outcome.truth.outcome, 'pass');
    assert.equal(outcome.truth.detail, 'passed 2 test cases');
  } finally {
    await checker.close();
  }
});
