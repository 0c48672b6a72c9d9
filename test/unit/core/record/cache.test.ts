import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ResponseCache, defaultCacheDir, sampleKey } from '../../../../src/core/record/cache';
import { isSvdError } from '../../../../src/core/base/errors';
import type { Sample, SampleRequest } from '../../../../src/core/base/types';

const cleanups: (() => void)[] = [];

afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-cache-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(dir: string): ResponseCache {
  const cache = ResponseCache.open(dir);
  cleanups.push(() => cache.close());
  return cache;
}

function sample(text: string): Sample {
  return { text, finishReason: 'stop', promptTokens: 10, completionTokens: 20 };
}

function samplesFile(dir: string): string {
  return path.join(dir, 'samples.jsonl');
}

const request: SampleRequest = {
  purpose: 'generate',
  messages: [
    { role: 'system', content: 'Reason step by step.' },
    { role: 'user', content: 'What is 2 + 2?' },
  ],
  temperature: 0.8,
  topP: 0.95,
  maxTokens: 1024,
};

describe('sampleKey', () => {
  const key = sampleKey('qwen3', request, 0);

  it('is a sha256 hex digest, stable for equal requests', () => {
    assert.match(key, /^[0-9a-f]{64}$/);
    const copy: SampleRequest = JSON.parse(JSON.stringify(request));
    assert.equal(sampleKey('qwen3', copy, 0), key);
  });

  it('does not depend on the order of properties', () => {
    const reordered: SampleRequest = {
      maxTokens: 1024,
      topP: 0.95,
      temperature: 0.8,
      messages: request.messages.map((m) => ({ content: m.content, role: m.role })),
      purpose: 'generate',
    };
    assert.equal(sampleKey('qwen3', reordered, 0), key);
  });

  it('ignores the purpose', () => {
    assert.equal(sampleKey('qwen3', { ...request, purpose: 'correctness' }, 0), key);
  });

  it('changes with everything that changes the answer', () => {
    const variants = [
      sampleKey('qwen3', request, 1),
      sampleKey('qwen3-8b', request, 0),
      sampleKey('qwen3', { ...request, temperature: 0.6 }, 0),
      sampleKey('qwen3', { ...request, topP: 0.9 }, 0),
      sampleKey('qwen3', { ...request, maxTokens: 2048 }, 0),
      sampleKey('qwen3', { ...request, stop: ['</answer>'] }, 0),
      sampleKey('qwen3', { ...request, messages: [request.messages[1]!] }, 0),
      sampleKey('qwen3', { ...request, messages: [request.messages[0]!, { role: 'user', content: 'What is 2 + 3?' }] }, 0),
      sampleKey('qwen3', { ...request, messages: [request.messages[0]!, { role: 'assistant', content: 'What is 2 + 2?' }] }, 0),
    ];
    assert.equal(new Set([key, ...variants]).size, variants.length + 1);
  });

  it('treats an empty stop list as no stop list', () => {
    assert.equal(sampleKey('qwen3', { ...request, stop: [] }, 0), key);
  });
});

describe('ResponseCache', () => {
  it('puts, gets and survives a reopen', () => {
    const dir = path.join(tempDir(), 'a', 'cache');
    const cache = open(dir);
    assert.equal(cache.size, 0);
    assert.equal(cache.get('k1'), undefined);
    cache.put('k1', sample('one'));
    cache.put('k2', { ...sample('two'), reasoning: 'because' });
    assert.equal(cache.size, 2);
    assert.deepEqual(cache.get('k1'), sample('one'));
    cache.close();

    const again = open(dir);
    assert.equal(again.size, 2);
    assert.equal(again.droppedTail, false);
    assert.deepEqual(again.get('k2'), { ...sample('two'), reasoning: 'because' });
  });

  it('keeps the first sample of a key and writes it once', () => {
    const dir = tempDir();
    const cache = open(dir);
    cache.put('k', sample('first'));
    cache.put('k', sample('second'));
    assert.deepEqual(cache.get('k'), sample('first'));
    assert.equal(fs.readFileSync(samplesFile(dir), 'utf8').trimEnd().split('\n').length, 1);
  });

  it('drops and truncates a torn last line, then keeps appending cleanly', () => {
    const dir = tempDir();
    const cache = open(dir);
    cache.put('k1', sample('one'));
    cache.close();
    const goodSize = fs.statSync(samplesFile(dir)).size;
    fs.appendFileSync(samplesFile(dir), '{"k":"k2","s":{"text":"tw');

    const again = open(dir);
    assert.equal(again.droppedTail, true);
    assert.equal(again.size, 1);
    assert.equal(fs.statSync(samplesFile(dir)).size, goodSize);
    again.put('k2', sample('two'));
    again.close();

    const third = open(dir);
    assert.equal(third.droppedTail, false);
    assert.deepEqual(third.get('k2'), sample('two'));
    assert.equal(third.size, 2);
  });

  it('sees samples another process cached after it opened, once that turn of its event loop wrote them', async () => {
    const dir = tempDir();
    const mine = open(dir);
    const theirs = open(dir);
    theirs.put('k', sample('theirs'));
    assert.deepEqual(theirs.get('k'), sample('theirs'), 'a sample not yet written is served from memory');
    assert.equal(fs.statSync(samplesFile(dir)).size, 0, 'written at the end of the turn, not at once');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(mine.get('k'), sample('theirs'));
    mine.put('k', sample('mine'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fs.readFileSync(samplesFile(dir), 'utf8').trimEnd().split('\n').length, 1);
  });

  it('keeps the first line of a key two writers cached in the same turn, and writes it once', async () => {
    const dir = tempDir();
    const first = open(dir);
    const second = open(dir);
    first.put('k', sample('first'));
    second.put('k', sample('second'));
    second.put('other', sample('other'));
    await new Promise((resolve) => setImmediate(resolve));
    const lines = fs.readFileSync(samplesFile(dir), 'utf8').trimEnd().split('\n');
    // The second writer looks for others' lines as it writes its own, and drops the key already there.
    assert.equal(lines.length, 2);
    const reader = open(dir);
    assert.deepEqual(reader.get('k'), sample('first'));
    assert.deepEqual(reader.get('other'), sample('other'));
    assert.equal(reader.size, 2);
    first.close();
    second.close();
    reader.close();
  });

  it('rejects an invalid sample', () => {
    const cache = open(tempDir());
    const bad = { ...sample('x'), promptTokens: -1 };
    assert.throws(() => cache.put('k', bad), (e) => isSvdError(e, 'internal') && e.message.includes('promptTokens'));
    assert.equal(cache.size, 0);
  });

  it('lives beside the runs folder by default', () => {
    assert.equal(defaultCacheDir('/ws/.svd/runs'), path.join('/ws', '.svd', 'cache'));
  });
});
