// svd.run on a seed file, from the command with the file's Uri as its argument, to the funnel the scripted model
// makes; export and delete, each on a run of its own.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { isDeclined } from '../../../src/vscode/platform/commandResult';
import { api, commandResult, commandValue, expectedFunnel, funnelOf, seedFile, seedRows, type RunOutcome } from './helpers';

/** A finished run of seeds.jsonl under `runId`, for a test that needs one. */
async function finishedRun(runId: string): Promise<RunOutcome> {
  const svd = await api();
  const outcome = await svd.startRun(seedFile('seeds.jsonl'), { runId });
  assert.equal(outcome.state, 'finished', JSON.stringify(outcome));
  assert.equal(outcome.dir, path.join(svd.runsDir()!, runId));
  return outcome;
}

suite('run a seed file', function () {
  this.timeout(90_000);

  test('svd.run finishes with the expected funnel', async () => {
    const svd = await api();
    const seeds = seedFile('seeds.jsonl');
    const outcome = await commandValue<RunOutcome>('svd.run', vscode.Uri.file(seeds));
    assert.equal(outcome.state, 'finished', JSON.stringify(outcome));
    assert.ok(outcome.runId);
    const dir = path.join(svd.runsDir()!, outcome.runId);
    assert.equal(outcome.dir, dir);
    assert.ok(existsSync(path.join(dir, 'run.json')));
    const run = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) as { seedFile: { path: string; rows: number }; config: { candidates: number; votes: number } };
    assert.equal(run.seedFile.path, seeds);
    assert.equal(run.seedFile.rows, 6);
    // The workspace settings reached the run.
    assert.equal(run.config.candidates, 2);
    assert.equal(run.config.votes, 2);

    const funnel = funnelOf(dir);
    const expected = expectedFunnel(seeds);
    assert.deepEqual(funnel.statuses, expected.statuses);
    assert.deepEqual(funnel.accepted, expected.accepted);
    assert.deepEqual(funnel.accepted, ['m1#0', 'm5#1', 's1#0']);
    assert.deepEqual(funnel.runStates, ['started', 'finished']);
    assert.equal(svd.runs().size, 0, 'the finished run is no longer listed as going');
  });

  test('svd.export with arguments writes one openai row per accepted answer; never into the run\'s folder', async () => {
    const run = await finishedRun('to-export');
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-export-')), 'train.openai.jsonl');
    const summary = await commandValue<{ rows: number; files: { path: string }[] }>('svd.export', 'to-export', 'openai', out);
    assert.equal(summary.rows, 3);
    assert.equal(summary.files[0]?.path, out);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { messages: { role: string; content: string }[] });
    assert.equal(rows.length, 3);
    const accepted = seedRows(seedFile('seeds.jsonl')).filter((row) => row.expect === 'accepted');
    for (const row of rows) {
      assert.equal(row.messages.at(-1)?.role, 'assistant');
      assert.match(row.messages.at(-1)!.content, /\\boxed\{\d+\}/);
      const user = row.messages.find((m) => m.role === 'user')?.content ?? '';
      assert.ok(accepted.some((seed) => user.includes(seed.question)), `row for an unexpected question: ${user.slice(0, 120)}`);
    }
    const questions = new Set(rows.map((row) => accepted.find((seed) => row.messages.some((m) => m.content.includes(seed.question)))?.id));
    assert.deepEqual([...questions].sort(), ['m1', 'm5', 's1']);

    // A file in the run's own folder would sit among its records: the export is refused, and nothing is written.
    const before = readdirSync(run.dir!).sort();
    const refused = await commandResult('svd.export', 'to-export', 'openai', path.join(run.dir!, 'data.jsonl'));
    assert.ok(isDeclined(refused), `svd.export did not decline: ${JSON.stringify(refused)}`);
    assert.equal(refused.declined, 'refused');
    assert.deepEqual(readdirSync(run.dir!).sort(), before);
  });

  test('svd.deleteRun with (runId, true) removes the run folder; a run that is gone is refused as not found', async () => {
    const run = await finishedRun('to-delete');
    assert.ok(existsSync(run.dir!));
    const deleted = await commandValue<boolean>('svd.deleteRun', 'to-delete', true);
    assert.equal(deleted, true);
    assert.equal(existsSync(run.dir!), false, `${run.dir} is still there`);

    const again = await commandResult('svd.deleteRun', 'to-delete', true);
    assert.ok(isDeclined(again), `svd.deleteRun did not decline: ${JSON.stringify(again)}`);
    assert.deepEqual([again.declined, again.code], ['refused', 'not_found']);
  });
});
