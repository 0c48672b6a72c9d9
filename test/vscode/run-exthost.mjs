// Runs a mocha suite inside the real VS Code (Node) extension host of the code-server VS Code server.
// The workbench is opened in headless Chromium with ?payload= extensionDevelopmentPath/extensionTestsPath
// (what @vscode/test-web and VS Code's own remote integration tests do); VS Code then calls the test
// index's run(), forwards console output to window.codeAutomationLog and the outcome to
// window.codeAutomationExit, which this driver exposes.
//
// CLI:
//   node test/vscode/run-exthost.mjs --tests <compiled index.js> (--extension <dir> | --vsix <file>)
//        [--workspace <dir>] [--results <file.json>] [--log <file>] [--timeout <ms>] [--grep <pattern>]
//        [--workspace-trust] [--screenshot <file.png>] [--server-url <url>] [--env KEY=VALUE]...
//   --vsix installs the package and runs the tests against the installed copy (what users get);
//   --extension points extensionDevelopmentPath at a folder (a build tree); --server-url reuses a
//   running server (its own env and trust settings then apply, and it needs --extension).
// Exit code 0 when every test passed. The results file gets
//   { passed, failed, pending, exitCode, durationMs, failures: [{ title, error }] }.
// Env: VSCODE_TEST_DEBUG=1 also prints the workbench's own log lines and page console.
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { format, parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';
import { attachServer, ensureInstalled, repoRoot, startServer } from './server.mjs';

// Must match test/vscode/index.ts.
export const START_MARKER = '@@vscode-test-start';
export const RESULT_MARKER = '@@vscode-test-result ';

// Workbench log lines that are expected offline and say nothing about the tests.
const OFFLINE_NOISE = [
  /ENOTFOUND/,
  /\[Service Worker\]/,
  /ERR_INTERNET_DISCONNECTED/,
  /Failed to fetch/,
  /authentication provider 'github'/,
];

/** Counts from the reporter's marker line, else from the spec reporter's "N passing / N failing". */
export function parseHostOutput(text) {
  const marker = text.split('\n').reverse().find((l) => l.startsWith(RESULT_MARKER));
  if (marker) {
    try {
      return JSON.parse(marker.slice(RESULT_MARKER.length));
    } catch {
      // fall through to the spec summary
    }
  }
  if (!/\d+ passing/.test(text)) return undefined;
  const num = (re) => Number((text.match(re) ?? [])[1] ?? 0);
  return { passed: num(/(\d+) passing/), failed: num(/(\d+) failing/), pending: num(/(\d+) pending/), failures: [] };
}

/**
 * Runs the suite once against a started (or attached) server. Returns the results object.
 * `log` receives each line of the suite's output; the whole channel (workbench lines too) goes to logFile.
 */
export async function runHostTests({
  server,
  extensionPath,
  testsPath,
  workspace,
  timeoutMs = 5 * 60_000,
  screenshot,
  logFile,
  log = (line) => console.log(line),
}) {
  const t0 = Date.now();
  const debug = !!process.env.VSCODE_TEST_DEBUG;
  const payload = [
    ['extensionDevelopmentPath', await server.remoteUri(extensionPath)],
    ['extensionTestsPath', await server.remoteUri(testsPath)],
    ['skipWelcome', 'true'],
    ['skipReleaseNotes', 'true'],
  ];
  if (logFile) {
    mkdirSync(path.dirname(logFile), { recursive: true });
    writeFileSync(logFile, '');
  }
  const suiteLines = [];
  const errors = [];
  let started = false;
  const record = (type, text) => {
    if (logFile) appendFileSync(logFile, `[${type}] ${text}\n`);
    // Renderer-side errors (stacks in workbench.js) belong to the workbench, not to the suite.
    const noise = OFFLINE_NOISE.some((re) => re.test(text)) || /\/workbench\/workbench\.js:\d+/.test(text);
    if (type === 'error' && !noise) errors.push(text);
    for (const line of text.split('\n')) {
      if (line.startsWith(START_MARKER)) {
        started = true;
        continue;
      }
      if (started) suiteLines.push(line);
      if (line.startsWith(RESULT_MARKER)) continue;
      if ((started && !noise) || debug) log(line);
    }
  };

  const browser = await launchBrowser();
  const { page } = browser;
  let exitCode;
  try {
    let resolveExit;
    const exited = new Promise((resolve) => (resolveExit = resolve));
    await page.exposeFunction('codeAutomationLog', (type, args) => record(type, format(...(Array.isArray(args) ? args : [args]))));
    await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
    if (debug) {
      page.on('console', (m) => log(`[page ${m.type()}] ${m.text().slice(0, 500)}`));
      page.on('pageerror', (e) => log(`[page error] ${e.message}`));
    }
    let timer;
    const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    await page.goto(server.workbenchUrl(workspace, payload));
    exitCode = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (screenshot) {
      mkdirSync(path.dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot }).catch((e) => log(`screenshot failed: ${e.message}`));
    }
  } finally {
    await browser.close();
  }

  const counts = parseHostOutput(suiteLines.join('\n')) ?? { passed: 0, failed: 0, pending: 0, failures: [] };
  const result = { ...counts, failures: counts.failures ?? [], exitCode, durationMs: Date.now() - t0 };
  if (!started) {
    // The index never ran: a wrong path, a load error in the index, or the extension host died.
    log(`[exthost] the test index did not start (exit ${exitCode}); workbench log${logFile ? ` in ${logFile}` : ''}`);
    for (const e of errors.slice(-5)) log(e);
    result.notStarted = true;
  }
  if (exitCode === 'timeout') result.failures.push({ title: '(extension host run)', error: `no result within ${timeoutMs} ms` });
  // A crash, a load error or an empty suite ends non-zero without a failing test: count it as one.
  if (exitCode !== 0 && result.failed === 0) {
    result.failed = 1;
    if (result.failures.length === 0) result.failures.push({ title: '(extension host run)', error: `exit code ${exitCode}` });
  }
  return result;
}

