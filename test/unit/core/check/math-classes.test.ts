// The classes of answer the math checker once read as different (issue 11), one test each, and the traps a sound
// grader must not fall into.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allBoxedAnswers, bareAnswer, checkMath, mathEquivalent } from '../../../../src/core/check/math';

function same(pairs: Array<[string, string]>): void {
  for (const [a, b] of pairs) assert.ok(mathEquivalent(a, b), `${a} should equal ${b}`);
}

function different(pairs: Array<[string, string]>): void {
  for (const [a, b] of pairs) assert.equal(mathEquivalent(a, b), false, `${a} should differ from ${b}`);
}

describe('relations', () => {
  test('signs written another way, sides swapped, a side negated', () => {
    same([
      ['x >= 5', 'x \\geq 5'],
      ['x \\ge 5', '5 \\le x'],
      ['x < 1', '-x > -1'],
      ['x \\neq 3', 'x != 3'],
      ['x < 3', 'x \\lt 3'],
      ['2x + 1 > 7', 'x > 3'],
    ]);
    different([
      ['x > 5', 'x < 5'],
      ['x \\geq 5', 'x \\leq 5'],
      ['x < 1', 'x > -1'],
      ['x > 5', 'x \\ge 5'],
      ['m > 2', 'n > 2'],
    ]);
  });

  test('against intervals and unions, chains and or-forms', () => {
    same([
      ['-3 < a < 10', '(-3, 10)'],
      ['10 > x > -3', '(-3, 10)'],
      ['x \\ge 5', '[5, \\infty)'],
      ['x < -2 \\text{ or } x > 3', '(-\\infty, -2) \\cup (3, \\infty)'],
      ['x \\ne 1', '(-\\infty, 1) \\cup (1, \\infty)'],
      ['-2 \\le x \\le 7', 'x \\in [-2, 7]'],
    ]);
    different([
      ['-3 \\le a < 10', '(-3, 10)'],
      ['x > 5', '[5, \\infty)'],
      ['x < -2 \\text{ or } x \\ge 3', '(-\\infty, -2) \\cup (3, \\infty)'],
    ]);
  });

  test('a relation that is not linear is tested against the set at its ends', () => {
    same([
      ['|x| < 1', '(-1, 1)'],
      ['-1 < x < 1', '|x| < 1'],
      ['x^2 \\ge 9', '(-\\infty, -3] \\cup [3, \\infty)'],
      ['\\frac{1}{x} > 0', 'x > 0'],
    ]);
    different([
      ['|x| < 1', 'x < 1'],
      ['|x| < 1', '[-1, 1]'],
      ['x^2 < 4.0001', '(-2, 2)'],
      ['x^2 > 9', '(-\\infty, -3] \\cup [3, \\infty)'],
    ]);
  });

  test('a relation it cannot solve is compared sign by sign', () => {
    same([['f(2) < f(1) < f(4)', 'f(4) > f(1) > f(2)']]);
    different([['f(2) < f(1) < f(4)', 'f(1) < f(2) < f(4)']]);
  });
});

describe('several boxes', () => {
  test('count together when the gold lists as many values', () => {
    assert.ok(checkMath('The solutions are $\\boxed{1}$, $\\boxed{2}$ and $\\boxed{3}$.', '\\{1,2,3\\}').correct);
    assert.ok(checkMath('So $x=\\boxed{-2}$ or $x=\\boxed{1}$.', '1, -2').correct);
    assert.equal(checkMath('\\boxed{1} and \\boxed{2}', '\\{1,2,3\\}').correct, false);
    assert.equal(checkMath('\\boxed{2}, again \\boxed{2}', '\\{1,2\\}').correct, false);
  });

  test('otherwise the last box is the answer', () => {
    assert.ok(checkMath('First \\boxed{1}, no: \\boxed{2}', '2').correct);
    assert.equal(checkMath('First \\boxed{1}, no: \\boxed{2}', '1').correct, false);
    assert.deepEqual(allBoxedAnswers('\\boxed{\\frac{1}{2}} and \\boxed{\\boxed{3}}'), ['\\frac{1}{2}', '\\boxed{3}']);
  });
});

