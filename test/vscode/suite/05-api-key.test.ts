// svd.setApiKey keeps the key out of settings, run records and logs, and runs still send it to the server.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { api, commandValue, extensionLogFiles, findFiles, fixture, seedFile, serverStateDir, waitFor, withSetting, workspaceRoot } from './helpers';

suite('API key', function () {
  this.timeout(90_000);

  test('set with a key argument: used by runs, never in settings, run files or logs', async () => {
    const svd = await api();
    const { strictUrl, apiKey } = fixture();
    const seeds = seedFile('key-seeds.jsonl');
    // Never put the key itself in an assertion message: the suite's output is a log too.
    const holds = (file: string) => readFileSync(file, 'utf8').includes(apiKey);

    await withSetting('endpoint.baseUrl', strictUrl, async () => {
      // The strict server refuses a run without the key...
      const refused = await svd.startRun(seeds, { runId: 'key-missing' });
      assert.equal(refused.state, 'failed', JSON.stringify(refused));
      assert.equal(refused.error?.code, 'auth', JSON.stringify(refused.error));

      // ...and serves one once the key is set.
      assert.equal(await commandValue('svd.setApiKey', apiKey), true);
      const served = await svd.startRun(seeds, { runId: 'key-set' });
      assert.equal(served.state, 'finished', `${served.state}: ${served.error?.code}`);

      // Cleared, it is gone again.
      assert.equal(await commandValue('svd.clearApiKey'), true);
      const cleared = await svd.startRun(seeds, { runId: 'key-cleared' });
      assert.equal(cleared.state, 'failed');
      assert.equal(cleared.error?.code, 'auth');
      // Set again, so that the files below had every chance to record it.
      assert.equal(await commandValue('svd.setApiKey', apiKey), true);
    });

    const workspaceSettings = path.join(workspaceRoot(), '.vscode', 'settings.json');
    const userSettings = path.join(serverStateDir(), 'user', 'User', 'settings.json');
    for (const file of [workspaceSettings, userSettings]) {
      assert.ok(existsSync(file), `${file} is missing`);
      assert.equal(holds(file), false, `the API key is in ${file}`);
    }
    const runFiles = findFiles(svd.runsDir()!, () => true);
    assert.ok(runFiles.some((file) => file.endsWith(path.join('key-set', 'events.jsonl'))));
    for (const file of runFiles) assert.equal(holds(file), false, `the API key is in ${file}`);

    // The log channel's file, once it has the line that says a key was set (so it is the right file, flushed).
    const logs = await waitFor('the extension log to record the key change', () => {
      const files = extensionLogFiles();
      return files.some((file) => readFileSync(file, 'utf8').includes('API key set for')) && files;
    });
    for (const file of logs) assert.equal(holds(file), false, `the API key is in ${file}`);
    // Every other log of the server (extension host, remote agent, shared process) too.
    const allLogs = findFiles(serverStateDir(), (file) => file.endsWith('.log'));
    assert.ok(allLogs.length > logs.length);
    for (const file of allLogs) assert.equal(holds(file), false, `the API key is in ${file}`);
  });
});
