// Starting a training, as decided in core/training/dispatch.ts: the trainer named, the fine-tuning server, whether a
// training is still going, and how `svd train` is launched for a local trainer.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isSvdError } from '../../../../src/core/base/errors';
import { thisProcess } from '../../../../src/core/record/process';
import { DEFAULT_FINE_TUNING_URL, fineTuningServer, localTrainerLaunch, trainerOf, trainingInProgress } from '../../../../src/core/training/dispatch';
import { writeTraining } from '../../../../src/core/training/record';

const runDir = () => mkdtempSync(path.join(os.tmpdir(), 'svd-dispatch-'));

describe('trainer dispatch', () => {
  test('a trainer is named by its id, and by nothing else', () => {
    for (const id of ['openai', 'trl', 'llamafactory', 'custom']) assert.equal(trainerOf(id), id);
    for (const other of ['TRL', 'axolotl', '', undefined, 3]) assert.equal(trainerOf(other), undefined);
  });

  test('fine-tuning goes to the training server, else the model endpoint, else OpenAI', () => {
    assert.equal(fineTuningServer({ trainBaseUrl: 'http://ft/v1', baseUrl: 'http://model/v1' }), 'http://ft/v1');
    assert.equal(fineTuningServer({ baseUrl: 'http://model/v1' }), 'http://model/v1');
    assert.equal(fineTuningServer({}), DEFAULT_FINE_TUNING_URL);
  });

  test('a training is going while its record says so and its process lives; ended, interrupted or unreadable, none is', () => {
    const dir = runDir();
    assert.equal(trainingInProgress(dir), undefined, 'no record');
    const me = thisProcess();
    writeTraining(dir, { trainer: 'trl', baseModel: 'm', status: 'running', pid: me.pid, host: me.host, ...(me.start ? { pidStart: me.start } : {}) });
    assert.equal(trainingInProgress(dir)?.status, 'running');
    writeTraining(dir, { trainer: 'trl', baseModel: 'm', status: 'running', pid: 2 ** 22 + 12345, host: me.host });
    assert.equal(trainingInProgress(dir), undefined, 'its process is gone: interrupted');
    writeTraining(dir, { trainer: 'openai', baseModel: 'm', status: 'succeeded', fineTunedModel: 'ft:m' });
    assert.equal(trainingInProgress(dir), undefined);
  });

  test('a local trainer: `svd train` with the trainer, base model and Python, as plain Node, no shell', () => {
    const launch = localTrainerLaunch({ cliPath: '/ext/dist/cli.js', runDir: '/runs/my run', trainer: 'trl', baseModel: 'Qwen/Qwen3-0.6B', customCommand: [], python: '/venv/bin/python' });
    assert.deepEqual(launch, {
      args: ['/ext/dist/cli.js', 'train', '/runs/my run', '--trainer', 'trl', '--base-model', 'Qwen/Qwen3-0.6B', '--python', '/venv/bin/python'],
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
  });

  test('the custom trainer takes its command from the setting, and without one is a configuration error', () => {
    const request = { cliPath: 'cli.js', runDir: '/r', trainer: 'custom' as const, baseModel: 'm', python: 'python3' };
    const launch = localTrainerLaunch({ ...request, customCommand: ['python3', 'train.py', '{data}'] });
    assert.deepEqual(launch.args.slice(-2), ['--command', JSON.stringify(['python3', 'train.py', '{data}'])]);
    assert.ok(!launch.args.includes('--python'));
    assert.throws(() => localTrainerLaunch({ ...request, customCommand: [] }), (e) => isSvdError(e, 'bad_config') && /svd\.train\.customCommand/.test(e.message));
  });
});
