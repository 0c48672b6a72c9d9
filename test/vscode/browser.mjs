// Headless Debian Chromium for the VS Code workbench, driven by playwright-core (no browser download).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Offline-friendly flags: no sandbox (root in CI), no GPU, no background calls home.
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

// Profiles of browsers still open; removed at exit even when a test timed out without closing its browser.
const profiles = new Set();
process.once('exit', () => {
  for (const p of profiles) rmSync(p, { recursive: true, force: true });
});

/** A fresh-profile persistent context (one page). close() also removes the profile. */
export async function launchBrowser({ viewport = { width: 1280, height: 800 }, headless = !process.env.VSCODE_TEST_HEADED } = {}) {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'vscode-test-chromium-'));
  profiles.add(profile);
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless,
      args: chromiumArgs,
      viewport,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    profiles.delete(profile);
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
      profiles.delete(profile);
    },
  };
}
