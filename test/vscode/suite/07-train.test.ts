// Starting training from the editor: the run's data exported in the trainer's format and the trainer launched as a
// task, without a shell (a stand-in trainer here, that prints TRL's log lines).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, commandValue, seedFile, withSetting } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

suite('training', function () {
  this.timeout(120_000);

  test('svd.train launches the trainer as a task on the exported data', async () => {
    const svd = await api();
    const outcome = await svd.startRun(seedFile('seeds.jsonl'), { runId: 'to-train' });
    assert.equal(outcome.state, 'finished', JSON.stringify(outcome));
    const fake = path.join(ROOT, 'test', 'fixtures', 'fake-trainer.py');
    assert.ok(existsSync(fake), fake);
    const ended = await withSetting('train.customCommand', ['python3', fake, '--data', '{data}', '--model', '{base_model}'], async () => {
      const finished = new Promise<vscode.TaskProcessEndEvent>((resolve) => {
        const listener = vscode.tasks.onDidEndTaskProcess((event) => {
          if (event.execution.task.definition.type === 'svd-train' && event.execution.task.definition.run === 'to-train') {
            listener.dispose();
            resolve(event);
          }
        });
      });
      const name = await commandValue<string>('svd.train', 'to-train', 'custom', 'Qwen/Qwen3-0.6B');
      assert.equal(name, 'train to-train (custom)');
      return finished;
    });
    assert.equal(ended.exitCode, 0);
    assert.ok(existsSync(path.join(outcome.dir!, 'train', 'data.openai.jsonl')), 'the accepted answers were exported for the trainer');
  });
});
