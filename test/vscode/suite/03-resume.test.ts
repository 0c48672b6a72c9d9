// Stop a run after its first progress report, resume it, and get what an uninterrupted run gets.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, commandValue, expectedFunnel, funnelOf, readEvents, seedFile, waitFor, withSetting, workspaceRoot, type RunOutcome } from './helpers';

suite('stop and resume', function () {
  this.timeout(120_000);

  test('a stopped run, resumed, accepts exactly what an uninterrupted run accepts', async () => {
    const svd = await api();
    const seeds = seedFile('resume-seeds.jsonl');
    const expected = expectedFunnel(seeds);

    // The reference: uninterrupted, in a runs folder of its own (and so with a response cache of its own).
    const referenceRuns = path.join(mkdtempSync(path.join(os.tmpdir(), 'svd-reference-')), 'runs');
    const reference = await withSetting('runsFolder', referenceRuns, async () => {
      assert.equal(svd.runsDir(), referenceRuns);
      return svd.startRun(seeds, { runId: 'reference' });
    });
    assert.equal(reference.state, 'finished', JSON.stringify(reference));
    assert.equal(reference.dir, path.join(referenceRuns, 'reference'));
    const referenceFunnel = funnelOf(reference.dir!);
    assert.deepEqual(referenceFunnel.statuses, expected.statuses);
    assert.deepEqual(referenceFunnel.accepted, expected.accepted);
    assert.equal(svd.runsDir(), path.join(workspaceRoot(), '.svd', 'runs'), 'the runs folder setting is back');

    // The same seeds, stopped with svd.stop once the run reported progress.
    const going = svd.startRun(seeds, { runId: 'interrupted' });
    const run = await waitFor('the run to report progress', () => {
      const active = svd.runs().get('interrupted');
      return active?.lastProgress !== undefined && active;
    });
    assert.equal(run.runId, 'interrupted');
    const stopped = await commandValue<string>('svd.stop', 'interrupted');
    assert.equal(stopped, 'interrupted');
    const cut = await going;
    assert.equal(cut.state, 'stopped', JSON.stringify(cut));
    assert.equal(svd.runs().has('interrupted'), false);
    const partial = funnelOf(cut.dir!);
    assert.ok(Object.keys(partial.statuses).length < Object.keys(expected.statuses).length, `the run finished all ${Object.keys(partial.statuses).length} seeds before it was stopped`);
    assert.deepEqual(partial.runStates, ['started', 'stopped']);

    const resumed = await commandValue<RunOutcome>('svd.resume', 'interrupted');
    assert.ok(resumed, 'svd.resume returned nothing');
    assert.equal(resumed.state, 'finished', JSON.stringify(resumed));
    assert.equal(resumed.runId, 'interrupted');
    assert.equal(resumed.dir, cut.dir);
    const final = funnelOf(resumed.dir!);
    assert.deepEqual(final.accepted, referenceFunnel.accepted);
    assert.deepEqual(final.statuses, referenceFunnel.statuses);
    assert.deepEqual(final.runStates, ['started', 'stopped', 'started', 'finished']);
    const ids = readEvents(resumed.dir!).map((event) => event.id);
    assert.equal(new Set(ids).size, ids.length, 'a record was written twice');
  });
});
