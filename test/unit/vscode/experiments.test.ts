// The servers an experiment started in the editor is given: svd.endpoints as `--endpoints` for a sweep and an
// evaluation (a model on the fine-tuning server served by that server only), each stored key found by its address.
import '../../stubs/register-vscode';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { modelEndpoints } from '../../../src/cli/endpoint';
import { evalServers } from '../../../src/vscode/experiments/commands';
import { endpointsRequest } from '../../../src/vscode/platform/cliProcess';

const A = 'http://10.0.0.1:8000/v1';
const B = 'http://10.0.0.2:8000/v1';
const TRAINED = 'http://10.0.0.9:8000/v1';
const servers = [{ url: A, weight: 1 }, { url: B, weight: 1, apiKeyEnv: 'B_KEY' }];

test('without svd.endpoints each model is paired with its server, as before', () => {
  const { args, endpoints } = evalServers(['base', 'ft'], A, [], { model: 'ft', baseUrl: TRAINED });
  assert.deepEqual(args, ['--base-url', A, '--model', 'base', '--base-url', TRAINED, '--model', 'ft']);
  assert.deepEqual(endpoints, []);
});

test('with svd.endpoints the models are served by the pool; the trained model by its own server only', () => {
  const { args, endpoints } = evalServers(['base', 'ft'], undefined, servers, { model: 'ft', baseUrl: TRAINED });
  assert.deepEqual(args, ['--model', 'base', '--model', 'ft']);
  assert.deepEqual(endpoints.map((e) => e.url), [A, B, TRAINED]);
  // What `svd eval` makes of them: the base model on the pool, the trained one on its server.
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-eval-servers-')), 'endpoints.json');
  writeFileSync(file, JSON.stringify(endpoints));
  process.env.B_KEY = 'sk-b';
  const [base, ft] = modelEndpoints({ endpoints: file }, ['base', 'ft']);
  delete process.env.B_KEY;
  assert.deepEqual(base!.replicas?.map((r) => r.url), [A, B]);
  assert.equal(ft!.baseURL, TRAINED);
  assert.equal(ft!.replicas, undefined);
});

test('a trained model evaluated alone is asked of its server only', () => {
  const { args, endpoints } = evalServers(['ft'], A, servers, { model: 'ft', baseUrl: TRAINED });
  assert.deepEqual(args, ['--base-url', TRAINED, '--model', 'ft']);
  assert.deepEqual(endpoints, []);
});

test('a server of svd.endpoints that names no key variable gets the key stored for its address', async () => {
  const stored = new Map([[A, 'sk-a'], [B, 'sk-b-unused']]);
  const request = await endpointsRequest(servers, (url) => Promise.resolve(stored.get(url)));
  assert.deepEqual(request.keys, ['sk-a', undefined]);
  assert.deepEqual(request.entries, servers);
});
