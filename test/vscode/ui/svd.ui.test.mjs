// The extension in the real workbench (headless Chromium), against the workspace and scripted server that
// test/vscode/run-project.mjs prepared: the palette, a run started from it, the Runs view, the review, training from
// the review, the endpoint picker, and Restricted Mode. Screenshots go to test-results/screenshots/svd-*.png.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { getHarness, openWorkbench, paletteMatches, runCommand, screenshot, statusBarItem, waitForTab, webviewFrame } from '../ui.mjs';
import { spawnSync } from 'node:child_process';
import { startServer } from '../server.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const RUN_TITLE = 'SVD: Run Self-Verified Distillation on This File';
const REVIEW_TITLE = 'SVD: Open Run Review';

/** Polls `probe` (sync or async) until it returns something truthy. */
async function until(what, probe, timeoutMs = 30_000, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** Palette labels for `query`, asked again until `accept(labels)` holds (contributions arrive late). */
async function paletteUntil(page, query, accept, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const labels = await paletteMatches(page, query, { settleMs: 1_000 });
    if (accept(labels) || Date.now() > deadline) return labels;
  }
}

/** The run folders of `seedFile` (ids are `<file stem>-<hash>`) under the workspace's runs folder. */
function runsOf(workspace, stem) {
  const runs = path.join(workspace, '.svd', 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs).filter((name) => name.startsWith(`${stem}-`)).map((name) => path.join(runs, name));
}

function runStates(dir) {
  const file = path.join(dir, 'events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        const event = JSON.parse(line);
        return event.type === 'run' ? [event.state] : [];
      } catch {
        return []; // a line being written
      }
    });
}

