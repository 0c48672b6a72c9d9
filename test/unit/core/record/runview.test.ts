import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSvdError } from '../../../../src/core/base/errors';
import { RunEvent } from '../../../../src/core/record/events';
import { makeOverride } from '../../../../src/core/record/overrides';
import { foldRun, seedStatus, type CandidateView, type RunView } from '../../../../src/core/record/runview';
import { formatFunnel, formatDuration, funnelJson } from '../../../../src/core/record/status';
import { EventLog, sampleRun, usageOf } from '../../../fixtures/events';

function candidate(view: RunView, candidateId: string): CandidateView {
  for (const seed of view.seeds) {
    const found = seed.candidates.find((c) => c.candidate.candidateId === candidateId);
    if (found) return found;
  }
  assert.fail(`no candidate ${candidateId} in the view`);
}

describe('foldRun', () => {
  it('builds events that the run record schema accepts', () => {
    for (const event of sampleRun().events) assert.ok(RunEvent.safeParse(event).success, event.id);
  });

  it('counts every step of the funnel', () => {
    const { funnel } = foldRun(sampleRun().events);
    assert.deepEqual(funnel, {
      seeds: 5,
      seedsDone: 4,
      candidates: 10,
      valid: 6,
      verified: 5,
      passedCycle: 4,
      passedFactuality: 3,
      passedCorrectness: 2,
      accepted: 2,
      acceptedFinal: 2,
      overridden: 2,
      unparseableVotes: 1,
      invalidByReason: { truncated: 1, no_boxed_answer: 1, no_code_block: 2 },
      errors: 2,
      seedsPending: 1,
    });
  });

  it('counts seeds not reached yet as pending when the total is known', () => {
    const { funnel } = foldRun(sampleRun().events, 8);
    assert.equal(funnel.seeds, 8);
    assert.equal(funnel.seedsPending, 4);
  });

  it('orders seeds by their line in the seed file and candidates by index', () => {
    const view = foldRun(sampleRun().events);
    assert.deepEqual(
      view.seeds.map((seed) => seed.seed.seedId),
      ['s1', 's2', 's3', 's4', 's5'],
    );
    assert.deepEqual(
      view.seeds[0]?.candidates.map((c) => c.candidate.index),
      [0, 1, 2, 3],
    );
  });

  it('records each stage with its votes and stops at the failing stage', () => {
    const view = foldRun(sampleRun().events);
    const accepted = candidate(view, 's1#1');
    assert.deepEqual(Object.keys(accepted.stages), ['cycle', 'factuality', 'correctness']);
    assert.equal(accepted.stages.cycle?.passed, true);
    // Cycle votes are an inference and a comparison each.
    assert.equal(accepted.stages.cycle?.voteEvents.length, 6);
    assert.equal(accepted.stages.correctness?.voteEvents.length, 3);

    const failsCycle = candidate(view, 's2#0');
    assert.deepEqual(failsCycle.stages.cycle && { ...failsCycle.stages.cycle, voteEvents: [] }, {
      passed: false,
      yes: 2,
      votes: 3,
      voteEvents: [],
    });
    assert.equal(failsCycle.stages.factuality, undefined);

    const failsFactuality = candidate(view, 's2#1');
    assert.equal(failsFactuality.stages.factuality?.passed, false);
    assert.equal(failsFactuality.unparseableVotes, 1);
    assert.equal(failsFactuality.stages.correctness, undefined);

    const failsCorrectness = candidate(view, 's2#2');
    assert.equal(failsCorrectness.stages.correctness?.passed, false);
    assert.equal(failsCorrectness.acceptedByMethod, false);

    const unverified = candidate(view, 's1#2');
    assert.deepEqual(unverified.stages, {});
  });

  it('attaches outcomes and errors to their seeds', () => {
    const view = foldRun(sampleRun().events);
    const byId = new Map(view.seeds.map((seed) => [seed.seed.seedId, seed]));
    assert.equal(byId.get('s3')?.outcome?.status, 'no_valid');
    assert.equal(byId.get('s3')?.candidates.every((c) => !c.candidate.valid), true);
    assert.equal(byId.get('s4')?.errors.length, 1);
    assert.equal(byId.get('s4')?.outcome?.status, 'accepted');
    assert.equal(byId.get('s5')?.errors.length, 1);
    assert.equal(byId.get('s5')?.outcome, undefined);
  });

  it('applies overrides: latest wins, clear restores the method, reject removes an accepted answer', () => {
    const view = foldRun(sampleRun().events);
    const acceptedByHuman = candidate(view, 's2#2');
    assert.equal(acceptedByHuman.acceptedByMethod, false);
    assert.deepEqual(acceptedByHuman.override, { action: 'accept', note: 'checked by hand', at: acceptedByHuman.override?.at });
    assert.equal(acceptedByHuman.accepted, true);

    const cleared = candidate(view, 's1#1');
    assert.equal(cleared.override, undefined);
    assert.equal(cleared.accepted, true);

    const rejected = candidate(view, 's4#0');
    assert.equal(rejected.acceptedByMethod, true);
    assert.equal(rejected.override?.action, 'reject');
    assert.equal(rejected.accepted, false);
  });

  it('keeps the first record of a step written twice', () => {
    const log = sampleRun();
    const duplicate = log.events.filter((event) => event.type === 'candidate' || event.type === 'outcome');
    const view = foldRun([...log.events, ...duplicate]);
    assert.equal(view.funnel.candidates, 10);
    assert.equal(view.funnel.seedsDone, 4);
  });

  it('sums usage and wall time over sessions and reports the last state', () => {
    const view = foldRun(sampleRun().events);
    assert.deepEqual(view.usage.generate, { requests: 4, promptTokens: 400, completionTokens: 4000, cachedSamples: 1, retries: 2 });
    assert.deepEqual(view.usage.cycle, { requests: 10, promptTokens: 1234, completionTokens: 500, cachedSamples: 0, retries: 0 });
    assert.equal(view.usage.correctness.retries, 1);
    assert.equal(view.wallMs, 3_785_000);
    assert.equal(view.state, 'finished');
  });

  it('says running after a start with no end, new with no session, and keeps the last message', () => {
    const log = new EventLog();
    assert.equal(foldRun(log.events).state, 'new');
    log.run('started');
    assert.equal(foldRun(log.events).state, 'running');
    log.run('failed', { message: 'server unreachable', usage: usageOf({ generate: { requests: 2 } }), wallMs: 5 });
    const failed = foldRun(log.events);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.lastMessage, 'server unreachable');
    log.run('started');
    const resumed = foldRun(log.events);
    assert.equal(resumed.state, 'running');
    assert.equal(resumed.lastMessage, undefined);
    assert.equal(resumed.usage.generate.requests, 2);
  });

  it('counts a live session from its latest usage checkpoint, a killed one from its last, an ended one from its end', () => {
    const log = new EventLog();
    log.run('started');
    log.usage(usageOf({ generate: { requests: 2, promptTokens: 20 } }), 1_000);
    log.usage(usageOf({ generate: { requests: 3, promptTokens: 30 }, cycle: { requests: 4 } }), 3_000);
    const live = foldRun(log.events);
    assert.equal(live.state, 'running');
    assert.deepEqual([live.usage.generate.requests, live.usage.generate.promptTokens, live.usage.cycle.requests], [3, 30, 4], 'the latest totals, not a sum of checkpoints');
    assert.equal(live.wallMs, 3_000);

    // Killed: no end event; the next session starts, and the killed one counts what its last checkpoint said.
    log.run('started');
    const afterKill = foldRun(log.events);
    assert.equal(afterKill.usage.generate.requests, 3);
    log.usage(usageOf({ generate: { requests: 1 } }), 500);
    log.run('finished', { usage: usageOf({ generate: { requests: 5 } }), wallMs: 2_000 });
    const ended = foldRun(log.events);
    assert.equal(ended.state, 'finished');
    assert.equal(ended.usage.generate.requests, 3 + 5, "the end's totals take the place of the session's checkpoints");
    assert.equal(ended.usage.cycle.requests, 4);
    assert.equal(ended.wallMs, 3_000 + 2_000);
  });

  it("decides a seed's status after the decisions by hand", () => {
    assert.equal(seedStatus('accepted', true), 'accepted');
    assert.equal(seedStatus('accepted', false), 'rejected', 'its accepted answers all rejected by hand');
    assert.equal(seedStatus('rejected', true), 'accepted', 'a candidate accepted by hand');
    assert.equal(seedStatus('no_valid', true), 'accepted');
    assert.equal(seedStatus('no_valid', false), 'no_valid');
    assert.equal(seedStatus('rejected', false), 'rejected');
    assert.equal(seedStatus('pending', false), 'pending');
    assert.equal(seedStatus('pending', true), 'accepted', 'export takes it already');
  });

  it('counts a candidate whose cycle votes are recorded but not decided as verified', () => {
    const log = new EventLog();
    log.seed('q', { line: 1 });
    const id = log.candidate('q', 0);
    log.stage(id, 'cycle', ['yes']);
    const withResult = log.events.length;
    log.events.splice(withResult - 1, 1); // drop the stage result: verification still running
    const view = foldRun(log.events);
    assert.equal(view.funnel.verified, 1);
    assert.equal(view.funnel.passedCycle, 0);
    assert.deepEqual(candidate(view, id).stages, {});
    assert.equal(view.funnel.seedsPending, 1);
  });
});

