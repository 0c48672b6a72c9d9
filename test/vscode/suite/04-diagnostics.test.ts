// A bad row of an open seed file shows in the Problems panel on its line, and goes away once the text is fixed.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, seedFile, waitFor, withSetting, workspaceRoot } from './helpers';

suite('seed file problems', function () {
  this.timeout(60_000);

  test('a bad line gets a diagnostic on that line, cleared when the text is fixed', async () => {
    await api();
    const file = seedFile('diagnostics-seeds.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ id: 'd1', domain: 'math', question: 'What is 1 + 1?' }),
        '{"id": "d2", "domain": "math", "question": "What is 2 + 2?"',
        JSON.stringify({ id: 'd3', domain: 'math', question: 'What is 3 + 3?' }),
        '',
      ].join('\n'),
    );
    const uri = vscode.Uri.file(file);
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const diagnostics = await waitFor('a diagnostic on line 2', () => {
      const found = vscode.languages.getDiagnostics(uri);
      return found.some((d) => d.range.start.line === 1) && found;
    });
    assert.deepEqual(diagnostics.map((d) => d.range.start.line), [1], diagnostics.map((d) => d.message).join('; '));
    assert.equal(diagnostics[0]?.source, 'svd');

    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, document.lineAt(1).range, JSON.stringify({ id: 'd2', domain: 'math', question: 'What is 2 + 2?' }));
    assert.equal(await vscode.workspace.applyEdit(edit), true);
    await waitFor('the diagnostic to clear', () => vscode.languages.getDiagnostics(uri).length === 0);
    assert.equal(document.isDirty, true);
    await document.save();
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('a run\'s own JSONL files get no diagnostics, wherever the runs folder is', async () => {
    const svd = await api();
    // A runs folder without `.svd` in its path: only the configured folder tells its files from seed files.
    // Read while the setting holds: once it is put back, these files are outside the runs folder and may be checked.
    const { found, outcome } = await withSetting('runsFolder', 'records/runs', async () => {
      const done = await svd.startRun(seedFile('key-seeds.jsonl'), { runId: 'records' });
      const runsDir = svd.runsDir()!;
      assert.equal(runsDir, path.join(workspaceRoot(), 'records', 'runs'));
      // The run's record, and the response cache next to the runs folder.
      const files = [path.join(runsDir, 'records', 'events.jsonl'), path.join(runsDir, '..', 'cache', 'samples.jsonl')];
      for (const file of files) assert.ok(existsSync(file), `${file} is missing`);
      for (const file of files) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
      // A seed file with a bad row, opened last: once its diagnostic is there, the run files have been checked.
      const control = seedFile('control-seeds.jsonl');
      writeFileSync(control, 'not json\n' + JSON.stringify({ id: 'c1', domain: 'math', question: 'What is 4 + 4?' }) + '\n');
      await vscode.window.showTextDocument(vscode.Uri.file(control), { preview: false });
      await waitFor('the control file\'s diagnostic', () => vscode.languages.getDiagnostics(vscode.Uri.file(control)).length > 0);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const seen = files.map((file) => ({ file, problems: vscode.languages.getDiagnostics(vscode.Uri.file(file)).map((d) => `${d.range.start.line + 1}: ${d.message}`) }));
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      return { found: seen, outcome: done };
    });
    assert.equal(outcome.state, 'finished', JSON.stringify(outcome));
    for (const { file, problems } of found) {
      assert.deepEqual(problems.slice(0, 3), [], `${path.relative(workspaceRoot(), file)} is treated as a seed file`);
    }
  });
});
