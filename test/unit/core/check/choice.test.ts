import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkChoice, choiceLetter, finalChoice } from '../../../../src/core/check/choice';
import { createAnswerChecker } from '../../../../src/core/check/index';

describe('finalChoice', () => {
  const cases: Array<[string, string | undefined]> = [
    ['(B)', 'B'],
    ['B.', 'B'],
    ['B)', 'B'],
    ['B', 'B'],
    ['The answer is B', 'B'],
    ['the answer is (B).', 'B'],
    ['Answer: B', 'B'],
    ['Answer: **D**', 'D'],
    ['**B**', 'B'],
    ['**(C) 42 kelvin**', 'C'],
    ['Therefore $\\boxed{B}$.', 'B'],
    ['\\boxed{\\text{(B)}}', 'B'],
    ['\\boxed{\\textbf{(E)}}', 'E'],
    ['\\boxed{C. 42 m/s}', 'C'],
    ['The correct option is C.', 'C'],
    ['Option B is correct.', 'B'],
    ['The answer is A. Wait, that ignores friction: the answer is C.', 'C'],
    ['A. first\nB. second\nC. third\n\nThe answer is B.', 'B'],
    ['<think>The answer is A.</think>The answer is (D).', 'D'],
    ['\\boxed{B} is what I first thought, but the answer is C', 'B'],
    ['I think the answer is a prime number.', undefined],
    ['The answer is 42.', undefined],
    ['No idea.', undefined],
  ];
  for (const [text, expected] of cases) test(JSON.stringify(text), () => assert.equal(finalChoice(text), expected));
});

describe('checkChoice', () => {
  test('the chosen letter against the gold letter', () => {
    const right = checkChoice('The answer is (C).', 'C');
    assert.equal(right.outcome, 'pass');
    assert.equal(right.correct, true);
    assert.equal(right.extracted, 'C');
    const wrong = checkChoice('The answer is (A).', 'C');
    assert.equal(wrong.outcome, 'fail');
    assert.match(wrong.detail, /gold option is C/);
  });

  test('no letter is an error', () => {
    assert.equal(checkChoice('I cannot tell.', 'C').outcome, 'error');
  });

  test('gold letters', () => {
    assert.equal(choiceLetter('B'), 'B');
    assert.equal(choiceLetter('(J)'), 'J');
    assert.equal(choiceLetter('K'), undefined);
    assert.equal(choiceLetter('42'), undefined);
    assert.equal(choiceLetter('a'), undefined, 'a lower-case letter is a math answer (a variable), not an option');
  });
});

describe('createAnswerChecker: science', () => {
  const checker = createAnswerChecker();

  test('a letter gold is multiple choice', async () => {
    const result = await checker.check('science', 'Thus the answer is **B**.', { answer: 'B' });
    assert.equal(result?.outcome, 'pass');
  });

  test('any other gold goes through the math checker', async () => {
    const result = await checker.check('science', 'The speed is $\\boxed{3 \\times 10^8}$ m/s.', { answer: '300000000' });
    assert.equal(result?.outcome, 'pass');
    const wrong = await checker.check('science', 'The speed is $\\boxed{3 \\times 10^7}$.', { answer: '300000000' });
    assert.equal(wrong?.outcome, 'fail');
  });

  test('math domain and missing gold', async () => {
    assert.equal((await checker.check('math', '\\boxed{\\frac{1}{2}}', { answer: '0.5' }))?.outcome, 'pass');
    assert.equal(await checker.check('math', '\\boxed{1}', {}), undefined);
    assert.equal(await checker.check('science', '\\boxed{1}', { answer: '  ' }), undefined);
    assert.equal(await checker.check('coding', '```python\nx = 1\n```', { answer: '1' }), undefined);
    await checker.close();
  });
});
