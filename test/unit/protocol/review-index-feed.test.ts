// The review from the on-disk index gives the panel what the whole-run fold gave it: the same summary, the same
// pages under every filter, the same live updates after an override.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunEvent } from '../../../src/core/record/events';
import { makeOverride } from '../../../src/core/record/overrides';
import { ReviewIndex } from '../../../src/core/record/reviewIndex';
import { JUDGES_WRONG, ReviewFilter, SHOW } from '../../../src/protocol/review';
import { costText } from '../../../src/protocol/reviewCost';
import { ReviewFeed, type ReviewFeedOptions } from '../../../src/protocol/reviewFeed';
import { ReviewIndexFeed } from '../../../src/protocol/reviewIndexFeed';
import { reviewRowSummarizer, type SeedRow } from '../../../src/protocol/reviewRows';
import { auditReviewRun, bigRun, reviewRun } from '../../webview/fixtures';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-review-feed-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let runs = 0;

function lines(events: readonly RunEvent[]): string {
  return events.map((event) => `${JSON.stringify(event)}\n`).join('');
}

/** The record as the store keeps it: the pipeline's events, then the overrides. */
function stored(events: readonly RunEvent[]): RunEvent[] {
  return [...events.filter((e) => e.type !== 'override'), ...events.filter((e) => e.type === 'override')];
}

