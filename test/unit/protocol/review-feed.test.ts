// The host's side of the review, without a browser: a seed's status after the decisions by hand (live and after a
// reload), why a stage was not reached, and the counts a live update carries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeOverride } from '../../../src/core/record/overrides';
import type { RunEvent } from '../../../src/core/record/events';
import { DEFAULT_FILTER, EventsMessage, ReviewSeed } from '../../../src/protocol/review';
import { ReviewFeed } from '../../../src/protocol/reviewFeed';
import { EventLog, sampleRun, usageOf } from '../../fixtures/events';

function feedOf(events: readonly RunEvent[], totalSeeds?: number): ReviewFeed {
  const feed = new ReviewFeed('run', { canOverride: true });
  feed.load(events, totalSeeds);
  return feed;
}

function candidateOf(feed: ReviewFeed, id: string) {
  const found = feed.seed(id.slice(0, id.lastIndexOf('#')))?.candidates.find((c) => c.id === id);
  assert.ok(found, id);
  return found;
}

test("a seed's status follows the decisions by hand, live and after a reload", () => {
  const log = new EventLog();
  log.run('started');
  log.seed('m3', { line: 1 });
  const c0 = log.candidate('m3', 0);
  const c1 = log.candidate('m3', 1);
  log.cascade(c0, {});
  log.outcome('m3', 'accepted', [c0]);
  const events = [...log.events];
  const feed = feedOf(events);
  assert.equal(feed.seed('m3')?.status, 'accepted');
  assert.equal(feed.seed('m3')?.statusByMethod, undefined);

  // Its only accepted answer rejected: no longer accepted, and it says the method thought otherwise.
  const reject = makeOverride(feed.hasCandidate, c0, 'reject', 'wrong') as RunEvent;
  events.push(reject);
  const update = feed.update(events, [reject]);
  assert.ok(update && EventsMessage.safeParse(update).success);
  const live = update.seeds.find((s) => s.id === 'm3');
  assert.deepEqual([live?.status, live?.statusByMethod], ['rejected', 'accepted']);
  assert.equal(update.run.domains[0]?.seedsAccepted, 0);

  const reloaded = feedOf(events);
  assert.deepEqual([reloaded.seed('m3')?.status, reloaded.seed('m3')?.statusByMethod], ['rejected', 'accepted']);
  assert.ok(ReviewSeed.safeParse(reloaded.seed('m3')).success);

  // Another candidate accepted by hand: accepted again, by hand; cleared: back to the method's.
  events.push(makeOverride(reloaded.hasCandidate, c1, 'accept') as RunEvent);
  assert.equal(feedOf(events).seed('m3')?.status, 'accepted');
  events.push(makeOverride(reloaded.hasCandidate, c1, 'clear') as RunEvent, makeOverride(reloaded.hasCandidate, c0, 'clear') as RunEvent);
  assert.deepEqual([feedOf(events).seed('m3')?.status, feedOf(events).seed('m3')?.statusByMethod], ['accepted', undefined]);

  // The sample run's decisions: s4's only answer rejected by hand, s2's rejected one accepted by hand.
  const sample = feedOf(sampleRun().events);
  assert.deepEqual([sample.seed('s4')?.status, sample.seed('s4')?.statusByMethod], ['rejected', 'accepted']);
  assert.deepEqual([sample.seed('s2')?.status, sample.seed('s2')?.statusByMethod], ['accepted', 'rejected']);
  assert.deepEqual([sample.seed('s3')?.status, sample.seed('s3')?.statusByMethod], ['no_valid', undefined]);
});

test('a stage not reached says why: the static filter, an earlier stage, first-valid selection, the seed', () => {
  const log = new EventLog();
  log.run('started');
  log.seed('a', { line: 1 });
  log.candidate('a', 0, { invalidReason: 'no_boxed_answer', text: 'words' });
  const a1 = log.candidate('a', 1);
  log.candidate('a', 2);
  log.cascade(a1, {});
  log.outcome('a', 'accepted', [a1]);
  log.seed('b', { line: 2 });
  const b0 = log.candidate('b', 0);
  log.cascade(b0, { cycle: ['no'] });
  log.candidate('b', 1);
  log.error('b', 'server said 503');
  log.seed('c', { line: 3 });
  const c0 = log.candidate('c', 0);
  log.cascade(c0, { factuality: ['no'] });
  log.candidate('c', 1);
  const feed = feedOf(log.events, 3);

  assert.equal(candidateOf(feed, 'a#0').unverified, undefined, 'invalid: the static filter says why');
  assert.equal(candidateOf(feed, 'a#1').unverified, undefined, 'verified to the end');
  assert.deepEqual(candidateOf(feed, 'a#2').unverified, { reason: 'first_valid', acceptedIndex: 1 });
  assert.equal(candidateOf(feed, 'b#0').unverified, undefined, 'a stage rejected it');
  assert.deepEqual(candidateOf(feed, 'b#1').unverified, { reason: 'seed_error' });
  assert.deepEqual(candidateOf(feed, 'c#1').unverified, { reason: 'unfinished' });
  assert.deepEqual(candidateOf(feed, 'a#2').stages.map((s) => s.state), ['not_reached', 'not_reached', 'not_reached']);
});

test('a live update carries the candidates the filter shows and the requests so far', () => {
  const log = new EventLog();
  log.run('started');
  log.seed('q', { line: 1 });
  log.candidate('q', 0);
  const events = [...log.events];
  const feed = feedOf(events, 2);
  const page = feed.page({ type: 'requestPage', requestId: 1, offset: 0, limit: 30, filter: DEFAULT_FILTER });
  assert.equal(page.totalCandidates, 1);

  // New candidates of a seed already listed: no seed came, the count of candidates moved.
  const more = new EventLog();
  more.candidate('q', 1);
  more.candidate('q', 2);
  events.push(...more.events);
  const update = feed.update(events, more.events, 2);
  assert.equal(update?.total, 1);
  assert.equal(update?.totalCandidates, 3);
  assert.equal(update?.run.funnel.candidates, 3);

  // A usage checkpoint alone is an update: the requests column moves while the run is live.
  const usage = new EventLog();
  usage.usage(usageOf({ generate: { requests: 2 } }), 2_000);
  events.push(...usage.events);
  const moved = feed.update(events, usage.events, 2);
  assert.ok(moved, 'posted');
  assert.equal(moved.run.usage.generate?.requests, 2);
  assert.equal(moved.run.usage.generate?.samples, 3);
  assert.deepEqual(moved.seeds, []);
});
