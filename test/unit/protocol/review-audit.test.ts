// The review's side of the audit, without a browser: truth and gold in the protocol's shape, the "judges wrong"
// filter, the audit in the run's summary, and the host's "Run tests" (checker faked, recording decided by the host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditSchema } from '../../../src/core/record/audit';
import { foldRun } from '../../../src/core/record/runview';
import type { RunEvent } from '../../../src/core/record/events';
import {
  DEFAULT_FILTER,
  filterKey,
  HostMessage,
  MAX_GOLD_TEXT,
  ReviewAudit,
  ReviewFilter,
  ReviewSeed,
  RunSummary,
  WebviewMessage,
} from '../../../src/protocol/review';
import { ReviewFeed, ReviewTestRuns, type CheckResultLike, type NewTruthEvent, type TestChecker } from '../../../src/protocol/reviewFeed';
import { changedSeedIds, filterSeeds, judgesWrongAbout, pendingVotesOf, runSummary, toReviewSeed } from '../../../src/protocol/reviewSeeds';
import { readUiState } from '../../../webview-ui/src/uiState';
import { AUDIT, auditReviewRun, HOSTILE_OUTPUT, LONG_TESTS, truth } from '../../webview/fixtures';

function seedsOf(events: readonly RunEvent[]): ReviewSeed[] {
  const pendingVotes = pendingVotesOf(events);
  return foldRun(events).seeds.map((seed) => toReviewSeed(seed, { pendingVotes }));
}

const ids = (seeds: ReviewSeed[]) => seeds.flatMap((seed) => seed.candidates.map((c) => c.id));
const filter = (patch: Partial<ReviewFilter>) => ReviewFilter.parse(patch);

function candidate(seeds: ReviewSeed[], id: string) {
  const found = seeds.flatMap((s) => s.candidates).find((c) => c.id === id);
  assert.ok(found, id);
  return found;
}

test('candidates carry their truth, seeds their gold, and the catalogue accepts both', () => {
  const seeds = seedsOf(auditReviewRun().events);
  for (const seed of seeds) assert.ok(ReviewSeed.safeParse(seed).success, seed.id);
  assert.deepEqual(candidate(seeds, 'm2#0').truth, { outcome: 'fail', correct: false, extracted: '8', detail: '8 is not 7', durationMs: 12 });
  assert.equal(candidate(seeds, 'c1#0').truth?.output, HOSTILE_OUTPUT);
  assert.equal(candidate(seeds, AUDIT.untested).truth, undefined);
  assert.equal(candidate(seeds, AUDIT.invalid).truth, undefined);
  const bySeed = new Map(seeds.map((s) => [s.id, s]));
  assert.deepEqual(bySeed.get('m1')?.gold, { answer: '42' });
  assert.deepEqual(bySeed.get('c1')?.gold, { tests: LONG_TESTS, entryPoint: 'add' });
});

test('long gold and long output are cut, saying so', () => {
  const log = auditReviewRun();
  const seed = log.events.find((e) => e.type === 'seed' && e.seedId === 'c2');
  assert.ok(seed?.type === 'seed');
  seed.gold = { tests: 'x'.repeat(MAX_GOLD_TEXT + 500), solution: 'never shown' };
  log.events.push(truth('c2#0', 'fail', { output: 'y'.repeat(MAX_GOLD_TEXT * 3) }));
  const seeds = seedsOf(log.events);
  const c2 = seeds.find((s) => s.id === 'c2');
  assert.ok(c2?.gold?.tests);
  assert.ok(c2.gold.tests.startsWith('x'.repeat(MAX_GOLD_TEXT)));
  assert.match(c2.gold.tests, /\n\[cut: 4,500 characters\]$/);
  assert.ok(!JSON.stringify(c2).includes('never shown'), 'the reference solution is not sent');
  assert.ok((c2.candidates[0]?.truth?.output?.length ?? 0) < MAX_GOLD_TEXT + 50);
});

test('a seed without gold has none, and gold with nothing usable counts as none', () => {
  const log = auditReviewRun();
  const seed = log.events.find((e) => e.type === 'seed' && e.seedId === 'm1');
  assert.ok(seed?.type === 'seed');
  seed.gold = { answer: '   ', entryPoint: 'f' };
  assert.equal(seedsOf(log.events).find((s) => s.id === 'm1')?.gold, undefined);
});

