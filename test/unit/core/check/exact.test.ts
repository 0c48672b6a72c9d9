import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkExact, finalShortAnswer, isWordAnswer, normalizeShortAnswer } from '../../../../src/core/check/exact';
import { createAnswerChecker } from '../../../../src/core/check/index';

describe('normalizeShortAnswer', () => {
  const same: Array<[string, string]> = [
    ['The Krebs cycle.', 'krebs  cycle'],
    ['an Electron', 'electron'],
    ['\\text{Mitochondria}', 'mitochondria'],
    ['Schrödinger equation', 'Schrodinger Equation'],
    ['ＤＮＡ polymerase', 'DNA polymerase'], // full-width letters (NFKC)
    ['Krebs-cycle', 'Krebs cycle'],
    ['H_{2}O', 'H2O'],
    ['Na^{+}', 'Na+'],
    ['"covalent bond"', 'covalent bond'],
  ];
  for (const [a, b] of same) test(`${a} = ${b}`, () => assert.equal(normalizeShortAnswer(a), normalizeShortAnswer(b)));

  const different: Array<[string, string]> = [
    ['Na+', 'Na'],
    ['Cl-', 'Cl'],
    ['1.5 meters', '15 meters'], // a decimal point is a space, not nothing
    ['theatre', 'atre'], // articles go only as whole words
    ['mitosis', 'meiosis'],
  ];
  for (const [a, b] of different) test(`${a} != ${b}`, () => assert.notEqual(normalizeShortAnswer(a), normalizeShortAnswer(b)));
});

test('isWordAnswer: words and formulas of substances go to exact match, numbers and formulas to math', () => {
  for (const gold of ['mitochondria', 'the Krebs cycle', 'H2O', 'CO2', 'NaCl', 'Na^+', 'pH', '\\text{yes}', 'vitamin B12']) {
    assert.equal(isWordAnswer(gold), true, gold);
  }
  for (const gold of ['42', '-1', '\\frac{1}{2}', '2\\sqrt{3}', '6.02\\times10^{23}', '\\pi', 'x+y', '3.0 m/s', '$5$', '1.5 meters', '-5 kJ/mol', '20 amino acids']) {
    assert.equal(isWordAnswer(gold), false, gold);
  }
});

test('finalShortAnswer: the last box, else the stated answer, else a one-line reply', () => {
  assert.equal(finalShortAnswer('First \\boxed{mitosis}, then \\boxed{meiosis}.'), 'meiosis');
  assert.equal(finalShortAnswer('<think>the answer is mitosis</think>So the final answer is **meiosis**.'), 'meiosis.');
  assert.equal(finalShortAnswer('Answer: covalent bond'), 'covalent bond');
  assert.equal(finalShortAnswer('Meiosis.'), 'Meiosis.');
  assert.equal(finalShortAnswer('It divides.\nThen it divides again.'), undefined);
});

test('checkExact: pass, fail and no answer, with a detail naming both sides', () => {
  const pass = checkExact('The organelle is \\boxed{\\text{the Mitochondria}}.', 'mitochondria');
  assert.equal(pass.outcome, 'pass');
  assert.equal(pass.correct, true);
  assert.equal(pass.extracted, '\\text{the Mitochondria}');
  const fail = checkExact('\\boxed{chloroplast}', 'mitochondria');
  assert.equal(fail.outcome, 'fail');
  assert.match(fail.detail, /"chloroplast" differs from the gold answer "mitochondria"/);
  const none = checkExact('It is one of the organelles.\nI am not sure which.', 'mitochondria');
  assert.equal(none.outcome, 'error');
  // An empty box normalises to nothing, which matches nothing.
  assert.equal(checkExact('\\boxed{.}', '.').correct, false);
});

test('the checker: science gold in words by exact match, a numeric science gold still by value', async () => {
  const checker = createAnswerChecker();
  try {
    assert.equal((await checker.check('science', '\\boxed{Mitochondria}', { answer: 'mitochondria' }))?.outcome, 'pass');
    assert.equal((await checker.check('science', '\\boxed{ribosome}', { answer: 'mitochondria' }))?.outcome, 'fail');
    assert.equal((await checker.check('science', '\\boxed{0.5}', { answer: '\\frac{1}{2}' }))?.outcome, 'pass');
    assert.equal((await checker.check('science', '\\boxed{1.50 m}', { answer: '1.5 meters' }))?.outcome, 'pass');
    assert.equal((await checker.check('science', '\\boxed{6.02 \\times 10^{23}}', { answer: '6.02\\times10^{23}' }))?.outcome, 'pass');
    assert.equal((await checker.check('science', 'The answer is (C).', { answer: 'C' }))?.outcome, 'pass');
  } finally {
    await checker.close();
  }
});
