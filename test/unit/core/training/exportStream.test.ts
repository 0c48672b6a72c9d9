import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { parseRunConfig } from '../../../../src/core/base/config';
import type { RunEvent } from '../../../../src/core/record/events';
import { RunStore } from '../../../../src/core/record/store';
import { EXPORT_FORMATS, exportRun, type ExportOptions } from '../../../../src/core/training/export';
import { sampleRun } from '../../../fixtures/events';
import { interleavedRun } from '../../../fixtures/interleaved';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'svd-export-stream-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function storeOf(events: readonly RunEvent[]): RunStore {
  const store = RunStore.create(path.join(tempDir(), 'run'), {
    version: 1,
    id: 'run',
    createdAt: '2025-01-01T00:00:00.000Z',
    seedFile: { path: '/seeds.jsonl', fingerprint: 'abc', format: 'jsonl', rows: 40 },
    model: { model: 'qwen3', engine: 'server' },
    config: parseRunConfig({}),
    methodFingerprint: 'f00d',
  });
  for (const event of events) store.append(event);
  cleanups.push(() => store.close());
  return store;
}

/** Exports the run both ways: from its whole fold and streamed from its store; the files and summaries agree. */
function assertSameExport(store: RunStore, options: Omit<ExportOptions, 'out'>): number {
  const dir = tempDir();
  const whole = exportRun(store.events(), { ...options, out: path.join(dir, 'whole', 'data.jsonl') });
  const streamed = exportRun(store, { ...options, out: path.join(dir, 'streamed', 'data.jsonl') });
  const relative = (summary: typeof whole) => ({
    ...summary,
    files: summary.files.map((f) => ({ ...f, path: path.basename(f.path) })),
    ...(summary.datasetInfo ? { datasetInfo: path.basename(summary.datasetInfo) } : {}),
  });
  assert.deepEqual(relative(streamed), relative(whole));
  for (const file of whole.files) {
    assert.equal(fs.readFileSync(path.join(dir, 'streamed', path.basename(file.path)), 'utf8'), fs.readFileSync(file.path, 'utf8'));
  }
  // The spool is gone.
  assert.deepEqual(fs.readdirSync(path.join(dir, 'streamed')).sort(), fs.readdirSync(path.join(dir, 'whole')).sort());
  return whole.rows;
}

describe('exportRun streamed from the store', () => {
  for (const format of EXPORT_FORMATS) {
    it(`${format}: the same rows in the same order as the whole fold, on the sample run`, () => {
      assert.ok(assertSameExport(storeOf(sampleRun().events), { format }) > 0);
    });
  }

  for (const seed of [1, 2, 3]) {
    it(`interleaved seeds out of file order, split into train and validation, overrides on and off (case ${seed})`, () => {
      const store = storeOf(interleavedRun(seed));
      assert.ok(assertSameExport(store, { format: 'openai', valFraction: 0.3, splitSeed: seed }) > 5);
      assertSameExport(store, { format: 'trl', applyOverrides: false, thinking: 'strip' });
    });
  }
});
