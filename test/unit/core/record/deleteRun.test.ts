// Deleting a run (core/record/deleteRun.ts): only a run's folder, never while anything writes it; and the folder of
// a round that never started.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseRunConfig } from '../../../../src/core/base/config';
import { isSvdError } from '../../../../src/core/base/errors';
import { deleteRun, deletionRefusal, discardUnstartedRun } from '../../../../src/core/record/deleteRun';
import { releaseRunLock, takeRunLock } from '../../../../src/core/record/runLock';
import { isRunDir, readRunManifest, RunStore } from '../../../../src/core/record/store';

function makeRun(id = 'r'): { runId: string; dir: string } {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-delete-')), id);
  RunStore.create(dir, {
    version: 1,
    id,
    createdAt: '2025-01-01T00:00:00.000Z',
    seedFile: { path: '/seeds.jsonl', fingerprint: 'abc', format: 'jsonl', rows: 1 },
    model: { model: 'm', engine: 'embedded' },
    config: parseRunConfig({}),
    methodFingerprint: 'f',
  }).close();
  return { runId: id, dir };
}

const idle = { running: false, training: false };

describe('deleting a run', () => {
  test('an idle run is deleted, folder and all', () => {
    const run = makeRun();
    assert.equal(isRunDir(run.dir), true);
    assert.equal(readRunManifest(run.dir).id, 'r');
    assert.equal(deletionRefusal(run, idle), undefined);
    deleteRun(run, idle);
    assert.equal(existsSync(run.dir), false);
  });

  test('refused while a run process or a training writes it, or another process holds its lock', () => {
    const run = makeRun();
    const refusal = (writers = idle) => deletionRefusal(run, writers);
    assert.ok(isSvdError(refusal({ running: true, training: false }), 'run_locked'));
    assert.match(refusal({ running: false, training: true })?.message ?? '', /training on run r is going: cancel it first/);
    takeRunLock(run.dir, run.runId);
    try {
      assert.match(refusal()?.message ?? '', /^Run r is going: stop it first/);
      assert.throws(() => deleteRun(run, idle), (e) => isSvdError(e, 'run_locked'));
    } finally {
      releaseRunLock(run.dir);
    }
    assert.equal(refusal(), undefined);
    assert.ok(existsSync(run.dir));
  });

  test('a folder without run.json is no run: nothing is deleted', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'svd-not-a-run-'));
    writeFileSync(path.join(dir, 'precious.txt'), 'x');
    assert.ok(isSvdError(deletionRefusal({ runId: 'x', dir }, idle), 'not_found'));
    assert.throws(() => deleteRun({ runId: 'x', dir }, idle), (e) => isSvdError(e, 'not_found'));
    assert.ok(existsSync(path.join(dir, 'precious.txt')));
    assert.throws(() => readRunManifest(dir), (e) => isSvdError(e, 'not_found'));
  });

  test('a round that never started leaves no folder; one that started is kept', () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'svd-discard-'));
    const unstarted = path.join(base, 'r-r2');
    mkdirSync(unstarted);
    writeFileSync(path.join(unstarted, 'lineage.json'), '{}');
    assert.equal(discardUnstartedRun(unstarted), true);
    assert.equal(existsSync(unstarted), false);
    assert.equal(discardUnstartedRun(unstarted), false, 'nothing there');
    const started = makeRun('r-r3');
    assert.equal(discardUnstartedRun(started.dir), false);
    assert.ok(existsSync(started.dir));
  });
});
