// The extension's VS Code tests, end to end, in one command:
//
//   node test/vscode/run-project.mjs [--grep <pattern>] [--no-ui] [--no-host] [--skip-build] [--keep]
//
// 1. packages the extension (scripts/package.mjs, as `npm run package`: a .vsix in the repository root) and
//    compiles the host suites (test/vscode/suite/*.test.ts -> out/test/vscode/);
// 2. prepares a workspace in a temporary folder: the seed files of test/fixtures/workspace/ and a
//    .vscode/settings.json that points the extension at the scripted server and the test prompts;
// 3. starts the scripted OpenAI-compatible server (test/vscode/suite/serve-scripted.ts) in a child process;
// 4. runs test/vscode/run.mjs's runAll: the host suites in the extension host, then test/vscode/ui/*.ui.test.mjs;
// 5. checks what only this process can see: the API key that the host suite set is nowhere in the harness's
//    host.log (the whole workbench log channel, the suite's output included);
// 6. prints `N passed, N failed` (the two suites and the checks of step 5) and exits non-zero on any failure.
//
// The tests install a copy of the .vsix, .test-cache/svd-tested.vsix. --skip-build reuses it and the compiled suites; --keep leaves the workspace folder behind.
// Results: test-results/vscode/ (summary.json, host.json, host.log, ui.json), screenshots in test-results/screenshots/.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { runAll } from './run.mjs';
import { repoRoot } from './server.mjs';

const MODEL = 'svd-test';
/** Per chat request: a run of the 30-seed file takes a few seconds, long enough to be stopped half way. */
const LATENCY_MS = 40;

const { values: args } = parseArgs({
  options: {
    grep: { type: 'string' },
    'no-ui': { type: 'boolean', default: false },
    'no-host': { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const t0 = Date.now();
const timings = {};
const here = path.join(repoRoot, 'test/vscode');
const resultsDir = path.join(repoRoot, 'test-results/vscode');
const testsIndex = path.join(repoRoot, 'out/test/vscode/index.js');
const testedVsix = path.join(repoRoot, '.test-cache/svd-tested.vsix');
const log = (text) => console.log(`[run-project] ${text}`);

const children = new Set();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-vscode-'));
const cleanup = () => {
  for (const child of children) child.kill('SIGTERM');
  if (!args.keep) rmSync(scratch, { recursive: true, force: true });
};
process.once('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

/** Runs a command to the end; resolves with its output, rejects (with the output) on a non-zero exit. */
function exec(command, commandArgs, what) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, commandArgs, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      children.delete(child);
      timings[what] = Date.now() - started;
      if (code === 0) resolve(output);
      else reject(new Error(`${what} failed (exit ${code}):\n${output}`));
    });
  });
}

async function build() {
  // Stale compiled suites would run too: the index runs every *.test.js below it.
  rmSync(path.join(repoRoot, 'out/test/vscode'), { recursive: true, force: true });
  // One after the other: side by side they only fight over two cores.
  // --no-fetch: the tests never reach the registry; this platform's engine builds come with npm ci.
  const packaged = await exec(process.execPath, [path.join(repoRoot, 'scripts/package.mjs'), '--no-fetch'], 'package');
  await exec(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', path.join(here, 'tsconfig.json')], 'tsc');
  const built = packaged.trim().split('\n').at(-1).trim();
  if (!built.endsWith('.vsix') || !existsSync(built)) throw new Error(`scripts/package.mjs made no .vsix:\n${packaged}`);
  // The tests install a copy: another packaging run replaces the root's .vsix, maybe while these tests run.
  mkdirSync(path.dirname(testedVsix), { recursive: true });
  copyFileSync(built, testedVsix);
  return testedVsix;
}

function lastVsix() {
  if (!existsSync(testedVsix) || !existsSync(testsIndex)) throw new Error(`--skip-build: no ${testedVsix} or no compiled suites: run once without it`);
  return testedVsix;
}

/** The scripted server in its own process; resolves with its URLs once it listens. */
async function startScriptedServer(specFile) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'suite/serve-scripted.ts'), specFile], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const first = await lines.next();
  clearTimeout(timer);
  if (first.done) throw new Error('the scripted server did not start');
  const urls = JSON.parse(first.value);
  return {
    ...urls,
    /** Chat requests each server has seen. */
    async counts() {
      child.stdin.write('\n');
      return JSON.parse((await lines.next()).value);
    },
    async stop() {
      child.stdin.end();
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('close', resolve)));
      children.delete(child);
    },
  };
}

