// Which servers serve which model of an evaluation: pairs, one pool for one model, entries that name their model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modelEndpoints } from '../../../src/cli/endpoint';
import { isSvdError } from '../../../src/core/base/errors';

const A = 'http://10.0.0.1:8000/v1';
const B = 'http://10.0.0.2:8000/v1';
const C = 'http://10.0.0.3:8000/v1';
const urlsOf = (endpoint: { baseURL: string; replicas?: { url: string }[] }) => endpoint.replicas?.map((r) => r.url) ?? [endpoint.baseURL];

function endpointsFile(entries: object[]): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-eval-endpoints-')), 'endpoints.json');
  writeFileSync(file, JSON.stringify(entries));
  return file;
}

test('--base-url once per --model pairs them; once for all, or a pool for one model', () => {
  const paired = modelEndpoints({ baseUrl: [A, B] }, ['base', 'trained']);
  assert.deepEqual(paired.map(urlsOf), [[A], [B]]);
  assert.deepEqual(paired.map((e) => e.model), ['base', 'trained']);
  assert.deepEqual(modelEndpoints({ baseUrl: [A] }, ['base', 'trained']).map(urlsOf), [[A], [A]]);
  const pool = modelEndpoints({ baseUrl: [A, B, C] }, ['base']);
  assert.deepEqual(pool.map(urlsOf), [[A, B, C]]);
  // Three servers for two models say neither: replicas of several models are listed in a file.
  assert.throws(() => modelEndpoints({ baseUrl: [A, B, C] }, ['base', 'trained']), /one per --model \(2\); list the replicas of several models in --endpoints FILE/);
});

test('--endpoints: a model an entry names is served by those entries, the others by entries that name none', () => {
  const file = endpointsFile([{ url: A }, { url: B }, { url: C, model: 'trained' }]);
  const [base, trained] = modelEndpoints({ endpoints: file }, ['base', 'trained']);
  assert.deepEqual(urlsOf(base!), [A, B]);
  assert.deepEqual(urlsOf(trained!), [C]);
  // One model: every entry serves it, under the name each gives (as `svd run` takes them).
  const [only] = modelEndpoints({ endpoints: file }, ['base']);
  assert.deepEqual(only!.replicas?.map((r) => r.model), ['base', 'base', 'trained']);
  // --base-url beside the file: a server that names no model.
  assert.deepEqual(urlsOf(modelEndpoints({ baseUrl: [A], endpoints: endpointsFile([{ url: C, model: 'trained' }]) }, ['base', 'trained'])[0]!), [A]);
});

test('a model without a server, or no server at all, is refused', () => {
  const file = endpointsFile([{ url: A, model: 'base' }]);
  assert.throws(() => modelEndpoints({ endpoints: file }, ['base', 'other']), (error: unknown) => isSvdError(error, 'bad_config') && /no server for model "other"/.test((error as Error).message));
  assert.throws(() => modelEndpoints({}, ['base']), /--base-url or --endpoints/);
});
