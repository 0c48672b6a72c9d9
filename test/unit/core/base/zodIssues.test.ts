import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { firstIssue, issuePath, issueText } from '../../../../src/core/base/zodIssues';

const Schema = z.object({ a: z.number(), nested: z.object({ list: z.array(z.string()) }) });

function errorOf(schema: z.ZodType, value: unknown): z.ZodError {
  const result = schema.safeParse(value);
  assert.ok(!result.success);
  return result.error;
}

test('issueText names each field by its dotted path, joined by semicolons', () => {
  const error = errorOf(Schema, { a: 'x', nested: { list: ['ok', 3] } });
  assert.equal(issueText(error), 'a: Invalid input: expected number, received string; nested.list.1: Invalid input: expected string, received number');
});

test('an issue about the value itself is shown under the placeholder, or bare when it is empty', () => {
  const error = errorOf(z.number().min(1), 0);
  assert.equal(issueText(error), '(root): Too small: expected number to be >=1');
  assert.equal(issueText(error, '(body)'), '(body): Too small: expected number to be >=1');
  assert.equal(issueText(error, ''), 'Too small: expected number to be >=1');
});

test('firstIssue gives the first problem with its path, empty for the value itself', () => {
  assert.deepEqual(firstIssue(errorOf(Schema, { a: 1, nested: { list: [1] } })), { path: 'nested.list.0', message: 'Invalid input: expected string, received number' });
  assert.deepEqual(firstIssue(errorOf(z.string(), 1)), { path: '', message: 'Invalid input: expected string, received number' });
  assert.equal(firstIssue(new z.ZodError([])), undefined);
});

test('a symbol in a path is printed, not thrown on', () => {
  const key = Symbol('k');
  const error = new z.ZodError([{ code: 'custom', path: ['a', key], message: 'bad', input: undefined }]);
  assert.equal(issuePath(error.issues[0]!), 'a.Symbol(k)');
});
