import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { isSvdError } from '../../../src/core/base/errors';
import { parseRunConfig } from '../../../src/core/base/config';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { endpointArgs, endpointsFile } from '../../../src/vscode/platform/cliProcess';
import { settingsTarget } from '../../../src/vscode/runs/settingsRun';
import { readSettings } from '../../../src/vscode/platform/settings';

const root = path.resolve('/work/space');

test('defaults give the method\'s parameters and the embedded engine', () => {
  const s = readSettings(() => undefined, root);
  assert.equal(s.baseUrl, undefined);
  assert.equal(s.runsDir, path.join(root, '.svd/runs'));
  const config = parseRunConfig(s.config);
  assert.equal(config.candidates, 4);
  assert.equal(config.votes, 3);
  assert.equal(config.generation.temperature, 0.8);
  assert.equal(config.judge.temperature, 0.6);
  assert.equal(s.engine.parallel, 2);
  assert.equal(s.engine.threads, undefined);
  assert.equal(s.engine.gpu, 'auto');
});

test('svd.engine.gpu reaches the CLI as --gpu', () => {
  const s = readSettings((key) => (key === 'engine.gpu' ? 'vulkan' : undefined), root);
  assert.equal(s.engine.gpu, 'vulkan');
  const args = endpointArgs({ engine: s.engine });
  assert.deepEqual(args.slice(args.indexOf('--gpu'), args.indexOf('--gpu') + 2), ['--gpu', 'vulkan']);
  // A server endpoint runs no engine: no engine flag at all.
  assert.ok(!endpointArgs({ baseUrl: 'http://localhost:8000/v1', model: 'm', engine: s.engine }).includes('--gpu'));
});

test('values are read and folders resolved against the workspace', () => {
  const values: Record<string, unknown> = { 'endpoint.baseUrl': 'http://localhost:8000/v1', 'endpoint.model': 'm', votes: 5, promptsFolder: 'my-prompts', runsFolder: '/abs/runs' };
  const s = readSettings((key) => values[key], root);
  assert.equal(s.baseUrl, 'http://localhost:8000/v1');
  assert.equal(s.config.votes, 5);
  assert.equal(s.config.promptsDir, path.join(root, 'my-prompts'));
  assert.equal(s.runsDir, '/abs/runs');
});

test('an invalid value names the setting and what it must be', () => {
  for (const [key, value, expected] of [
    ['votes', 0, /svd\.votes/],
    ['candidates', 2.5, /svd\.candidates/],
    ['endpoint.baseUrl', 'localhost:8000', /svd\.endpoint\.baseUrl: must be an http\(s\) URL/],
    ['endpoint.baseUrl', 'https://user:hunter2-secret@proxy.example/v1', /svd\.endpoint\.baseUrl: must not hold credentials .*SVD: Set API Key/],
    ['train.baseUrl', 'http://me:pw@localhost:8000/v1', /svd\.train\.baseUrl: must not hold credentials/],
    ['selection', 'best', /svd\.selection/],
    // Bounds of the run config and the engine, which the settings share.
    ['generation.maxTokens', 2_000_000, /svd\.generation\.maxTokens: Too big/],
    ['engine.threads', 4096, /svd\.engine\.threads: Too big/],
    ['engine.gpu', 'rocm', /svd\.engine\.gpu: .*"auto"\|"cuda"\|"vulkan"\|"metal"\|"off"/],
  ] as const) {
    assert.throws(
      () => readSettings((k) => (k === key ? value : undefined), root),
      (e) => isSvdError(e, 'bad_config') && expected.test(e.message) && /Settings/.test(e.message),
    );
  }
});

test('svd.endpoints: checked entry by entry; stored keys reach the CLI in its environment, never in the file', () => {
  const entries = [{ url: 'http://a:8000/v1' }, { url: 'http://b:8000/v1', apiKeyEnv: 'B_KEY', weight: 2 }];
  const s = readSettings((key) => (key === 'endpoints' ? entries : key === 'endpoint.model' ? 'm' : undefined), '/ws');
  assert.deepEqual(s.endpoints, [
    { url: 'http://a:8000/v1', weight: 1 },
    { url: 'http://b:8000/v1', apiKeyEnv: 'B_KEY', weight: 2 },
  ]);
  // The run the settings name: both servers, and an id that only the model decides.
  assert.deepEqual(settingsTarget(s), { model: 'm', engine: 'server', baseURL: 'http://a:8000/v1', endpoints: ['http://a:8000/v1', 'http://b:8000/v1'] });

  const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-endpoints-setting-'));
  const env: NodeJS.ProcessEnv = {};
  // a's key comes from SecretStorage; b names its own variable, so a stored key for b is not used.
  const file = endpointsFile(scratch, { entries: s.endpoints!, keys: ['sk-stored-key-of-a', 'sk-not-used'] }, env);
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes('sk-stored'), text);
  assert.deepEqual(JSON.parse(text), [
    { url: 'http://a:8000/v1', weight: 1, apiKeyEnv: 'SVD_ENDPOINT_KEY_0' },
    { url: 'http://b:8000/v1', apiKeyEnv: 'B_KEY', weight: 2 },
  ]);
  assert.deepEqual(env, { SVD_ENDPOINT_KEY_0: 'sk-stored-key-of-a' });
  rmSync(scratch, { recursive: true, force: true });

  assert.throws(
    () => readSettings((key) => (key === 'endpoints' ? [{ url: 'http://a/v1', apiKey: 'sk-in-settings-0000' }] : undefined), '/ws'),
    (error: Error) => /svd\.endpoints: .*keys are never kept here/.test(error.message) && !error.message.includes('sk-in-settings'),
  );
});
