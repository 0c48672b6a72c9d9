// Helpers for Playwright UI tests against the real VS Code workbench (code-server's VS Code server, Debian
// Chromium). UI test files are mocha (tdd) modules named *.ui.test.mjs, run in plain Node by run.mjs, which
// starts a server with the extension under test and shares it here (setHarness). Standalone, point
// VSCODE_TEST_SERVER_URL (and VSCODE_TEST_WORKSPACE) at a server started with `node test/vscode/server.mjs`.
//
//   const wb = await openWorkbench();                     // shared server, shared workspace folder
//   await runCommand(wb.page, 'My Extension: Open Panel'); // F1, type, retry until it is contributed
//   await webviewFrame(wb.page).locator('h1').waitFor();
//   await screenshot(wb.page, 'panel-open');               // test-results/screenshots/panel-open.png
//   await wb.close();
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser } from './browser.mjs';
import { attachServer, repoRoot } from './server.mjs';

export const screenshotsDir = process.env.VSCODE_TEST_SCREENSHOTS ?? path.join(repoRoot, 'test-results/screenshots');

let harness;

/** Set by run.mjs: { server, workspace, vsix: [...], extensionPath? } (extensionPath: a dev folder, no .vsix). */
export function setHarness(value) {
  harness = value;
}

export function getHarness() {
  if (harness) return harness;
  if (process.env.VSCODE_TEST_SERVER_URL) {
    harness = {
      server: attachServer(process.env.VSCODE_TEST_SERVER_URL),
      workspace: process.env.VSCODE_TEST_WORKSPACE,
      vsix: process.env.VSCODE_TEST_VSIX ? [process.env.VSCODE_TEST_VSIX] : [],
      extensionPath: process.env.VSCODE_TEST_EXTENSION_PATH,
    };
    return harness;
  }
  throw new Error('no VS Code server: run UI tests through test/vscode/run.mjs, or set VSCODE_TEST_SERVER_URL');
}

/**
 * Opens the workbench in a fresh headless Chromium. Options: server, folder (default: the harness
 * workspace; null for an empty window), extensionPath (loaded as a development extension), waitForExplorer
 * (default true when a folder is open), viewport. Returns { page, context, server, url, errors, close,
 * screenshotIfFailed }.
 */
export async function openWorkbench(opts = {}) {
  const h = opts.server ? undefined : getHarness();
  const server = opts.server ?? h.server;
  const folder = opts.folder === undefined ? h?.workspace : opts.folder;
  const extensionPath = opts.extensionPath ?? h?.extensionPath;
  const payload = [['skipWelcome', 'true'], ['skipReleaseNotes', 'true']];
  if (extensionPath) payload.push(['extensionDevelopmentPath', await server.remoteUri(extensionPath)]);
  const url = server.workbenchUrl(folder, payload);

  const browser = await launchBrowser({ viewport: opts.viewport });
  const { page, context } = browser;
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (process.env.VSCODE_TEST_DEBUG) page.on('console', (m) => console.log(`[page ${m.type()}] ${m.text().slice(0, 300)}`));
  try {
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    if (folder && opts.waitForExplorer !== false) {
      // The explorer lists the folder's files once the remote file system is connected; an empty folder
      // only gets its pane header.
      const explorer = readdirSync(folder).length > 0
        ? page.locator('.explorer-folders-view .monaco-list-row').first()
        : page.locator('.sidebar .pane-header', { hasText: path.basename(folder) }).first();
      await explorer.waitFor({ timeout: 60_000 });
    }
  } catch (e) {
    await screenshot(page, `open-workbench-failed-${Date.now()}`).catch(() => {});
    await browser.close();
    throw e;
  }
  return {
    page,
    context,
    server,
    url,
    errors,
    close: () => browser.close(),
    /** For teardown(): `await wb.screenshotIfFailed(this.currentTest)`. */
    async screenshotIfFailed(test) {
      if (test?.state !== 'failed') return undefined;
      return screenshot(page, `FAILED-${test.fullTitle()}`).catch(() => undefined);
    },
  };
}

/**
 * Runs a command from the command palette by its title. Contributed commands reach the palette a moment
 * after the workbench shows, so it retries until `timeoutMs`.
 */
export async function runCommand(page, title, { timeoutMs = 45_000 } = {}) {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: title }).first();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ state: 'visible', timeout: 2_000 });
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`command "${title}" never appeared in the palette`, { cause: e });
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1_000);
    }
  }
  await row.click();
  await input.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
}

/**
 * Labels of the palette's commands matching `query`, read after `settleMs` (for asserting that a command
 * is absent: give contributions time to arrive first). Leaves the palette closed.
 */
export async function paletteMatches(page, query, { settleMs = 3_000 } = {}) {
  const input = page.locator('.quick-input-widget input');
  await page.keyboard.press('F1');
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`>${query}`);
  await page.waitForTimeout(settleMs);
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  const labels = [];
  for (const row of await rows.all()) labels.push((await row.getAttribute('aria-label')) ?? (await row.innerText()));
  await page.keyboard.press('Escape');
  return labels.filter((l) => l.toLowerCase().includes(query.toLowerCase()));
}

/** The content frame of the active webview (the outer iframe hosts VS Code's webview shell). */
export function webviewFrame(page) {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/** Waits for an editor tab whose title contains `title`. */
export async function waitForTab(page, title, { timeoutMs = 30_000 } = {}) {
  const tab = page.locator('.tabs-container .tab', { hasText: title }).first();
  await tab.waitFor({ state: 'visible', timeout: timeoutMs });
  return tab;
}

/** A status bar entry whose text contains `text`. */
export function statusBarItem(page, text) {
  return page.locator('.statusbar-item', { hasText: text }).first();
}

/** Screenshot of a page or locator into test-results/screenshots/<name>.png; returns the path. */
export async function screenshot(target, name) {
  mkdirSync(screenshotsDir, { recursive: true });
  const file = path.join(screenshotsDir, `${name.replace(/[^\w.-]+/g, '_').slice(0, 120)}.png`);
  await target.screenshot({ path: file });
  return file;
}
