#!/usr/bin/env node
// The webview suite: builds the bundles (node esbuild.mjs), makes sure Chromium is there, then runs
// test/webview/*.test.mjs with node's test runner. Spec output on stdout, TAP in test-results/webview.tap (or the
// file given as the first argument), so a top-level runner can count it. Exit status: the test runner's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const tap = path.resolve(root, process.argv[2] ?? 'test-results/webview.tap');
mkdirSync(path.dirname(tap), { recursive: true });

function run(cmd, args) {
  return spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
}

if (run(process.execPath, ['esbuild.mjs']) !== 0) {
  console.error('webview: the build failed');
  process.exit(1);
}

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  // Debian's package, as the VS Code suite installs it; only root can, and only apt is reachable.
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log('webview: installing chromium');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'chromium']);
  }
  if (!existsSync(chromium)) {
    console.error(`webview: no Chromium at ${chromium} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
    process.exit(1);
  }
}

const files = readdirSync(here)
  .filter((file) => file.endsWith('.test.mjs'))
  .sort()
  .map((file) => path.join('test/webview', file));
const status = run(process.execPath, [
  '--import', 'tsx',
  '--test',
  '--test-concurrency=1',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files,
]);
process.exit(status);