suite('SVD in the workbench', () => {
  let wb;
  let workspace;
  suiteSetup(async () => {
    workspace = getHarness().workspace;
    wb = await openWorkbench();
  });
  suiteTeardown(async () => {
    await wb?.close();
  });
  teardown(async function () {
    await wb?.screenshotIfFailed(this.currentTest);
    await wb?.page.keyboard.press('Escape');
  });

  test('the command palette lists the run command', async () => {
    const labels = await paletteUntil(wb.page, RUN_TITLE, (found) => found.length > 0);
    assert.ok(labels.some((label) => label.includes(RUN_TITLE)), `palette: ${JSON.stringify(labels)}`);
  });

  test('a run started from the palette shows progress, then the finished run in the Runs view', async () => {
    const { page } = wb;
    assert.deepEqual(runsOf(workspace, 'ui-seeds'), [], 'ui-seeds.jsonl has a run already');
    // Open the seed file through Quick Open, then run the command on the active editor.
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('ui-seeds.jsonl');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'ui-seeds.jsonl' }).first().waitFor();
    await page.keyboard.press('Enter');
    await waitForTab(page, 'ui-seeds.jsonl');
    await runCommand(page, RUN_TITLE);

    // In progress: the status bar item and the progress notification count seeds, while the record says the run
    // started and has not ended. (This headless workbench shows no toasts: the notification is read in the
    // notification center.)
    await statusBarItem(page, 'accepted').filter({ hasText: /SVD \d+\/60/ }).waitFor({ timeout: 30_000 });
    await page.locator('.statusbar-item[id*="notifications"]').first().click();
    const center = page.locator('.notifications-center');
    await center.filter({ hasText: 'SVD: ui-seeds.jsonl' }).filter({ hasText: /\d+\/60 seeds/ }).waitFor({ timeout: 15_000 });
    const [dir] = await until('the run folder', () => runsOf(workspace, 'ui-seeds').length === 1 && runsOf(workspace, 'ui-seeds'));
    const during = runStates(dir);
    await screenshot(page, 'svd-run-in-progress');
    assert.deepEqual(during, ['started'], 'the run had ended before the screenshot');
    await center.locator('.codicon-notifications-hide').first().click();
    await center.waitFor({ state: 'hidden', timeout: 5_000 });

    await until('the run to finish', () => runStates(dir).includes('finished'), 60_000);
    const runId = path.basename(dir);

    // The Runs view, from the activity bar.
    await page.locator('.activitybar .action-item a[aria-label^="Self-Verified Distillation"]').first().click();
    const row = page.locator('.pane-body .monaco-list-row', { hasText: runId }).first();
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await row.filter({ hasText: 'finished' }).filter({ hasText: '60/60 seeds' }).waitFor({ timeout: 20_000 });
    await row.click();
    await page.keyboard.press('ArrowRight');
    await page.locator('.pane-body .monaco-list-row', { hasText: '60 of 60 done' }).first().waitFor({ timeout: 20_000 });
    await screenshot(page, 'svd-runs-tree');
    assert.match((await row.innerText()).replace(/\s+/g, ' '), /finished · 60\/60 seeds · 60 accepted/);
  });

  test('the review of the finished run: one override from the UI reaches the run and the export', async () => {
    const { page } = wb;
    const [dir] = runsOf(workspace, 'ui-seeds');
    assert.ok(dir, 'the previous test left a finished run');
    const runId = path.basename(dir);
    await runCommand(page, REVIEW_TITLE);
    const pick = page.locator('.quick-input-widget .monaco-list-row', { hasText: runId }).first();
    await pick.waitFor({ timeout: 15_000 });
    await pick.click();
    await waitForTab(page, `Review: ${runId}`);
    const frame = webviewFrame(page);
    const reject = frame.locator('button.act[data-act="reject"]').first();
    await reject.waitFor({ timeout: 30_000 });
    await screenshot(page, 'svd-review');
    await reject.click();
    const overrides = path.join(dir, 'overrides.jsonl');
    const recorded = await until('the override in the run', () => {
      if (!existsSync(overrides)) return false;
      const lines = readFileSync(overrides, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      return lines.find((e) => e.type === 'override' && e.action === 'reject');
    });
    await screenshot(page, 'svd-review-override');
    // The export honours it: one answer fewer than the judges accepted.
    const out = path.join(workspace, 'review-export.jsonl');
    const exported = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'export', dir, '--format', 'openai', '--out', out], { encoding: 'utf8' });
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 59, `rejected ${recorded.candidateId} by hand`);
  });

  test('Start training from the review: the trainer runs in a terminal, the review charts its loss, the Runs view shows it', async () => {
    const { page } = wb;
    const [dir] = runsOf(workspace, 'ui-seeds');
    assert.ok(dir, 'an earlier test left a finished run');
    const runId = path.basename(dir);
    const settingsFile = path.join(workspace, '.vscode', 'settings.json');
    const settingsBefore = readFileSync(settingsFile, 'utf8');
    // The stand-in trainer that prints TRL's log; the terminal drawn as DOM text, so that it can be read.
    const trainer = ['python3', path.join(ROOT, 'test/fixtures/fake-trainer.py'), '--data', '{data}', '--out', '{output}'];
    const settings = { ...JSON.parse(settingsBefore), 'svd.train.customCommand': trainer, 'terminal.integrated.gpuAcceleration': 'off' };
    writeFileSync(settingsFile, JSON.stringify(settings, null, 2) + '\n');
    const record = path.join(dir, 'training.json');
    const recordAt = () => (existsSync(record) ? JSON.parse(readFileSync(record, 'utf8')).startedAt : undefined);
    const before = recordAt();
    try {
      await (await waitForTab(page, `Review: ${runId}`)).click();
      const frame = webviewFrame(page);
      const train = frame.locator('#train');
      const widget = page.locator('.quick-input-widget');
      const input = widget.locator('input');
      // The workbench reads the changed settings file a moment later; until then the custom trainer has no command
      // (and says so): start again until the training has a record of its own.
      for (let attempt = 1; ; attempt++) {
        await until('Start training to be enabled', async () => (await train.count()) > 0 && !(await train.evaluate((el) => el.hasAttribute('disabled'))));
        await train.click();
        await widget.locator('.monaco-list-row', { hasText: 'Custom command' }).first().click();
        await until('the base model, filled in with the run\'s model', async () => (await input.inputValue().catch(() => '')) === 'svd-test');
        await page.keyboard.press('Enter');
        const started = await until('the training to start', () => recordAt() !== before, 5_000).then(() => true, () => false);
        if (started) break;
        if (attempt === 3) assert.fail('the training never started');
        await page.keyboard.press('Escape');
      }

      // The task's terminal shows the trainer's own output.
      const terminal = page.locator('.terminal-wrapper .xterm-rows');
      await until('the trainer\'s output in the terminal', async () => /READY/.test((await terminal.allInnerTexts().catch(() => [])).join('\n')), 30_000);
      assert.match((await terminal.allInnerTexts()).join('\n'), /'loss': 0\.7/);
      await screenshot(page, 'svd-train-terminal');

      await until('the training record to say it succeeded', () => {
        const file = path.join(dir, 'training.json');
        return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).status === 'succeeded';
      });
      // The review follows the run's training: status and the loss chart.
      await frame.locator('.training[data-status="succeeded"] .loss-chart[data-points="3"]').waitFor({ timeout: 15_000 });
      assert.match(await frame.locator('.training-summary').innerText(), /succeeded → train\/output/);
      await screenshot(page, 'svd-review-training');

      // The Runs view: the run's Training line. (The activity bar's item toggles the side bar: only when hidden.)
      const runRow = page.locator('.pane-body .monaco-list-row', { hasText: runId }).first();
      if (!(await runRow.isVisible())) await page.locator('.activitybar .action-item a[aria-label^="Self-Verified Distillation"]').first().click();
      await runRow.waitFor({ state: 'visible', timeout: 20_000 });
      const trainingRow = page.locator('.pane-body .monaco-list-row', { hasText: 'Training' }).filter({ hasText: 'succeeded → train/output' });
      if ((await trainingRow.count()) === 0 && (await runRow.getAttribute('aria-expanded')) !== 'true') {
        await runRow.click();
        await page.keyboard.press('ArrowRight');
      }
      await trainingRow.first().waitFor({ timeout: 20_000 });
      await screenshot(page, 'svd-runs-training');
    } finally {
      writeFileSync(settingsFile, settingsBefore);
    }
  });

  test('SVD: Select Model Endpoint offers the embedded engine, servers and a custom URL', async () => {
    const { page } = wb;
    const settingsFile = path.join(workspace, '.vscode', 'settings.json');
    const settingsBefore = readFileSync(settingsFile, 'utf8');
    await runCommand(page, 'SVD: Select Model Endpoint');
    const widget = page.locator('.quick-input-widget');
    await widget.locator('.quick-input-title', { hasText: 'Select Model Endpoint' }).waitFor({ timeout: 15_000 });
    const rows = widget.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'Custom URL' }).first().waitFor();
    // The servers are probed while the list is open: wait until none says "checking…" any more.
    await until('the endpoint probes', async () => !(await widget.innerText()).includes('checking…'), 15_000).catch(() => undefined);
    await screenshot(page, 'svd-select-endpoint');
    const labels = await rows.evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? el.textContent ?? ''));
    for (const expected of ['Embedded engine', 'Ollama', 'vLLM', 'Custom URL']) {
      assert.ok(labels.some((label) => label.includes(expected)), `no "${expected}" in ${JSON.stringify(labels)}`);
    }
    await page.keyboard.press('Escape');
    await widget.waitFor({ state: 'hidden' });
    assert.equal(readFileSync(settingsFile, 'utf8'), settingsBefore, 'dismissing the picker changed the settings');
  });
});