function prepareWorkspace(workspace, server) {
  const template = path.join(repoRoot, 'test/fixtures/workspace');
  cpSync(template, workspace, { recursive: true });
  mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  const settings = {
    'svd.endpoint.baseUrl': server.url,
    'svd.endpoint.model': MODEL,
    'svd.promptsFolder': path.join(repoRoot, 'test/fixtures/prompts'),
    'svd.candidates': 2,
    'svd.votes': 2,
    'svd.concurrency': 2,
  };
  writeFileSync(path.join(workspace, '.vscode/settings.json'), JSON.stringify(settings, null, 2) + '\n');
  return readdirSync(template).filter((f) => f.endsWith('.jsonl')).map((f) => path.join(template, f));
}

async function main() {
  let vsix;
  if (args['skip-build']) {
    vsix = lastVsix();
  } else {
    log('packaging the extension and compiling the suites');
    vsix = await build();
    log(`${path.relative(repoRoot, vsix)} in ${(timings.package / 1000).toFixed(1)} s; suites compiled in ${(timings.tsc / 1000).toFixed(1)} s`);
  }

  const workspace = path.join(scratch, 'workspace');
  const apiKey = `sk-svd-test-${randomBytes(12).toString('hex')}`;
  const seedFiles = readdirSync(path.join(repoRoot, 'test/fixtures/workspace'))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => path.join(repoRoot, 'test/fixtures/workspace', f));
  const specFile = path.join(scratch, 'server.json');
  writeFileSync(specFile, JSON.stringify({ latencyMs: LATENCY_MS, model: MODEL, apiKey, seedFiles }));
  const server = await startScriptedServer(specFile);
  log(`scripted server on ${server.url} (and ${server.strictUrl}, which asks for an API key), ${LATENCY_MS} ms a request`);
  prepareWorkspace(workspace, server);
  // Outside the workspace: the key must not be found in it unless the extension wrote it there.
  const fixtureFile = path.join(scratch, 'fixture.json');
  writeFileSync(fixtureFile, JSON.stringify({ url: server.url, strictUrl: server.strictUrl, apiKey, model: MODEL }));

  let summary;
  try {
    summary = await runAll({
      vsix,
      tests: args['no-host'] ? undefined : testsIndex,
      ui: [path.join(here, 'ui')],
      uiEnabled: !args['no-ui'],
      workspace,
      results: resultsDir,
      grep: args.grep,
      env: { SVD_TEST_FIXTURE: fixtureFile },
      timeoutMs: 4 * 60_000,
      uiTimeoutMs: 90_000,
    });
  } finally {
    const counts = await server.counts().catch(() => undefined);
    if (counts) log(`scripted server saw ${counts.requests} chat requests (${counts.strictRequests} on the strict one, ${counts.authorized} with the key)`);
    await server.stop();
  }

  // Checks that need this process: what the harness recorded of the whole host run.
  const checks = [];
  if (!args['no-host'] && !args.grep) {
    const hostLog = path.join(resultsDir, 'host.log');
    const text = existsSync(hostLog) ? readFileSync(hostLog, 'utf8') : undefined;
    checks.push({
      title: 'the API key is not in the host log',
      ok: text !== undefined && text.includes('@@vscode-test-start') && !text.includes(apiKey),
      why: text === undefined ? `${hostLog} is missing` : text.includes(apiKey) ? `${hostLog} holds the API key` : 'the host log has no suite output',
    });
    const settingsText = readFileSync(path.join(workspace, '.vscode/settings.json'), 'utf8');
    checks.push({ title: 'the API key is not in the workspace settings', ok: !settingsText.includes(apiKey), why: 'the workspace settings hold the API key' });
  }
  for (const check of checks) console.log(`check: ${check.ok ? 'ok' : 'FAILED'} ${check.title}${check.ok ? '' : `: ${check.why}`}`);

  const passed = summary.passed + checks.filter((c) => c.ok).length;
  const failed = summary.failed + checks.filter((c) => !c.ok).length;
  const total = Date.now() - t0;
  const parts = Object.entries({ ...timings, ...summary.timings }).map(([k, v]) => `${k.replace(/Ms$/, '')} ${(v / 1000).toFixed(1)} s`);
  console.log(`\n[run-project] ${parts.join(', ')}; total ${(total / 1000).toFixed(1)} s`);
  if (args.keep) log(`workspace kept in ${workspace}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}

main().then(
  (failed) => process.exit(failed > 0 ? 1 : 0),
  (error) => {
    console.error(error?.stack ?? error);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
