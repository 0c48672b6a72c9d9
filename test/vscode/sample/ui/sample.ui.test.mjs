// UI tests of the harness sample, in headless Chromium against the real workbench (run by run.mjs).
import assert from 'node:assert/strict';
import {
  getHarness,
  openWorkbench,
  paletteMatches,
  runCommand,
  screenshot,
  statusBarItem,
  waitForTab,
  webviewFrame,
} from '../../ui.mjs';
import { startServer } from '../../server.mjs';

suite('harness sample (UI)', () => {
  let wb;
  setup(async () => {
    wb = await openWorkbench();
  });
  teardown(async function () {
    await wb?.screenshotIfFailed(this.currentTest);
    await wb?.close();
  });

  test('command palette opens the webview', async () => {
    await runCommand(wb.page, 'Harness Sample: Say Hello');
    const greeting = webviewFrame(wb.page).locator('#greeting');
    await greeting.waitFor({ timeout: 30_000 });
    assert.equal(await greeting.textContent(), 'Hello from the harness sample');
    // The title changes only after the webview's message reached the extension host.
    await waitForTab(wb.page, 'Harness Sample (ready)');
    const file = await screenshot(wb.page, 'harness-sample-webview');
    await screenshot(wb.page.locator('iframe.webview.ready'), 'harness-sample-webview-only');
    assert.ok(file.endsWith('.png'));
  });
});

suite('harness sample (UI, restricted mode)', () => {
  let server;
  let wb;
  suiteSetup(async () => {
    const h = getHarness();
    // Trust enabled and a folder nobody trusted: VS Code opens it in Restricted Mode.
    server = await startServer({ vsix: h.vsix, workspaceTrust: true });
    wb = await openWorkbench({ server, folder: h.workspace, extensionPath: h.extensionPath });
  });
  suiteTeardown(async () => {
    await wb?.close();
    await server?.stop();
  });
  teardown(async function () {
    await wb?.screenshotIfFailed(this.currentTest);
  });

  test('an untrusted folder opens in Restricted Mode, without the sample', async () => {
    await statusBarItem(wb.page, 'Restricted Mode').waitFor({ timeout: 30_000 });
    // The sample declares no untrustedWorkspaces capability, so VS Code keeps it disabled here.
    assert.deepEqual(await paletteMatches(wb.page, 'Harness Sample'), []);
    await screenshot(wb.page, 'harness-sample-restricted-mode');
  });
});