/** Start (or attach to) a server, run, write the results file. Shared by this CLI and run.mjs. */
export async function runExthostSuite(opts) {
  const testsPath = path.resolve(opts.tests);
  if (!existsSync(testsPath)) throw new Error(`no such test index: ${testsPath}`);
  const workspace = opts.workspace ? path.resolve(opts.workspace) : undefined;
  if (workspace && !(existsSync(workspace) && statSync(workspace).isDirectory())) throw new Error(`no such workspace folder: ${workspace}`);
  const env = { ...(opts.env ?? {}) };
  if (opts.grep) env.VSCODE_TEST_GREP = opts.grep;

  let server = opts.server;
  let own = false;
  if (!server && opts.serverUrl) server = attachServer(opts.serverUrl);
  if (!server) {
    if (!opts.skipInstall) ensureInstalled({ quiet: true });
    server = await startServer({ vsix: opts.vsix ? [opts.vsix] : [], workspaceTrust: opts.workspaceTrust, env });
    own = true;
    console.log(`[exthost] VS Code server ${server.commit.slice(0, 10)} ready in ${server.startMs} ms on ${server.base}`);
  }
  const results = opts.results ? path.resolve(opts.results) : undefined;
  const logFile = opts.log ? path.resolve(opts.log) : results ? results.replace(/(\.json)?$/, '.log') : undefined;
  let result;
  try {
    const extensionPath = opts.extension ? path.resolve(opts.extension) : server.extensions.at(-1)?.location;
    if (!extensionPath) throw new Error('no extension under test: pass --extension <dir>, or --vsix without --server-url');
    result = await runHostTests({ server, extensionPath, testsPath, workspace, timeoutMs: opts.timeoutMs, screenshot: opts.screenshot, logFile });
  } catch (e) {
    result = { passed: 0, failed: 1, pending: 0, exitCode: 'error', durationMs: 0, failures: [{ title: '(extension host run)', error: String(e?.message ?? e) }] };
    console.error(`[exthost] ${e?.stack ?? e}`);
  } finally {
    if (own) {
      if ((result?.notStarted || result?.exitCode === 'error' || result?.exitCode === 'timeout') && existsSync(server.log)) {
        const tail = readFileSync(server.log, 'utf8').split('\n').slice(-25).join('\n');
        console.log(`[exthost] server log tail (${server.log}):\n${tail}`);
      }
      await server.stop();
    }
  }
  console.log(
    `[exthost] ${result.passed} passed, ${result.failed} failed${result.pending ? `, ${result.pending} pending` : ''} ` +
      `(exit ${result.exitCode}, ${result.durationMs} ms)`,
  );
  if (results) {
    mkdirSync(path.dirname(results), { recursive: true });
    writeFileSync(results, JSON.stringify(result, null, 2) + '\n');
  }
  return result;
}

function parseEnvPairs(pairs) {
  return Object.fromEntries(
    pairs.map((kv) => {
      const i = kv.indexOf('=');
      if (i < 1) throw new Error(`--env expects KEY=VALUE, got ${kv}`);
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
}

async function main() {
  const { values } = parseArgs({
    options: {
      tests: { type: 'string' },
      extension: { type: 'string' },
      vsix: { type: 'string' },
      workspace: { type: 'string' },
      results: { type: 'string' },
      log: { type: 'string' },
      timeout: { type: 'string', default: String(5 * 60_000) },
      grep: { type: 'string' },
      'workspace-trust': { type: 'boolean', default: false },
      screenshot: { type: 'string' },
      'server-url': { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      'skip-install': { type: 'boolean', default: false },
    },
  });
  if (!values.tests || (!values.extension && !values.vsix)) {
    console.error('usage: run-exthost.mjs --tests <index.js> (--extension <dir> | --vsix <file>) [--workspace <dir>] [--results <file.json>]');
    process.exit(2);
  }
  const result = await runExthostSuite({
    tests: values.tests,
    extension: values.extension,
    vsix: values.vsix,
    workspace: values.workspace,
    results: values.results ?? path.join(repoRoot, 'test-results/vscode/exthost.json'),
    log: values.log,
    timeoutMs: Number(values.timeout),
    grep: values.grep,
    workspaceTrust: values['workspace-trust'],
    screenshot: values.screenshot,
    serverUrl: values['server-url'],
    env: parseEnvPairs(values.env),
    skipInstall: values['skip-install'],
  });
  process.exit(result.failed === 0 && result.exitCode === 0 ? 0 : 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Exit through process.exit so the servers and browsers still running are cleaned up.
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));
  main().catch((e) => {
    console.error(e?.stack ?? e);
    process.exit(1);
  });
}
