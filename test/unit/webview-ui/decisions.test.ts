// The review panel's decisions without a browser: what a, r, c and u send, the notes that go with them, the
// overrides on their way (put back when refused or unanswered), and the deadlines of requests to the host.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ReviewCandidate, ReviewOverride } from '../../../src/protocol/review';
import { Decisions, recordedText, UNDO_DEPTH, withOverride, type Decision } from '../../../webview-ui/src/decisions';
import { HostRequests, READY_REQUEST, type ExpiredRequest, type Timers } from '../../../webview-ui/src/requests';

function candidate(id: string, patch: Partial<ReviewCandidate> = {}): ReviewCandidate {
  return {
    id,
    index: Number(id.slice(id.lastIndexOf('#') + 1)),
    text: 'The answer is \\boxed{2}.',
    thinking: '',
    finishReason: 'stop',
    valid: true,
    stages: [],
    acceptedByMethod: false,
    accepted: false,
    unparseableVotes: 0,
    ...patch,
  };
}

const byHand = (action: 'accept' | 'reject', note?: string): ReviewOverride => ({ action, at: '2025-03-01T00:00:00.000Z', ...(note ? { note } : {}) });

/** The request a decision sends; fails on a refusal. */
function sent(decision: Decision | undefined) {
  assert.ok(decision?.send, `a request, not ${JSON.stringify(decision)}`);
  return decision.send;
}

function refusal(decision: Decision | undefined) {
  assert.ok(decision?.refused, `a refusal, not ${JSON.stringify(decision)}`);
  return decision.refused;
}

