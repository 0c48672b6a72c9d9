// Decontamination: planted copies of MATH-500 and AIME 2024 items among clean seeds, each way a leaked question
// changes on the way (exact, re-spaced, numbers with separators, LaTeX respelt, wrapped, cut short, a short question);
// recall and false flags measured on the labels, and the rules themselves one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContaminationIndex, decontaminate, type EvalItem } from '../../../../src/core/method/decontaminate';
import { screenTokens } from '../../../../src/core/method/screenText';
import { cleanSeeds, evaluationItems, plantedSeeds, respaced, respelt, verbatimCopies, withThousands } from '../../../fixtures/contamination';

const items = (): EvalItem[] => evaluationItems().map((row) => ({ against: 'eval.jsonl', item: row.id, question: row.question }));

test('every planted copy is flagged against the item it copies, and no clean seed is', () => {
  const index = new ContaminationIndex(items());
  assert.equal(index.size, 530);
  const planted = plantedSeeds();
  const clean = cleanSeeds(4500);
  const flagged = decontaminate([...clean, ...planted], index);
  const byId = new Map(flagged.map((flag) => [flag.seed, flag]));
  const missed = planted.filter((seed) => byId.get(seed.id)?.item !== seed.item).map((seed) => `${seed.kind} ${seed.item}`);
  assert.deepEqual(missed, []);
  for (const kind of ['exact', 'spacing', 'numbers', 'latex', 'wrapped', 'partial']) {
    assert.ok(planted.filter((seed) => seed.kind === kind).length >= 30, `at least 30 planted copies of kind ${kind}`);
  }
  // Clean seeds that hold an item word for word (MMLU-STEM has six MATH-500 problems) are contamination, found apart.
  const verbatim = verbatimCopies(clean);
  assert.ok(verbatim.size >= 6);
  const falseFlags = flagged.filter((flag) => flag.seed.startsWith('clean') && !verbatim.has(flag.seed));
  assert.deepEqual(falseFlags, []);
  for (const [seed, item] of verbatim) assert.equal(byId.get(seed)?.item, item, seed);
});

test('number formats, whitespace, case and LaTeX spacing make no difference', () => {
  const normal = (text: string) => screenTokens(text).join(' ');
  assert.equal(normal('What is 1,000 + 2{,}500 + 3\\,000?'), normal('what is 1000+2500+3000'));
  assert.equal(normal('the 2,003rd term'), normal('the 2003rd term'));
  assert.notEqual(normal('the set {1,2,3}'), normal('the set {123}'));
  assert.equal(normal('$\\dfrac{1}{2}\\left( x \\right)\\,=\\,y$'), normal('\\(\\frac{1}{2}(x)=y\\)'));
  assert.equal(normal(respaced('Find the sum of all x.')), normal('find the sum of all x'));
  assert.equal(withThousands('He ran 12000 meters in 3.1415 hours'), 'He ran 12,000 meters in 3.1415 hours');
  assert.match(respelt('$x=\\frac{1}{2}$'), /\\\(x\\,=\\,\\dfrac\{1\}\{2\}\\\)/);
});

test('a short question matches only as a whole, or on 8-grams where 13-grams cannot reach', () => {
  const index = new ContaminationIndex([
    { against: 'aime.jsonl', item: 'short', question: 'Compute $\\dbinom{31}{28}$.' },
    { against: 'aime.jsonl', item: 'medium', question: 'Find the number of ordered pairs $(x,y)$ of positive integers with $x+y=10$.' },
  ]);
  assert.deepEqual(index.check('s1', 'compute \\binom{31}{28}'), { seed: 's1', against: 'aime.jsonl', item: 'short', kind: 'exact', span: 'compute binom 31 28' });
  // Inside a longer text a four-token question is not told apart from ordinary mathematics: no flag.
  assert.equal(index.check('s2', 'First compute binom 31 28, then add the digits of the result.'), undefined);
  // A medium item (12 tokens, under 13) is found inside a wrapper by an 8-gram.
  const flag = index.check('s3', 'Please solve: find the number of ordered pairs (x, y) of positive integers with x + y = 10. Show work.');
  assert.equal(flag?.item, 'medium');
  assert.equal(flag?.kind, 'ngram');
  assert.match(flag!.span, /^find the number of ordered pairs x y of positive integers with x y 10$/);
  assert.equal(index.check('s4', 'Find the number of ordered pairs of primes below 100.'), undefined);
});

test('a 13-gram inside a long seed is flagged with the whole shared span, and the result does not depend on order', () => {
  const item = 'A figure skater is facing north when she begins to spin to her right. She spins 2250 degrees. Which direction is she facing?';
  const index = new ContaminationIndex([{ against: 'e.jsonl', item: 'skater', question: item }]);
  const seed = 'Warm-up. A figure skater is facing north when she begins to spin to her right and stops after a while.';
  const flag = index.check('q', seed);
  assert.equal(flag?.kind, 'ngram');
  assert.equal(flag?.span, 'a figure skater is facing north when she begins to spin to her right');
  // Ten shared tokens between two long texts are not enough; in a short seed (under 13 tokens) 8 are.
  assert.equal(index.check('q', 'A figure skater is facing north when she begins to lose her balance and falls in front of the judges.'), undefined);
  assert.equal(index.check('q', 'A figure skater is facing north when she begins to spin.')?.kind, 'ngram');
  const twice = decontaminate([{ id: 'a', question: seed }, { id: 'b', question: 'Unrelated.' }], index);
  assert.deepEqual(twice, decontaminate([{ id: 'a', question: seed }, { id: 'b', question: 'Unrelated.' }], index));
});
