import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_BYTES_PER_FILE, MAX_LINES_PER_FILE, WaveFiles } from '../../../../../src/core/method/batch/waveFiles';
import { requestLine } from '../../../../../src/core/method/batch/lines';

const line = (i: number, size = 10) =>
  requestLine(`run|cand:q${i}#0`, 'm', { purpose: 'generate', messages: [{ role: 'user', content: 'x'.repeat(size) }], temperature: 0.8, topP: 0.95, maxTokens: 10 });

describe('WaveFiles', () => {
  test("OpenAI's limits by default: 50,000 requests and 200 MB per file", () => {
    assert.equal(MAX_LINES_PER_FILE, 50_000);
    assert.equal(MAX_BYTES_PER_FILE, 200 * 1024 * 1024);
  });

  test('splits at the line limit, in order, every file whole', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-wave-'));
    const files = new WaveFiles({ dir, prefix: 'run-wave1', maxLines: 3 });
    for (let i = 0; i < 7; i++) files.add(line(i));
    const written = files.finish();
    assert.deepEqual(written.map((f) => path.basename(f)), ['run-wave1-1.jsonl', 'run-wave1-2.jsonl', 'run-wave1-3.jsonl']);
    const ids = written.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { custom_id: string }).custom_id));
    assert.deepEqual(ids, Array.from({ length: 7 }, (_, i) => `run|cand:q${i}#0`));
    assert.equal(files.count, 7);
    assert.deepEqual(readdirSync(dir).sort(), ['run-wave1-1.jsonl', 'run-wave1-2.jsonl', 'run-wave1-3.jsonl'], 'no temporary file left');
  });

  test('splits before a line would cross the byte limit', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-wave-'));
    const size = Buffer.byteLength(`${JSON.stringify(line(0, 1000))}\n`);
    const files = new WaveFiles({ dir, prefix: 'w', maxBytes: size * 2 + 10 });
    for (let i = 0; i < 5; i++) files.add(line(i, 1000));
    const written = files.finish();
    assert.equal(written.length, 3);
    for (const file of written) assert.ok(statSync(file).size <= size * 2 + 10);
  });

  test('no request, no file; an aborted wave leaves only the files already whole', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-wave-'));
    assert.deepEqual(new WaveFiles({ dir, prefix: 'w' }).finish(), []);
    const files = new WaveFiles({ dir, prefix: 'w', maxLines: 2 });
    for (let i = 0; i < 3; i++) files.add(line(i));
    files.abort();
    assert.deepEqual(readdirSync(dir), ['w-1.jsonl']);
  });
});
