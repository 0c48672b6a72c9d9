import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asCodingAnswer, taskFromPair, taskFromRow } from '../../../../src/core/check/tasks';

const where = { file: 'pairs.jsonl', line: 4 };

test('a gold line: the domain from the line, else the default, else coding for tests, science for a letter, else math', () => {
  const domainOf = (value: unknown, domain?: 'math' | 'science' | 'coding') => {
    const task = taskFromPair(value, { ...where, domain });
    return 'domain' in task ? task.domain : task.message;
  };
  assert.equal(domainOf({ gold: '2', answer: 'x', domain: 'Mathematics' }), 'math');
  assert.equal(domainOf({ gold: '2', answer: 'x' }, 'science'), 'science');
  assert.equal(domainOf({ gold: '(B)', answer: 'x' }), 'science');
  assert.equal(domainOf({ gold: 'B2', answer: 'x' }), 'math');
  assert.equal(domainOf({ tests: ['assert f() == 1', 'assert f() != 2'], answer: 'def f(): return 1' }), 'coding');
  assert.equal(domainOf({ gold: 12, answer: 'x' }), 'math');
});

test('a gold line: numbers as text, tests lists one per line, a plain program put in a code block, the id as text', () => {
  const task = taskFromPair({ tests: ['assert f() == 1', 'assert f() != 2'], entry_point: 'f', answer: 'def f(): return 1', id: 3, model: 'extra fields are left alone' }, where);
  assert.ok('domain' in task);
  assert.deepEqual(task.gold, { tests: 'assert f() == 1\nassert f() != 2', entryPoint: 'f' });
  assert.equal(task.text, '```python\ndef f(): return 1\n```');
  assert.equal(task.id, '3');
  assert.equal(asCodingAnswer('Here:\n```python\nx = 1\n```'), 'Here:\n```python\nx = 1\n```', 'a code block stays as it is');
  const numeric = taskFromPair({ gold: 12, answer: '\\boxed{12}' }, where);
  assert.ok('domain' in numeric);
  assert.equal(numeric.gold.answer, '12');
});

test('bad lines name the field', () => {
  const problem = (value: unknown) => {
    const task = taskFromPair(value, where);
    assert.ok('message' in task, JSON.stringify(value));
    return task;
  };
  assert.equal(problem([1, 2]).message, 'expected a JSON object, found an array');
  assert.equal(problem({ gold: '1' }).field, 'answer');
  assert.equal(problem({ gold: { value: 1 }, answer: 'x' }).field, 'gold');
  assert.equal(problem({ answer: 'x' }).field, 'gold');
  assert.equal(problem({ answer: 'x', domain: 'coding' }).field, 'tests');
  assert.equal(problem({ answer: 'x', gold: '1', domain: 'chemistry' }).field, 'domain');
  assert.equal(problem({ row: 'text', answer: 'x' }).field, 'row');
  assert.equal(problem({ row: { question: 'q', domain: 'math', answer: '1' }, answer: 7 }).field, 'answer');
  const row = problem({ row: { question: 'q', domain: 'geology', answer: '1' }, answer: 'x' });
  assert.equal(row.field, 'row.domain');
});

test('a row: the seed reader reads it, GPQA fields and all; no gold is a problem', () => {
  const gpqa = taskFromRow({ Question: 'Lightest?', 'Correct Answer': 'hydrogen', 'Incorrect Answer 1': 'helium', shuffle_seed: 1 }, '\\boxed{A}', where);
  assert.ok('domain' in gpqa);
  assert.equal(gpqa.domain, 'science');
  assert.match(gpqa.gold.answer ?? '', /^[AB]$/);
  assert.equal(gpqa.gold.shuffleSeed, 1);
  assert.match(gpqa.question ?? '', /\n\nA\. (hydrogen|helium)\nB\. (hydrogen|helium)$/);
  const mbpp = taskFromRow({ task_id: 11, text: 'ignored', prompt: 'Remove a char.', test_list: ['assert f(1) == 1'] }, 'def f(x): return x', { ...where, domain: 'coding' });
  assert.ok('domain' in mbpp);
  assert.deepEqual([mbpp.id, mbpp.gold.tests, mbpp.text.startsWith('```python')], ['11', 'assert f(1) == 1', true]);
  const none = taskFromRow({ question: 'q', domain: 'math' }, 'x', where);
  assert.ok('message' in none);
  assert.match(none.message, /no gold/);
});