describe('labelled golds and lists', () => {
  test('the label is not the answer', () => {
    same([
      ['(p,q)=(3,2)', '(3,2)'],
      ['AB=4, CD=5', '4, 5'],
      ['f(x)=1', '1'],
      ['\\angle ABC = 30^\\circ', '30'],
      ['x = 5 + 5 + 1 = 11', '11'],
    ]);
    different([
      ['(p,q)=(3,2)', '(2,3)'],
      ['AB=4, CD=5', 'AB=5, CD=4'],
      ['a + b = 5', '5'],
      ['2x + z = 1', '1'],
    ]);
  });

  test('lists with words, semicolons or plain braces', () => {
    same([
      ['1, 2, 3', '1; 2; 3'],
      ['1, 2, 3', '{3, 2, 1}'],
      ['1, 2', '1 and 2'],
      ['1, 2', 'x = 1 or x = 2'],
    ]);
    different([
      ['1, 2, 3', '{1, 2}'],
      ['(3, 1)', '{1, 3}'],
    ]);
  });
});

describe('LaTeX read now', () => {
  test('logarithms with a base, factorials, binomials, sums', () => {
    same([
      ['\\log_3 81', '4'],
      ['\\log_2 3', '\\frac{\\ln 3}{\\ln 2}'],
      ['\\ln e^3', '3'],
      ['5!', '120'],
      ['n!', 'n (n-1)!'],
      ['\\binom{n}{2}', '\\frac{n(n-1)}{2}'],
      ['\\sum_{k=1}^{10} k^2', '385'],
      ['\\sum_{i=1}^{4} 2^i', '30'],
    ]);
    different([
      ['\\log_3 81', '3'],
      ['n!', '(n-1)!'],
      ['\\binom{n}{2}', 'n^2'],
      ['\\sum_{k=1}^{10} k', '56'],
    ]);
  });

  test('approximations, array matrices, mixed numbers, degrees in a function', () => {
    same([
      ['\\frac13 \\approx 0.333', '\\frac{1}{3}'],
      ['x \\approx 2.5', '2.5'],
      ['\\left[\\begin{array}{cc}1 & 2 \\\\ 3 & 4\\end{array}\\right]', '\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}'],
      ['3\\frac{1}{2}', '\\frac{7}{2}'],
      ['3 1/2', '3.5'],
      ['\\cos 60^\\circ', '\\frac12'],
    ]);
    different([
      ['\\frac13 \\approx 0.333', '0.333'],
      ['3\\frac{1}{3}', '\\frac{7}{2}'],
    ]);
  });
});

describe('percentages and rounding', () => {
  test('a percentage is its number or its fraction; a bare number is not a percentage', () => {
    same([
      ['10\\%', '0.1'],
      ['10\\%', '10'],
      ['0.4', '40\\%'],
    ]);
    different([
      ['0.28', '28'],
      ['10\\%', '1'],
      ['3\\%', '0.3'],
    ]);
  });

  test('a decimal stands for an exact value only when it rounds it right to five significant digits', () => {
    same([
      ['\\sqrt{3}', '1.7321'],
      ['\\frac{2000}{3}', '666.67'],
      ['\\pi', '3.14159'],
    ]);
    different([
      ['\\sqrt{3}', '1.732'],
      ['\\sqrt{3}', '1.7320'],
      ['\\frac{1}{3}', '0.3333'],
      ['1000000', '1000001'],
      ['10^{-20}', '10^{-21}'],
    ]);
  });

  test('rational constants compare exactly where floats cannot', () => {
    different([
      ['2^{64}', '2^{64} + 1'],
      ['10^{15}', '10^{15} + 1'],
      ['\\frac{1}{3}', '\\frac{333333333333}{1000000000000}'],
    ]);
    same([
      ['\\frac{1}{3} + \\frac{1}{3} + \\frac{1}{3}', '1'],
      ['2^{-3}', '\\frac{1}{8}'],
      ['2^{100}', '1267650600228229401496703205376'],
    ]);
  });

  test('a percentage in any form, a set with an item twice', () => {
    same([
      ['33\\frac{1}{3}\\%', '\\frac{1}{3}'],
      ['\\{1, 2\\}', '\\{1, 2, 2\\}'],
    ]);
    different([['1, 2', '1, 2, 2']]);
  });
});

