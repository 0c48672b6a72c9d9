// The training record of a run (training.json, metrics, lineage) and following a fine-tuning job against the scripted
// fine-tuning server: create -> running -> succeeded, a failed job, a cancelled one, and following again after a reload.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { SvdError } from '../../../../src/core/base/errors';
import {
  appendMetrics,
  displayStatus,
  isTerminalStatus,
  metricsFile,
  readTraining,
  trainingFile,
  trainingSummary,
  trainLogFile,
  updateTraining,
  writeTraining,
  type TrainingRecord,
} from '../../../../src/core/training/record';
import { cancelApiJob, followApiJob, jobStatus, startApiJob } from '../../../../src/core/training/apiJob';
import { nextRoundRunId, readLineage, trainedModelOf, writeLineage } from '../../../../src/core/training/lineage';
import { LocalTrainingLog } from '../../../../src/core/training/localTraining';
import { MetricsSeries } from '../../../../src/core/training/metricsSeries';
import { runTooltipMarkdown } from '../../../../src/vscode/runs/present';
import { FAIL_MESSAGE, startFineTuneServer, type FineTuneServer } from '../../../fixtures/finetune-server';

function runDir(): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-training-')), 'run');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function dataFile(dir: string): string {
  const file = path.join(dir, 'data.openai.jsonl');
  writeFileSync(file, `${JSON.stringify({ messages: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '4' }] })}\n`);
  return file;
}

