import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseAnswer } from '../../../../src/core/check/latex';
import { checkMath, finalBoxedAnswer, mathEquivalent } from '../../../../src/core/check/math';

const FIXTURES = path.resolve(__dirname, '../../../fixtures');

function jsonl<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

interface Rewrite {
  gold: string;
  answer: string;
  equivalent: boolean;
  note: string;
}

describe('math rewriting table (MATH-500 gold answers)', () => {
  const rows = jsonl<Rewrite>(path.join(FIXTURES, 'check/math-rewrites.jsonl'));
  const golds = new Set(jsonl<{ answer: string }>(path.join(FIXTURES, 'data/math500.jsonl')).map((row) => row.answer));

  test('has at least 60 pairs, both kinds, golds from MATH-500', () => {
    assert.ok(rows.length >= 60, `${rows.length} pairs`);
    const same = rows.filter((row) => row.equivalent).length;
    assert.ok(same >= rows.length / 3 && same <= (rows.length * 2) / 3, `${same} of ${rows.length} equivalent`);
    for (const row of rows) assert.ok(golds.has(row.gold), `not a MATH-500 gold answer: ${row.gold}`);
  });

  for (const row of rows) {
    test(`${row.equivalent ? 'same' : 'differs'}: ${row.gold}  vs  ${row.answer}  (${row.note})`, () => {
      const result = checkMath(`So the answer is $\\boxed{${row.answer}}$.`, row.gold);
      assert.equal(result.correct, row.equivalent, result.detail);
      assert.equal(result.outcome, row.equivalent ? 'pass' : 'fail');
      assert.equal(result.extracted, row.answer.trim());
    });
  }
});

describe('MATH-500', () => {
  const rows = jsonl<{ answer: string; meta: { solution: string } }>(path.join(FIXTURES, 'data/math500.jsonl'));

  test("every reference solution's last box equals its gold answer", () => {
    const misses = rows.filter((row) => !checkMath(row.meta.solution, row.answer).correct).map((row) => row.answer);
    assert.deepEqual(misses, []);
  });

  test('a gold answer is not equal to unrelated gold answers', () => {
    const same: string[] = [];
    for (let i = 0; i < rows.length; i++) {
      const a = rows[i]!.answer;
      const b = rows[(i + 7) % rows.length]!.answer;
      if (a !== b && mathEquivalent(a, b)) same.push(`${a} = ${b}`);
    }
    assert.deepEqual(same, []);
  });
});

describe('finalBoxedAnswer', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['the last box', '\\boxed{1} and then \\boxed{2}', '2'],
    ['nested braces', 'so $\\boxed{\\frac{\\sqrt{3}}{2}}$.', '\\frac{\\sqrt{3}}{2}'],
    ['fbox', '\\fbox{7}', '7'],
    ['without braces', 'hence \\boxed 5.', '5'],
    ['without braces, glued to a digit', '\\boxed5', '5'],
    ['a braced box after a bare one', '\\boxed 5, no: \\boxed{6}', '6'],
    ['a bare box after a braced one', '\\boxed{6}, no: \\boxed 5', '5'],
    ['after the thinking only', '<think>\\boxed{1}</think>The answer is \\boxed{2}.', '2'],
    ['none after the thinking', '<think>\\boxed{1}</think>I am not sure.', undefined],
    ['unterminated thinking', '<think>\\boxed{1}', undefined],
    ['an empty box is no answer', '\\boxed{}', undefined],
    ['no box', 'the answer is 4', undefined],
  ];
  for (const [name, text, expected] of cases) test(name, () => assert.equal(finalBoxedAnswer(text), expected));
});

describe('checkMath', () => {
  test('no box is an error, not a fail', () => {
    const result = checkMath('I think it is 4.', '4');
    assert.equal(result.outcome, 'error');
    assert.equal(result.correct, false);
    assert.match(result.detail, /boxed/);
  });

  const same: Array<[string, string]> = [
    ['\\frac{\\sqrt{3}}{2}', '\\sqrt3/2'],
    ['\\frac12', '0.5'],
    ['\\dfrac{1}{2}', '\\tfrac12'],
    ['50\\%', '50'],
    ['1,000', '1000'],
    ['1{,}000', '1000'],
    ['2.50', '2.5'],
    ['\\$5', '5'],
    ['x = 3', '3'],
    ['45^\\circ', '45'],
    ['45^{\\circ}', '45 degrees'],
    ['10\\text{ cm}', '10'],
    ['\\mathrm{10}', '10'],
    ['3 \\text{ and } 4', '4, 3'],
    ['\\left(1, 2\\right)', '(1,2)'],
    ['\\{3, 1, 2\\}', '\\{1, 2, 3\\}'],
    ['2\\sqrt{2}', '\\sqrt{8}'],
    ['\\pi/2', '1.5707963268'],
    ['3+2\\mathrm{i}', '3+2i'],
    ['\\sqrt[3]{27}', '3'],
    ['e^{\\ln 2}', '2'],
    ['\\frac{a}{b}', 'a/b'],
    ['\\theta^2', '\\theta \\cdot \\theta'],
    ['\\binom{4}{2}', '6'],
    ['-\\infty', '-\\infty'],
    ['2x+3y=6', 'y = 2 - \\frac{2}{3}x'],
    ['−3', '-3'],
    ['2π', '2\\pi'],
    ['(−∞, 1]', '(-\\infty, 1]'],
  ];
  for (const [a, b] of same) test(`${a} equals ${b}`, () => assert.ok(mathEquivalent(a, b)));

  const different: Array<[string, string]> = [
    ['(1,2)', '(2,1)'],
    ['[1,2]', '(1,2)'],
    ['\\{1,2\\}', '\\{1,2,3\\}'],
    ['\\frac{1}{3}', '0.33'],
    ['0.0000672', '0.0000673'],
    ['100000001', '100000000'],
    ['x^2', 'x^3'],
    ['x - y', 'y - x'],
    ['\\infty', '-\\infty'],
    ['\\text{yes}', '\\text{no}'],
    ['2x+3y=6', '2x+3y=7'],
    ['3', ''],
  ];
  for (const [a, b] of different) test(`${a} differs from ${b}`, () => assert.equal(mathEquivalent(a, b), false));

  test('structure: tuple, interval, set, union, matrix, equation, text', () => {
    assert.equal(parseAnswer('(1, 2)').kind, 'seq');
    assert.equal(parseAnswer('(3, 4]').kind, 'seq');
    assert.equal(parseAnswer('\\{1, 2\\}').kind, 'list');
    assert.equal(parseAnswer('(0,1) \\cup (2,3)').kind, 'list');
    assert.equal(parseAnswer('\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}').kind, 'matrix');
    assert.equal(parseAnswer('2x + 3y = 6').kind, 'equation');
    assert.equal(parseAnswer('\\text{Evelyn}').kind, 'text');
    assert.equal(parseAnswer('1 \\pm \\sqrt{2}').kind, 'list');
  });

  test('an answer it cannot read is different, never an exception', () => {
    for (const answer of ['\\foo{1}', '(((', '\\frac{1}{', '}{', '\\sqrt', '2^^3', '\\begin{pmatrix}', '1,,2', '\\{\\}']) {
      const result = checkMath(`\\boxed{${answer}}`, '1');
      assert.equal(result.correct, false, answer);
    }
  });

  test('a long answer is compared without running away', () => {
    const long = Array.from({ length: 3000 }, (_, i) => `x^{${i}}`).join('+');
    const started = performance.now();
    assert.equal(mathEquivalent(long, '1'), false);
    assert.ok(performance.now() - started < 2000);
  });
});
