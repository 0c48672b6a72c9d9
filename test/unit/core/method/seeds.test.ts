import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isSvdError } from '../../../../src/core/base/errors';
import { formatProblem, parseDomain, readSeeds, scanSeeds, type SeedReadOptions } from '../../../../src/core/method/seeds';
import type { Seed, SeedProblem } from '../../../../src/core/base/types';

const FIXTURES = join(__dirname, '../../../fixtures/seeds');
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svd-seeds-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string | Buffer): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

const jsonl = (...rows: unknown[]): string => rows.map((row) => JSON.stringify(row)).join('\n') + '\n';

async function collect(options: SeedReadOptions): Promise<{ seeds: Seed[]; problems: SeedProblem[]; order: string[] }> {
  const seeds: Seed[] = [];
  const problems: SeedProblem[] = [];
  const order: string[] = [];
  for await (const record of readSeeds(options)) {
    if (record.kind === 'seed') {
      seeds.push(record.seed);
      order.push(`seed:${record.seed.line}`);
    } else {
      problems.push(record.problem);
      order.push(`problem:${record.problem.line}`);
    }
  }
  return { seeds, problems, order };
}

async function rejection(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('expected a rejection');
}

async function drain(options: SeedReadOptions): Promise<void> {
  for await (const record of readSeeds(options)) void record;
}

describe('JSONL', () => {
  test('reads rows in file order with lines, ids and domains', async () => {
    const file = await write(
      'basic.jsonl',
      jsonl({ id: 'a', domain: 'math', question: 'What is 2 + 2?' }) +
        '\n   \n' +
        jsonl(
          { id: 7, domain: 'science', question: 'Why is ice slippery?' },
          { domain: 'coding', question: 'FizzBuzz' },
        ),
    );
    const { seeds, problems } = await collect({ file });
    assert.deepEqual(problems, []);
    assert.deepEqual(seeds, [
      { id: 'a', line: 1, domain: 'math', question: 'What is 2 + 2?' },
      { id: '7', line: 4, domain: 'science', question: 'Why is ice slippery?' },
      { id: '5', line: 5, domain: 'coding', question: 'FizzBuzz' },
    ]);
  });

  test('every bad row is reported as file:line with the field, and skipped', async () => {
    const file = await write(
      'bad.jsonl',
      [
        '{"id": "ok1", "domain": "math", "question": "Fine."}',
        '{"id": "x", "question": ',
        '["not", "an", "object"]',
        '{"id": "nq", "domain": "math", "text": "no known question field"}',
        '{"id": "empty", "domain": "math", "question": "   \\n "}',
        '{"id": "num", "domain": "math", "question": 42}',
        '{"id": "ok1", "domain": "math", "question": "Second use of the id."}',
        '{"id": "bio", "domain": "biology", "question": "What is a cell?"}',
        '{"id": "nodomain", "question": "Where is my domain?"}',
        '{"id": {"nested": true}, "domain": "math", "question": "Bad id."}',
        '{"id": "typed", "domain": 3, "question": "Domain of the wrong type."}',
        '{"id": "ok2", "domain": "science", "question": "Still read after the bad rows."}',
      ].join('\n'),
    );
    const { seeds, problems } = await collect({ file });
    assert.deepEqual(
      seeds.map((seed) => [seed.id, seed.line]),
      [
        ['ok1', 1],
        ['ok2', 12],
      ],
    );
    const lines = problems.map(formatProblem);
    assert.equal(lines.length, 10);
    assert.equal(lines[0]?.startsWith(`${file}:2: not valid JSON: `), true);
    assert.deepEqual(lines.slice(1), [
      `${file}:3: expected a JSON object, found an array`,
      `${file}:4: no question field (expected one of question, problem, prompt, input, instruction, content)`,
      `${file}:5: field "question": the question is empty`,
      `${file}:6: field "question": expected a string, found a number`,
      `${file}:7: field "id": duplicate id "ok1" (first used on line 1)`,
      `${file}:8: field "domain": unknown domain "biology" (expected math, science or coding)`,
      `${file}:9: field "domain": no domain (add a "domain" field or pass a default domain)`,
      `${file}:10: field "id": expected a string or a number, found an object`,
      `${file}:11: field "domain": expected a string, found a number`,
    ]);
    assert.deepEqual(problems[6], {
      file,
      line: 8,
      field: 'domain',
      message: 'unknown domain "biology" (expected math, science or coding)',
    });
  });

  test('the parser reason is kept in the invalid JSON message', async () => {
    const file = await write('reason.jsonl', '{"question": "a", "domain": "math",}\n');
    const { problems } = await collect({ file });
    assert.equal(problems.length, 1);
    const expected = (() => {
      try {
        JSON.parse('{"question": "a", "domain": "math",}');
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    assert.equal(problems[0]?.message, `not valid JSON: ${expected}`);
  });

  test('formatProblem prints the path as given', () => {
    assert.equal(
      formatProblem({
        file: 'seeds.jsonl',
        line: 7,
        field: 'domain',
        message: 'unknown domain "biology" (expected math, science or coding)',
      }),
      'seeds.jsonl:7: field "domain": unknown domain "biology" (expected math, science or coding)',
    );
    assert.equal(formatProblem({ file: 'a.csv', line: 2, message: 'broken' }), 'a.csv:2: broken');
  });

  test('BOM, CRLF, trailing whitespace and a last line without newline', async () => {
    const body = [
      '{"id": "b1", "domain": "math", "question": "one"}  \t',
      '',
      '{"id": "b2", "domain": "math", "question": "two"}',
    ].join('\r\n');
    const file = await write('bom.jsonl', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]));
    const { seeds, problems } = await collect({ file });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      seeds.map((seed) => [seed.id, seed.line, seed.question]),
      [
        ['b1', 1, 'one'],
        ['b2', 3, 'two'],
      ],
    );
  });
});

