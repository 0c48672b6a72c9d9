// The architecture's rules, checked on the source: only src/vscode imports vscode, core imports no other layer,
// and only core/method/openaiClient.ts (used by inference and training jobs) imports the openai client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm), ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
}

const files = sources(SRC).map((file) => ({ file: path.relative(SRC, file), imports: imports(file) }));

test('only src/vscode imports vscode', () => {
  const offenders = files.filter((f) => !f.file.startsWith('vscode/') && f.imports.includes('vscode')).map((f) => f.file);
  assert.deepEqual(offenders, []);
});

test('core imports no other layer', () => {
  const offenders = files.filter((f) => f.file.startsWith('core/') && f.imports.some((i) => /^(\.\.\/)+(cli|vscode|engine)\b/.test(i)));
  assert.deepEqual(offenders.map((f) => f.file), []);
});

const OPENAI_MODULES: ReadonlySet<string> = new Set(['core/method/openaiClient.ts']);

test('only core/method/openaiClient.ts imports openai', () => {
  const offenders = files.filter((f) => f.imports.some((i) => i === 'openai' || i.startsWith('openai/')) && !OPENAI_MODULES.has(f.file));
  assert.deepEqual(offenders.map((f) => f.file), []);
});

test('the check sees real imports', () => {
  for (const file of OPENAI_MODULES) assert.ok(files.find((f) => f.file === file)?.imports.includes('openai'), file);
  assert.ok(files.some((f) => f.file.startsWith('vscode/') && f.imports.includes('vscode')));
});
