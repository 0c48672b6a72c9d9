import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CodeRunner, buildProgram, candidateCode } from '../../src/core/check/code';
import { createAnswerChecker } from '../../src/core/check/index';
import { detectIsolation, runPython } from '../../src/core/check/sandbox';
import { isSvdError } from '../../src/core/errors';

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

/** Processes whose name (/proc/PID/comm) starts with `tag`. */
function processesNamed(tag: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith(tag)) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

describe('canonical solutions', () => {
  const runner = new CodeRunner({ workers: 2 });
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

describe('sandbox', () => {
  test('isolation is found once', async (t) => {
    const found = await detectIsolation();
    t.diagnostic(`isolation: ${found.isolation}`);
    assert.ok(['namespaces', 'network', 'none'].includes(found.isolation));
    assert.equal(await detectIsolation(), found);
  });

  test('an infinite loop times out', async () => {
    const started = performance.now();
    const result = await runPython('while True:\n    pass\n', { timeoutMs: 1000 });
    assert.equal(result.status, 'timeout');
    assert.ok(performance.now() - started < 4000);
  });

  test('a memory hog fails fast under the memory limit', async () => {
    const started = performance.now();
    const hog = await runPython('chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))\n', { timeoutMs: 10_000, memoryMb: 256 });
    assert.ok(hog.status === 'exception' || hog.status === 'killed', `${hog.status}: ${hog.output}`);
    assert.match(hog.output, /MemoryError|^$/);
    const huge = await runPython('x = bytearray(10 ** 11)\n', { timeoutMs: 10_000 });
    assert.equal(huge.status, 'exception');
    assert.match(huge.output, /MemoryError/);
    assert.ok(performance.now() - started < 8000);
  });

  test('a fork bomb is refused, and nothing is left running', async () => {
    const tag = `svdfb${randomBytes(4).toString('hex')}`;
    const program = [
      'import ctypes, os',
      'try:',
      `    ctypes.CDLL(None).prctl(15, b"${tag}", 0, 0, 0)`,
      'except Exception:',
      '    pass',
      'while True:',
      '    os.fork()',
    ].join('\n');
    const result = await runPython(program, { timeoutMs: 3000 });
    assert.notEqual(result.status, 'finished');
    assert.match(result.output, /os\.fork is not allowed|ctypes/);
    assert.ok(await until(() => processesNamed(tag).length === 0, 2000), 'processes left');
    const subprocess = await runPython('import subprocess\nsubprocess.run(["sleep", "30"])\n', { timeoutMs: 3000 });
    assert.equal(subprocess.status, 'exception');
    assert.match(subprocess.output, /subprocess\.Popen is not allowed/);
  });

  test('processes forked past the audit hook (ctypes, setsid) die with the run', async () => {
    const tag = `svdfk${randomBytes(4).toString('hex')}`;
    const program = [
      'import ctypes, time',
      'libc = ctypes.CDLL(None)',
      `libc.prctl(15, b"${tag}", 0, 0, 0)`,
      'for _ in range(12):',
      '    if libc.fork() == 0:',
      '        libc.setsid()',
      '        for _ in range(3):',
      '            libc.fork()',
      '        time.sleep(30)',
      '        libc._exit(0)',
      'time.sleep(30)',
    ].join('\n');
    const result = await runPython(program, { timeoutMs: 1500 });
    // With namespaces the run times out and the kernel ends the whole pid namespace; without them ctypes is refused.
    assert.ok(result.status === 'timeout' || result.status === 'exception', `${result.status}: ${result.output}`);
    assert.ok(await until(() => processesNamed(tag).length === 0, 3000), `left running: ${processesNamed(tag).join(', ')}`);
  });

  test('no network: a connection to a server on 127.0.0.1 does not get through', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.end('hello\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const viaSocket = await runPython(
        `import socket\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=2)\nprint("CONNECTED", s.recv(10))\n`,
        { timeoutMs: 5000 },
      );
      assert.notEqual(viaSocket.status, 'finished');
      assert.doesNotMatch(viaSocket.output, /CONNECTED/);
      const viaLowLevel = await runPython(`import _socket\ns = _socket.socket()\ns.settimeout(2)\ns.connect(("127.0.0.1", ${port}))\nprint("CONNECTED")\n`, { timeoutMs: 5000 });
      assert.notEqual(viaLowLevel.status, 'finished');
      assert.doesNotMatch(viaLowLevel.output, /CONNECTED/);
      assert.equal(connections, 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("the parent's secrets are not in the child's environment", async () => {
    const previous = process.env.SVD_API_KEY;
    process.env.SVD_API_KEY = 'sk-parent-secret';
    try {
      const result = await runPython('import os\nprint(sorted(os.environ))\nassert "SVD_API_KEY" not in os.environ\n', { timeoutMs: 5000 });
      assert.equal(result.status, 'finished', result.output);
      assert.doesNotMatch(result.output, /sk-parent-secret|SVD_API_KEY/);
    } finally {
      if (previous === undefined) delete process.env.SVD_API_KEY;
      else process.env.SVD_API_KEY = previous;
    }
  });

  test('writes stay in the run folder, which is removed afterwards', async () => {
    const outside = path.join(os.tmpdir(), `svd-escape-${randomBytes(4).toString('hex')}.txt`);
    const result = await runPython(
      `import os\nopen("inside.txt", "w").write("x")\nprint("cwd", os.getcwd())\nopen(${JSON.stringify(outside)}, "w").write("x")\n`,
      { timeoutMs: 5000 },
    );
    assert.equal(result.status, 'exception');
    assert.match(result.output, /writing outside the working folder is not allowed/);
    assert.equal(existsSync(outside), false);
    const cwd = /^cwd (.+)$/m.exec(result.output)?.[1];
    assert.ok(cwd && cwd.includes('svd-sandbox-'), result.output);
    assert.equal(existsSync(cwd), false, 'the run folder is removed');
  });

  test('an abort signal stops a run; the check rejects as aborted', async () => {
    const runner = new CodeRunner({ workers: 1, timeoutMs: 20_000 });
    const controller = new AbortController();
    const started = performance.now();
    const pending = runner.check(fence('import time\ntime.sleep(20)'), { tests: '' }, { signal: controller.signal });
    const queued = runner.check(fence('x = 1'), { tests: '' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const [running, waiting] = await Promise.allSettled([pending, queued]);
    for (const settled of [running, waiting]) assert.ok(settled!.status === 'rejected' && isSvdError(settled!.reason, 'aborted'));
    assert.ok(performance.now() - started < 5000);
    await runner.close();
  });

  test('at most `workers` programs run at once; close() stops the rest', async () => {
    const runner = new CodeRunner({ workers: 2, timeoutMs: 20_000 });
    const started = performance.now();
    const quick = await Promise.all([1, 2, 3, 4].map(() => runner.check(fence('import time\ntime.sleep(0.4)'), { tests: '' })));
    const elapsed = performance.now() - started;
    assert.ok(quick.every((r) => r.correct));
    assert.ok(elapsed >= 800, `4 runs of 0.4 s on 2 workers took ${elapsed.toFixed(0)} ms`);
    const slow = Promise.allSettled([1, 2, 3].map(() => runner.check(fence('import time\ntime.sleep(20)'), { tests: '' })));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const closing = performance.now();
    await runner.close();
    for (const settled of await slow) assert.ok(settled.status === 'rejected' && isSvdError(settled.reason, 'aborted'));
    assert.ok(performance.now() - closing < 3000);
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