describe('question, id and domain fields', () => {
  test('each accepted question field name is found, in order of preference', async () => {
    const file = await write(
      'variants.jsonl',
      jsonl(
        { domain: 'math', problem: 'from problem' },
        { domain: 'math', prompt: 'from prompt' },
        { domain: 'math', input: 'from input' },
        { domain: 'math', instruction: 'from instruction' },
        { domain: 'math', content: 'from content' },
        { domain: 'math', question: 'from question', problem: 'not this', prompt: 'nor this' },
        { domain: 'math', prompt: 'prompt wins', content: 'over content' },
      ),
    );
    const { seeds } = await collect({ file });
    assert.deepEqual(
      seeds.map((seed) => seed.question),
      ['from problem', 'from prompt', 'from input', 'from instruction', 'from content', 'from question', 'prompt wins'],
    );
  });

  test('Alpaca rows: instruction plus a non-empty input, output kept as gold', async () => {
    const file = await write(
      'alpaca.jsonl',
      jsonl(
        { domain: 'coding', instruction: 'Sort the list.', input: '[3, 1, 2]', output: '[1, 2, 3]' },
        { domain: 'coding', instruction: 'Print hello.', input: '', output: 'print("hello")' },
        { domain: 'coding', instruction: 'Say hi.', input: '   ' },
      ),
    );
    const { seeds, problems } = await collect({ file });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      seeds.map((seed) => [seed.question, seed.gold]),
      [
        ['Sort the list.\n\n[3, 1, 2]', { answer: '[1, 2, 3]' }],
        ['Print hello.', { answer: 'print("hello")' }],
        ['Say hi.', undefined],
      ],
    );
  });

  test('output is not gold when the question does not come from instruction', async () => {
    const file = await write('output.jsonl', jsonl({ domain: 'math', question: 'q', output: 'not a reference' }));
    const { seeds } = await collect({ file });
    assert.equal(seeds[0]?.gold, undefined);
  });

  test('a user-named question field is the only one used', async () => {
    const file = await write(
      'named.jsonl',
      jsonl({ domain: 'math', text: 'from text', question: 'ignored' }, { domain: 'math', question: 'no text here' }),
    );
    const { seeds, problems } = await collect({ file, questionField: 'text' });
    assert.deepEqual(
      seeds.map((seed) => seed.question),
      ['from text'],
    );
    assert.deepEqual(problems.map(formatProblem), [`${file}:2: field "text": missing`]);

    // A field named as the question is never also kept as gold.
    const solution = await write('solution.jsonl', jsonl({ domain: 'math', solution: 'Prove it.', answer: 'QED' }));
    const named = await collect({ file: solution, questionField: 'solution' });
    assert.deepEqual(
      named.seeds.map((seed) => [seed.question, seed.gold]),
      [['Prove it.', { answer: 'QED' }]],
    );
  });

  test('ids: id, then task_id, then the line; numbers become strings; a user-named id field', async () => {
    const file = await write(
      'ids.jsonl',
      jsonl(
        { id: 'x1', task_id: 'ignored', domain: 'math', question: 'q1' },
        { task_id: 'HumanEval/3', domain: 'coding', question: 'q2' },
        { task_id: 11, domain: 'coding', question: 'q3' },
        { domain: 'math', question: 'q4' },
        { id: null, domain: 'math', question: 'q5' },
        { id: '  ', domain: 'math', question: 'q6' },
      ),
    );
    const { seeds } = await collect({ file });
    assert.deepEqual(
      seeds.map((seed) => seed.id),
      ['x1', 'HumanEval/3', '11', '4', '5', '6'],
    );
    const named = await collect({ file, idField: 'task_id' });
    assert.deepEqual(
      named.seeds.map((seed) => seed.id),
      ['ignored', 'HumanEval/3', '11', '4', '5', '6'],
    );
  });

  test('duplicate ids name the field they came from and the first line', async () => {
    const file = await write(
      'dup.jsonl',
      jsonl(
        { task_id: 5, domain: 'math', question: 'a' },
        { task_id: 6, domain: 'math', question: 'b' },
        { task_id: '5', domain: 'math', question: 'c' },
      ),
    );
    const { seeds, problems } = await collect({ file });
    assert.deepEqual(
      seeds.map((seed) => seed.question),
      ['a', 'b'],
    );
    assert.deepEqual(problems.map(formatProblem), [
      `${file}:3: field "task_id": duplicate id "5" (first used on line 1)`,
    ]);
  });

  test('domain: the row wins over the default, aliases and case are accepted', async () => {
    const file = await write(
      'domains.jsonl',
      jsonl(
        { question: 'q1', domain: 'Mathematics' },
        { question: 'q2', domain: 'STEM' },
        { question: 'q3', domain: ' code ' },
        { question: 'q4', domain: 'Programming' },
        { question: 'q5', domain: 'SCIENCE' },
        { question: 'q6' },
        { question: 'q7', domain: '' },
        { question: 'q8', domain: null },
      ),
    );
    const { seeds } = await collect({ file, domain: 'science' });
    assert.deepEqual(
      seeds.map((seed) => seed.domain),
      ['math', 'science', 'coding', 'coding', 'science', 'science', 'science', 'science'],
    );
    const coding = await collect({ file, domain: 'coding' });
    assert.deepEqual(
      coding.seeds.map((seed) => seed.domain),
      ['math', 'science', 'coding', 'coding', 'science', 'coding', 'coding', 'coding'],
    );
    const none = await collect({ file });
    assert.deepEqual(
      none.problems.map((problem) => problem.line),
      [6, 7, 8],
    );
  });

  test('a user-named domain field', async () => {
    const file = await write(
      'topic.jsonl',
      jsonl({ question: 'q', topic: 'math', domain: 'coding' }, { question: 'r' }),
    );
    const { seeds, problems } = await collect({ file, domainField: 'topic' });
    assert.deepEqual(
      seeds.map((seed) => seed.domain),
      ['math'],
    );
    assert.deepEqual(problems.map(formatProblem), [
      `${file}:2: field "topic": no domain (add a "topic" field or pass a default domain)`,
    ]);
  });

  test('parseDomain knows the names and aliases only', () => {
    assert.equal(parseDomain('Math'), 'math');
    assert.equal(parseDomain('stem'), 'science');
    assert.equal(parseDomain('code'), 'coding');
    assert.equal(parseDomain('biology'), undefined);
    assert.equal(parseDomain('constructor'), undefined);
  });
});

