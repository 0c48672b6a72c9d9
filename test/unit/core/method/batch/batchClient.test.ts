import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchClient } from '../../../../../src/core/method/batch/batchClient';
import type { RequestLine } from '../../../../../src/core/method/batch/lines';
import { BatchResults } from '../../../../../src/core/method/batch/results';
import { SampleDeferred } from '../../../../../src/core/method/sampler';

const request = { purpose: 'correctness' as const, messages: [{ role: 'user' as const, content: 'Judge it.' }], temperature: 0.6, topP: 0.95, maxTokens: 50 };
const ids = ['vote:q0#0:correctness:judge:0', 'vote:q0#0:correctness:judge:1'];
const sample = (text: string) => ({ text, finishReason: 'stop', promptTokens: 10, completionTokens: 5 });

describe('BatchClient', () => {
  test('a sample without an answer: its request written once, the seed deferred', async () => {
    const results = BatchResults.open(mkdtempSync(path.join(os.tmpdir(), 'svd-bc-')));
    const lines: RequestLine[] = [];
    const client = new BatchClient('run-1', 'm', results, (line) => lines.push(line));
    await assert.rejects(client.complete(request, 2, undefined, ids), (error) => error instanceof SampleDeferred && error.ids.length === 2);
    await assert.rejects(client.complete(request, 2, undefined, ids), SampleDeferred);
    assert.deepEqual(lines.map((l) => l.custom_id), ['run-1|vote:q0#0:correctness:judge:0', 'run-1|vote:q0#0:correctness:judge:1']);
    assert.equal(client.deferredRequests, 2);
    assert.equal(client.usage().correctness.requests, 0);
    assert.equal(client.usage().correctness.batch, undefined, 'nothing answered through the batch yet');
  });

  test('answers from the imported results, counted as requests; one missing defers only it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-bc-'));
    const results = BatchResults.open(dir, { create: true });
    assert.equal(results.put('run-1|vote:q0#0:correctness:judge:0', sample('[[Y]]')), true);
    assert.equal(results.put('run-1|vote:q0#0:correctness:judge:0', sample('[[N]]')), false, 'the first answer stays');
    const lines: RequestLine[] = [];
    const client = new BatchClient('run-1', 'm', results, (line) => lines.push(line));
    await assert.rejects(client.complete(request, 2, undefined, ids), (error) => error instanceof SampleDeferred && error.ids.join() === 'run-1|vote:q0#0:correctness:judge:1');
    assert.deepEqual(lines.map((l) => l.custom_id), ['run-1|vote:q0#0:correctness:judge:1']);
    results.put('run-1|vote:q0#0:correctness:judge:1', sample('[[N]]'));
    const samples = await client.complete(request, 2, undefined, ids);
    assert.deepEqual(samples.map((s) => s.text), ['[[Y]]', '[[N]]']);
    // All of it answered by a batch API, so all of it billed at the batch price.
    const batch = { requests: 2, promptTokens: 20, completionTokens: 10 };
    assert.deepEqual(client.usage().correctness, { ...batch, cachedSamples: 0, retries: 0, batch });
    results.close();
    // Kept on disk for the next process.
    const again = BatchResults.open(dir);
    assert.equal(again.get('run-1|vote:q0#0:correctness:judge:0')?.text, '[[Y]]');
    again.close();
  });

  test('samples must be named by their event ids', async () => {
    const client = new BatchClient('run-1', 'm', BatchResults.open(mkdtempSync(path.join(os.tmpdir(), 'svd-bc-'))));
    await assert.rejects(client.complete(request, 2, undefined, ['only-one']), /named by their event ids/);
  });
});
