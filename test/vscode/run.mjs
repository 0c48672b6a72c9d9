// One entry for the VS Code tests: installs the host if needed, runs the extension-host suite, then the
// Playwright UI tests, and ends with `N passed, N failed`. It builds nothing: hand it a packaged .vsix
// (or a built extension folder) and the compiled test index.
//
//   node test/vscode/run.mjs (--vsix <file> | --extension <dir>) [--tests <compiled index.js>]
//        [--ui <*.ui.test.mjs file or folder>]... [--workspace <dir>] [--results <dir>]
//        [--grep <pattern>] [--timeout <ms>] [--ui-timeout <ms per test>] [--workspace-trust] [--skip-install] [--no-ui] [--no-host]
//        [--env KEY=VALUE]...
//
// Results: <results>/host.json, <results>/host.log, <results>/ui.json and <results>/summary.json
// ({ passed, failed, suites: { host, ui }, timings }); default <repo>/test-results/vscode.
// Screenshots: <repo>/test-results/screenshots/. Exit code 0 when nothing failed.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import Mocha from 'mocha';
import { runExthostSuite } from './run-exthost.mjs';
import { ensureInstalled, repoRoot, startServer } from './server.mjs';
import { setHarness } from './ui.mjs';

function uiFiles(entries) {
  const files = [];
  for (const entry of entries) {
    const abs = path.resolve(entry);
    if (!existsSync(abs)) throw new Error(`no such UI test file or folder: ${abs}`);
    if (statSync(abs).isDirectory()) {
      for (const f of readdirSync(abs, { recursive: true }).sort()) {
        if (String(f).endsWith('.ui.test.mjs')) files.push(path.join(abs, String(f)));
      }
    } else {
      files.push(abs);
    }
  }
  return files;
}

/** Runs UI test files with mocha in this process against a server started for them. */
async function runUiTests({ files, vsix, extension, workspace, workspaceTrust, env, grep, timeoutMs }) {
  const t0 = Date.now();
  const server = await startServer({ vsix: vsix ? [vsix] : [], workspaceTrust, env });
  console.log(`[ui] VS Code server ready in ${server.startMs} ms on ${server.base}`);
  setHarness({ server, workspace, vsix: vsix ? [path.resolve(vsix)] : [], extensionPath: vsix ? undefined : extension });
  const failures = [];
  let stats;
  try {
    const mocha = new Mocha({ ui: 'tdd', timeout: timeoutMs, color: !process.env.CI && process.stdout.isTTY, reporter: 'spec' });
    if (grep) mocha.grep(grep);
    for (const f of files) mocha.addFile(f);
    await mocha.loadFilesAsync();
    stats = await new Promise((resolve) => {
      const runner = mocha.run(() => resolve(runner.stats));
      runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, (test, err) => failures.push({ title: test.fullTitle(), error: String(err?.message ?? err) }));
    });
    mocha.dispose();
  } catch (e) {
    failures.push({ title: '(UI test run)', error: String(e?.stack ?? e) });
    console.error(`[ui] ${e?.stack ?? e}`);
  } finally {
    await server.stop();
  }
  const failed = Math.max(stats?.failures ?? 0, failures.length);
  return { passed: stats?.passes ?? 0, failed, pending: stats?.pending ?? 0, failures, durationMs: Date.now() - t0 };
}

