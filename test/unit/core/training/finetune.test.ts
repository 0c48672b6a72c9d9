import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { cancelFineTune, followFineTune, parseStepLoss, startFineTune, type FineTuneStatus } from '../../../../src/core/training/finetune';
import { SvdError } from '../../../../src/core/base/errors';
import { FAIL_MESSAGE, startFineTuneServer, type FineTuneServer } from '../../../fixtures/finetune-server';

const dir = mkdtempSync(path.join(tmpdir(), 'svd-finetune-'));
const TRAIN = path.join(dir, 'train.jsonl');
const VALID = path.join(dir, 'valid.jsonl');
writeFileSync(
  TRAIN,
  [
    { messages: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '4' }] },
    { messages: [{ role: 'user', content: 'Capital of France?' }, { role: 'assistant', content: 'Paris — ünïcode' }] },
  ]
    .map((row) => JSON.stringify(row))
    .join('\n') + '\n',
);
writeFileSync(VALID, JSON.stringify({ messages: [{ role: 'user', content: 'v' }, { role: 'assistant', content: 'w' }] }) + '\n');

async function withServer(options: Parameters<typeof startFineTuneServer>[0], body: (server: FineTuneServer) => Promise<void>): Promise<void> {
  const server = await startFineTuneServer(options);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

function base(server: FineTuneServer) {
  return { baseURL: server.url, baseModel: 'gpt-4o-mini-2024-07-18', trainingFile: TRAIN, pollMs: 5 };
}

async function rejectsWith(promise: Promise<unknown>, code: string, message?: string): Promise<SvdError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SvdError, `expected SvdError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.equal(error.message, message);
    return error;
  }
  assert.fail(`expected SvdError('${code}')`);
}

test('start uploads the exported file as is, for fine-tuning, and sends only the hyperparameters given', async () => {
  await withServer({}, async (server) => {
    const { jobId, fileId } = await startFineTune({ ...base(server), validationFile: VALID, epochs: 3, learningRateMultiplier: 0.5, suffix: 'svd' });
    assert.equal(server.files.length, 2);
    assert.equal(server.files[0]!.content, readFileSync(TRAIN, 'utf8'));
    assert.equal(server.files[0]!.filename, 'train.jsonl');
    assert.equal(server.files[0]!.purpose, 'fine-tune');
    assert.equal(server.files[1]!.content, readFileSync(VALID, 'utf8'));
    assert.equal(fileId, server.files[0]!.id);
    const job = server.jobs.get(jobId);
    assert.ok(job);
    assert.equal(job.body['model'], 'gpt-4o-mini-2024-07-18');
    assert.equal(job.body['training_file'], fileId);
    assert.equal(job.body['validation_file'], server.files[1]!.id);
    assert.equal(job.body['suffix'], 'svd');
    assert.deepEqual(job.body['hyperparameters'], { n_epochs: 3, learning_rate_multiplier: 0.5 });
  });
});

test('start without hyperparameters sends none', async () => {
  await withServer({}, async (server) => {
    const { jobId } = await startFineTune({ ...base(server), batchSize: 8 });
    assert.deepEqual(server.jobs.get(jobId)!.body['hyperparameters'], { batch_size: 8 });
    const { jobId: second } = await startFineTune(base(server));
    assert.equal(server.jobs.get(second)!.body['hyperparameters'], undefined);
  });
});

test('follow reports every event exactly once, in order, with step and loss, and ends with the fine-tuned model', async () => {
  await withServer({}, async (server) => {
    const { jobId } = await startFineTune(base(server));
    const reports: FineTuneStatus[] = [];
    const final = await followFineTune({ ...base(server), jobId, onStatus: (s) => reports.push(s) });
    assert.equal(final.status, 'succeeded');
    assert.equal(final.fineTunedModel, `ft:gpt-4o-mini-2024-07-18:svd:${jobId}`);
    assert.equal(final.trainedTokens, 1234);
    assert.equal(final.error, undefined);
    assert.equal(reports.at(-1), final);
    assert.deepEqual(
      reports.map((r) => r.status),
      ['validating_files', 'running', 'running', 'succeeded'],
    );
    const events = reports.flatMap((r) => r.events);
    assert.deepEqual(
      events.map((e) => e.message),
      [
        `Created fine-tuning job: ${jobId}`,
        'Validating training file',
        'Fine-tuning job started',
        'Step 1/3: training loss=1.50',
        'Step 2/3: training loss=0.90',
        'Step 3/3: training loss=0.42',
        'New fine-tuned model created',
        'The job has successfully completed',
      ],
    );
    assert.deepEqual(
      events.filter((e) => e.step !== undefined).map((e) => [e.step, e.loss]),
      [
        [1, 1.5],
        [2, 0.9],
        [3, 0.42],
      ],
    );
    assert.ok(events.every((e) => e.level === 'info' && !Number.isNaN(Date.parse(e.at))));
    // The server's pages hold 2 events, so the 8 events took paging, and no event page was read past a seen one.
    assert.ok(server.requests.filter((r) => r.endsWith('/events')).length > 4);
  });
});

test('step and loss parsing', () => {
  assert.deepEqual(parseStepLoss('Step 12/100: training loss=0.1234'), { step: 12, loss: 0.1234 });
  assert.deepEqual(parseStepLoss('step 7: loss: 2.5e-1, validation loss=0.3'), { step: 7, loss: 0.25 });
  assert.deepEqual(parseStepLoss('Fine-tuning job started'), {});
  assert.deepEqual(parseStepLoss('Step 3/3: training loss=0.42', { step: 30, train_loss: 0.4 }), { step: 30, loss: 0.4 });
});

test('cancel cancels the job on the server', async () => {
  await withServer({}, async (server) => {
    const { jobId } = await startFineTune(base(server));
    const status = await cancelFineTune({ baseURL: server.url, jobId });
    assert.equal(status.status, 'cancelled');
    assert.equal(server.jobs.get(jobId)!.status, 'cancelled');
    const final = await followFineTune({ baseURL: server.url, jobId, pollMs: 5 });
    assert.equal(final.status, 'cancelled');
    assert.equal(final.fineTunedModel, undefined);
  });
});

test('a failed job resolves with status failed and the server message', async () => {
  await withServer({ mode: 'fail' }, async (server) => {
    const { jobId } = await startFineTune(base(server));
    const reports: FineTuneStatus[] = [];
    const final = await followFineTune({ ...base(server), jobId, onStatus: (s) => reports.push(s) });
    assert.equal(final.status, 'failed');
    assert.equal(final.error, FAIL_MESSAGE);
    assert.equal(final.fineTunedModel, undefined);
    const last = reports.flatMap((r) => r.events).at(-1);
    assert.deepEqual([last?.level, last?.message], ['error', FAIL_MESSAGE]);
  });
});

test('a missing or wrong API key is an auth error; the right one works', async () => {
  await withServer({ apiKey: 'sk-right' }, async (server) => {
    await rejectsWith(startFineTune(base(server)), 'auth');
    await rejectsWith(startFineTune({ ...base(server), apiKey: 'sk-wrong' }), 'auth');
    assert.equal(server.files.length, 0);
    const { jobId } = await startFineTune({ ...base(server), apiKey: 'sk-right' });
    await rejectsWith(followFineTune({ baseURL: server.url, jobId, pollMs: 5 }), 'auth');
    const final = await followFineTune({ baseURL: server.url, apiKey: 'sk-right', jobId, pollMs: 5 });
    assert.equal(final.status, 'succeeded');
  });
});

test('a server without fine-tuning is not_found with a message that says so', async () => {
  await withServer({ mode: 'no_fine_tuning' }, async (server) => {
    await rejectsWith(
      startFineTune(base(server)),
      'not_found',
      `the server at ${server.url} does not offer fine-tuning (POST /v1/fine_tuning/jobs answered 404)`,
    );
  });
});

test('an unreachable server is unreachable', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  await rejectsWith(startFineTune({ baseURL: `http://127.0.0.1:${port}/v1`, baseModel: 'm', trainingFile: TRAIN }), 'unreachable');
});

test('abort stops following without cancelling the job', async () => {
  await withServer({}, async (server) => {
    const { jobId } = await startFineTune(base(server));
    const controller = new AbortController();
    const reports: FineTuneStatus[] = [];
    const following = followFineTune({
      ...base(server),
      jobId,
      signal: controller.signal,
      onStatus: (s) => {
        reports.push(s);
        if (s.status === 'running') controller.abort();
      },
    });
    await rejectsWith(following, 'aborted');
    const requestsAtAbort = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.requests.length, requestsAtAbort, 'no polling after the abort');
    assert.ok(!server.requests.some((r) => r.endsWith('/cancel')));
    assert.equal(server.jobs.get(jobId)!.status, 'running');
    assert.equal(reports.at(-1)!.status, 'running');
    // An already aborted signal does not even poll.
    await rejectsWith(followFineTune({ ...base(server), jobId, signal: controller.signal }), 'aborted');
    assert.equal(server.requests.length, requestsAtAbort);
  });
});
