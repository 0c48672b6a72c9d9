// Proves the harness end to end on the throwaway extension in test/vscode/sample/: packages it as a .vsix
// (vsce), compiles the test index (esbuild), then runs run.mjs with the sample's host and UI tests.
// Build output goes to .test-cache/vscode-self-test/ (inside the repo, so the index resolves mocha from
// the project's node_modules).
//
//   node test/vscode/self-test.mjs [--skip-install] [--results <dir>]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { runAll } from './run.mjs';
import { repoRoot } from './server.mjs';

// Exit through process.exit so the servers and browsers still running are cleaned up.
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));

const { values } = parseArgs({
  options: {
    'skip-install': { type: 'boolean', default: false },
    results: { type: 'string', default: path.join(repoRoot, 'test-results/vscode-self-test') },
  },
});

const here = path.join(repoRoot, 'test/vscode');
const sample = path.join(here, 'sample');
const build = path.join(repoRoot, '.test-cache/vscode-self-test');
rmSync(build, { recursive: true, force: true });
mkdirSync(path.join(build, 'tests'), { recursive: true });
mkdirSync(path.join(build, 'workspace'), { recursive: true });

const t0 = Date.now();
const vsix = path.join(build, 'harness-sample.vsix');
const vsce = spawnSync(
  process.execPath,
  [path.join(repoRoot, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', vsix],
  { cwd: path.join(sample, 'extension'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
);
if (vsce.status !== 0) {
  console.error(vsce.stdout, vsce.stderr);
  process.exit(1);
}

// The same template the real suites use, next to the sample's compiled (here: plain JS) host tests.
await esbuild.build({
  entryPoints: [path.join(here, 'index.ts')],
  outfile: path.join(build, 'tests/index.js'),
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
});
for (const f of readdirSync(path.join(sample, 'host'))) copyFileSync(path.join(sample, 'host', f), path.join(build, 'tests', f));
writeFileSync(path.join(build, 'workspace/readme.txt'), 'workspace for the harness sample\n');
console.log(`[self-test] built sample .vsix and test index in ${Date.now() - t0} ms`);

const summary = await runAll({
  vsix,
  tests: path.join(build, 'tests/index.js'),
  ui: [path.join(sample, 'ui')],
  workspace: path.join(build, 'workspace'),
  results: values.results,
  skipInstall: values['skip-install'],
  timeoutMs: 5 * 60_000,
});
process.exit(summary.failed > 0 ? 1 : 0);