test('judgesWrongAbout names false accepts and false rejects, the method deciding, not a reviewer', () => {
  const seeds = seedsOf(auditReviewRun().events);
  const wrong = seeds.flatMap((s) => s.candidates.map((c) => [c.id, judgesWrongAbout(s, c)] as const)).filter(([, w]) => w !== undefined);
  assert.deepEqual(Object.fromEntries(wrong), { 'm1#0': 'false_reject', 'm2#0': 'false_accept', 'm3#1': 'false_reject', 'c1#0': 'false_accept' });

  // A reviewer's override does not change what the judges did.
  const log = auditReviewRun();
  log.override('m2#0', 'reject', 'wrong answer');
  const overridden = seedsOf(log.events);
  const m2 = overridden.find((s) => s.id === 'm2')!;
  assert.equal(judgesWrongAbout(m2, m2.candidates[0]!), 'false_accept');
});

test('a right candidate is a false reject only once judged and its seed finished', () => {
  const log = auditReviewRun();
  log.seed('p1', { line: 9, domain: 'math', question: 'Pending?' }).gold = { answer: '1' };
  const judged = log.candidate('p1', 0, { text: '\\boxed{1}' });
  log.cascade(judged, { cycle: ['no', 'yes', 'yes'] });
  log.candidate('p1', 1, { text: '\\boxed{1}' });
  log.events.push(truth(judged, 'pass'), truth('p1#1', 'pass'));
  const p1 = () => seedsOf(log.events).find((s) => s.id === 'p1')!;
  assert.equal(judgesWrongAbout(p1(), p1().candidates[0]!), undefined, 'the seed is still going');
  log.outcome('p1', 'rejected');
  assert.equal(judgesWrongAbout(p1(), p1().candidates[0]!), 'false_reject');
  assert.equal(judgesWrongAbout(p1(), p1().candidates[1]!), undefined, 'never judged');
});

test('the filter shows exactly the candidates the judges got wrong', () => {
  const seeds = seedsOf(auditReviewRun().events);
  assert.deepEqual(ids(filterSeeds(seeds, filter({ judgesWrong: 'either' }))), ['m1#0', 'm2#0', 'm3#1', 'c1#0']);
  assert.deepEqual(ids(filterSeeds(seeds, filter({ judgesWrong: 'false_accept' }))), [...AUDIT.falseAccepts]);
  assert.deepEqual(ids(filterSeeds(seeds, filter({ judgesWrong: 'false_reject' }))), [...AUDIT.falseRejects]);
  // With the other criteria.
  assert.deepEqual(ids(filterSeeds(seeds, filter({ judgesWrong: 'either', domain: 'coding' }))), ['c1#0']);
  assert.deepEqual(ids(filterSeeds(seeds, filter({ judgesWrong: 'either', show: 'rejected_correctness' }))), ['m1#0']);
  // A seed narrowed to its wrong candidates still says how many it has.
  const m1 = filterSeeds(seeds, filter({ judgesWrong: 'either' })).find((s) => s.id === 'm1');
  assert.deepEqual([m1?.candidates.length, m1?.candidateCount], [1, 2]);
});

test('filters and stored UI state of older panels still read, and keep their keys', () => {
  const old = { show: 'accepted', domain: 'all', unparseable: false, overridden: false, text: '' };
  const parsed = ReviewFilter.parse(old);
  assert.equal(parsed.judgesWrong, undefined);
  assert.equal(filterKey(parsed), JSON.stringify(['accepted', 'all', false, false, '']));
  assert.notEqual(filterKey(filter({ judgesWrong: 'either' })), filterKey(DEFAULT_FILTER));
  assert.equal('judgesWrong' in DEFAULT_FILTER, false);
  const state = readUiState({ version: 1, filter: old, expanded: [], openVotes: [], openThinking: [], summaryOpen: false, notes: {} });
  assert.equal(state.filter.show, 'accepted');
  assert.equal(state.summaryOpen, false);
  assert.equal(readUiState({ version: 1, filter: { ...old, judgesWrong: 'nonsense' } }).filter.show, 'all', 'an unknown value falls back to the default filter');
  assert.equal(WebviewMessage.safeParse({ type: 'requestPage', requestId: 1, offset: 0, limit: 5, filter: { judgesWrong: 'everything' } }).success, false);
});

