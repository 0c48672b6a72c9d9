// A seed file with bad rows, run from the palette in the real workbench: the editor asks first (a modal with Run
// Anyway and Show Problems). Show Problems shows the rows in the Problems panel and runs nothing; Run Anyway runs the
// good rows. Screenshots: test-results/screenshots/svd-skipped-rows-*.png.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getHarness, openWorkbench, runCommand, screenshot, waitForTab } from '../ui.mjs';

const RUN_TITLE = 'SVD: Run Self-Verified Distillation on This File';
const FILE = 'ask-first-seeds.jsonl';

async function until(what, probe, timeoutMs = 30_000, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** The run folders of the file (ids are `<file stem>-<hash>`). */
function runsOfFile(workspace) {
  const runs = path.join(workspace, '.svd', 'runs');
  return existsSync(runs) ? readdirSync(runs).filter((name) => name.startsWith('ask-first-seeds-')).map((name) => path.join(runs, name)) : [];
}

suite('a seed file with bad rows', () => {
  let wb;
  let workspace;
  suiteSetup(async () => {
    workspace = getHarness().workspace;
    // The fixture's rows under a name no other test runs: the scripted server knows their questions.
    copyFileSync(path.join(workspace, 'bad-rows-seeds.jsonl'), path.join(workspace, FILE));
    wb = await openWorkbench();
  });
  suiteTeardown(async () => {
    await wb?.close();
  });
  teardown(async function () {
    await wb?.screenshotIfFailed(this.currentTest);
  });

  test('asks before running: Show Problems lists the rows and runs nothing; Run Anyway runs the good rows', async () => {
    const { page } = wb;
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(FILE);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: FILE }).first().waitFor();
    await page.keyboard.press('Enter');
    await waitForTab(page, FILE);
    // The run command takes the active editor's file. The extension host hears of the new editor and its document in
    // one update, so once the file's lens is drawn it knows the editor too; run earlier on a busy machine, the
    // command found no active editor and asked for a file.
    await page.locator('.codelens-decoration', { hasText: 'Run Self-Verified Distillation' }).first().waitFor({ timeout: 30_000 });

    const dialog = page.locator('.monaco-dialog-box');
    await runCommand(page, RUN_TITLE);
    await dialog.filter({ hasText: `3 of 8 rows of ${FILE} are no usable seeds` }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'svd-skipped-rows-question');
    await dialog.locator('.monaco-button', { hasText: 'Show Problems' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    // The Problems panel, with the file's three rows.
    const markers = page.locator('.markers-panel .monaco-list-row');
    await markers.filter({ hasText: 'unknown domain "art"' }).first().waitFor({ timeout: 20_000 });
    const texts = (await markers.allInnerTexts()).join('\n');
    for (const said of ['unknown domain "art"', 'no domain', 'the question is empty']) assert.ok(texts.includes(said), `the Problems panel lacks "${said}":\n${texts}`);
    await screenshot(page, 'svd-skipped-rows-problems');
    assert.deepEqual(runsOfFile(workspace), [], 'Show Problems started a run');

    await (await waitForTab(page, FILE)).click();
    await runCommand(page, RUN_TITLE);
    await dialog.filter({ hasText: '3 of 8 rows' }).waitFor({ timeout: 30_000 });
    await dialog.locator('.monaco-button', { hasText: 'Run Anyway' }).click();
    const [dir] = await until('the run folder', () => runsOfFile(workspace).length === 1 && runsOfFile(workspace), 60_000);
    await until('the run to finish', () => {
      const file = path.join(dir, 'events.jsonl');
      return existsSync(file) && readFileSync(file, 'utf8').includes('"state":"finished"');
    }, 60_000);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8'));
    assert.deepEqual([manifest.seedFile.rows, manifest.seedFile.skippedRows], [5, 3]);
  });
});