export async function runAll(opts) {
  const resultsDir = path.resolve(opts.results ?? path.join(repoRoot, 'test-results/vscode'));
  mkdirSync(resultsDir, { recursive: true });
  const timings = {};
  const suites = {};

  if (!opts.skipInstall) {
    const t = Date.now();
    ensureInstalled({ quiet: true });
    timings.installMs = Date.now() - t;
  }
  if (opts.vsix && !existsSync(opts.vsix)) throw new Error(`no such .vsix: ${opts.vsix}`);
  if (opts.extension && !existsSync(path.join(opts.extension, 'package.json'))) throw new Error(`no package.json in ${opts.extension}`);

  let tmpWorkspace;
  let workspace = opts.workspace ? path.resolve(opts.workspace) : undefined;
  if (!workspace) workspace = tmpWorkspace = mkdtempSync(path.join(os.tmpdir(), 'vscode-test-workspace-'));

  try {
    if (opts.tests && opts.host !== false) {
      console.log('\n== vscode: extension host');
      const t = Date.now();
      suites.host = await runExthostSuite({
        tests: opts.tests,
        vsix: opts.vsix,
        extension: opts.vsix ? undefined : opts.extension,
        workspace,
        workspaceTrust: opts.workspaceTrust,
        env: opts.env,
        grep: opts.grep,
        timeoutMs: opts.timeoutMs,
        results: path.join(resultsDir, 'host.json'),
        skipInstall: true,
      });
      timings.hostMs = Date.now() - t;
    }
    const files = opts.ui?.length && opts.uiEnabled !== false ? uiFiles(opts.ui) : [];
    if (files.length > 0) {
      console.log('\n== vscode: UI');
      suites.ui = await runUiTests({
        files,
        vsix: opts.vsix,
        extension: opts.extension ? path.resolve(opts.extension) : undefined,
        workspace,
        workspaceTrust: opts.workspaceTrust,
        env: opts.env,
        grep: opts.grep,
        timeoutMs: opts.uiTimeoutMs ?? 120_000,
      });
      timings.uiMs = suites.ui.durationMs;
      writeFileSync(path.join(resultsDir, 'ui.json'), JSON.stringify(suites.ui, null, 2) + '\n');
    }
  } finally {
    if (tmpWorkspace) rmSync(tmpWorkspace, { recursive: true, force: true });
  }

  const total = { passed: 0, failed: 0, pending: 0 };
  for (const s of Object.values(suites)) {
    total.passed += s.passed;
    total.failed += s.failed;
    total.pending += s.pending ?? 0;
  }
  if (Object.keys(suites).length === 0) total.failed = 1; // nothing ran: a misconfigured call, not a pass
  const summary = { ...total, suites, timings };
  writeFileSync(path.join(resultsDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');

  console.log('');
  for (const [name, s] of Object.entries(suites)) {
    console.log(`vscode ${name}: ${s.passed} passed, ${s.failed} failed${s.pending ? `, ${s.pending} pending` : ''} (${(s.durationMs / 1000).toFixed(1)} s)`);
    for (const f of s.failures ?? []) console.log(`  FAILED ${f.title}: ${f.error.split('\n')[0]}`);
  }
  const t = Object.entries(timings).map(([k, v]) => `${k.replace(/Ms$/, '')} ${(v / 1000).toFixed(1)} s`).join(', ');
  if (t) console.log(`timings: ${t}`);
  console.log(`${total.passed} passed, ${total.failed} failed${total.pending ? `, ${total.pending} pending` : ''}`);
  return summary;
}

export function parseRunArgs(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      vsix: { type: 'string' },
      extension: { type: 'string' },
      tests: { type: 'string' },
      ui: { type: 'string', multiple: true, default: [] },
      workspace: { type: 'string' },
      results: { type: 'string' },
      grep: { type: 'string' },
      timeout: { type: 'string', default: String(5 * 60_000) },
      'ui-timeout': { type: 'string', default: String(120_000) },
      'workspace-trust': { type: 'boolean', default: false },
      'skip-install': { type: 'boolean', default: false },
      'no-ui': { type: 'boolean', default: false },
      'no-host': { type: 'boolean', default: false },
      env: { type: 'string', multiple: true, default: [] },
    },
  });
  if (!values.vsix && !values.extension) throw new Error('pass --vsix <file> or --extension <dir>');
  return {
    vsix: values.vsix ? path.resolve(values.vsix) : undefined,
    extension: values.extension ? path.resolve(values.extension) : undefined,
    tests: values.tests,
    ui: values.ui,
    workspace: values.workspace,
    results: values.results,
    grep: values.grep,
    timeoutMs: Number(values.timeout),
    uiTimeoutMs: Number(values['ui-timeout']),
    workspaceTrust: values['workspace-trust'],
    skipInstall: values['skip-install'],
    uiEnabled: !values['no-ui'],
    host: !values['no-host'],
    env: Object.fromEntries(values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Exit through process.exit so the servers and browsers still running are cleaned up.
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));
  let opts;
  try {
    opts = parseRunArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`run.mjs: ${e.message}`);
    console.error('usage: node test/vscode/run.mjs (--vsix <file> | --extension <dir>) [--tests <index.js>] [--ui <file|dir>]... [--workspace <dir>]');
    process.exit(2);
  }
  runAll(opts).then(
    (s) => process.exit(s.failed > 0 ? 1 : 0),
    (e) => {
      console.error(e?.stack ?? e);
      process.exit(1);
    },
  );
}