test('truth events re-send their seed, and the summary carries the audit', () => {
  assert.deepEqual([...changedSeedIds([truth('a#b#0', 'pass')])], ['a#b']);
  const feed = new ReviewFeed('r');
  feed.load(auditReviewRun().events);
  const summary = feed.init().run;
  assert.ok(RunSummary.safeParse(summary).success);
  // The protocol's restatement of the audit's schema agrees with core's.
  assert.deepEqual(ReviewAudit.parse(summary.audit), AuditSchema.parse(summary.audit));
  const audit = summary.audit!;
  assert.deepEqual([audit.checked, audit.correct, audit.unchecked], [6, 3, 1]);
  assert.deepEqual(audit.outcomes, { pass: 3, fail: 2, error: 1, timeout: 0 });
  assert.deepEqual(
    [audit.overall.judged, audit.overall.accepted, audit.overall.correct, audit.overall.acceptedCorrect, audit.overall.falseAccepts, audit.overall.falseRejects],
    [6, 3, 3, 1, 2, 2],
  );
  assert.deepEqual([audit.stages.cycle.accepted, audit.stages.cycle.falseAccepts, audit.stages.cycle.falseRejects, audit.stages.cycle.recall], [5, 2, 0, 1]);
  assert.deepEqual([audit.stages.factuality.judged, audit.stages.factuality.precision, audit.stages.factuality.falseRejects], [5, 0.5, 1]);
  assert.deepEqual([audit.stages.correctness.judged, audit.stages.correctness.recall], [4, 0.5]);
  // A run without truth has no audit.
  const plain = auditReviewRun().events.filter((e) => e.type !== 'truth');
  feed.load(plain);
  assert.equal(feed.init().run.audit, undefined);
  assert.equal(runSummary('r', foldRun(plain), seedsOf(plain)).audit, undefined);
});

test("the summary carries the seed file's skipped rows, when the run recorded any", () => {
  const events = auditReviewRun().events;
  const feed = new ReviewFeed('r', { skippedRows: 3 });
  feed.load(events);
  const summary = RunSummary.parse(feed.init().run);
  assert.equal(summary.skippedRows, 3);
  assert.equal(runSummary('r', foldRun(events), seedsOf(events)).skippedRows, undefined);
  assert.equal(runSummary('r', foldRun(events), seedsOf(events), { skippedRows: 0 }).skippedRows, undefined, 'none skipped: nothing to say');
});

test('the feed sends truth as it arrives', () => {
  const log = auditReviewRun();
  const events = log.events.filter((e) => !(e.type === 'truth' && e.candidateId === 'm2#0'));
  const feed = new ReviewFeed('r');
  feed.load(events);
  feed.page({ type: 'requestPage', requestId: 1, offset: 0, limit: 30, filter: filter({ judgesWrong: 'false_accept' }) });
  const event = truth('m2#0', 'fail');
  events.push(event);
  const update = feed.update(events, [event]);
  assert.ok(update && HostMessage.safeParse(update).success);
  assert.deepEqual(update.seeds.map((s) => s.id), ['m2']);
  assert.equal(update.seeds[0]?.candidates[0]?.truth?.outcome, 'fail');
  assert.equal(update.total, 2);
  assert.equal(update.run.audit?.overall.falseAccepts, 2);
});

// ---------------------------------------------------------------- Run tests

class FakeChecker implements TestChecker {
  calls: { domain: string; text: string; question?: string }[] = [];
  result: CheckResultLike | undefined = { outcome: 'pass', correct: true, detail: 'all tests passed', output: 'ok\n', durationMs: 30, extracted: 'def add' };
  fail: Error | undefined;
  private release: (() => void) | undefined;
  hold = false;

  async check(domain: string, text: string, _gold: unknown, options?: { question?: string; signal?: AbortSignal }): Promise<CheckResultLike | undefined> {
    this.calls.push({ domain, text, ...(options?.question !== undefined ? { question: options.question } : {}) });
    if (this.hold) await new Promise<void>((resolve) => (this.release = resolve));
    if (this.fail) throw this.fail;
    return this.result;
  }

  go(): void {
    this.release?.();
  }
}

function testRuns(options: { canRecord?: boolean; events?: RunEvent[] } = {}) {
  const events = options.events ?? auditReviewRun().events;
  const feed = new ReviewFeed('r');
  feed.load(events);
  const checker = new FakeChecker();
  const recorded: NewTruthEvent[] = [];
  const runs = new ReviewTestRuns(feed, {
    checker,
    record: (event) => {
      if (options.canRecord === false) return false;
      recorded.push(event);
      events.push({ ...event, at: '2025-03-01T13:00:00.000Z' } as RunEvent);
      feed.load(events);
      return true;
    },
  });
  return { feed, checker, runs, recorded, events };
}