describe('formatFunnel', () => {
  const text = formatFunnel(foldRun(sampleRun().events));
  const line = (label: string) => text.split('\n').find((l) => l.trimStart().startsWith(label)) ?? '';

  it('shows each funnel step with its share of the step before', () => {
    assert.match(line('candidates'), /candidates\s+10\s+2\.5 per seed/);
    assert.match(line('valid'), /valid\s+6\s+60\.0%/);
    assert.match(line('verified'), /verified\s+5\s+83\.3%/);
    assert.match(line('passed cycle'), /passed cycle\s+4\s+80\.0%/);
    assert.match(line('passed factuality'), /passed factuality\s+3\s+75\.0%/);
    assert.match(line('passed correctness'), /passed correctness\s+2\s+66\.7%/);
    assert.match(line('accepted '), /accepted\s+2\s+100\.0%/);
    assert.match(line('accepted after overrides'), /accepted after overrides\s+2/);
    assert.match(text, /Seeds: 5 \(4 done, 1 pending\)/);
    assert.match(text, /Run: finished/);
  });

  it('lists invalid reasons, unparseable votes, overrides and errors', () => {
    assert.match(text, /Invalid candidates: 4 \(no_boxed_answer 1, no_code_block 2, truncated 1\)/);
    assert.match(text, /Unparseable votes: 1/);
    assert.match(text, /Overrides: 2 /);
    assert.match(text, /Errors: 2/);
  });

  it('shows usage per purpose with a total, and the wall time', () => {
    assert.match(line('generate'), /generate\s+4\s+400\s+4,000\s+1\s+2/);
    assert.match(line('cycle'), /cycle\s+10\s+1,234\s+500\s+0\s+0/);
    assert.match(line('factuality'), /factuality\s+6\s+600\s+60\s+0\s+0/);
    assert.match(line('correctness'), /correctness\s+4\s+400\s+40\s+0\s+1/);
    assert.match(line('total'), /total\s+24\s+2,634\s+4,600\s+1\s+3/);
    assert.match(text, /Wall time: 1h 03m 05s/);
  });

  it('colors only when asked', () => {
    const escape = new RegExp(String.fromCharCode(27) + '\\[');
    assert.doesNotMatch(text, escape);
    assert.match(formatFunnel(foldRun(sampleRun().events), { color: true }), escape);
  });

  it('does not divide by zero on an empty run', () => {
    const empty = formatFunnel(foldRun([]));
    assert.match(empty, /Run: new/);
    assert.match(empty, /valid\s+0\s+-/);
    assert.doesNotMatch(empty, /NaN|Infinity/);
  });

  it('formats durations for people', () => {
    assert.equal(formatDuration(850), '850ms');
    assert.equal(formatDuration(12_340), '12.3s');
    assert.equal(formatDuration(245_000), '4m 05s');
    assert.equal(formatDuration(7_384_000), '2h 03m 04s');
  });
});