function both(events: readonly RunEvent[], totalSeeds?: number, options: ReviewFeedOptions = {}): { old: ReviewFeed; index: ReviewIndex<SeedRow>; feed: ReviewIndexFeed; dir: string } {
  const dir = path.join(scratch, `run-${++runs}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'events.jsonl'), lines(events.filter((e) => e.type !== 'override')));
  writeFileSync(path.join(dir, 'overrides.jsonl'), lines(events.filter((e) => e.type === 'override')));
  const old = new ReviewFeed('run', { canOverride: true, ...options });
  old.load(stored(events), totalSeeds);
  const index = ReviewIndex.open(dir, reviewRowSummarizer);
  index.advance();
  const feed = new ReviewIndexFeed('run', index, { canOverride: true, ...options, ...(totalSeeds === undefined ? {} : { totalSeeds }) });
  return { old, index, feed, dir };
}

const TEXTS = ['', 'boxed', 'S1#', 'QUESTION 1', '[[n]]', 'note', 'zzz-nowhere', 'x^2', '"'];

function filters(): ReviewFilter[] {
  const out: ReviewFilter[] = [];
  for (const show of SHOW) {
    for (const domain of ['all', 'math', 'science', 'coding'] as const) {
      out.push(ReviewFilter.parse({ show, domain }));
      out.push(ReviewFilter.parse({ show, domain, unparseable: true }));
      out.push(ReviewFilter.parse({ show, domain, overridden: true }));
    }
    for (const judgesWrong of JUDGES_WRONG) out.push(ReviewFilter.parse({ show, judgesWrong }));
    for (const text of TEXTS) out.push(ReviewFilter.parse({ show, text }));
  }
  return out;
}

function assertSame(old: ReviewFeed, feed: ReviewIndexFeed, label: string): void {
  assert.deepEqual(feed.init(), old.init(), `${label}: init`);
  for (const filter of filters()) {
    for (const offset of [0, 3, 40]) {
      const request = { type: 'requestPage' as const, requestId: 7, offset, limit: 30, filter };
      assert.deepEqual(feed.page(request), old.page(request), `${label}: ${JSON.stringify(filter)} at ${offset}`);
    }
  }
}

test('the summary and every filtered page are those of the whole fold: the review fixture', () => {
  const events = reviewRun().events;
  const { old, feed, index } = both(events, 9);
  assertSame(old, feed, 'review run');
  index.close();
});

test('the summary and every filtered page are those of the whole fold: a run with gold and truth (the audit)', () => {
  const { old, feed, index } = both(auditReviewRun().events);
  assertSame(old, feed, 'audit run');
  index.close();
});

test('the cost in the summary is that of the whole fold: priced, and unknown for a model without a price', () => {
  const price = { promptPerMillion: 3, completionPerMillion: 7, batchDiscount: 0 };
  for (const options of [{ price: { model: 'm', match: { price, pattern: 'm', from: 'prices.json' } } }, { price: { model: 'local' } }]) {
    const { old, feed, index } = both(auditReviewRun().events, undefined, options);
    assert.ok(feed.summary().cost, 'the index feed prices the run');
    assert.deepEqual(feed.summary().cost, old.init().run.cost);
    assertSame(old, feed, `priced ${options.price.model}`);
    index.close();
  }
});

test("batch requests in the summary's cost at the batch price, through the index on disk", () => {
  const price = { promptPerMillion: 1, completionPerMillion: 1, batchDiscount: 0.5 };
  const counts = { requests: 4, promptTokens: 300_000, completionTokens: 100_000 };
  const zero = { requests: 0, promptTokens: 0, completionTokens: 0, cachedSamples: 0, retries: 0 };
  // A session whose candidates a batch API answered, and whose cycle votes went online.
  const usage = { generate: { ...zero, ...counts, batch: counts }, cycle: { ...zero, ...counts }, factuality: zero, correctness: zero };
  const at = '2025-03-02T10:00:00.000Z';
  const events: RunEvent[] = [
    ...auditReviewRun().events,
    { id: 'run:1:started', at, type: 'run', state: 'started' },
    { id: 'run:2:stopped', at, type: 'run', state: 'stopped', usage, wallMs: 10 },
  ];
  const { old, feed, index } = both(events, undefined, { price: { model: 'm', match: { price, pattern: 'm', from: 'prices.json' } } });
  const cost = feed.summary().cost!;
  assert.deepEqual(cost, old.init().run.cost);
  // $0.40 of tokens at half price, and $0.40 online.
  assert.ok(Math.abs(cost.perStage.generate! - 0.2) < 1e-12, String(cost.perStage.generate));
  assert.ok(Math.abs(cost.perStage.cycle! - 0.4) < 1e-12, String(cost.perStage.cycle));
  assert.equal(cost.batchTotal, cost.perStage.generate);
  assert.match(costText(cost), /^cost \$\S+ \(batch \$\S+\)/);
  index.close();
});

test('the summary and every filtered page are those of the whole fold: a big run with overrides', () => {
  const events = bigRun(1_200);
  const overrides = ['q00001#0', 'q00002#1', 'q00010#3', 'q00100#0'].map((id, i) => makeOverride(() => true, id, i % 2 ? 'reject' : 'accept', `note ${i}`) as RunEvent);
  const { old, feed, index, dir } = both([...events, ...overrides]);
  assertSame(old, feed, 'big run');
  assert.ok(index.save());
  index.close();
  // The rows saved packed and loaded back give the same answers.
  const loaded = ReviewIndex.open(dir, reviewRowSummarizer);
  assert.equal(loaded.loaded, true);
  assert.deepEqual(loaded.seeds().map((seed) => seed.row), rowsBuilt(dir));
  assertSame(old, new ReviewIndexFeed('run', loaded, { canOverride: true }), 'big run, index loaded');
  loaded.close();
});

test('a loaded index, some of its rows changed since: the same pages, and saved again, the same once more', () => {
  const events = bigRun(400);
  const { old, index, dir } = both(events);
  assert.ok(index.save());
  index.close();
  const loaded = ReviewIndex.open(dir, reviewRowSummarizer);
  assert.equal(loaded.loaded, true);
  // Rows stay packed where the file put them until one changes.
  assert.ok(loaded.packedRowAt(0) >= 0);
  const feed = new ReviewIndexFeed('run', loaded, { canOverride: true });
  assertSame(old, feed, 'loaded');
  const overrides = ['q00003#0', 'q00050#2', 'q00050#3'].map((id, i) => makeOverride(feed.hasCandidate, id, i % 2 ? 'reject' : 'accept', `n${i}`) as RunEvent);
  appendFileSync(path.join(dir, 'overrides.jsonl'), lines(overrides));
  const changes = loaded.advance();
  assert.deepEqual([...changes.seeds].sort(), ['q00003', 'q00050']);
  assert.equal(loaded.packedRowAt(loaded.placeOf('q00003')!), -1, 'a changed row is held as an object');
  feed.update(changes);
  const oldAfter = new ReviewFeed('run', { canOverride: true });
  oldAfter.load(stored([...events, ...overrides]));
  assertSame(oldAfter, feed, 'loaded, then overridden');
  // Saved with packed rows copied as they lie and the changed ones packed anew: loaded back, the same.
  assert.ok(loaded.save());
  loaded.close();
  const again = ReviewIndex.open(dir, reviewRowSummarizer);
  assert.equal(again.loaded, true);
  assert.deepEqual(again.seeds().map((seed) => seed.row), rowsBuilt(dir));
  assertSame(oldAfter, new ReviewIndexFeed('run', again, { canOverride: true }), 'saved again and loaded');
  again.close();
  assert.notDeepEqual(old.init(), oldAfter.init(), 'the overrides changed what the panel shows');
});

test('a filter asked for after the index moved on, before the feed heard of it, reads the rows as they are now', () => {
  const events = stored(reviewRun().events);
  const { index, feed, dir } = both(events);
  const page = (show: ReviewFilter['show']) => ({ type: 'requestPage' as const, requestId: 1, offset: 0, limit: 30, filter: ReviewFilter.parse({ show }) });
  feed.page(page('all'));
  const override = makeOverride(feed.hasCandidate, 's1#3', 'accept', 'late') as RunEvent;
  appendFileSync(path.join(dir, 'overrides.jsonl'), lines([override]));
  index.advance();
  const old = new ReviewFeed('run', { canOverride: true });
  old.load([...events, override]);
  // Which seeds match, and how many, are read afresh; a seed's fold already made is replaced when the feed hears.
  const shape = (p: { total: number; totalCandidates: number; seeds: { id: string }[] }) => [p.total, p.totalCandidates, p.seeds.map((seed) => seed.id)];
  assert.deepEqual(shape(feed.page(page('accepted'))), shape(old.page(page('accepted'))));
  index.close();
});

/** The rows of a fresh build of the run in `dir`. */
function rowsBuilt(dir: string): SeedRow[] {
  const index = ReviewIndex.open(dir, { ...reviewRowSummarizer, version: 'fresh' });
  index.advance();
  const rows = index.seeds().map((seed) => seed.row);
  index.close();
  return rows;
}

test('an override appended while the panel is open: the same live update as the whole fold', () => {
  const events = stored(reviewRun().events);
  const { old, feed, index, dir } = both(events);
  const filter = ReviewFilter.parse({ show: 'accepted' });
  const request = { type: 'requestPage' as const, requestId: 1, offset: 0, limit: 30, filter };
  assert.deepEqual(feed.page(request), old.page(request));
  const override = makeOverride(feed.hasCandidate, 's1#3', 'accept', 'fine by me') as RunEvent;
  assert.throws(() => makeOverride(feed.hasCandidate, 's1#9', 'accept'), /not in this run/);
  appendFileSync(path.join(dir, 'overrides.jsonl'), lines([override]));
  const changes = index.advance();
  const update = feed.update(changes);
  const oldUpdate = old.update([...events, override], [override]);
  assert.ok(update && oldUpdate);
  assert.deepEqual(update.run, oldUpdate.run);
  assert.deepEqual([update.total, update.totalCandidates, update.filterKey], [oldUpdate.total, oldUpdate.totalCandidates, oldUpdate.filterKey]);
  assert.deepEqual(update.seeds, oldUpdate.seeds, 'the seed the panel was sent comes again');
  assert.deepEqual(feed.page(request), old.page(request));
  assert.deepEqual(feed.candidateView('s1#3'), old.candidateView('s1#3'));
  index.close();
});