describe('Decisions', () => {
  it('sends a, r and c as overrides, and refuses what would change nothing', () => {
    const decisions = new Decisions();
    assert.deepEqual(sent(decisions.decide('accept', 's1#0', candidate('s1#0'), true)), { candidateId: 's1#0', action: 'accept' });
    const accepted = candidate('s1#0', { override: byHand('accept'), accepted: true });
    assert.deepEqual(refusal(decisions.decide('accept', 's1#0', accepted, true)), { text: 's1#0 is already accepted by hand.', error: false });
    assert.deepEqual(sent(decisions.decide('reject', 's1#0', accepted, true)), { candidateId: 's1#0', action: 'reject' });
    assert.deepEqual(sent(decisions.decide('clear', 's1#0', accepted, true)), { candidateId: 's1#0', action: 'clear' });
    assert.deepEqual(refusal(decisions.decide('clear', 's1#1', candidate('s1#1'), true)), { text: 's1#1 has no decision to clear.', error: false });
    assert.deepEqual(refusal(decisions.decide('accept', 's1#1', candidate('s1#1'), false)), { text: 'Decisions cannot be recorded for this run.', error: true });
    // A candidate whose page is not loaded: nothing to decide on, and nothing said.
    assert.equal(decisions.decide('accept', 's9#0', undefined, true), undefined);
  });

  it('sends the note typed for a candidate with its decision, else the note it had, and never with a clear', () => {
    const decisions = new Decisions({ 's1#0': '  looks right  ' });
    const request = sent(decisions.decide('accept', 's1#0', candidate('s1#0'), true));
    assert.deepEqual(request, { candidateId: 's1#0', action: 'accept', note: 'looks right' });
    decisions.sent(1, request, candidate('s1#0'), 0);
    assert.equal(decisions.notes.has('s1#0'), false, 'the draft went with the decision');

    const noted = candidate('s1#0', { override: byHand('accept', 'looks right'), accepted: true });
    assert.equal(decisions.noteOf('s1#0', noted), 'looks right');
    assert.deepEqual(sent(decisions.decide('reject', 's1#0', noted, true)), { candidateId: 's1#0', action: 'reject', note: 'looks right' });
    // The same decision with another note is a change.
    decisions.setDraft('s1#0', 'on second thought');
    assert.equal(decisions.noteOf('s1#0', noted), 'on second thought');
    assert.deepEqual(sent(decisions.decide('accept', 's1#0', noted, true)), { candidateId: 's1#0', action: 'accept', note: 'on second thought' });
    assert.deepEqual(sent(decisions.decide('clear', 's1#0', noted, true)), { candidateId: 's1#0', action: 'clear' });
  });

  it('undoes decisions newest first, back to what the candidate had', () => {
    const decisions = new Decisions();
    sent(decisions.decide('accept', 's1#2', candidate('s1#2'), true));
    sent(decisions.decide('reject', 's1#2', candidate('s1#2', { override: byHand('accept'), accepted: true }), true));
    sent(decisions.decide('accept', 's2#0', candidate('s2#0', { override: byHand('reject', 'wrong units') }), true));
    assert.deepEqual(sent(decisions.undo()), { candidateId: 's2#0', action: 'reject', note: 'wrong units' });
    assert.deepEqual(sent(decisions.undo()), { candidateId: 's1#2', action: 'accept' });
    assert.deepEqual(sent(decisions.undo()), { candidateId: 's1#2', action: 'clear' });
    assert.deepEqual(refusal(decisions.undo()), { text: 'Nothing to undo.', error: false });
  });

  it(`keeps the last ${UNDO_DEPTH} decisions to undo`, () => {
    const decisions = new Decisions();
    for (let i = 0; i <= UNDO_DEPTH; i++) sent(decisions.decide('accept', `s${i}#0`, candidate(`s${i}#0`), true));
    const undone = [];
    for (let decision = decisions.undo(); decision.send; decision = decisions.undo()) undone.push(decision.send.candidateId);
    assert.equal(undone.length, UNDO_DEPTH);
    assert.equal(undone.at(-1), 's1#0', 'the oldest went');
  });

  it('says what an undo took back, also when it is sent again after its deadline', () => {
    const decisions = new Decisions();
    sent(decisions.decide('reject', 'm3#1', candidate('m3#1', { override: byHand('accept'), accepted: true }), true));
    const undo = decisions.undo();
    assert.deepEqual([undo.send, undo.undoes], [{ candidateId: 'm3#1', action: 'accept' }, 'reject']);
    decisions.sent(1, undo.send!, candidate('m3#1'), 0, undo.undoes);
    assert.deepEqual(decisions.answered({ type: 'overrideResult', requestId: 1, candidateId: 'm3#1', ok: true }, 0), {
      status: { text: 'Undid reject of m3#1 (now accepted by hand)', error: false },
    });
    decisions.sent(2, { candidateId: 'm3#1', action: 'clear' }, candidate('m3#1'), 0, 'accept');
    const expired = decisions.expired(2);
    assert.equal(expired?.undoes, 'accept');
    decisions.sent(3, expired!.retry, candidate('m3#1'), 0, expired!.undoes);
    assert.deepEqual(decisions.answered({ type: 'overrideResult', requestId: 3, candidateId: 'm3#1', ok: true }, 0), {
      status: { text: 'Undid accept of m3#1 (now no decision by hand)', error: false },
    });
    // A decision with its note says the note went with it.
    assert.equal(recordedText({ candidateId: 'm3#1', action: 'reject', note: 'wrong units' }), 'Recorded: reject m3#1 with its note');
  });

  it('says an override was recorded unless the status line moved on, and puts a refused one back', () => {
    const decisions = new Decisions();
    const before = candidate('s1#2', { override: byHand('reject', 'old'), accepted: false });
    decisions.sent(7, { candidateId: 's1#2', action: 'accept' }, before, 3);
    assert.deepEqual(decisions.pendingCandidates(), new Set(['s1#2']));
    assert.deepEqual(decisions.answered({ type: 'overrideResult', requestId: 7, candidateId: 's1#2', ok: true }, 3), {
      status: { text: 'Recorded: accept s1#2', error: false },
    });
    assert.deepEqual(decisions.pendingCandidates(), new Set());

    decisions.sent(8, { candidateId: 's1#2', action: 'clear' }, before, 3);
    assert.deepEqual(decisions.answered({ type: 'overrideResult', requestId: 8, candidateId: 's1#2', ok: true }, 4), {}, 'a later message stays');

    decisions.sent(9, { candidateId: 's1#2', action: 'accept' }, before, 4);
    assert.deepEqual(decisions.answered({ type: 'overrideResult', requestId: 9, candidateId: 's1#2', ok: false, error: 'The run folder is read-only.' }, 4), {
      rollback: { candidateId: 's1#2', before: { accepted: false, override: byHand('reject', 'old') } },
      status: { text: 'The run folder is read-only.', error: true },
    });
    assert.deepEqual(decisions.answered({ type: 'overrideResult', requestId: 10, candidateId: 's1#3', ok: false }, 4), {
      status: { text: 'The override of s1#3 was not recorded.', error: true },
    });
  });

  it('puts back an override the host did not answer in time, and can send it again as it was', () => {
    const decisions = new Decisions();
    const request = { candidateId: 's1#0', action: 'reject' as const, note: 'off by one' };
    decisions.sent(4, request, candidate('s1#0', { accepted: true, acceptedByMethod: true }), 0);
    assert.deepEqual(decisions.expired(4), { candidateId: 's1#0', before: { accepted: true }, retry: request });
    assert.equal(decisions.expired(4), undefined, 'once');
    assert.deepEqual(decisions.pendingCandidates(), new Set());
    // The answer, late: the seed it carries shows what the run has; nothing to put back or say.
    assert.deepEqual(decisions.answered({ type: 'overrideResult', requestId: 4, candidateId: 's1#0', ok: true }, 0), {});
  });

  it('shows an override at once: accepted by hand, or back to the method when cleared', () => {
    const methodAccepted = candidate('s1#1', { acceptedByMethod: true, accepted: false, override: byHand('reject') });
    assert.deepEqual(withOverride(methodAccepted, 'clear', undefined, 'now'), { override: undefined, accepted: true });
    assert.deepEqual(withOverride(candidate('s1#2'), 'accept', 'fine', 'now'), { override: { action: 'accept', at: 'now', note: 'fine' }, accepted: true });
    assert.deepEqual(withOverride(methodAccepted, 'reject', '', 'now'), { override: { action: 'reject', at: 'now' }, accepted: false });
  });
});

