import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isSvdError } from '../../../src/core/base/errors';
import { DEFAULT_MODEL, defaultModelSource, embeddedModelName, ensureModel, type DownloadProgress } from '../../../src/engine/download';

const BLOB = randomBytes(1 << 20);
const SHA = createHash('sha256').update(BLOB).digest('hex');

describe('default model download', () => {
  let server: http.Server;
  let url: string;
  /** Bytes after which the next full response is cut off; 0 = never. */
  let cutAt = 0;
  let wrongHash = false;
  let requests: { range?: string }[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      requests.push({ range: req.headers.range });
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      const headers = { 'x-linked-etag': `"${wrongHash ? '0'.repeat(64) : SHA}"`, 'content-length': String(BLOB.length - start) };
      res.writeHead(range ? 206 : 200, headers);
      if (cutAt > 0 && !range) {
        res.write(BLOB.subarray(0, cutAt));
        cutAt = 0;
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.end(BLOB.subarray(start));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.gguf`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a broken download resumes where it stopped and is checked against the published hash', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-dl-'));
    requests = [];
    cutAt = 300_000;
    const source = { file: 'm.gguf', url };
    await assert.rejects(ensureModel({ source, cacheDir: dir }), (e) => isSvdError(e, 'engine') && /broke off/.test(e.message));
    const partial = statSync(path.join(dir, 'm.gguf.part')).size;
    assert.ok(partial > 0 && partial < BLOB.length);

    const seen: DownloadProgress[] = [];
    const file = await ensureModel({ source, cacheDir: dir, onProgress: (p) => seen.push(p) });
    assert.equal(requests.at(-1)?.range, `bytes=${partial}-`);
    assert.ok(readFileSync(file).equals(BLOB));
    assert.equal(seen.at(-1)?.received, BLOB.length);
    assert.equal(seen.at(-1)?.total, BLOB.length);
    assert.equal(seen[0]?.resumedFrom, partial);
    assert.ok(!existsSync(path.join(dir, 'm.gguf.part')));

    const count = requests.length;
    assert.equal(await ensureModel({ source, cacheDir: dir }), file);
    assert.equal(requests.length, count, 'a verified model is not fetched again');
  });

  test('a checksum mismatch removes the file and says so', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-dl-'));
    wrongHash = true;
    try {
      await assert.rejects(ensureModel({ source: { file: 'm.gguf', url }, cacheDir: dir }), (e) => isSvdError(e, 'engine') && /checksum/.test(e.message));
      assert.ok(!existsSync(path.join(dir, 'm.gguf.part')));
      assert.ok(!existsSync(path.join(dir, 'm.gguf')));
    } finally {
      wrongHash = false;
    }
  });

  test('offline: the error names the local file and the server, as flags for the CLI and as settings for the editor', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-dl-'));
    const offline: typeof fetch = async () => {
      throw new TypeError('fetch failed');
    };
    await assert.rejects(ensureModel({ source: { file: 'm.gguf', url }, cacheDir: dir, fetch: offline }), (e) => {
      assert.ok(isSvdError(e, 'engine'));
      assert.match(e.message, /--model-path FILE.*--base-url URL/);
      assert.doesNotMatch(e.message, /svd\.engine/);
      assert.match(e.editorMessage ?? '', /svd\.engine\.modelPath.*SVD: Select Model Endpoint/);
      assert.doesNotMatch(e.editorMessage ?? '', /--/);
      return true;
    });
  });

  test('SVD_MODEL_URL points the default model at a mirror; its name is the file\'s, known before any download', () => {
    assert.equal(defaultModelSource({}).url, DEFAULT_MODEL.url);
    assert.deepEqual(defaultModelSource({ SVD_MODEL_URL: ' http://mirror.local/q.gguf ' }), { ...DEFAULT_MODEL, url: 'http://mirror.local/q.gguf' });
    assert.equal(embeddedModelName(), 'Qwen3-0.6B-Q8_0');
    assert.equal(embeddedModelName('/models/tiny.GGUF'), 'tiny');
  });
});
