import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SeedEvent } from '../../../../src/core/record/events';
import { buildChoiceQuestion, derivedShuffleSeed, mulberry32, seededShuffle } from '../../../../src/core/method/seedChoices';
import { readSeeds, type SeedReadOptions } from '../../../../src/core/method/seeds';
import type { Seed, SeedProblem } from '../../../../src/core/base/types';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'svd-seed-choices-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(name: string, content: string, options: Partial<SeedReadOptions> = {}): Promise<{ seeds: Seed[]; problems: SeedProblem[] }> {
  const file = join(dir, name);
  await writeFile(file, content);
  const seeds: Seed[] = [];
  const problems: SeedProblem[] = [];
  for await (const record of readSeeds({ file, ...options })) {
    if (record.kind === 'seed') seeds.push(record.seed);
    else problems.push(record.problem);
  }
  return { seeds, problems };
}

const jsonl = (...rows: unknown[]): string => rows.map((row) => JSON.stringify(row)).join('\n') + '\n';

const GPQA = {
  'Record ID': 'recA1b2',
  Question: 'Which particle mediates the electromagnetic force?',
  'Correct Answer': 'photon',
  'Incorrect Answer 1': 'gluon',
  'Incorrect Answer 2': 'W boson',
  'Incorrect Answer 3': 'graviton',
  Explanation: 'QED: the photon.',
  'High-level domain': 'Physics',
};

/** The text of the option a letter names in a built question. */
function optionText(question: string, letter: string): string | undefined {
  return new RegExp(`^${letter}\\. (.*)$`, 'm').exec(question)?.[1];
}

describe('the shuffle', () => {
  test('mulberry32 and the shuffle are pinned: the same numbers on every machine', () => {
    const next = mulberry32(42);
    assert.deepEqual([next(), next(), next()].map((x) => Math.floor(x * 2 ** 32)), [2581720956, 1925393290, 3661312704]);
    assert.deepEqual(seededShuffle(['a', 'b', 'c', 'd'], 0), seededShuffle(['a', 'b', 'c', 'd'], 0));
    assert.deepEqual(seededShuffle(['a', 'b', 'c', 'd'], 12345), ['b', 'c', 'a', 'd']);
    assert.equal(derivedShuffleSeed('q', 'right', ['wrong']), 4132217235);
  });

  test('the correct letter is spread evenly over A to D', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 800; i++) {
      const { letter } = buildChoiceQuestion(`question ${i}`, 'right', ['w1', 'w2', 'w3'], derivedShuffleSeed(`question ${i}`, 'right', ['w1', 'w2', 'w3']));
      counts.set(letter, (counts.get(letter) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), ['A', 'B', 'C', 'D']);
    for (const [letter, n] of counts) assert.ok(n > 140 && n < 260, `${letter}: ${n} of 800`);
  });
});