/** Timers that run only when told. */
function manualTimers() {
  let now = 0;
  const due = new Map<number, { at: number; run: () => void }>();
  let next = 1;
  const timers: Timers = {
    setTimeout(run, ms) {
      due.set(next, { at: now + ms, run });
      return next++;
    },
    clearTimeout(handle) {
      due.delete(handle as number);
    },
  };
  return {
    timers,
    pending: () => due.size,
    advance(ms: number) {
      now += ms;
      for (const [handle, timer] of [...due].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now) continue;
        due.delete(handle);
        timer.run();
      }
    },
  };
}

describe('HostRequests', () => {
  const within = { ready: 100, page: 100, override: 200, tests: 1_000 };

  it('numbers requests in one sequence and reports each one unanswered by its deadline, once', () => {
    const clock = manualTimers();
    const expired: ExpiredRequest[] = [];
    const requests = new HostRequests((e) => expired.push(e), within, clock.timers);
    assert.equal(requests.open('page', 'seeds 1 to 30'), 1);
    assert.equal(requests.open('override', 'accept s1#0'), 2);
    assert.equal(requests.open('tests', 'the tests of c1#0'), 3);
    assert.equal(requests.open('ready', "the run's summary", READY_REQUEST), READY_REQUEST);
    assert.equal(requests.size, 4);
    assert.equal(requests.settle(1), true);
    clock.advance(150);
    assert.deepEqual(expired, [{ requestId: READY_REQUEST, kind: 'ready', what: "the run's summary" }]);
    clock.advance(100);
    assert.deepEqual(expired.at(-1), { requestId: 2, kind: 'override', what: 'accept s1#0' });
    assert.equal(requests.settle(2), false, 'an answer after its deadline');
    requests.cancel(3);
    clock.advance(10_000);
    assert.equal(expired.length, 2);
    assert.equal(clock.pending(), 0);
    assert.equal(requests.size, 0);
    assert.equal(requests.settle(99), false, 'an answer to nothing asked');
  });

  it('gives a request sent again a fresh deadline', () => {
    const clock = manualTimers();
    const expired: ExpiredRequest[] = [];
    const requests = new HostRequests((e) => expired.push(e), within, clock.timers);
    requests.open('ready', "the run's summary", READY_REQUEST);
    clock.advance(80);
    requests.open('ready', "the run's summary", READY_REQUEST);
    clock.advance(80);
    assert.deepEqual(expired, []);
    clock.advance(30);
    assert.equal(expired.length, 1);
  });
});