describe('funnelJson', () => {
  it('is plain data that survives a JSON round trip, with usage totals', () => {
    const json = funnelJson(foldRun(sampleRun().events));
    assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
    assert.equal(json.funnel.accepted, 2);
    assert.equal(json.usage.total.requests, 24);
    assert.equal(json.usage.total.promptTokens, 2634);
    assert.equal(json.wallMs, 3_785_000);
    assert.equal(json.state, 'finished');
  });

  it('copies, so a caller cannot change the view through it', () => {
    const view = foldRun(sampleRun().events);
    const json = funnelJson(view);
    json.funnel.invalidByReason.truncated = 99;
    json.usage.generate.requests = 99;
    assert.equal(view.funnel.invalidByReason.truncated, 1);
    assert.equal(view.usage.generate.requests, 4);
  });
});

describe('makeOverride', () => {
  const ids = new Set(['s1#0', 's1#1', 's1#10', 's2#0']);

  it('returns a valid override event with a unique id', () => {
    const first = makeOverride(ids, 's1#1', 'accept', '  looks right  ');
    const second = makeOverride(ids, 's1#1', 'accept', 'looks right');
    assert.equal(first.type, 'override');
    assert.equal(first.note, 'looks right');
    assert.match(first.id, /^override:s1#1:\d+:[0-9a-f]{8}$/);
    assert.notEqual(first.id, second.id);
    assert.ok(RunEvent.safeParse({ at: new Date().toISOString(), ...first }).success);
  });

  it('accepts a membership test and leaves out an empty note', () => {
    const event = makeOverride((id) => id === 'x#0', 'x#0', 'clear', '   ');
    assert.equal(event.action, 'clear');
    assert.equal('note' in event, false);
  });

  it('recording the same decision twice leaves the same result', () => {
    const log = sampleRun();
    const once = [...log.events, { at: '2025-03-02T00:00:00.000Z', ...makeOverride(ids, 's2#0', 'accept') }];
    const twice = [...once, { at: '2025-03-02T00:00:01.000Z', ...makeOverride(ids, 's2#0', 'accept') }];
    const a = foldRun(once);
    const b = foldRun(twice);
    assert.equal(candidate(a, 's2#0').accepted, true);
    assert.equal(candidate(b, 's2#0').accepted, true);
    assert.equal(a.funnel.acceptedFinal, b.funnel.acceptedFinal);
    assert.equal(a.funnel.overridden, b.funnel.overridden);
  });

  it('names an unknown candidate and lists its seed siblings', () => {
    assert.throws(
      () => makeOverride(ids, 's1#7', 'reject'),
      (error: unknown) =>
        isSvdError(error, 'not_found') && /"s1#7"/.test(error.message) && /s1#0, s1#1, s1#10/.test(error.message),
    );
    assert.throws(
      () => makeOverride(() => false, 'nope', 'reject'),
      (error: unknown) => isSvdError(error, 'not_found') && /"nope"/.test(error.message) && /<seedId>#<index>/.test(error.message),
    );
  });

  it('refuses an unknown action', () => {
    assert.throws(
      () => makeOverride(ids, 's1#1', 'approve' as 'accept'),
      (error: unknown) => isSvdError(error, 'bad_config'),
    );
  });
});
