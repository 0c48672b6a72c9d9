#!/usr/bin/env node
// Runs every test suite in turn and ends with one line that sums them: `N passed, N failed`.
// Each suite reports through node's TAP reporter into a file, so the counts come from the runner itself.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, 'test-results');
mkdirSync(results, { recursive: true });
const only = process.argv.slice(2);

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function tapCounts(file) {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const num = (key) => Number((text.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  return { passed: num('pass'), failed: num('fail') + num('cancelled'), skipped: num('skipped') + num('todo') };
}

function nodeSuite(name, dir) {
  const files = readdirSync(path.join(root, dir), { recursive: true }).map(String).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join(dir, f));
  const tap = path.join(results, `${name}.tap`);
  const code = run(process.execPath, [
    '--import', 'tsx', '--test',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ]);
  const counts = tapCounts(tap) ?? { passed: 0, failed: 1, skipped: 0 };
  if (code !== 0 && counts.failed === 0) counts.failed = 1; // the runner itself broke
  return counts;
}

/** A suite whose runner prints its own closing `N passed, N failed` line. */
function countedSuite(name, cmd, args) {
  console.log(`\n== ${name}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: process.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  process.stdout.write(r.stdout ?? '');
  const last = [...(r.stdout ?? '').matchAll(/^(\d+) passed, (\d+) failed/gm)].at(-1);
  const counts = last ? { passed: Number(last[1]), failed: Number(last[2]), skipped: 0 } : { passed: 0, failed: 1, skipped: 0 };
  if (r.status !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

function check(name, cmd, args) {
  console.log(`\n== ${name}`);
  const code = run(cmd, args);
  return { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 };
}

const suites = [
  ['build', () => check('build', process.execPath, ['esbuild.mjs'])],
  ['typecheck', () => check('typecheck', 'npm', ['run', '--silent', 'typecheck'])],
  // The layers (import zones), cycles and the rest of eslint.config.mjs.
  ['lint', () => check('lint', 'npm', ['run', '--silent', 'lint'])],
  // The code checks run in bubblewrap: installed from apt when missing, a no-op when present.
  ['sandbox-install', () => check('sandbox-install', 'bash', ['test/install-sandbox.sh'])],
  // Pure code under plain Node, in folders that mirror src/.
  ['unit', () => { console.log('\n== unit'); return nodeSuite('unit', 'test/unit'); }],
  // The built CLI, child processes (engine, sandbox) and packaging.
  ['integration', () => { console.log('\n== integration'); return nodeSuite('integration', 'test/integration'); }],
  // Real TRL, transformers, datasets and peft (CPU) in a pinned venv under the test cache (test/python/venv.sh).
  ['python', () => { console.log('\n== python'); return nodeSuite('python', 'test/python'); }],
  ['webview', () => {
    console.log('\n== webview');
    const tap = path.join(results, 'webview.tap');
    const code = run(process.execPath, ['test/webview/run.mjs', tap]);
    const counts = tapCounts(tap) ?? { passed: 0, failed: 1, skipped: 0 };
    if (code !== 0 && counts.failed === 0) counts.failed = 1;
    return counts;
  }],
  // Installs what it needs (Chromium from apt, the VS Code server from npm) when missing; a no-op when current.
  ['vscode-install', () => check('vscode-install', 'bash', ['test/vscode/install.sh'])],
  ['vscode', () => countedSuite('vscode', process.execPath, ['test/vscode/run-project.mjs'])],
];

const total = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
for (const [name, suite] of suites) {
  if (only.length > 0 && !only.includes(name)) continue;
  const c = suite();
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
  lines.push(`${name}: ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}`);
}
console.log('\n' + lines.join('\n'));
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed > 0 ? 1 : 0);
