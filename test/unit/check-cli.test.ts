import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { EXIT_CODES } from '../../src/core/errors';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function svd(args: string[], stdin?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, SVD_API_KEY: '', OPENAI_API_KEY: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

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
