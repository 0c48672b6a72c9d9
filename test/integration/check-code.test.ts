import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CodeRunner, buildProgram, candidateCode } from '../../src/core/check/code';
import { createAnswerChecker } from '../../src/core/check/index';

const DATA = path.resolve(__dirname, '../fixtures/data');

interface CodingRow {
  id: string;
  question: string;
  entry_point: string;
  tests: string;
  canonical_solution: string;
}

function rows(file: string): CodingRow[] {
  return readFileSync(path.join(DATA, file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CodingRow);
}

const fence = (code: string) => `Here is my solution.\n\n\`\`\`python\n${code}\n\`\`\`\n`;

/** Every `return X` becomes `return _flip(X)`: booleans flip, numbers are off by one, sequences grow. */
function mutate(code: string): string {
  const flip = [
    'def _flip(v):',
    '    if isinstance(v, bool): return not v',
    '    if isinstance(v, (int, float)): return v + 1',
    '    if isinstance(v, str): return v + "x"',
    '    if isinstance(v, list): return v + [None]',
    '    if isinstance(v, tuple): return v + (None,)',
    '    if v is None: return 0',
    '    return None',
  ].join('\n');
  const body = code.replace(/^([ \t]*)return\b[ \t]*(.*)$/gm, (_m, indent: string, value: string) =>
    value.trim() === '' ? `${indent}return _flip(None)` : `${indent}return _flip(${value})`,
  );
  return `${body}\n${flip}\n`;
}

describe('canonical solutions', () => {
  // These prove correctness, not speed: the slowest (mbpp-123, amicable numbers below 9999) takes seconds alone and
  // can pass the default 10 s when the machine's cores are shared, so the limit is wider here.
  const runner = new CodeRunner({ workers: 2, timeoutMs: 30_000 });
  after(() => runner.close());
  const humaneval = rows('humaneval.jsonl');
  const mbpp = rows('mbpp_test.jsonl');

  test('HumanEval: 164 of 164 pass (prompt + body + tests)', async () => {
    assert.equal(humaneval.length, 164);
    const results = await Promise.all(
      humaneval.map((row) => runner.check(fence(row.canonical_solution), { tests: row.tests, entryPoint: row.entry_point, question: row.question })),
    );
    const failed = results.flatMap((r, i) => (r.correct ? [] : [`${humaneval[i]!.id}: ${r.detail}`]));
    assert.deepEqual(failed, []);
  });

  test('MBPP: 500 of 500 pass (solution + asserts)', async () => {
    assert.equal(mbpp.length, 500);
    const results = await Promise.all(mbpp.map((row) => runner.check(fence(row.canonical_solution), { tests: row.tests, entryPoint: row.entry_point })));
    const failed = results.flatMap((r, i) => (r.correct ? [] : [`${mbpp[i]!.id}: ${r.detail}`]));
    assert.deepEqual(failed, []);
  });

  test('mutated solutions fail (returns flipped, numbers off by one), a sample of rows', async () => {
    const sample = [...humaneval.filter((_, i) => i % 8 === 0), ...mbpp.filter((_, i) => i % 8 === 0)];
    const results = await Promise.all(
      sample.map((row) =>
        runner.check(fence(mutate(row.canonical_solution)), { tests: row.tests, entryPoint: row.entry_point, question: row.id.startsWith('HumanEval') ? row.question : undefined }),
      ),
    );
    const passed = results.flatMap((r, i) => (r.correct ? [sample[i]!.id] : []));
    assert.deepEqual(passed, []);
    assert.ok(results.every((r) => r.outcome === 'fail' || r.outcome === 'error'));
  });

  test('HumanEval: a whole function works with the prompt before it and without the prompt', async () => {
    const sample = humaneval.filter((_, i) => i % 10 === 3);
    const whole = (row: CodingRow) => `${row.question}${row.canonical_solution}`;
    const withPrompt = await Promise.all(sample.map((row) => runner.check(fence(whole(row)), { tests: row.tests, entryPoint: row.entry_point, question: row.question })));
    const alone = await Promise.all(sample.map((row) => runner.check(fence(whole(row)), { tests: row.tests, entryPoint: row.entry_point })));
    assert.deepEqual(withPrompt.filter((r) => !r.correct).map((r) => r.detail), []);
    assert.deepEqual(alone.filter((r) => !r.correct).map((r) => r.detail), []);
  });
});

describe('program layout', () => {
  const he = rows('humaneval.jsonl')[0]!;

  test('a bare body is indented under the prompt', () => {
    const body = he.canonical_solution.replace(/^ {4}/gm, '');
    const program = buildProgram(body, { tests: he.tests, entryPoint: he.entry_point, question: he.question });
    assert.ok(program.startsWith(he.question));
    assert.match(program, /\n {4}for idx, elem in enumerate\(numbers\):/);
  });

  test('MBPP: solution then the asserts; the prose question is not code', () => {
    const row = rows('mbpp_test.jsonl')[0]!;
    const program = buildProgram(row.canonical_solution, { tests: row.tests, entryPoint: row.entry_point, question: row.question });
    assert.equal(program, `${row.canonical_solution}\n${row.tests}`);
  });

  test('check(entry_point) is called once', () => {
    const tests = 'def check(candidate):\n    assert candidate(1) == 2\n';
    const program = buildProgram('def inc(x):\n    return x + 1', { tests, entryPoint: 'inc' });
    assert.equal(program.match(/^check\(inc\)$/gm)?.length, 1);
    const called = buildProgram('def inc(x):\n    return x + 1', { tests: `${tests}\ncheck(inc)\n`, entryPoint: 'inc' });
    assert.equal(called.match(/^check\(inc\)$/gm)?.length, 1);
  });

  test('the last Python block counts; a later block in another language does not', () => {
    assert.equal(candidateCode('```python\nx = 1\n```\nthen\n```python\nx = 2\n```'), 'x = 2');
    assert.equal(candidateCode('```python\nx = 1\n```\nOutput:\n```text\n3\n```'), 'x = 1');
    assert.equal(candidateCode('```\nx = 3\n```'), 'x = 3');
    assert.equal(candidateCode('<think>```python\nx = 1\n```</think>No code.'), undefined);
    assert.equal(candidateCode('no code at all'), undefined);
  });
});

describe('outcomes', () => {
  const runner = new CodeRunner({ workers: 2, timeoutMs: 5000 });
  after(() => runner.close());
  const task = { tests: 'assert add(2, 3) == 5\n', entryPoint: 'add' };

  const cases: Array<[string, string, string, RegExp]> = [
    ['pass', 'def add(a, b):\n    return a + b', 'pass', /passed/],
    ['a failing assert', 'def add(a, b):\n    return a - b', 'fail', /a test failed at line 3 \(assert add\(2, 3\) == 5\)/],
    ['a syntax error', 'def add(a, b)\n    return a + b', 'error', /does not compile: SyntaxError/],
    ['an exception', 'def add(a, b):\n    return a + undefined_name', 'error', /NameError/],
    ['exit before the tests', 'import sys\nsys.exit(0)\ndef add(a, b):\n    return a + b', 'error', /exited before the tests/],
    ['os._exit(0) before the tests', 'import os\nos._exit(0)', 'error', /exited before the tests/],
    ['reading stdin (closed)', 'x = input()\ndef add(a, b):\n    return a + b', 'error', /EOFError/],
  ];
  for (const [name, code, outcome, detail] of cases) {
    test(name, async () => {
      const result = await runner.check(fence(code), task);
      assert.equal(result.outcome, outcome, `${result.detail}\n${result.output}`);
      assert.match(result.detail, detail);
      assert.equal(result.correct, outcome === 'pass');
      assert.equal(result.extracted, code);
    });
  }

  test('no code block is an error without running anything', async () => {
    const result = await runner.check('I would use a loop.', task);
    assert.equal(result.outcome, 'error');
    assert.match(result.detail, /no fenced code block/);
  });

  test('output is kept, cut to about 8 KB', async () => {
    const result = await runner.check(fence('for i in range(20000):\n    print("line", i)\nassert False'), { tests: '' });
    assert.equal(result.outcome, 'fail');
    assert.ok(result.output!.length < 9000, `${result.output!.length} characters`);
    assert.match(result.output!, /^line 0\n/);
    assert.match(result.output!, /characters cut/);
    assert.match(result.output!, /AssertionError/);
  });
});

describe('createAnswerChecker: coding', () => {
  const checker = createAnswerChecker({ codeWorkers: 2, timeoutMs: 5000 });
  after(() => checker.close());

  test('tests and entry point from the gold; the question from the options', async () => {
    const row = rows('humaneval.jsonl')[2]!;
    const body = await checker.check('coding', fence(row.canonical_solution), { tests: row.tests, entryPoint: row.entry_point }, { question: row.question });
    assert.equal(body?.outcome, 'pass', body?.detail);
    const mbpp = rows('mbpp_test.jsonl')[5]!;
    const whole = await checker.check('coding', fence(mbpp.canonical_solution), { tests: mbpp.tests, solution: mbpp.canonical_solution });
    assert.equal(whole?.outcome, 'pass', whole?.detail);
    assert.equal(await checker.check('coding', fence('x = 1'), { solution: 'x = 1' }), undefined);
  });

  test('a per-check time limit', async () => {
    const result = await checker.check('coding', fence('while True:\n    pass'), { tests: 'assert True' }, { timeoutMs: 800 });
    assert.equal(result?.outcome, 'timeout');
  });
});
