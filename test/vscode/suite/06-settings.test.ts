// An invalid setting makes svd.run decline, for that reason, before any run starts; with the setting valid again the
// same command runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { isDeclined } from '../../../src/vscode/platform/commandResult';
import { api, commandResult, commandValue, extensionLogFiles, foldersIn, seedFile, waitFor, withSetting, type RunOutcome } from './helpers';

suite('invalid settings', function () {
  this.timeout(60_000);

  test('svd.votes = 0: svd.run declines for the invalid setting and starts no run; valid again, it runs', async () => {
    const svd = await api();
    const runsDir = svd.runsDir()!;
    // A seed file that no other suite runs through svd.run: its run folder can only come from this test.
    const seeds = vscode.Uri.file(seedFile('key-seeds.jsonl'));
    const before = foldersIn(runsDir);
    const result = await withSetting('votes', 0, async () => {
      assert.equal(svd.runsDir(), undefined, 'settings with votes = 0 still read as valid');
      return commandResult<RunOutcome>('svd.run', seeds);
    });
    assert.ok(isDeclined(result), `svd.run did not decline: ${JSON.stringify(result)}`);
    assert.equal(result.declined, 'invalid_settings');
    assert.equal(result.code, 'bad_config');
    assert.match(result.message ?? '', /svd\.votes/);
    assert.equal(svd.runs().size, 0);
    assert.deepEqual(foldersIn(runsDir), before, 'a run folder was created');
    // The user was told too: the reason went to the log channel, naming the setting.
    await waitFor('the log to name svd.votes', () => extensionLogFiles().some((file) => readFileSync(file, 'utf8').includes('svd.votes')));

    // With the setting back, the same command runs.
    const outcome = await commandValue<RunOutcome>('svd.run', seeds);
    assert.equal(outcome.state, 'finished', JSON.stringify(outcome));
    assert.ok(outcome.runId && !before.includes(outcome.runId), `run ${outcome.runId} was there before`);
    assert.ok(foldersIn(runsDir).includes(outcome.runId));
  });
});
