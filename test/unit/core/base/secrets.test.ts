// Each sink and birth point of text, on its own: the model client's errors, the fine-tuning client's, the run store,
// the response cache, the training log, and the environment a local trainer gets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResponseCache } from '../../../../src/core/record/cache';
import { parseRunConfig } from '../../../../src/core/base/config';
import { isSvdError } from '../../../../src/core/base/errors';
import { startFineTune } from '../../../../src/core/training/finetune';
import { launchTrainer } from '../../../../src/core/training/launcher';
import { ModelClient } from '../../../../src/core/method/model';
import { REDACTED } from '../../../../src/core/base/redact';
import { RunStore } from '../../../../src/core/record/store';
import { readTraining, trainLogFile } from '../../../../src/core/training/record';
import { LocalTrainingLog } from '../../../../src/core/training/localTraining';
import { startFineTuneServer } from '../../../fixtures/finetune-server';
import { startScriptedServer } from '../../../fixtures/scripted-server';

const FAKE_TRAINER = path.resolve(__dirname, '../../../fixtures/fake-trainer.py');
const tempDir = () => mkdtempSync(path.join(os.tmpdir(), 'svd-secrets-unit-'));

function client(baseURL: string, apiKey: string | undefined) {
  return new ModelClient({ baseURL, model: 'test-model', apiKey, concurrency: 1, timeoutMs: 5000, maxRetries: 0, batchSamples: false });
}

const request = { purpose: 'generate' as const, messages: [{ role: 'user' as const, content: 'hi' }], temperature: 0, topP: 1, maxTokens: 8 };

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected a rejection');
}

describe('the model client', () => {
  it('a 401 body that echoes the key gives an auth error without it', async () => {
    const key = 'sk-wrong-key-echoed-0001';
    const server = await startScriptedServer({ apiKey: 'sk-the-right-one-0001', echoKey: true });
    try {
      const error = await failure(client(server.url, key).probe());
      assert.ok(isSvdError(error, 'auth'), String(error));
      assert.ok(!error.message.includes(key), error.message);
      assert.match(error.message, /You sent: \[redacted\]/);
      assert.ok(!(error.stack ?? '').includes(key));
    } finally {
      await server.close();
    }
  });

  it('sends credentials in the base URL as Basic auth and never names them', async () => {
    const server = await startScriptedServer();
    try {
      const url = server.url.replace('http://', 'http://svd:url-pass-0002@');
      const c = client(url, undefined);
      await c.complete(request, 1);
      assert.equal(server.requests[0]?.authorization, `Basic ${Buffer.from('svd:url-pass-0002').toString('base64')}`);
      server.inject({ kind: '500' });
      const error = await failure(c.complete(request, 1));
      assert.ok(error.message.startsWith(`${server.url} answered 500`), error.message);
    } finally {
      await server.close();
    }
  });

  it('refuses credentials in the URL together with a key', () => {
    assert.throws(() => client('http://u:url-pass-0003@127.0.0.1:9/v1', 'sk-a-key-0003'), (e: unknown) => isSvdError(e, 'bad_config'));
  });
});

describe('the fine-tuning client', () => {
  const dir = tempDir();
  const trainingFile = path.join(dir, 'train.jsonl');
  writeFileSync(trainingFile, `${JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] })}\n`);

  it('uses the key it is given, and never one from the environment', async () => {
    const server = await startFineTuneServer({ apiKey: 'sk-ft-explicit-0004' });
    const saved = process.env.OPENAI_API_KEY;
    try {
      process.env.OPENAI_API_KEY = 'sk-ft-explicit-0004';
      const options = { baseURL: server.url, baseModel: 'gpt-4o-mini', trainingFile };
      const without = await failure(startFineTune(options));
      assert.ok(isSvdError(without, 'auth'), 'the environment key was not picked up');
      process.env.OPENAI_API_KEY = 'sk-something-else-0004';
      const { jobId } = await startFineTune({ ...options, apiKey: 'sk-ft-explicit-0004' });
      assert.ok(jobId);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
      await server.close();
    }
  });

  it('a server error that quotes the key is reported without it', async () => {
    const key = 'sk-ft-echoed-key-0005';
    const echo: typeof fetch = async (_input, init) => {
      const sent = new Headers(init?.headers).get('authorization') ?? '';
      return new Response(JSON.stringify({ error: { message: `storage failed for ${sent}` } }), {
        status: 500,
        headers: { 'content-type': 'application/json' },
      });
    };
    const error = await failure(startFineTune({ baseURL: 'http://127.0.0.1:9/v1', apiKey: key, baseModel: 'm', trainingFile, fetch: echo }));
    assert.ok(isSvdError(error, 'internal'), String(error));
    assert.match(error.message, /storage failed/);
    assert.ok(!error.message.includes(key), error.message);
  });
});

