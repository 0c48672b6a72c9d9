// @ts-check
// Configuration for @vscode/test-cli (`npx vscode-test`): runs the extension-host suites in a desktop
// VS Code that @vscode/test-electron downloads, so it needs internet. Offline (CI here) the same compiled
// suites run in the VS Code server from code-server instead: `node test/vscode/run.mjs` (see
// test/vscode/README.md). Keep the mocha options in step with test/vscode/index.ts.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@vscode/test-cli';

const workspaceFolder = process.env.VSCODE_TEST_WORKSPACE ?? mkdtempSync(path.join(os.tmpdir(), 'vscode-test-workspace-'));

export default defineConfig({
  label: 'extension host',
  files: 'out/test/vscode/**/*.test.js',
  version: 'stable',
  workspaceFolder,
  // Same defaults as the offline harness: no other extensions, no Restricted Mode unless a test asks.
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  mocha: {
    ui: 'tdd',
    timeout: 30_000,
    color: true,
  },
});