describe('gold fields', () => {
  test('kept in gold, never in the question; null and empty values omitted', async () => {
    const file = await write(
      'gold.jsonl',
      jsonl(
        {
          task_id: 'HumanEval/99',
          prompt: 'def f(x):\n    """Return x plus one."""\n',
          canonical_solution: '    return x + 1\n',
          test: 'def check(candidate):\n    assert candidate(1) == 2\n',
          entry_point: 'f',
          domain: 'coding',
        },
        { task_id: 11, text: 'Write f.', code: 'def f(): return 1', test_list: ['assert f() == 1', 'assert f() != 2'] },
        { id: 'g', domain: 'math', question: 'What is 6 x 7?', answer: 42, solution: '6 x 7 = 42' },
        { id: 'h', domain: 'math', question: 'q', answer: null, gold: 'from gold', tests: '' },
      ),
    );
    const { seeds, problems } = await collect({ file });
    assert.equal(problems.length, 1, 'the MBPP-layout row has no known question field');
    assert.deepEqual(seeds[0]?.gold, {
      solution: '    return x + 1\n',
      tests: 'def check(candidate):\n    assert candidate(1) == 2\n',
      entryPoint: 'f',
    });
    assert.equal(seeds[0]?.question, 'def f(x):\n    """Return x plus one."""\n');
    assert.deepEqual(seeds[1]?.gold, { answer: '42', solution: '6 x 7 = 42' });
    assert.deepEqual(seeds[2]?.gold, { answer: 'from gold' });

    const mbpp = await collect({ file, questionField: 'text', domain: 'coding' });
    const row = mbpp.seeds.find((seed) => seed.id === '11');
    assert.deepEqual(row?.gold, { tests: 'assert f() == 1\nassert f() != 2' });
    assert.equal(row?.question, 'Write f.');
  });
});