describe('soundness', () => {
  test('sample points are negative and non-integer too', () => {
    different([
      ['\\sqrt{x^2}', 'x'],
      ['x + |x|', '2x'],
      ['x^3', '|x|^3'],
    ]);
    same([
      ['\\sqrt{x^2}', '|x|'],
      ['\\frac{x^2-1}{x-1}', 'x + 1'],
    ]);
  });

  test('a comma and a space separate numbers; values that overflow are not equal', () => {
    different([
      ['32349', '32, 349'],
      ['200!', '300!'],
      ['10^{400}', '10^{500}'],
    ]);
    same([
      ['32349', '32,\\! 349'],
      ['32349', '32,349'],
      ['\\infty', '\\infty'],
    ]);
  });

  test('numbers side by side are not a product; values past the float range have no value', () => {
    different([
      ['11 6/6', '11'],
      ['11 7/6', '\\frac{73}{6}'],
      ['\\frac{1}{2004!}', '\\frac{1}{2006!}'],
      ['\\frac{1}{2^{99}}', '\\frac{1}{2^{98}}'],
    ]);
    same([
      ['11 5/6', '\\frac{71}{6}'],
      ['1 000 4/9', '\\frac{9004}{9}'],
      ['11 + 4/9', '\\frac{103}{9}'],
    ]);
  });

  test('pathological inputs end quickly', () => {
    const inputs = [
      '(10^{10})!',
      '2^{2^{2^{2^{100}}}}',
      `${'{'.repeat(1500)}1${'}'.repeat(1500)}`,
      `${'('.repeat(1500)}1${')'.repeat(1500)}`,
      '\\sum_{i=1}^{200}\\sum_{j=1}^{200}\\sum_{k=1}^{200} ijk',
      '\\sum_{i=1}^{100000} i',
      `${'\\sqrt{'.repeat(400)}2${'}'.repeat(400)}`,
      Array.from({ length: 3000 }, () => 'x <').join(' ') + ' 1',
    ];
    for (const input of inputs) {
      const started = performance.now();
      checkMath(`\\boxed{${input}}`, '1');
      // Evaluating any of these for real takes seconds to forever; 1.5 s leaves room for a loaded machine.
      assert.ok(performance.now() - started < 1500, `${input.slice(0, 40)}: ${(performance.now() - started).toFixed(0)} ms`);
    }
  });
});

describe('answers with no box', () => {
  test('a bare value is compared as a whole', () => {
    assert.equal(checkMath('1', '1').outcome, 'pass');
    assert.equal(checkMath('2', '1').outcome, 'fail');
    assert.ok(checkMath('$\\frac{1}{2}$', '0.5').correct);
    assert.ok(checkMath('Final Answer: The final answer is $12$. I hope it is correct.', '12').correct);
    assert.ok(checkMath('Working.\nMore working.\n42', '42').correct);
    assert.equal(bareAnswer('The answer is 8.'), '8');
    assert.equal(bareAnswer('**15**'), '15');
  });

  test('words and sentences are no answer', () => {
    for (const text of ['two', 'I think it is 4.', 'We have 5 apples and 3 pears.', '']) {
      assert.equal(bareAnswer(text), undefined, text);
      assert.equal(checkMath(text, '4').outcome, 'error', text);
    }
  });
});
