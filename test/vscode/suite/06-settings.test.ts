// An invalid setting stops svd.run before any run starts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { api, extensionLogFiles, foldersIn, seedFile, waitFor, withSetting } from './helpers';

suite('invalid settings', function () {
  this.timeout(60_000);

  test('svd.votes = 0: svd.run starts no run', async () => {
    const svd = await api();
    const runsDir = svd.runsDir()!;
    const before = foldersIn(runsDir);
    const result = await withSetting('votes', 0, async () => {
      assert.equal(svd.runsDir(), undefined, 'settings with votes = 0 still read as valid');
      return vscode.commands.executeCommand('svd.run', vscode.Uri.file(seedFile('seeds.jsonl')));
    });
    assert.equal(result, undefined, `svd.run returned ${JSON.stringify(result)}`);
    assert.equal(svd.runs().size, 0);
    assert.deepEqual(foldersIn(runsDir), before, 'a run folder was created');
    // The reason went to the log channel, naming the setting.
    await waitFor('the log to name svd.votes', () => extensionLogFiles().some((file) => readFileSync(file, 'utf8').includes('svd.votes')));
    // And with the setting back, the same command runs.
    assert.equal(svd.runsDir() !== undefined, true);
  });
});
