// Duplicates among seeds: exact copies in normal form, near copies by MinHash, each naming the earlier seed kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findDuplicates } from '../../../../src/core/method/dedupe';
import { cleanSeeds } from '../../../fixtures/contamination';

test('exact copies (case, spacing, number format aside) and near copies point at the first of their group', () => {
  const seeds = [
    { id: 'a', question: 'Janet has 1,000 apples and gives away 250 of them. How many apples does she have left over now?' },
    { id: 'b', question: 'What is the capital of France?' },
    { id: 'c', question: 'JANET  has 1000 apples and gives away 250 of them.\nHow many apples does she have left over now' },
    { id: 'd', question: 'Janet has 1000 apples and gives away 250 of them. How many apples does she have left over at the end of today?' },
    { id: 'e', question: 'Tom has 1000 pears and eats 250 of them. How many pears remain?' },
  ];
  const dups = findDuplicates(seeds, { threshold: 0.6 });
  assert.deepEqual(dups.map((d) => [d.seed, d.duplicateOf, d.kind]), [
    ['c', 'a', 'exact'],
    ['d', 'a', 'near'],
  ]);
  assert.ok(dups[1]!.similarity >= 0.6 && dups[1]!.similarity < 1);
  // A stricter threshold keeps the near copy.
  assert.deepEqual(findDuplicates(seeds, { threshold: 0.95 }).map((d) => d.seed), ['c']);
  assert.throws(() => findDuplicates(seeds, { threshold: 0 }), /above 0 and at most 1/);
});

test('4,000 distinct questions give no duplicate, and copies of them are all found', () => {
  const clean = cleanSeeds(4000).filter((seed) => seed.domain !== 'coding');
  const base = findDuplicates(clean);
  const copies = clean.slice(0, 300).map((seed, i) => ({ id: `copy-${i}`, question: `${seed.question} Explain briefly.` }));
  const dups = findDuplicates([...clean, ...copies]);
  const found = dups.filter((d) => d.seed.startsWith('copy-'));
  assert.ok(found.length >= 290, `found ${found.length} of 300 near copies`);
  assert.deepEqual(dups.filter((d) => !d.seed.startsWith('copy-')), base);
  // Distinct data-set questions that are nonetheless near each other (templated MMLU items) are few.
  assert.ok(base.length < 40, `${base.length} duplicates among distinct questions`);
});