describe('GPQA-style rows in the seed reader', () => {
  test("GPQA's fields: the options appended as in MMLU rows, the gold the correct letter, the seed recorded", async () => {
    const { seeds, problems } = await read('gpqa.jsonl', jsonl(GPQA));
    assert.deepEqual(problems, []);
    const seed = seeds[0]!;
    assert.equal(seed.id, 'recA1b2');
    assert.equal(seed.domain, 'science');
    assert.match(seed.question, /^Which particle mediates the electromagnetic force\?\n\nA\. .+\nB\. .+\nC\. .+\nD\. .+$/);
    const letter = seed.gold?.answer ?? '';
    assert.match(letter, /^[A-D]$/);
    assert.equal(optionText(seed.question, letter), 'photon');
    assert.equal(seed.gold?.shuffleSeed, derivedShuffleSeed(GPQA.Question, 'photon', ['gluon', 'W boson', 'graviton']));
    // Nothing of the answer or the explanation reaches the question beyond the options.
    assert.doesNotMatch(seed.question, /QED/);
    // Anyone can rebuild the letter from the recorded seed.
    const rebuilt = buildChoiceQuestion(GPQA.Question, 'photon', ['gluon', 'W boson', 'graviton'], seed.gold!.shuffleSeed!);
    assert.equal(rebuilt.question, seed.question);
    assert.equal(rebuilt.letter, letter);
  });

  test('the same row gives the same letter in any file and on any line; a given shuffle_seed is used', async () => {
    const first = await read('a.jsonl', jsonl(GPQA));
    const second = await read('b.jsonl', jsonl({ id: 'other', question: 'filler', answer: '1', domain: 'math' }, { ...GPQA, 'Record ID': 'x' }));
    assert.equal(second.seeds[1]!.question, first.seeds[0]!.question);
    const letters = new Set<string>();
    for (const seedValue of [0, 1, 2, 3, 4, 5, 6, 7]) {
      const { seeds } = await read(`s${seedValue}.jsonl`, jsonl({ ...GPQA, shuffle_seed: seedValue }));
      assert.equal(seeds[0]!.gold?.shuffleSeed, seedValue);
      assert.equal(optionText(seeds[0]!.question, seeds[0]!.gold!.answer!), 'photon');
      letters.add(seeds[0]!.gold!.answer!);
    }
    assert.ok(letters.size > 1, 'different seeds move the correct option');
  });

  test('the lower-case layout: correct_answer with a list of incorrect_answers, or numbered ones', async () => {
    const { seeds, problems } = await read(
      'snake.jsonl',
      jsonl(
        { id: 1, question: 'Noble gas?', correct_answer: 'argon', incorrect_answers: ['nitrogen', 'oxygen'], shuffle_seed: '7' },
        { id: 2, question: 'Base of DNA?', correct_answer: 'adenine', incorrect_answer_2: 'uracil', incorrect_answer_1: 'ribose', domain: 'science' },
      ),
    );
    assert.deepEqual(problems, []);
    assert.equal(seeds[0]!.question.split('\n').length, 5); // question, blank line, A to C
    assert.equal(optionText(seeds[0]!.question, seeds[0]!.gold!.answer!), 'argon');
    assert.equal(seeds[0]!.gold?.shuffleSeed, 7);
    assert.equal(optionText(seeds[1]!.question, seeds[1]!.gold!.answer!), 'adenine');
    const rebuilt = buildChoiceQuestion('Base of DNA?', 'adenine', ['ribose', 'uracil'], seeds[1]!.gold!.shuffleSeed!);
    assert.equal(rebuilt.question, seeds[1]!.question, 'numbered distractors in the order of their numbers');
  });

  test("GPQA's own CSV, headers with spaces, a blank distractor cell left out", async () => {
    const csv = [
      'Record ID,Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3',
      'rec1,"What is 2+2, in words?",four,three,five,',
      'rec2,Which gas do plants take in?,carbon dioxide,oxygen,helium,neon',
    ].join('\n');
    const { seeds, problems } = await read('gpqa.csv', csv);
    assert.deepEqual(problems, []);
    assert.deepEqual(seeds.map((s) => s.id), ['rec1', 'rec2']);
    assert.equal(seeds[0]!.question.split('\n').filter((line) => /^[A-J]\. /.test(line)).length, 3);
    assert.equal(optionText(seeds[1]!.question, seeds[1]!.gold!.answer!), 'carbon dioxide');
  });

  test('a named question field is the one read; missing, the row is a problem', async () => {
    const named = await read('named.jsonl', jsonl({ ...GPQA, stem: 'Named stem?' }), { questionField: 'stem' });
    assert.match(named.seeds[0]!.question, /^Named stem\?\n\nA\. /);
    const missing = await read('missing.jsonl', jsonl(GPQA), { questionField: 'stem' });
    assert.deepEqual(missing.problems.map((p) => [p.line, p.field, p.message]), [[1, 'stem', 'missing']]);
  });

  test("a row's own domain wins, then the reader's default, then science", async () => {
    const { seeds } = await read('domains.jsonl', jsonl({ ...GPQA, domain: 'math' }, { ...GPQA, 'Record ID': 'r2' }), { domain: 'coding' });
    assert.deepEqual(seeds.map((s) => s.domain), ['math', 'coding']);
  });

  test('bad rows name their line and field; the rows around them are read', async () => {
    const { seeds, problems } = await read(
      'bad.jsonl',
      jsonl(
        { ...GPQA, 'Incorrect Answer 2': 'photon' },
        { ...GPQA, 'Record ID': 'r2', shuffle_seed: -1 },
        { id: 3, question: 'q', correct_answer: 'x', incorrect_answers: 'y' },
        { id: 4, question: 'q', correct_answer: 'x', incorrect_answers: [{ text: 'y' }] },
        { id: 5, question: 'q', correct_answer: '', incorrect_answers: ['y'] },
        { id: 6, question: 'q', correct_answer: 'x', incorrect_answers: ['', null] },
        { ...GPQA, 'Record ID': 'ok' },
      ),
    );
    assert.deepEqual(seeds.map((s) => s.id), ['ok']);
    assert.deepEqual(
      problems.map((p) => [p.line, p.field]),
      [
        [1, 'Incorrect Answer 2'],
        [2, 'shuffle_seed'],
        [3, 'incorrect_answers'],
        [4, 'incorrect_answers[0]'],
        [5, 'correct_answer'],
        [6, 'incorrect_answers[0]'],
      ],
    );
    assert.match(problems[0]!.message, /same text as the correct answer/);
  });

  test('the shuffle seed survives the run record', async () => {
    const { seeds } = await read('event.jsonl', jsonl(GPQA));
    const seed = seeds[0]!;
    const event = SeedEvent.parse({ id: `seed:${seed.id}`, at: 'now', type: 'seed', seedId: seed.id, line: 1, domain: seed.domain, question: seed.question, prompt: [], gold: seed.gold });
    assert.equal(event.gold?.shuffleSeed, seed.gold?.shuffleSeed);
  });
});