describe('shared data rows (fixtures/seeds/mixed.jsonl)', () => {
  test('rows of gsm8k, math500, humaneval, mbpp and mmlu_stem read with their gold set aside', async () => {
    const file = join(FIXTURES, 'mixed.jsonl');
    const source = (await readFile(file, 'utf8'))
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const { seeds, problems } = await collect({ file });
    assert.deepEqual(problems, []);
    assert.equal(seeds.length, source.length);
    assert.deepEqual(
      seeds.map((seed) => [seed.id, seed.domain]),
      [
        ['gsm8k-test-0', 'math'],
        ['gsm8k-test-1', 'math'],
        ['math500-test/precalculus/807.json', 'math'],
        ['math500-test/intermediate_algebra/1994.json', 'math'],
        ['HumanEval/0', 'coding'],
        ['HumanEval/1', 'coding'],
        ['mbpp-11', 'coding'],
        ['mbpp-12', 'coding'],
        ['mmlu_stem-college_biology-0', 'science'],
        ['mmlu_stem-college_biology-1', 'science'],
      ],
    );
    seeds.forEach((seed, i) => {
      const row = source[i] ?? {};
      assert.equal(seed.line, i + 1);
      assert.equal(seed.question, row.question);
    });
    const byId = new Map(seeds.map((seed) => [seed.id, seed]));
    assert.deepEqual(byId.get('gsm8k-test-0')?.gold, { answer: '18' });
    assert.deepEqual(byId.get('mmlu_stem-college_biology-0')?.gold, { answer: 'C' });
    assert.equal(byId.get('math500-test/precalculus/807.json')?.gold?.answer, '\\left( 3, \\frac{\\pi}{2} \\right)');
    const humaneval = byId.get('HumanEval/0');
    assert.equal(humaneval?.gold?.answer, undefined, 'a null answer is omitted');
    assert.equal(humaneval?.gold?.entryPoint, 'has_close_elements');
    assert.match(humaneval?.gold?.tests ?? '', /check\(has_close_elements\)/);
    assert.match(humaneval?.gold?.solution ?? '', /for idx, elem in enumerate\(numbers\)/);
    assert.equal(humaneval?.question.includes('check('), false, 'tests stay out of the question');
    assert.equal(humaneval?.question.includes('enumerate(numbers)'), false, 'the solution stays out of the question');
    const mbpp = byId.get('mbpp-11');
    assert.equal(mbpp?.gold?.entryPoint, 'remove_Occ');
    assert.match(mbpp?.gold?.tests ?? '', /^assert remove_Occ/);
    assert.match(mbpp?.gold?.solution ?? '', /^def remove_Occ/);
  });

  test('the example seeds carry id, domain and question only', async () => {
    const file = join(__dirname, '../../../../examples/seeds.jsonl');
    const scan = await scanSeeds({ file });
    assert.equal(scan.count, 3);
    assert.deepEqual(scan.problems, []);
    const { seeds } = await collect({ file });
    assert.deepEqual(
      seeds.map((seed) => seed.domain),
      ['math', 'science', 'coding'],
    );
    assert.equal(
      seeds.every((seed) => seed.gold === undefined),
      true,
    );
  });
});

