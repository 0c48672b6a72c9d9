// The settings the extension contributes (package.json) against the zod schemas that check them when read: a bound,
// an enum or a default changed on one side only fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SETTING_KEYS, SETTING_SCHEMAS } from '../../../src/vscode/platform/settings';

const PACKAGE = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Record<string, unknown>> } };
};
const contributed = PACKAGE.contributes.configuration.properties;

/** What both sides must say alike. VS Code reads these from package.json to validate and to fill the Settings UI. */
const COMPARED = ['type', 'default', 'enum', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'items'] as const;

/** zod's integers carry the safe-integer range as bounds; a setting without a bound of its own has none there. */
const SAFE_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

function fromSchema(key: (typeof SETTING_KEYS)[number]): Record<string, unknown> {
  const json = z.toJSONSchema(SETTING_SCHEMAS[key], { io: 'input' }) as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const field of COMPARED) {
    const value = json[field];
    if (value === undefined || (typeof value === 'number' && SAFE_BOUNDS.has(value))) continue;
    picked[field] = value;
  }
  return picked;
}

function fromPackage(property: Record<string, unknown>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const field of COMPARED) if (property[field] !== undefined) picked[field] = property[field];
  return picked;
}

test('package.json contributes exactly the settings the extension reads', () => {
  assert.deepEqual(Object.keys(contributed).sort(), SETTING_KEYS.map((key) => `svd.${key}`).sort());
});

test('each contributed setting has the type, bounds, enum and default of its schema', () => {
  for (const key of SETTING_KEYS) {
    assert.deepEqual(fromPackage(contributed[`svd.${key}`]!), fromSchema(key), `svd.${key} in package.json disagrees with its schema`);
  }
});

test('the check sees the bounds (a drift would fail it)', () => {
  assert.deepEqual(fromSchema('candidates'), { type: 'integer', default: 4, minimum: 1, maximum: 64 });
  assert.deepEqual(fromSchema('generation.topP'), { type: 'number', default: 0.95, exclusiveMinimum: 0, maximum: 1 });
  assert.deepEqual(fromSchema('selection'), { type: 'string', default: 'first_valid', enum: ['first_valid', 'keep_all'] });
  const drifted = { ...contributed['svd.generation.maxTokens']!, maximum: 2_000_000 };
  assert.notDeepEqual(fromPackage(drifted), fromSchema('generation.maxTokens'));
});
