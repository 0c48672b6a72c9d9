// The example seed files the README points to: every row reads, the unlabeled file carries no gold, and every gold
// of the labeled file is one the checkers can use (its own reference answer passes).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseRunConfig } from '../../src/core/base/config';
import { createAnswerChecker } from '../../src/core/check/index';
import { readSeeds } from '../../src/core/method/seeds';
import type { Seed } from '../../src/core/base/types';

const ROOT = path.resolve(__dirname, '../..');

async function seedsOf(file: string): Promise<Seed[]> {
  const seeds: Seed[] = [];
  for await (const record of readSeeds({ file: path.join(ROOT, file) })) {
    assert.equal(record.kind, 'seed', `${file}: ${JSON.stringify(record)}`);
    if (record.kind === 'seed') seeds.push(record.seed);
  }
  return seeds;
}

test('examples/seeds.jsonl: three unlabeled seeds, one per domain', async () => {
  const seeds = await seedsOf('examples/seeds.jsonl');
  assert.deepEqual(seeds.map((s) => s.domain).sort(), ['coding', 'math', 'science']);
  assert.ok(seeds.every((s) => s.gold === undefined));
});

test("examples/first-run.json: the first run's budget is a valid config, smaller than the method's defaults", () => {
  const config = parseRunConfig(JSON.parse(readFileSync(path.join(ROOT, 'examples/first-run.json'), 'utf8')), 'examples/first-run.json');
  const defaults = parseRunConfig({});
  assert.deepEqual([config.candidates, config.votes, config.generation.maxTokens, config.judge.maxTokens], [2, 1, 1024, 512]);
  assert.ok(config.generation.maxTokens < defaults.generation.maxTokens && config.judge.maxTokens < defaults.judge.maxTokens);
  // Only the budget: sampling as the method has it.
  assert.equal(config.generation.temperature, defaults.generation.temperature);
  assert.equal(config.judge.temperature, defaults.judge.temperature);
});

test("examples/labeled.jsonl: every seed has gold, and the reference answer of each passes its checker", { timeout: 60_000 }, async () => {
  const seeds = await seedsOf('examples/labeled.jsonl');
  assert.ok(seeds.length >= 12);
  // Reference solutions of the coding rows, from the same source as the rows (HumanEval, MBPP).
  const solutions = new Map<string, string>();
  for (const file of ['humaneval.jsonl', 'mbpp_test.jsonl']) {
    for (const line of readFileSync(path.join(ROOT, 'test/fixtures/data', file), 'utf8').split('\n').filter(Boolean)) {
      const row = JSON.parse(line) as { id: string; canonical_solution: string };
      solutions.set(row.id, row.canonical_solution);
    }
  }
  const checker = createAnswerChecker();
  try {
    for (const seed of seeds) {
      assert.ok(seed.gold, `${seed.id} has gold`);
      const text =
        seed.domain === 'coding'
          ? `\`\`\`python\n${seed.id.startsWith('HumanEval/') ? seed.question : ''}${solutions.get(seed.id)}\n\`\`\``
          : `The answer is \\boxed{${seed.gold.answer}}.`;
      const result = await checker.check(seed.domain, text, seed.gold, { question: seed.question });
      assert.equal(result?.outcome, 'pass', `${seed.id}: ${result?.detail}`);
      const wrong = seed.domain === 'coding' ? '```python\ndef nothing():\n    pass\n```' : 'The answer is \\boxed{-12345}.';
      assert.equal((await checker.check(seed.domain, wrong, seed.gold, { question: seed.question }))?.correct, false, `${seed.id}: a wrong answer`);
    }
  } finally {
    await checker.close();
  }
});