describe('JSON array', () => {
  test('pretty-printed fixture: element lines, index ids, field variants', async () => {
    const file = join(FIXTURES, 'handwritten.json');
    const { seeds, problems } = await collect({ file });
    assert.deepEqual(problems, []);
    assert.deepEqual(seeds, [
      {
        id: 'j1',
        line: 2,
        domain: 'math',
        question: 'Solve for x: 2x + 3 = 11. Brackets in text must not confuse the reader: ] } [ {',
        gold: { answer: '4' },
      },
      {
        id: '2',
        line: 8,
        domain: 'coding',
        question: 'Write a function that checks whether a number is even.\n\nUse the modulo operator.',
        gold: { answer: 'def is_even(n):\n    return n % 2 == 0' },
      },
      { id: '3', line: 14, domain: 'math', question: 'What is "half" of 10?' },
    ]);
  });

  test('compact array on one line, non-object and broken elements are row problems', async () => {
    const file = await write(
      'compact.json',
      '[{"question":"a \\"]\\" b","domain":"math"},7,"text",null,[1,2],' +
        '{"question":"c",},{"question":"d","domain":"coding"}]',
    );
    const { seeds, problems } = await collect({ file });
    assert.deepEqual(
      seeds.map((seed) => [seed.id, seed.line, seed.question]),
      [
        ['1', 1, 'a "]" b'],
        ['7', 1, 'd'],
      ],
    );
    assert.deepEqual(
      problems.map((problem) => problem.message.replace(/: .*/, '')),
      [
        'expected a JSON object, found a number',
        'expected a JSON object, found a string',
        'expected a JSON object, found null',
        'expected a JSON object, found an array',
        'not valid JSON',
      ],
    );
  });

  test('BOM and CRLF', async () => {
    const body = '[\r\n  {"question": "x", "domain": "math"},\r\n\r\n  {"question": "y", "domain": "math"}\r\n]\r\n';
    const file = await write('crlf.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]));
    const { seeds } = await collect({ file });
    assert.deepEqual(
      seeds.map((seed) => [seed.question, seed.line]),
      [
        ['x', 2],
        ['y', 4],
      ],
    );
  });

  test('a JSON file that is not an array throws bad_seed_file', async () => {
    const file = await write('object.json', '{"question": "q", "domain": "math"}\n');
    for (const run of [() => scanSeeds({ file }), () => drain({ file })]) {
      const error = await rejection(run);
      assert.ok(isSvdError(error, 'bad_seed_file'));
      assert.match(error.message, /object\.json:1: expected a JSON array/);
    }
  });

  test('an array that never closes, or text after it, throws bad_seed_file', async () => {
    const truncated = await write('truncated.json', '[\n{"question": "q", "domain": "math"},\n{"question": "r"');
    const error = await rejection(() => scanSeeds({ file: truncated }));
    assert.ok(isSvdError(error, 'bad_seed_file'));
    assert.match(error.message, /not closed/);

    const trailing = await write('trailing.json', '[{"question": "q", "domain": "math"}]\n]\n');
    const second = await rejection(() => scanSeeds({ file: trailing }));
    assert.ok(isSvdError(second, 'bad_seed_file'));
    assert.match(second.message, /trailing\.json:2: unexpected "\]" after the end/);

    const missingComma = await write('comma.json', '[{"question": "q", "domain": "math"}\n {"question": "r"}]');
    const third = await rejection(() => scanSeeds({ file: missingComma }));
    assert.match(third.message, /comma\.json:2: expected "," or "\]" after an element/);
  });

  test('elements crossing read chunks keep their text and lines', async () => {
    // Multi-byte characters and escapes make chunk boundaries fall inside strings and characters.
    const count = 3000;
    const parts: string[] = [];
    for (let i = 0; i < count; i++) {
      const question = `Été \\"${i}\\" ] } — ✓ ${'x'.repeat(i % 50)}`;
      parts.push(`  {\n    "id": "e${i}",\n    "domain": "science",\n    "question": "${question}"\n  }`);
    }
    const file = await write('large.json', `[\n${parts.join(',\n')}\n]\n`);
    const { seeds, problems } = await collect({ file });
    assert.deepEqual(problems, []);
    assert.equal(seeds.length, count);
    seeds.forEach((seed, i) => {
      assert.equal(seed.id, `e${i}`);
      assert.equal(seed.line, 2 + 5 * i);
      assert.equal(seed.question, `Été "${i}" ] } — ✓ ${'x'.repeat(i % 50)}`);
    });
  });
});

describe('CSV', () => {
  test('fixture with quoted multi-line fields: lines where each record starts', async () => {
    const file = join(FIXTURES, 'handwritten.csv');
    const { seeds, problems } = await collect({ file, domain: 'coding' });
    assert.deepEqual(problems, []);
    assert.deepEqual(seeds, [
      { id: 'c1', line: 2, domain: 'math', question: 'What is 7 times 8?', gold: { answer: '56' } },
      {
        id: 'c2',
        line: 3,
        domain: 'science',
        question: 'Why is the sky blue?\nAnswer in two sentences, and say "Rayleigh" if it applies.',
      },
      {
        id: 'c3',
        line: 5,
        domain: 'coding',
        question: 'Write a Python function `add(a, b)` that returns the sum of `a` and `b`.',
      },
      { id: 'c4', line: 6, domain: 'coding', question: 'Reverse a string in Python.\n\nUse slicing.' },
    ]);
  });

  test('BOM, CRLF, blank lines, wrong field counts and an unclosed quote', async () => {
    const body = [
      'question,domain',
      '"first\r\nsecond",math',
      '',
      'plain,science',
      'too,many,fields',
      'short',
      '   ',
      'last good,coding',
      '"never closed,math',
      'swallowed,math',
      '',
    ].join('\r\n');
    const file = await write('crlf.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]));
    const { seeds, problems, order } = await collect({ file });
    assert.deepEqual(
      seeds.map((seed) => [seed.id, seed.line, seed.domain, seed.question]),
      [
        ['2', 2, 'math', 'first\nsecond'],
        ['5', 5, 'science', 'plain'],
        ['9', 9, 'coding', 'last good'],
      ],
    );
    assert.deepEqual(problems.map(formatProblem), [
      `${file}:6: the row has 3 fields, the header has 2`,
      `${file}:7: the row has 1 field, the header has 2`,
      `${file}:10: a quoted field is never closed, so the rest of the file is part of it`,
    ]);
    assert.deepEqual(order, ['seed:2', 'seed:5', 'problem:6', 'problem:7', 'seed:9', 'problem:10']);
  });

  test('a last record without a newline, a user-named question column and id column', async () => {
    const file = await write(
      'named.csv',
      'key,text,domain\n10,"first, with a comma",math\n11,"second\nover two lines",stem',
    );
    const { seeds, problems } = await collect({ file, questionField: 'text', idField: 'key' });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      seeds.map((seed) => [seed.id, seed.line, seed.domain, seed.question]),
      [
        ['10', 2, 'math', 'first, with a comma'],
        ['11', 3, 'science', 'second\nover two lines'],
      ],
    );
  });

  test('a header only has no usable row', async () => {
    const file = await write('header.csv', 'id,question,domain\n');
    const error = await rejection(() => scanSeeds({ file }));
    assert.ok(isSvdError(error, 'bad_seed_file'));
    assert.match(error.message, /header\.csv: no seed rows/);
  });
});

describe('format', () => {
  const rows = jsonl({ question: 'q', domain: 'math' });

  test('from the extension, sniffed otherwise, or as named', async () => {
    const cases: [string, string, SeedReadOptions['format'], string][] = [
      ['a.ndjson', rows, undefined, 'jsonl'],
      ['b.JSONL', rows, undefined, 'jsonl'],
      ['c.txt', rows, undefined, 'jsonl'],
      ['d.data', `  \n[${rows.trim()}]`, undefined, 'json'],
      ['e', 'question,domain\nq,math\n', undefined, 'csv'],
      ['f.txt', rows, 'jsonl', 'jsonl'],
      ['g.json', rows, 'jsonl', 'jsonl'],
    ];
    for (const [name, content, format, expected] of cases) {
      const file = await write(name, content);
      const scan = await scanSeeds({ file, ...(format === undefined ? {} : { format }) });
      assert.equal(scan.format, expected, name);
      assert.equal(scan.count, 1, name);
    }
  });

  test('scanSeeds fingerprints the bytes and returns the problems', async () => {
    const content = jsonl({ id: 1, question: 'q', domain: 'math' }, { id: 1, question: 'r', domain: 'math' });
    const file = await write('scan.jsonl', content);
    const scan = await scanSeeds({ file });
    assert.equal(scan.count, 1);
    assert.equal(scan.fingerprint, createHash('sha256').update(content).digest('hex'));
    assert.deepEqual(scan.problems.map(formatProblem), [
      `${file}:2: field "id": duplicate id "1" (first used on line 1)`,
    ]);
  });
});

describe('whole-file failures', () => {
  test('no good row: bad_seed_file naming the file and the first problems', async () => {
    const file = await write(
      'nogood.jsonl',
      jsonl(...Array.from({ length: 8 }, (_, i) => ({ id: `n${i}`, question: `q${i}`, domain: 'history' }))),
    );
    const error = await rejection(() => scanSeeds({ file }));
    assert.ok(isSvdError(error, 'bad_seed_file'));
    assert.match(error.message, /nogood\.jsonl: no usable seed row \(8 rows skipped\)/);
    assert.ok(error.message.includes(`${file}:1: field "domain": unknown domain "history"`));
    assert.ok(error.message.includes(`${file}:5: field "domain"`));
    assert.equal(error.message.includes(`${file}:6:`), false, 'only the first few problems are listed');
    assert.match(error.message, /and 3 more/);
  });

  test('an empty file has no usable row', async () => {
    const file = await write('empty.jsonl', '\n\n');
    const error = await rejection(() => scanSeeds({ file }));
    assert.ok(isSvdError(error, 'bad_seed_file'));
  });

  test('a missing file or a folder cannot be read', async () => {
    const missing = join(dir, 'missing.jsonl');
    const cases: SeedReadOptions[] = [
      { file: missing },
      { file: missing, format: 'csv' },
      { file: dir, format: 'json' },
    ];
    for (const options of cases) {
      const error = await rejection(() => scanSeeds(options));
      assert.ok(isSvdError(error, 'bad_seed_file'), options.file);
      assert.ok(error.message.startsWith(`${options.file}: cannot read the seed file`));
      const streamed = await rejection(() => drain(options));
      assert.ok(isSvdError(streamed, 'bad_seed_file'));
    }
    const sniffed = await rejection(() => scanSeeds({ file: join(dir, 'missing') }));
    assert.ok(isSvdError(sniffed, 'bad_seed_file'));
  });
});

describe('streaming', () => {
  test('a 100,000-row JSONL file is read fully in reasonable time', async () => {
    const count = 100_000;
    const rows: string[] = [];
    for (let i = 0; i < count; i++) {
      const domain = ['math', 'science', 'coding'][i % 3];
      rows.push(JSON.stringify({ id: `r${i}`, domain, question: `Question ${i}: what is ${i} + 1?` }));
    }
    const file = await write('big.jsonl', rows.join('\n') + '\n');
    const started = Date.now();
    const scan = await scanSeeds({ file });
    const elapsed = Date.now() - started;
    assert.equal(scan.count, count);
    assert.deepEqual(scan.problems, []);
    assert.ok(elapsed < 10_000, `took ${elapsed} ms`);

    let last: Seed | undefined;
    let seen = 0;
    for await (const record of readSeeds({ file })) {
      if (record.kind === 'seed') {
        seen++;
        last = record.seed;
      }
    }
    assert.equal(seen, count);
    const n = count - 1;
    assert.deepEqual(last, { id: `r${n}`, line: count, domain: 'math', question: `Question ${n}: what is ${n} + 1?` });
  });

  test('stopping early releases the file', async () => {
    const file = join(FIXTURES, 'handwritten.csv');
    for await (const record of readSeeds({ file })) {
      assert.equal(record.kind, 'seed');
      break;
    }
    const again = await scanSeeds({ file, domain: 'math' });
    assert.equal(again.count, 4);
  });
});

describe('text instead of the file', () => {
  test('rows come from the text, the file need not exist, problems name the file with their lines', async () => {
    const file = join(dir, 'unsaved', 'draft.jsonl');
    const text = `\uFEFF${jsonl({ id: 'a', question: 'q1', domain: 'math' })}{broken\n${jsonl({ id: 'a', question: 'q2', domain: 'math' })}`;
    const { seeds, problems } = await collect({ file, text });
    assert.deepEqual(
      seeds.map((seed) => [seed.id, seed.line, seed.question]),
      [['a', 1, 'q1']],
    );
    assert.deepEqual(
      problems.map((problem) => [problem.file, problem.line, problem.field]),
      [
        [file, 2, undefined],
        [file, 3, 'id'],
      ],
    );
    assert.match(problems[0]!.message, /^not valid JSON/);
  });

  test('the text wins over the file on disk; format from the name, else sniffed; fingerprint of its bytes', async () => {
    const onDisk = await write('text-wins.json', '[{"question": "old", "domain": "math"}]');
    const text = '[\n  {"question": "new", "domain": "science"},\n  42\n]\n';
    const fromText = await collect({ file: onDisk, text });
    assert.deepEqual(
      fromText.seeds.map((seed) => [seed.question, seed.domain, seed.line]),
      [['new', 'science', 2]],
    );
    assert.deepEqual(
      fromText.problems.map((problem) => [problem.line, problem.message]),
      [[3, 'expected a JSON object, found a number']],
    );
    const csv = 'question,domain\n"multi\nline",coding\n';
    const scan = await scanSeeds({ file: join(dir, 'untitled-1'), text: csv });
    assert.equal(scan.format, 'csv');
    assert.equal(scan.count, 1);
    assert.equal(scan.fingerprint, createHash('sha256').update(csv).digest('hex'));
    const broken = await rejection(() => drain({ file: onDisk, text: '{"question": "q"}' }));
    assert.ok(isSvdError(broken, 'bad_seed_file'));
    assert.match(broken.message, /text-wins\.json:1: expected a JSON array/);
  });
});

describe('question size limit', () => {
  test('a question over the limit is a bad row with file:line and field; the rows around it are read', async () => {
    const huge = 'x'.repeat(300 * 1024);
    const file = await write(
      'huge.jsonl',
      jsonl({ id: 'a', domain: 'math', question: 'small' }, { id: 'b', domain: 'math', question: huge }, { id: 'c', domain: 'math', question: 'also small' }),
    );
    const { seeds, problems } = await collect({ file });
    assert.deepEqual(seeds.map((seed) => seed.id), ['a', 'c']);
    assert.equal(problems.length, 1);
    assert.equal(formatProblem(problems[0]!), `${file}:2: field "question": the question is 300 KB, over the limit of 256 KB (maxQuestionBytes)`);
  });

  test('the limit counts UTF-8 bytes, applies to every format and can be set', async () => {
    const wide = 'é'.repeat(700); // 1400 bytes in 700 characters
    const csv = await write('wide.csv', `id,question,domain\nw,${wide},math\nn,narrow,math\n`);
    const limited = await collect({ file: csv, maxQuestionBytes: 1024 });
    assert.deepEqual(limited.seeds.map((seed) => seed.id), ['n']);
    assert.equal(limited.problems[0]?.line, 2);
    assert.match(limited.problems[0]!.message, /1\.4 KB, over the limit of 1 KB/);
    assert.equal((await collect({ file: csv, maxQuestionBytes: 2048 })).seeds.length, 2);
    const array = await write('wide.json', JSON.stringify([{ id: 'w', question: wide, domain: 'math' }]));
    assert.equal((await collect({ file: array, maxQuestionBytes: 1024 })).problems.length, 1);
  });
});