test('run tests: checks the candidate as the pipeline would and records a truth the run lacks', async () => {
  const { checker, runs, recorded, feed } = testRuns();
  const outcome = await runs.run(AUDIT.untested);
  assert.deepEqual(outcome, { ok: true, truth: { outcome: 'pass', correct: true, extracted: 'def add', detail: 'all tests passed', output: 'ok\n', durationMs: 30 }, recorded: true });
  assert.deepEqual(checker.calls, [{ domain: 'coding', text: '```python\ndef add(a, b):\n    return a + b\n```', question: 'def add(a, b):\n    """Return a + b."""' }]);
  assert.equal(recorded.length, 1);
  assert.equal(recorded[0]?.id, 'truth:c1#1');
  assert.equal(recorded[0]?.seedId, 'c1');
  assert.equal(feed.runView.seeds.find((s) => s.seed.seedId === 'c1')?.candidates[1]?.truth?.outcome, 'pass');
  assert.equal(runs.running, 0);
});

test('run tests: a candidate with a truth, or a run being written, only shows the result', async () => {
  const withTruth = testRuns();
  withTruth.checker.result = { outcome: 'fail', correct: false, detail: 'AssertionError', output: 'x'.repeat(MAX_GOLD_TEXT * 2), durationMs: 5 };
  const outcome = await withTruth.runs.run('c1#0');
  assert.ok(outcome.ok);
  assert.equal(outcome.recorded, false);
  assert.ok((outcome.truth.output?.length ?? 0) < MAX_GOLD_TEXT + 50, 'output cut');
  assert.deepEqual(withTruth.recorded, []);

  const live = testRuns({ canRecord: false });
  const answer = await live.runs.run(AUDIT.untested);
  assert.deepEqual([answer.ok, answer.ok && answer.recorded], [true, false]);
});

test('run tests: clicks on a candidate whose tests are running share the run', async () => {
  const { checker, runs } = testRuns();
  checker.hold = true;
  const first = runs.run(AUDIT.untested);
  const second = runs.run(AUDIT.untested);
  assert.equal(first, second);
  assert.equal(runs.running, 1);
  await new Promise((resolve) => setImmediate(resolve));
  checker.go();
  await first;
  assert.equal(checker.calls.length, 1);
  const third = runs.run(AUDIT.untested);
  assert.notEqual(third, first, 'a later click runs them again');
  checker.hold = false;
  await new Promise((resolve) => setImmediate(resolve));
  checker.go();
  assert.ok((await third).ok);
});

test('run tests: refuses what has nothing to run, and says why in words', async () => {
  const { runs, checker } = testRuns();
  const refused = async (id: string, pattern: RegExp) => {
    const outcome = await runs.run(id);
    assert.equal(outcome.ok, false, id);
    assert.match(outcome.ok ? '' : outcome.error, pattern, id);
  };
  await refused('m1#0', /no tests to run/);
  await refused(AUDIT.invalid, /no program to run \(no_code_block\)/);
  await refused('c1#9', /not in this run/);
  assert.equal(checker.calls.length, 0);
  checker.fail = new Error('python3 not found');
  await refused(AUDIT.untested, /could not run: python3 not found/);
  checker.fail = undefined;
  checker.result = undefined;
  await refused(AUDIT.untested, /no tests to run/);
});

test('run tests: a panel closing stops them, and nothing is recorded', async () => {
  const { runs, checker, recorded } = testRuns();
  checker.hold = true;
  const run = runs.run(AUDIT.untested);
  await new Promise((resolve) => setImmediate(resolve));
  runs.dispose();
  checker.go();
  const outcome = await run;
  assert.equal(outcome.ok, false);
  assert.match(outcome.ok ? '' : outcome.error, /stopped/);
  assert.deepEqual(recorded, []);
});

test('the new messages are in the catalogue, both ways', () => {
  assert.ok(WebviewMessage.safeParse({ type: 'runTests', requestId: 1, candidateId: 'c1#1' }).success);
  assert.ok(!WebviewMessage.safeParse({ type: 'runTests', requestId: 1, candidateId: '' }).success);
  assert.ok(HostMessage.safeParse({ type: 'testResult', requestId: 1, candidateId: 'c1#1', ok: true, truth: { outcome: 'timeout', correct: false, detail: 'ran past 10 s' }, recorded: false }).success);
  assert.ok(!HostMessage.safeParse({ type: 'testResult', requestId: 1, candidateId: 'c1#1', ok: true, truth: { outcome: 'maybe', correct: false, detail: '' } }).success);
});
