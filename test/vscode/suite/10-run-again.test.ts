// What a new user meets: a finished run run again with its server down stays finished and is opened; exported data
// opened in the editor is no seed file (no problems, no lenses); a file with bad rows runs its good rows and says
// how many it skipped. (The question asked before such a run is clicked in ui/skipped-rows.ui.test.mjs.)
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { methodHandler, startScriptedServer, type SeedScript } from '../../fixtures/scripted-server';
import { api, commandValue, fixture, readEvents, seedFile, waitFor, withSetting, workspaceRoot, type RunOutcome } from './helpers';

/** The scripts of a fixture seed file's rows, as the fixture server builds them (serve-scripted.ts). */
function scriptsOf(file: string): SeedScript[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { question: string; script?: Omit<SeedScript, 'question'> })
    .map((row) => ({ ...(row.script ?? {}), question: row.question }));
}

function reviewTabOpen(runId: string): boolean {
  return vscode.window.tabGroups.all.flatMap((group) => group.tabs).some((tab) => tab.label === `Review: ${runId}`);
}

suite('run again, exports, bad rows', function () {
  this.timeout(120_000);

  test('a finished run run again with its server down stays finished, is opened, and the Runs view says finished', async () => {
    const svd = await api();
    // A file of its own, so that no other test's run of these seeds is found; a server of its own, to stop.
    const file = path.join(workspaceRoot(), 'rerun-seeds.jsonl');
    copyFileSync(seedFile('seeds.jsonl'), file);
    const server = await startScriptedServer({ models: [fixture().model], handler: methodHandler(scriptsOf(file)) });
    try {
      const first = await withSetting('endpoint.baseUrl', server.url, () => commandValue<RunOutcome>('svd.run', vscode.Uri.file(file)));
      assert.equal(first.state, 'finished', JSON.stringify(first));
      assert.equal(first.alreadyFinished, false);
      assert.ok(first.runId && first.dir);
      const record = readFileSync(path.join(first.dir, 'events.jsonl'), 'utf8');
      await server.close();
      const requests = server.requests.length;

      const again = await withSetting('endpoint.baseUrl', server.url, () => commandValue<RunOutcome>('svd.run', vscode.Uri.file(file)));
      assert.deepEqual([again.state, again.alreadyFinished, again.runId, again.error], ['finished', true, first.runId, undefined], JSON.stringify(again));
      assert.deepEqual(again.funnel, { seeds: 6, seedsDone: 6, acceptedFinal: 3 });
      assert.equal(readFileSync(path.join(first.dir, 'events.jsonl'), 'utf8'), record, 'the record changed: nothing may be appended');
      assert.deepEqual(readEvents(first.dir).filter((e) => e.type === 'run').map((e) => e.state), ['started', 'finished']);
      assert.equal(server.requests.length, requests);

      // Opened, and listed as finished, not red.
      await waitFor('the review of the finished run', () => reviewTabOpen(first.runId!));
      const view = svd.runsView();
      await view.refreshNow();
      const node = view.runs().find((run) => run.runId === first.runId);
      assert.equal(node?.state, 'finished');
      const item = view.getTreeItem(node!);
      assert.equal((item.iconPath as vscode.ThemeIcon).id, 'pass');
      assert.match(String(item.description), /^finished · 6\/6 seeds · 3 accepted$/);
    } finally {
      await server.close().catch(() => undefined);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  test('exported data opened in the editor shows no problems and no lenses, by its name or by its rows', async () => {
    const svd = await api();
    const run = await svd.startRun(seedFile('seeds.jsonl'), { runId: 'to-open' });
    assert.equal(run.state, 'finished', JSON.stringify(run));
    const root = workspaceRoot();
    // Where the export dialog proposes (the workspace, `<run>.<format>.jsonl`), and under a name of the user's.
    const named = path.join(root, 'to-open.openai.jsonl');
    const renamed = path.join(root, 'training-data.jsonl');
    await commandValue('svd.export', 'to-open', 'openai', named);
    await commandValue('svd.export', 'to-open', 'sharegpt', renamed);
    const control = path.join(root, 'control-export-seeds.jsonl');
    writeFileSync(control, 'not json\n' + JSON.stringify({ id: 'c1', domain: 'math', question: 'What is 4 + 4?' }) + '\n');
    for (const file of [named, renamed, control]) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
    // The control file (a seed file with a bad row), opened last: once its diagnostic is there, the exports were checked.
    await waitFor('the control file\'s diagnostic', () => vscode.languages.getDiagnostics(vscode.Uri.file(control)).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const file of [named, renamed]) {
      const uri = vscode.Uri.file(file);
      const problems = vscode.languages.getDiagnostics(uri).map((d) => `${d.range.start.line + 1}: ${d.message}`);
      assert.deepEqual(problems.slice(0, 3), [], `${path.basename(file)} is treated as a seed file`);
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      assert.deepEqual(lenses.map((lens) => lens.command?.title), [], `${path.basename(file)} has lenses`);
    }
    const controlLenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', vscode.Uri.file(control));
    assert.ok(controlLenses.some((lens) => lens.command?.command === 'svd.run'), 'the seed file has its Run lens');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('a file with bad rows, run anyway, runs its good rows and says how many it skipped, in the run and the Runs view', async () => {
    const svd = await api();
    const file = seedFile('bad-rows-seeds.jsonl');
    // `true`: "Run Anyway" answered beforehand (the question itself is asked in the UI test).
    const outcome = await commandValue<RunOutcome>('svd.run', vscode.Uri.file(file), true);
    assert.equal(outcome.state, 'finished', JSON.stringify(outcome));
    assert.deepEqual([outcome.skippedRows, outcome.fileRows, outcome.funnel?.seeds, outcome.funnel?.acceptedFinal], [3, 8, 5, 5]);
    const manifest = JSON.parse(readFileSync(path.join(outcome.dir!, 'run.json'), 'utf8')) as { seedFile: { rows: number; skippedRows: number } };
    assert.deepEqual(manifest.seedFile, { ...manifest.seedFile, rows: 5, skippedRows: 3 });
    const view = svd.runsView();
    await view.refreshNow();
    const node = view.runs().find((run) => run.runId === outcome.runId);
    assert.ok(node);
    const children = await view.getChildren(node);
    const skipped = children.find((child) => child.kind === 'detail' && child.label === 'skipped rows');
    assert.ok(skipped && skipped.kind === 'detail', JSON.stringify(children));
    assert.match(skipped.description ?? '', /^3: not usable seeds/);
  });
});
