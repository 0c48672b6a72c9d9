import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { EXIT_CODES } from '../../src/core/base/errors';
import { ROOT, runCli } from '../fixtures/cli';

const svd = (args: string[], stdin?: string, env: NodeJS.ProcessEnv = {}) => runCli(args, { stdin, env });

describe('svd check', () => {
  let dir: string;

  before(() => {
    const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    dir = mkdtempSync(path.join(os.tmpdir(), 'svd-check-cli-'));
  });

  test('math: equivalent, exit 0; different, exit 1; the detail on stderr', async () => {
    const same = await svd(['check', '--domain', 'math', '--gold', '\\frac{\\sqrt{3}}{2}', '--answer', 'so $\\boxed{\\sqrt3/2}$']);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout, 'equivalent\n');
    assert.match(same.stderr, /^pass: /);
    const other = await svd(['check', '--domain', 'math', '--gold', '\\frac{\\sqrt{3}}{2}', '--answer', '\\boxed{\\frac{\\sqrt{2}}{2}}']);
    assert.equal(other.code, 1);
    assert.equal(other.stdout, 'different\n');
    assert.match(other.stderr, /^fail: /);
    // An answer with no \boxed{} that reads as a value is compared as a whole.
    const bare = await svd(['check', '--domain', 'math', '--gold', '1', '--answer', '1']);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(bare.stdout, 'equivalent\n');
    const bareOther = await svd(['check', '--domain', 'math', '--gold', '1', '--answer', '2']);
    assert.equal(bareOther.code, 1, bareOther.stderr);
    assert.equal(bareOther.stdout, 'different\n');
    const none = await svd(['check', '--domain', 'math', '--gold', '2', '--answer', 'two']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^error: no \\boxed\{\} answer/);
  });

  test('science: an option letter; the answer from a file', async () => {
    const file = path.join(dir, 'answer.txt');
    writeFileSync(file, 'Friction does no work here, so the answer is **(C)**.\n');
    const result = await svd(['check', '--domain', 'science', '--gold', 'C', '--answer', `@${file}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'equivalent\n');
  });

  test('coding: a plain source file or a code block from standard input, with --tests and --entry-point', async () => {
    const tests = path.join(dir, 'tests.py');
    writeFileSync(tests, 'def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n');
    const source = path.join(dir, 'solution.py');
    writeFileSync(source, 'def add(a, b):\n    return a + b\n');
    const passed = await svd(['check', '--domain', 'coding', '--tests', tests, '--entry-point', 'add', '--answer', `@${source}`]);
    assert.equal(passed.code, 0, passed.stderr);
    assert.equal(passed.stdout, 'equivalent\n');
    const failed = await svd(['check', '--domain', 'coding', '--tests', tests, '--entry-point', 'add', '--answer', '-'], 'Here:\n```python\ndef add(a, b):\n    return a - b\n```\n');
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, 'different\n');
    assert.match(failed.stderr, /^fail: a test failed/);
    const json = await svd(['check', '--domain', 'coding', '--tests', tests, '--entry-point', 'add', '--answer', `@${source}`, '--json']);
    assert.equal(json.code, 0);
    assert.equal((JSON.parse(json.stdout) as { outcome: string }).outcome, 'pass');
  });

  test('coding: a time limit', async () => {
    const tests = path.join(dir, 'asserts.py');
    writeFileSync(tests, 'assert True\n');
    const result = await svd(['check', '--domain', 'coding', '--tests', tests, '--timeout', '1', '--answer', 'while True:\n    pass\n']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^timeout: /);
  });

  test('bad usage exits 2', async () => {
    const noGold = await svd(['check', '--domain', 'math', '--answer', '\\boxed{1}']);
    assert.equal(noGold.code, EXIT_CODES.bad_config);
    assert.match(noGold.stderr, /--gold/);
    const noTests = await svd(['check', '--domain', 'coding', '--answer', 'x = 1']);
    assert.equal(noTests.code, EXIT_CODES.bad_config);
    assert.match(noTests.stderr, /--tests/);
    const badDomain = await svd(['check', '--domain', 'biology', '--gold', '1', '--answer', '1']);
    assert.equal(badDomain.code, EXIT_CODES.bad_config);
    const noAnswer = await svd(['check', '--domain', 'math', '--gold', '1']);
    assert.equal(noAnswer.code, EXIT_CODES.bad_config);
    const twoStdin = await svd(['check', '--domain', 'math', '--gold', '-', '--answer', '-'], '1');
    assert.equal(twoStdin.code, EXIT_CODES.bad_config);
    const missing = await svd(['check', '--domain', 'math', '--gold', '1', '--answer', `@${path.join(dir, 'nope.txt')}`]);
    assert.equal(missing.code, EXIT_CODES.not_found);
  });
});

const LABELED = path.join(ROOT, 'examples/labeled.jsonl');

describe('svd check --row and --pairs', () => {
  let dir: string;
  const file = (name: string, content: string): string => {
    const at = path.join(dir, name);
    writeFileSync(at, content);
    return at;
  };
  const lines = (stdout: string) => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

  before(() => {
    // The build is made by the suite above, which runs first.
    dir = mkdtempSync(path.join(os.tmpdir(), 'svd-check-rows-'));
  });

  test('--row: a JSON object or a one-line JSONL file, in the layouts of the seed files', async () => {
    const mmlu = file('mmlu.json', JSON.stringify({ id: 'q1', domain: 'science', question: 'Pick.\n\nA. one\nB. two\nC. three', answer: 'C' }, null, 2));
    assert.equal((await svd(['check', '--row', mmlu, '--answer', 'The answer is (C).'])).code, 0);
    const wrong = await svd(['check', '--row', mmlu, '--answer', 'The answer is (A).']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^fail: chose A, the gold option is C/);
    const math = file('math.jsonl', `\n${JSON.stringify({ problem: 'Half of one?', answer: '\\frac{1}{2}' })}\n`);
    assert.equal((await svd(['check', '--row', math, '--domain', 'math', '--answer', '\\boxed{0.5}'])).code, 0);
    const words = file('words.json', JSON.stringify({ question: 'Powerhouse of the cell?', answer: 'mitochondria', domain: 'science' }));
    assert.equal((await svd(['check', '--row', words, '--answer', '\\boxed{The Mitochondria}'])).stdout, 'equivalent\n');
  });

  test('--row: a GPQA row, the letter rebuilt from its fields; a HumanEval row run with its tests', async () => {
    const gpqa = { 'Record ID': 'r1', Question: 'Which boson carries light?', 'Correct Answer': 'photon', 'Incorrect Answer 1': 'gluon', 'Incorrect Answer 2': 'Z boson', 'Incorrect Answer 3': 'Higgs boson' };
    const row = file('gpqa.jsonl', `${JSON.stringify(gpqa)}\n`);
    const results = await Promise.all(['A', 'B', 'C', 'D'].map((letter) => svd(['check', '--row', row, '--answer', `\\boxed{${letter}}`, '--json'])));
    assert.deepEqual(results.map((r) => r.code).sort(), [0, 1, 1, 1], 'exactly one letter is right');
    const humaneval = readFileSync(LABELED, 'utf8').split('\n').find((line) => line.includes('"HumanEval/0"'))!;
    const heRow = file('he.jsonl', `${humaneval}\n`);
    const body = '    for i, a in enumerate(numbers):\n        for j, b in enumerate(numbers):\n            if i != j and abs(a - b) < threshold:\n                return True\n    return False\n';
    const passed = await svd(['check', '--row', heRow, '--answer', `@${file('he.py', body)}`]);
    const failed = await svd(['check', '--row', heRow, '--answer', '    return False\n']);
    if (passed.code === EXIT_CODES.no_sandbox) assert.equal(failed.code, EXIT_CODES.no_sandbox);
    else assert.deepEqual([passed.code, failed.code], [0, 1], passed.stderr);
  });

  test('--row: bad rows, two rows and clashing flags are usage errors naming the file, line and field', async () => {
    const empty = await svd(['check', '--row', file('empty-q.jsonl', '\n\n{"question": "", "answer": "1", "domain": "math"}\n'), '--answer', '1']);
    assert.equal(empty.code, EXIT_CODES.bad_seed_file);
    assert.match(empty.stderr, /empty-q\.jsonl:3: field "question": the question is empty/);
    const noGold = await svd(['check', '--row', file('nogold.json', '{"question": "q", "domain": "math"}'), '--answer', '1']);
    assert.equal(noGold.code, EXIT_CODES.bad_seed_file);
    assert.match(noGold.stderr, /no gold/);
    const two = await svd(['check', '--row', file('two.jsonl', '{"question": "a", "answer": "1"}\n{"question": "b", "answer": "2"}\n'), '--answer', '1']);
    assert.equal(two.code, EXIT_CODES.bad_seed_file);
    assert.match(two.stderr, /--pairs/);
    const clash = await svd(['check', '--row', file('ok.json', '{"question": "q", "answer": "1", "domain": "math"}'), '--gold', '2', '--answer', '1']);
    assert.equal(clash.code, EXIT_CODES.bad_config);
    const missing = await svd(['check', '--row', path.join(dir, 'nope.json'), '--answer', '1']);
    assert.equal(missing.code, EXIT_CODES.not_found);
  });

  test('--pairs: one result per line in input order, with its line; bad lines say why and the rest go on', async () => {
    const input = [
      JSON.stringify({ gold: '\\frac{1}{2}', answer: 'so \\boxed{0.5}', id: 'a' }),
      JSON.stringify({ gold: 'C', answer: 'The answer is (B).' }),
      '{not json',
      '',
      JSON.stringify({ gold: '2', answer: 3 }),
      JSON.stringify({ row: { question: 'Half?', answer: '1/2', domain: 'math' }, answer: '\\boxed{\\frac12}', id: 9 }),
      JSON.stringify({ row: { question: '   ', answer: '1' }, answer: '1' }),
      JSON.stringify({ gold: 'mitochondria', answer: '\\boxed{Mitochondria.}', domain: 'science' }),
      JSON.stringify({ gold: '1', answer: '\\boxed{1}', domain: 'biology' }),
      JSON.stringify({ answer: '\\boxed{1}' }),
    ].join('\n');
    const result = await svd(['check', '--pairs', file('pairs.jsonl', input)]);
    assert.equal(result.code, EXIT_CODES.bad_config, 'bad lines make a non-zero exit, after every line');
    const out = lines(result.stdout);
    assert.deepEqual(out.map((r) => r.line), [1, 2, 3, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(out.map((r) => r.outcome ?? 'bad'), ['pass', 'fail', 'bad', 'bad', 'pass', 'bad', 'pass', 'bad', 'bad']);
    assert.deepEqual([out[0]!.id, out[1]!.domain, out[4]!.id], ['a', 'science', '9']);
    assert.match(String(out[2]!.error), /pairs\.jsonl:3: not valid JSON/);
    assert.match(String(out[3]!.error), /pairs\.jsonl:5: field "answer": /);
    assert.match(String(out[5]!.error), /pairs\.jsonl:7: field "row\.question": the question is empty/);
    assert.match(String(out[7]!.error), /pairs\.jsonl:9: field "domain": unknown domain "biology"/);
    assert.match(String(out[8]!.error), /pairs\.jsonl:10: field "gold": required/);
    assert.match(result.stderr, /9 lines: .*5 bad lines/);
  });

  test('--pairs: every line checked is exit 0 whatever the verdicts; standard input; unreadable input fails', async () => {
    const input = `${JSON.stringify({ gold: '1', answer: '\\boxed{2}' })}\n${JSON.stringify({ gold: '2', answer: 'no box' })}\n`;
    const result = await svd(['check', '--pairs', '-'], input);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(lines(result.stdout).map((r) => r.outcome), ['fail', 'error']);
    assert.equal((await svd(['check', '--pairs', path.join(dir, 'nope.jsonl')])).code, EXIT_CODES.not_found);
    assert.equal((await svd(['check', '--pairs', dir])).code, EXIT_CODES.bad_config);
    assert.equal((await svd(['check', '--pairs', '-', '--answer', '1'], input)).code, EXIT_CODES.bad_config);
  });

  test('--pairs: code runs in the worker pool, results still in input order; without a sandbox each says unchecked', async () => {
    const tests = 'assert f(2) == 4\n';
    const input = [
      JSON.stringify({ tests, answer: '```python\nimport time\ntime.sleep(0.5)\ndef f(x):\n    return x * 2\n```' }),
      JSON.stringify({ tests, answer: 'def f(x):\n    return x + 1\n' }),
      JSON.stringify({ gold: '3', answer: '\\boxed{3}' }),
      JSON.stringify({ row: { task_id: 'T/1', prompt: 'def f(x):\n', tests, entry_point: 'f', domain: 'coding' }, answer: '    return 2 * x\n' }),
    ].join('\n');
    const pairs = file('code.jsonl', input);
    const result = await svd(['check', '--pairs', pairs, '--jobs', '2']);
    const out = lines(result.stdout);
    assert.deepEqual(out.map((r) => r.line), [1, 2, 3, 4]);
    assert.equal(out[2]!.outcome, 'pass');
    if (result.code === 0) assert.deepEqual(out.map((r) => r.outcome), ['pass', 'fail', 'pass', 'pass']);
    else assert.equal(result.code, EXIT_CODES.no_sandbox, result.stderr);

    // A PATH with python and no bubblewrap: the code lines are reported unchecked, the math line still checked.
    const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
    const bin = path.join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(python, path.join(bin, 'python3'));
    symlinkSync('/bin/sh', path.join(bin, 'sh'));
    const bare = await svd(['check', '--pairs', pairs], undefined, { PATH: bin });
    assert.equal(bare.code, EXIT_CODES.no_sandbox, bare.stderr);
    assert.deepEqual(lines(bare.stdout).map((r) => r.outcome), ['unchecked', 'unchecked', 'pass', 'unchecked']);
    assert.match(bare.stderr, /no sandbox/);
  });
});
