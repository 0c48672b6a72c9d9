// The next round (core/training/rounds.ts): its run id beside the parent, its round number, where its model is
// asked, its lineage; and the latest model a fine-tuning job made.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isSvdError } from '../../../../src/core/base/errors';
import { readLineage, writeLineage } from '../../../../src/core/training/lineage';
import { writeTraining, type TrainingRecord } from '../../../../src/core/training/record';
import { latestFineTunedModel, planNextRound, recordRound, roundEndpoint } from '../../../../src/core/training/rounds';

function runsDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'svd-rounds-'));
}

function run(runs: string, id: string): { runId: string; dir: string } {
  const dir = path.join(runs, id);
  mkdirSync(dir, { recursive: true });
  return { runId: id, dir };
}

const apiRecord = (dir: string, extra: Partial<TrainingRecord> = {}) =>
  writeTraining(dir, { trainer: 'openai', baseModel: 'm', status: 'succeeded', fineTunedModel: 'ft:m:1', baseUrl: 'http://ft/v1', jobId: 'ftjob-1', ...extra });

describe('the next round', () => {
  test('round 2 of a first run sits beside it as <run>-r2; a taken id gets a number', () => {
    const runs = runsDir();
    const parent = run(runs, 'seeds-1a2b');
    const record = apiRecord(parent.dir);
    const plan = planNextRound(parent, record);
    assert.deepEqual([plan.round, plan.runId, plan.dir, plan.runsDir], [2, 'seeds-1a2b-r2', path.join(runs, 'seeds-1a2b-r2'), runs]);
    mkdirSync(plan.dir);
    assert.equal(planNextRound(parent, record).runId, 'seeds-1a2b-r2-2');
  });

  test('a round of a round counts on from its lineage, named from the first run; an unreadable lineage counts as none', () => {
    const runs = runsDir();
    const parent = run(runs, 'seeds-1a2b-r2');
    writeLineage(parent.dir, { parentRun: 'seeds-1a2b', round: 2, model: 'ft:m:1', trainer: 'openai' });
    const record = apiRecord(parent.dir);
    assert.deepEqual([planNextRound(parent, record).round, planNextRound(parent, record).runId], [3, 'seeds-1a2b-r3']);
    writeFileSync(path.join(parent.dir, 'lineage.json'), '{ not json');
    assert.deepEqual([planNextRound(parent, record).round, planNextRound(parent, record).runId], [2, 'seeds-1a2b-r2-r2']);
  });

  test('without a finished training there is no next round', () => {
    const parent = run(runsDir(), 'r');
    assert.throws(() => planNextRound(parent, undefined), (e) => isSvdError(e, 'not_found') && /train on it first/.test(e.message));
    const failed = writeTraining(parent.dir, { trainer: 'trl', baseModel: 'm', status: 'failed' });
    assert.throws(() => planNextRound(parent, failed), (e) => isSvdError(e, 'not_found'));
  });

  test('a fine-tuning API\'s model is asked on the server that made it; a local output only where the user says', () => {
    const runs = runsDir();
    const api = run(runs, 'a');
    const plan = planNextRound(api, apiRecord(api.dir));
    assert.deepEqual(roundEndpoint(plan, {}, 'http://default/v1'), { model: 'ft:m:1', baseUrl: 'http://ft/v1' });
    assert.deepEqual(roundEndpoint(plan, { model: 'other', baseUrl: 'http://mine/v1' }, 'http://default/v1'), { model: 'other', baseUrl: 'http://mine/v1' });
    const noServer = planNextRound(api, apiRecord(api.dir, { baseUrl: undefined }));
    assert.equal(roundEndpoint(noServer, {}, 'http://default/v1').baseUrl, 'http://default/v1');

    const local = run(runs, 'l');
    const localPlan = planNextRound(local, writeTraining(local.dir, { trainer: 'trl', baseModel: 'm', status: 'succeeded', outputDir: '/out' }));
    assert.deepEqual(localPlan.trained, { outputDir: '/out' });
    assert.deepEqual(roundEndpoint(localPlan, {}, 'http://default/v1'), {});
    assert.deepEqual(roundEndpoint(localPlan, { baseUrl: 'http://localhost:8000/v1', model: '' }, 'x'), { baseUrl: 'http://localhost:8000/v1' });
  });

  test('the round\'s lineage names its parent, model, server and what the training made', () => {
    const runs = runsDir();
    const parent = run(runs, 'p');
    const plan = planNextRound(parent, apiRecord(parent.dir));
    recordRound(plan, { model: 'ft:m:1', baseUrl: 'http://ft/v1' });
    const lineage = readLineage(plan.dir);
    assert.deepEqual(
      lineage && [lineage.parentRun, lineage.round, lineage.model, lineage.baseUrl, lineage.trainer, lineage.jobId, lineage.outputDir],
      ['p', 2, 'ft:m:1', 'http://ft/v1', 'openai', 'ftjob-1', undefined],
    );
  });
});

describe('the latest fine-tuned model', () => {
  const record = (fineTunedModel: string | undefined, endedAt: string, extra: Partial<TrainingRecord> = {}): TrainingRecord =>
    ({ version: 1, trainer: 'openai', baseModel: 'm', status: 'succeeded', startedAt: '2025-01-01T00:00:00.000Z', updatedAt: endedAt, endedAt, ...(fineTunedModel ? { fineTunedModel } : {}), ...extra }) as TrainingRecord;

  test('the newest succeeded job with a model wins, on its own server or the default one', () => {
    const runs = [
      { runId: 'old', training: record('ft:old', '2025-01-02T00:00:00.000Z', { baseUrl: 'http://ft/v1' }) },
      { runId: 'new', training: record('ft:new', '2025-01-03T00:00:00.000Z') },
      { runId: 'local', training: record(undefined, '2025-01-04T00:00:00.000Z', { trainer: 'trl', outputDir: '/out' }) },
      { runId: 'failed', training: record('ft:failed', '2025-01-05T00:00:00.000Z', { status: 'failed' }) },
      { runId: 'none', training: undefined },
    ];
    assert.deepEqual(latestFineTunedModel(runs, 'http://default/v1'), { model: 'ft:new', baseUrl: 'http://default/v1', runId: 'new' });
    assert.deepEqual(latestFineTunedModel(runs.slice(0, 1), 'http://default/v1'), { model: 'ft:old', baseUrl: 'http://ft/v1', runId: 'old' });
    assert.equal(latestFineTunedModel(runs.slice(2), 'x'), undefined);
  });
});