suite('SVD in Restricted Mode', () => {
  let server;
  let wb;
  suiteSetup(async () => {
    const h = getHarness();
    // Workspace trust on and a folder nobody trusted: VS Code opens it in Restricted Mode.
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

  test('the run command is gone from the palette, the review command is there', async () => {
    await statusBarItem(wb.page, 'Restricted Mode').waitFor({ timeout: 30_000 });
    // The review command first: once it is listed, the extension's contributions have arrived.
    const review = await paletteUntil(wb.page, REVIEW_TITLE, (found) => found.length > 0);
    assert.ok(review.some((label) => label.includes(REVIEW_TITLE)), `palette: ${JSON.stringify(review)}`);
    assert.deepEqual(await paletteMatches(wb.page, RUN_TITLE), []);
    assert.deepEqual(await paletteMatches(wb.page, 'SVD: Resume Run'), []);
    // The palette's SVD commands as Restricted Mode leaves them.
    await wb.page.keyboard.press('F1');
    const input = wb.page.locator('.quick-input-widget input');
    await input.fill('>SVD: ');
    await wb.page.locator('.quick-input-widget .monaco-list-row', { hasText: REVIEW_TITLE }).first().waitFor();
    await screenshot(wb.page, 'svd-restricted-mode');
    await wb.page.keyboard.press('Escape');
  });
});

suite('the review in a laptop-sized window (1100x680)', () => {
  let wb;
  suiteSetup(async () => {
    wb = await openWorkbench({ viewport: { width: 1100, height: 680 } });
  });
  suiteTeardown(async () => {
    await wb?.close();
  });
  teardown(async function () {
    await wb?.screenshotIfFailed(this.currentTest);
  });

  test("the audit's rows show whole in the summary and the list keeps its room (measured in the webview)", async () => {
    const { page } = wb;
    const { workspace } = getHarness();
    // A run of the labeled seed file (gold answers: the summary has an audit), through the CLI and the test server.
    const settings = JSON.parse(readFileSync(path.join(workspace, '.vscode', 'settings.json'), 'utf8'));
    const cli = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'dist/cli.js'), 'run', path.join(workspace, 'labeled.jsonl'),
        '--base-url', settings['svd.endpoint.baseUrl'], '--model', settings['svd.endpoint.model'], '--prompts', settings['svd.promptsFolder'],
        '--candidates', '2', '--votes', '2', '--runs-dir', path.join(workspace, '.svd', 'runs'), '--run', 'laptop-audit', '--json',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const { runId } = JSON.parse(cli.stdout.trim().split('\n').at(-1));
    await runCommand(page, REVIEW_TITLE);
    const pick = page.locator('.quick-input-widget .monaco-list-row', { hasText: runId }).first();
    await pick.waitFor({ timeout: 15_000 });
    await pick.click();
    await waitForTab(page, `Review: ${runId}`);
    const frame = webviewFrame(page);
    await frame.locator('.summary .audit tr[data-audit="overall"]').waitFor({ timeout: 30_000 });
    await frame.locator('#list[aria-busy="false"] .cand-row').first().waitFor();
    await page.waitForTimeout(500);

    // VS Code's light theme, then its dark one (a workspace setting, put back after).
    const settingsFile = path.join(workspace, '.vscode', 'settings.json');
    const settingsBefore = readFileSync(settingsFile, 'utf8');
    const THEMES = { light: 'Default Light Modern', dark: 'Default Dark Modern' };
    try {
      for (const theme of ['light', 'dark']) {
        writeFileSync(settingsFile, JSON.stringify({ ...settings, 'workbench.colorTheme': THEMES[theme] }, null, 2) + '\n');
        await until(`the ${theme} theme in the webview`, () => frame.locator('body').evaluate((body, t) => body.classList.contains(`vscode-${t}`), theme), 30_000, 250);
        await page.locator(`.monaco-workbench.${theme === 'dark' ? 'vs-dark' : 'vs'}`).waitFor({ timeout: 15_000 });
        await page.waitForTimeout(500);
        const m = await measureReview(frame);
        // The editor part: the panel as the window shows it (the workbench's own parts repaint late after a theme change).
        await screenshot(page.locator('.part.editor'), `review-vscode-1100x680-${theme}`);
        const what = `${theme}: ${JSON.stringify(m)}`;
        assert.ok(m.width > 500 && m.height > 400, `the webview: ${what}`);
        assert.deepEqual(m.rows.map((r) => r.key), ['cycle', 'factuality', 'correctness', 'overall'], what);
        for (const r of m.rows) assert.ok(r.top >= m.summary.top && r.bottom <= m.summary.bottom && r.own, `audit row ${r.key} shows whole: ${what}`);
        assert.ok(m.summary.height <= 0.41 * m.height, `the summary takes at most 40%: ${what}`);
        assert.ok(m.list.height >= 200 && m.list.height >= 0.35 * m.height, `the list keeps its room: ${what}`);
        assert.ok(m.audit.overflowX <= 0 && m.pageOverflowX <= 0, `nothing cut sideways: ${what}`);
      }
    } finally {
      writeFileSync(settingsFile, settingsBefore);
    }
  });
});

/** Boxes in the review's webview: the summary, the list, the audit and each of its rows (whole and not covered). */
function measureReview(frame) {
  return frame.locator('body').evaluate((body) => {
    // In the webview's page: its document is the body's.
    const document = body.ownerDocument;
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, height: r.height, overflowX: el.scrollWidth - el.clientWidth };
    };
    const rows = [...document.querySelectorAll('.summary .audit tr[data-audit]')].map((tr) => {
      const r = tr.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return { key: tr.dataset.audit, top: r.top, bottom: r.bottom, own: tr.contains(hit) };
    });
    return {
      width: document.documentElement.clientWidth,
      height: document.documentElement.clientHeight,
      summary: box(document.querySelector('.summary-host')),
      list: box(document.querySelector('#list')),
      audit: box(document.querySelector('.summary .audit')),
      rows,
      pageOverflowX: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    };
  });
}