async function withServer(options: Parameters<typeof startFineTuneServer>[0], body: (server: FineTuneServer) => Promise<void>): Promise<void> {
  const server = await startFineTuneServer(options);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

function metricsLines(dir: string): { step?: number; loss?: number }[] {
  return readFileSync(metricsFile(dir), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { step?: number; loss?: number });
}

describe('the training record', () => {
  test('is written whole and read back; a damaged one is an error that names the file', () => {
    const dir = runDir();
    assert.equal(readTraining(dir), undefined);
    const written = writeTraining(dir, { trainer: 'trl', baseModel: 'Qwen/Qwen3-0.6B', status: 'running', pid: process.pid, outputDir: '/x/train/output' });
    assert.equal(written.version, 1);
    assert.ok(written.startedAt && written.updatedAt);
    assert.deepEqual(readTraining(dir), written);
    assert.deepEqual(readdirSync(dir), ['training.json'], 'no temporary file left behind');

    const ended = updateTraining(dir, { status: 'succeeded', exitCode: 0 });
    assert.equal(ended.status, 'succeeded');
    assert.ok(ended.endedAt, 'a final status sets endedAt');
    assert.equal(ended.startedAt, written.startedAt);

    writeFileSync(trainingFile(dir), '{"version":1,"trainer":"nope"}');
    assert.throws(() => readTraining(dir), (error: unknown) => error instanceof SvdError && error.code === 'internal' && error.message.includes('training.json'));
    writeFileSync(trainingFile(dir), '{ not json');
    assert.throws(() => readTraining(dir), /not JSON/);
  });

  test('says in words where the job is', () => {
    const base: TrainingRecord = {
      version: 1,
      trainer: 'trl',
      baseModel: 'Qwen/Qwen3-0.6B',
      status: 'running',
      startedAt: '2025-01-01T00:00:00.000Z',
      updatedAt: new Date().toISOString(),
      latest: { step: 40, loss: 0.8312, learningRate: 2.5e-5 },
      totalSteps: 2000,
    };
    assert.equal(trainingSummary(base, 'running'), 'running · step 40/2000 · loss 0.831 · lr 2.5e-5');
    assert.equal(trainingSummary({ ...base, trainer: 'openai', status: 'succeeded', fineTunedModel: 'ft:gpt:svd:1' }, 'succeeded'), 'succeeded → ft:gpt:svd:1');
    assert.equal(trainingSummary({ ...base, status: 'succeeded', outputDir: '/runs/r/train/output' }, 'succeeded'), 'succeeded → train/output');
    assert.equal(trainingSummary({ ...base, status: 'failed', error: 'out of memory' }, 'failed'), 'failed: out of memory');
    assert.equal(trainingSummary({ ...base, status: 'validating_files', latest: {} }, 'validating_files'), 'validating files');
    assert.equal(jobStatus('pending'), 'queued');
    assert.equal(jobStatus('paused_for_review'), 'running', 'a state this version does not know is still going');
    assert.ok(isTerminalStatus('cancelled') && !isTerminalStatus('queued'));
  });

  test('a local trainer whose process is gone, or a start that never went on, shows as interrupted', () => {
    const now = new Date().toISOString();
    const record: TrainingRecord = { version: 1, trainer: 'custom', baseModel: 'm', status: 'running', startedAt: now, updatedAt: now, pid: process.pid, host: os.hostname() };
    assert.equal(displayStatus(record), 'running');
    assert.equal(displayStatus({ ...record, pid: 2 ** 22 + 12345 }), 'interrupted');
    assert.equal(displayStatus({ ...record, pid: 2 ** 22 + 12345, host: 'another-host' }), 'running', 'another host cannot be checked');
    assert.equal(displayStatus({ ...record, pid: 2 ** 22 + 12345, status: 'succeeded' }), 'succeeded');
    const { pid: _pid, ...starting } = { ...record, status: 'starting' as const };
    assert.equal(displayStatus(starting), 'starting');
    assert.equal(displayStatus(starting, Date.now() + 11 * 60_000), 'interrupted');
  });

  test('a local trainer leaves its log, its metrics and its outcome in the run', () => {
    const dir = runDir();
    const log = new LocalTrainingLog(dir, { trainer: 'custom', baseModel: 'm', outputDir: path.join(dir, 'train', 'output') });
    assert.equal(readTraining(dir)?.status, 'starting');
    assert.equal(readTraining(dir)?.pid, process.pid);
    log.running();
    log.line(' 33%|███▎      | 10/30 [00:01<00:02,  9.0it/s]');
    log.metrics({ step: 10 });
    log.line("{'loss': 1.2345, 'learning_rate': 2.9e-05, 'epoch': 0.12}");
    log.metrics({ step: 10, loss: 1.2345, learningRate: 2.9e-5, epoch: 0.12 });
    log.totalSteps(30);
    log.line('Saving model checkpoint to output');
    const record = log.finish('succeeded', { exitCode: 0 });
    assert.equal(record.status, 'succeeded');
    assert.deepEqual(record.latest, { step: 10, loss: 1.2345, learningRate: 2.9e-5, epoch: 0.12 });
    assert.equal(record.totalSteps, 30);
    assert.equal(record.lastEvent, 'Saving model checkpoint to output');
    assert.deepEqual(readTraining(dir), record);
    assert.deepEqual(metricsLines(dir), [{ step: 10, loss: 1.2345, learningRate: 2.9e-5, epoch: 0.12 }], 'step-only updates stay out of the metrics');
    assert.match(readFileSync(trainLogFile(dir), 'utf8'), /10\/30[\s\S]*'loss': 1\.2345[\s\S]*Saving model/);
    log.line('after the end');
    assert.doesNotMatch(readFileSync(trainLogFile(dir), 'utf8'), /after the end/);
  });
});

describe('the metrics series', () => {
  test('reads what was appended since, waits for a line being written, and starts again when the file does', () => {
    const dir = runDir();
    const series = MetricsSeries.ofRun(dir);
    assert.equal(series.refresh(), false, 'no file yet');
    appendMetrics(dir, [{ step: 10, loss: 2 }, { step: 20, loss: 1.5, learningRate: 1e-5 }]);
    assert.equal(series.refresh(), true);
    assert.deepEqual(series.series(), [{ step: 10, loss: 2 }, { step: 20, loss: 1.5 }]);
    assert.equal(series.latest.learningRate, 1e-5);
    assert.equal(series.refresh(), false);

    appendFileSync(metricsFile(dir), '{"step":30,"lo');
    assert.equal(series.refresh(), false, 'half a line is not read');
    appendFileSync(metricsFile(dir), 'ss":1.1}\n{"step":30,"evalLoss":1.3}\nnot json\n');
    assert.equal(series.refresh(), true);
    assert.deepEqual(series.series().at(-1), { step: 30, loss: 1.1, evalLoss: 1.3 }, 'train and eval loss of one step are one point');

    writeFileSync(metricsFile(dir), `${JSON.stringify({ step: 1, loss: 9 })}\n`);
    assert.equal(series.refresh(), true);
    assert.deepEqual(series.series(), [{ step: 1, loss: 9 }], 'a new training starts a new series');
  });

  test('points without a step follow one another; a long series is thinned evenly, first and last kept', () => {
    const dir = runDir();
    appendMetrics(dir, [{ loss: 3 }, { loss: 2 }, { loss: 1 }]);
    const series = MetricsSeries.ofRun(dir);
    series.refresh();
    assert.deepEqual(series.series().map((p) => p.step), [0, 1, 2]);

    const long = runDir();
    appendMetrics(long, Array.from({ length: 2000 }, (_, i) => ({ step: (i + 1) * 10, loss: 1 / (i + 1) })));
    const thin = MetricsSeries.ofRun(long);
    thin.refresh();
    const points = thin.series(100);
    assert.equal(points.length, 100);
    assert.equal(points[0]!.step, 10);
    assert.equal(points.at(-1)!.step, 20_000);
  });
});

describe('rounds', () => {
  test('a round records its parent; ids say the round and never take one that exists', () => {
    const dir = runDir();
    assert.equal(readLineage(dir), undefined);
    const lineage = writeLineage(dir, { parentRun: 'seeds-1a2b3c4d', round: 2, model: 'ft:m:svd:1', baseUrl: 'http://x/v1', trainer: 'openai', jobId: 'ftjob-1' });
    assert.deepEqual(readLineage(dir), lineage);
    const taken = new Set(['seeds-1a2b3c4d-r2']);
    assert.equal(nextRoundRunId('seeds-1a2b3c4d', false, 2, () => false), 'seeds-1a2b3c4d-r2');
    assert.equal(nextRoundRunId('seeds-1a2b3c4d', false, 2, (id) => taken.has(id)), 'seeds-1a2b3c4d-r2-2');
    assert.equal(nextRoundRunId('seeds-1a2b3c4d-r2', true, 3, () => false), 'seeds-1a2b3c4d-r3');
    assert.equal(nextRoundRunId('my-r2', false, 2, () => false), 'my-r2-r2', 'a first round keeps its own name whole');
    const now = new Date().toISOString();
    const record: TrainingRecord = { version: 1, trainer: 'openai', baseModel: 'm', status: 'succeeded', startedAt: now, updatedAt: now, fineTunedModel: 'ft:m', baseUrl: 'http://x/v1' };
    assert.deepEqual(trainedModelOf(record), { model: 'ft:m', baseUrl: 'http://x/v1' });
    assert.deepEqual(trainedModelOf({ ...record, trainer: 'trl', fineTunedModel: undefined, baseUrl: undefined, outputDir: '/o' }), { outputDir: '/o' });
    assert.equal(trainedModelOf({ ...record, status: 'failed' }), undefined);
  });

  test('a run\'s hover says its round and its training, as text', () => {
    const markdown = runTooltipMarkdown({
      runId: 'seeds-r2',
      display: { state: 'finished', interrupted: false },
      lineage: { parentRun: 'seeds', round: 2, model: 'ft:m:[x](command:y)' },
      training: 'succeeded → ft:*b*',
    });
    assert.ok(markdown.includes('Round 2: ft\\:m\\:\\[x\\]\\(command\\:y\\), trained on seeds'), markdown);
    assert.ok(markdown.includes('Training: succeeded → ft\\:\\*b\\*'), markdown);
  });
});

describe('a fine-tuning job, followed into the run', () => {
  test('create -> running -> succeeded: the record ends with the model, the metrics hold each step once', async () => {
    await withServer({ apiKey: 'sk-ft' }, async (server) => {
      const dir = runDir();
      const seen: string[] = [];
      const created = await startApiJob({ runDir: dir, baseUrl: server.url, apiKey: 'sk-ft', baseModel: 'gpt-4o-mini', trainingFile: dataFile(dir), examples: 1 });
      assert.equal(created.status, 'validating_files');
      assert.equal(created.jobId, 'ftjob-1');
      assert.equal(server.files[0]!.purpose, 'fine-tune');
      const final = await followApiJob({ runDir: dir, apiKey: 'sk-ft', pollMs: 5, onUpdate: (record) => seen.push(record.status) });
      assert.equal(final.status, 'succeeded');
      assert.equal(final.fineTunedModel, 'ft:gpt-4o-mini:svd:ftjob-1');
      assert.equal(final.trainedTokens, 1234);
      assert.equal(final.lastEvent, 'The job has successfully completed');
      assert.deepEqual(final.latest, { step: 3, loss: 0.42 });
      assert.ok(final.endedAt);
      assert.deepEqual(seen, ['validating_files', 'running', 'running', 'succeeded']);
      assert.deepEqual(metricsLines(dir), [{ step: 1, loss: 1.5 }, { step: 2, loss: 0.9 }, { step: 3, loss: 0.42 }]);
      assert.match(readFileSync(trainLogFile(dir), 'utf8'), /Fine-tuning job started[\s\S]*successfully completed/);
      assert.doesNotMatch(readFileSync(trainingFile(dir), 'utf8'), /sk-ft/, 'the key is never recorded');
      assert.deepEqual(readTraining(dir), final);
    });
  });

  test('a failed job ends failed with the server\'s reason', async () => {
    await withServer({ mode: 'fail' }, async (server) => {
      const dir = runDir();
      await startApiJob({ runDir: dir, baseUrl: server.url, baseModel: 'gpt-4o-mini', trainingFile: dataFile(dir) });
      const final = await followApiJob({ runDir: dir, pollMs: 5 });
      assert.equal(final.status, 'failed');
      assert.equal(final.error, FAIL_MESSAGE);
      assert.equal(trainingSummary(final), `failed: ${FAIL_MESSAGE}`);
    });
  });

  test('a start the server refuses is recorded as failed, and the error says why', async () => {
    await withServer({ apiKey: 'sk-right' }, async (server) => {
      const dir = runDir();
      await assert.rejects(
        startApiJob({ runDir: dir, baseUrl: server.url, apiKey: 'sk-wrong', baseModel: 'm', trainingFile: dataFile(dir) }),
        (error: unknown) => error instanceof SvdError && error.code === 'auth',
      );
      const record = readTraining(dir)!;
      assert.equal(record.status, 'failed');
      assert.match(record.error ?? '', /rejected the API key/);
      assert.equal(record.jobId, undefined);
    });
  });

  test('a start stopped before the job exists is recorded as cancelled', async () => {
    await withServer({}, async (server) => {
      const dir = runDir();
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(
        startApiJob({ runDir: dir, baseUrl: server.url, baseModel: 'm', trainingFile: dataFile(dir), signal: controller.signal }),
        (error: unknown) => error instanceof SvdError && error.code === 'aborted',
      );
      const record = readTraining(dir)!;
      assert.equal(record.status, 'cancelled');
      assert.equal(record.error, undefined);
      assert.equal(server.jobs.size, 0);
    });
  });

  test('cancel: the job is cancelled on the server and the following ends with it', async () => {
    await withServer({}, async (server) => {
      const dir = runDir();
      await startApiJob({ runDir: dir, baseUrl: server.url, baseModel: 'm', trainingFile: dataFile(dir) });
      let cancelling: Promise<TrainingRecord> | undefined;
      const final = await followApiJob({
        runDir: dir,
        pollMs: 20,
        onUpdate: (record) => {
          if (record.status === 'running' && !cancelling) cancelling = cancelApiJob({ runDir: dir });
        },
      });
      assert.equal((await cancelling)?.status, 'cancelled');
      assert.equal(final.status, 'cancelled');
      assert.equal(server.jobs.get('ftjob-1')!.cancelled, true);
      assert.ok(server.requests.includes('POST /v1/fine_tuning/jobs/ftjob-1/cancel'));
      assert.equal(final.fineTunedModel, undefined);
    });
  });

  test('following stops without touching the job, and following again (a reload) adds only the new steps', async () => {
    await withServer({}, async (server) => {
      const dir = runDir();
      await startApiJob({ runDir: dir, baseUrl: server.url, baseModel: 'm', trainingFile: dataFile(dir) });
      const controller = new AbortController();
      await assert.rejects(
        followApiJob({
          runDir: dir,
          pollMs: 5,
          signal: controller.signal,
          onUpdate: (record) => {
            if (record.latest?.step === 1) controller.abort();
          },
        }),
        (error: unknown) => error instanceof SvdError && error.code === 'aborted',
      );
      assert.equal(readTraining(dir)!.status, 'running');
      assert.equal(server.jobs.get('ftjob-1')!.cancelled, false);
      const final = await followApiJob({ runDir: dir, pollMs: 5 });
      assert.equal(final.status, 'succeeded');
      assert.deepEqual(metricsLines(dir).map((p) => p.step), [1, 2, 3]);
      assert.ok(existsSync(trainLogFile(dir)));
    });
  });
});