describe('the sinks', () => {
  it('the run store and the response cache write a registered key as the marker', () => {
    const key = 'sk-store-net-key-0006';
    // Registered the way a run registers it: by building its client.
    client('http://127.0.0.1:9/v1', key);
    const dir = path.join(tempDir(), 'run');
    const store = RunStore.create(dir, {
      version: 1,
      id: 'run',
      createdAt: new Date().toISOString(),
      seedFile: { path: '/seeds.jsonl', fingerprint: 'abc', format: 'jsonl', rows: 1 },
      model: { model: 'm', engine: 'server' },
      config: parseRunConfig({}),
      methodFingerprint: 'f00d',
    });
    try {
      const written = store.append({ id: 'error:q0:1', type: 'error', seedId: 'q0', kind: 'server', message: `echo ${key}` });
      assert.ok(written);
      const read = store.get('error:q0:1');
      assert.equal(read?.type === 'error' ? read.message : undefined, `echo ${REDACTED}`);
    } finally {
      store.close();
    }
    const cache = ResponseCache.open(path.join(dir, '..', 'cache'));
    try {
      cache.put('k1', { text: `the key is ${key}`, finishReason: 'stop', promptTokens: 1, completionTokens: 1 });
      assert.equal(cache.get('k1')?.text, `the key is ${REDACTED}`);
    } finally {
      cache.close();
    }
    for (const file of readdirSync(path.dirname(dir), { recursive: true, withFileTypes: true }).filter((e) => e.isFile())) {
      const text = readFileSync(path.join(file.parentPath, file.name), 'utf8');
      assert.ok(!text.includes(key), `${file.name}: ${text}`);
    }
  });

  it('train.log and training.json keep what a trainer prints, without secrets', () => {
    const key = 'sk-train-log-key-0007';
    client('http://127.0.0.1:9/v1', key);
    const dir = tempDir();
    const log = new LocalTrainingLog(dir, { trainer: 'custom', baseModel: 'm' });
    log.line(`token=${key} url=https://user:log-pass-0007@hub.example/models`);
    log.finish('failed', { exitCode: 1 });
    const text = readFileSync(trainLogFile(dir), 'utf8');
    assert.equal(text, `token=${REDACTED} url=https://${REDACTED}@hub.example/models\n`);
    assert.ok(!JSON.stringify(readTraining(dir)).includes(key));
  });
});

describe('a local trainer', () => {
  it('does not inherit the model server keys, and keeps the rest of the environment', async () => {
    const saved = { SVD_API_KEY: process.env.SVD_API_KEY, OPENAI_API_KEY: process.env.OPENAI_API_KEY, HF_TOKEN: process.env.HF_TOKEN };
    Object.assign(process.env, { SVD_API_KEY: 'sk-svd-inherit-0008', OPENAI_API_KEY: 'sk-openai-inherit-0008', HF_TOKEN: 'hf_keep_for_gated_models' });
    const lines: string[] = [];
    try {
      const result = await launchTrainer({ executable: 'python3', args: [FAKE_TRAINER], cwd: tempDir(), env: { FAKE_PRINT_ENV: '1' }, onLine: (line) => lines.push(line) });
      assert.equal(result.exitCode, 0);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const printed = lines.find((line) => line.startsWith('ENV '));
    assert.ok(printed, lines.join('\n'));
    const env = JSON.parse(printed.slice('ENV '.length)) as Record<string, string>;
    assert.equal(env.SVD_API_KEY, undefined);
    assert.equal(env.OPENAI_API_KEY, undefined);
    assert.equal(env.HF_TOKEN, 'hf_keep_for_gated_models');
    assert.equal(env.PYTHONUNBUFFERED, '1');
  });
});
