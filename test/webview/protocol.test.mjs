// The review protocol without a browser: the fold in the protocol's shape, the filter, the host-side feed, the
// message schemas both sides validate with, and the panel's HTML. What the webview code may
// import is a lint rule (eslint.config.mjs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldRun } from '../../src/core/record/runview.ts';
import {
  DEFAULT_FILTER,
  HostMessage,
  MAX_PAGE_SEEDS,
  ReviewFilter,
  ReviewSeed,
  WebviewMessage,
  filterKey,
  parseHostMessage,
  parseWebviewMessage,
} from '../../src/protocol/review.ts';
import { ReviewFeed } from '../../src/protocol/reviewFeed.ts';
import { changedSeedIds, filterSeeds, pendingVotesOf, toReviewSeed } from '../../src/protocol/reviewSeeds.ts';
import { reviewCsp, reviewHtml, reviewNonce } from '../../src/vscode/review/html.ts';
import { CANDIDATES, RICH_THINKING, reviewRun, vote } from './fixtures.ts';


function reviewSeeds(events = reviewRun().events) {
  const view = foldRun(events);
  const pendingVotes = pendingVotesOf(events);
  return view.seeds.map((seed) => toReviewSeed(seed, { pendingVotes }));
}

function candidate(seeds, id) {
  for (const seed of seeds) {
    const found = seed.candidates.find((c) => c.id === id);
    if (found) return found;
  }
  assert.fail(`no candidate ${id}`);
}

const states = (c) => c.stages.map((stage) => stage.state);
const ids = (seeds) => seeds.flatMap((seed) => seed.candidates.map((c) => c.id));
const filter = (patch) => ReviewFilter.parse(patch);

describe('toReviewSeed', () => {
  const seeds = reviewSeeds();

  it('gives every candidate the three stages in cascade order, with the state each reached', () => {
    assert.deepEqual(states(candidate(seeds, CANDIDATES.acceptedByMethod)), ['passed', 'passed', 'passed']);
    assert.deepEqual(states(candidate(seeds, CANDIDATES.failedCycle)), ['failed', 'not_reached', 'not_reached']);
    assert.deepEqual(states(candidate(seeds, CANDIDATES.failedFactualityUnparseable)), ['passed', 'failed', 'not_reached']);
    assert.deepEqual(states(candidate(seeds, CANDIDATES.notVerified)), ['not_reached', 'not_reached', 'not_reached']);
    assert.deepEqual(states(candidate(seeds, CANDIDATES.truncated)), ['not_reached', 'not_reached', 'not_reached']);
    for (const seed of seeds) for (const c of seed.candidates) assert.deepEqual(c.stages.map((s) => s.stage), ['cycle', 'factuality', 'correctness']);
  });

  it('shows a stage with votes and no result as running, with the votes so far', () => {
    const running = candidate(seeds, CANDIDATES.running);
    assert.deepEqual(states(running), ['running', 'not_reached', 'not_reached']);
    assert.equal(running.stages[0].votes.length, 2);
    assert.equal(running.stages[0].yes, 1);
    // Without the pending votes the fold alone cannot tell.
    const plain = foldRun(reviewRun().events).seeds.map((seed) => toReviewSeed(seed));
    assert.deepEqual(states(candidate(plain, CANDIDATES.running)), ['not_reached', 'not_reached', 'not_reached']);
  });

  it('keeps unparseable votes, invalid reasons, overrides and the thinking apart from the answer', () => {
    const unparseable = candidate(seeds, CANDIDATES.failedFactualityUnparseable);
    assert.equal(unparseable.unparseableVotes, 1);
    assert.ok(unparseable.stages[1].votes.some((v) => v.verdict === 'unparseable'));
    const truncated = candidate(seeds, CANDIDATES.truncated);
    assert.equal(truncated.valid, false);
    assert.equal(truncated.invalidReason, 'truncated');
    assert.equal(truncated.text, '');
    assert.equal(candidate(seeds, CANDIDATES.overriddenAccept).override?.action, 'accept');
    assert.equal(candidate(seeds, CANDIDATES.overriddenAccept).override?.note, 'checked by hand');
    assert.equal(candidate(seeds, CANDIDATES.overriddenAccept).accepted, true);
    assert.equal(candidate(seeds, CANDIDATES.overriddenReject).accepted, false);
    assert.equal(candidate(seeds, CANDIDATES.acceptedByMethod).override, undefined, 'a cleared override is gone');
    const rich = candidate(seeds, CANDIDATES.rich);
    assert.equal(rich.thinking, RICH_THINKING);
    assert.ok(!rich.text.includes('<think>') && rich.text.startsWith('## Solution'));
    assert.match(rich.stages[0].votes[0].inferredQuestion ?? '', /positive x/);
  });

  it('produces seeds the catalogue accepts, with the gold to show and never the reference solution', () => {
    const log = reviewRun();
    log.events.push({
      type: 'seed', id: 'seed:g1', at: '2025-03-01T12:00:00.000Z', seedId: 'g1', line: 9, domain: 'math',
      question: 'Gold?', prompt: [{ role: 'user', content: 'Gold?' }], gold: { answer: 'THE-GOLD-ANSWER', solution: 'SECRET-SOLUTION' },
    });
    const all = reviewSeeds(log.events);
    for (const seed of all) assert.ok(ReviewSeed.safeParse(seed).success, seed.id);
    assert.deepEqual(all.find((seed) => seed.id === 'g1')?.gold, { answer: 'THE-GOLD-ANSWER' });
    assert.ok(!JSON.stringify(all).includes('SECRET-SOLUTION'));
    assert.ok(all.filter((seed) => seed.id !== 'g1').every((seed) => seed.gold === undefined));
  });
});

describe('filterSeeds', () => {
  const seeds = reviewSeeds();

  it('shows everything by default', () => {
    assert.equal(filterSeeds(seeds, DEFAULT_FILTER).length, seeds.length);
  });

  it('narrows to accepted, rejected, rejected at each stage, invalid and unverified candidates', () => {
    assert.deepEqual(ids(filterSeeds(seeds, filter({ show: 'accepted' }))), ['s1#1', 's2#2', 's6#0']);
    assert.deepEqual(ids(filterSeeds(seeds, filter({ show: 'rejected' }))), ['s2#0', 's2#1', 's4#0']);
    assert.deepEqual(ids(filterSeeds(seeds, filter({ show: 'rejected_cycle' }))), ['s2#0']);
    assert.deepEqual(ids(filterSeeds(seeds, filter({ show: 'rejected_factuality' }))), ['s2#1']);
    assert.deepEqual(ids(filterSeeds(seeds, filter({ show: 'rejected_correctness' }))), ['s2#2']);
    assert.deepEqual(ids(filterSeeds(seeds, filter({ show: 'invalid' }))), ['s1#0', 's1#3', 's3#0', 's3#1']);
    assert.deepEqual(ids(filterSeeds(seeds, filter({ show: 'unverified' }))), ['s1#2']);
  });

  it('narrows to unparseable votes, overridden candidates and a domain', () => {
    assert.deepEqual(ids(filterSeeds(seeds, filter({ unparseable: true }))), ['s2#1']);
    assert.deepEqual(ids(filterSeeds(seeds, filter({ overridden: true }))), ['s2#2', 's4#0']);
    assert.deepEqual(filterSeeds(seeds, filter({ domain: 'coding' })).map((s) => s.id), ['s3', 's7']);
  });

  it('searches questions (whole seeds), answers, thinking, judges and notes, ignoring case', () => {
    const byQuestion = filterSeeds(seeds, filter({ text: 'QUESTION OF S2' }));
    assert.deepEqual(ids(byQuestion), ['s2#0', 's2#1', 's2#2']);
    assert.deepEqual(ids(filterSeeds(seeds, filter({ text: 'double-check' }))), ['s6#0']);
    assert.deepEqual(ids(filterSeeds(seeds, filter({ text: 'wrong units' }))), ['s4#0']);
    assert.deepEqual(ids(filterSeeds(seeds, filter({ text: '(compare 2)' }))), ['s6#0']);
    assert.deepEqual(filterSeeds(seeds, filter({ text: 'nothing like this anywhere' })), []);
  });

  it('keeps the seed whole when all its candidates match, and says how many it has', () => {
    const narrowed = filterSeeds(seeds, filter({ show: 'invalid' })).find((s) => s.id === 's1');
    assert.equal(narrowed?.candidates.length, 2);
    assert.equal(narrowed?.candidateCount, 4);
    const whole = filterSeeds(seeds, filter({ show: 'invalid' })).find((s) => s.id === 's3');
    assert.equal(whole, seeds.find((s) => s.id === 's3'));
  });

  it('shows seeds without candidates only when no candidate criterion is set', () => {
    assert.ok(filterSeeds(seeds, filter({ domain: 'science' })).some((s) => s.id === 's5'));
    assert.ok(!filterSeeds(seeds, filter({ show: 'accepted' })).some((s) => s.id === 's5'));
  });
});

describe('ReviewFeed', () => {
  it('answers init and pages with the filter, its key and the totals', () => {
    const feed = new ReviewFeed('run-1');
    feed.load(reviewRun().events, 9);
    const init = feed.init();
    assert.ok(HostMessage.safeParse(init).success);
    assert.equal(init.run.totalSeeds, 9);
    assert.equal(init.run.funnel.seedsPending, 9 - init.run.funnel.seedsDone);
    assert.deepEqual(init.run.domains.map((d) => d.domain), ['math', 'science', 'coding']);
    const request = { type: 'requestPage', requestId: 4, offset: 1, limit: 2, filter: filter({ show: 'invalid' }) };
    const page = feed.page(request);
    assert.ok(HostMessage.safeParse(page).success);
    assert.deepEqual([page.requestId, page.offset, page.total, page.totalCandidates], [4, 1, 2, 4]);
    assert.deepEqual(page.seeds.map((s) => s.id), ['s3']);
    assert.equal(page.filterKey, filterKey(request.filter));
  });

  it('re-sends only the seeds new events touched, with the total for the last filter', () => {
    const log = reviewRun();
    const feed = new ReviewFeed('run-1');
    feed.load(log.events);
    feed.page({ type: 'requestPage', requestId: 1, offset: 0, limit: 50, filter: filter({ show: 'accepted' }) });
    const before = log.events.length;
    log.override('s1#2', 'accept', 'fine by me');
    const update = feed.update(log.events, log.events.slice(before));
    assert.ok(update && HostMessage.safeParse(update).success);
    assert.deepEqual(update.seeds.map((s) => s.id), ['s1']);
    assert.equal(update.total, 3);
    assert.equal(update.run.funnel.acceptedFinal, 4);
    assert.equal(feed.update(log.events, []), undefined);
  });

  it('knows which candidates the run has', () => {
    const feed = new ReviewFeed('run-1');
    feed.load(reviewRun().events);
    assert.equal(feed.hasCandidate('s1#1'), true);
    assert.equal(feed.hasCandidate('s1#9'), false);
  });

  it('finds the seeds touched by every kind of event', () => {
    const touched = changedSeedIds([
      vote('s9#0', 'cycle', 'judge', 0, 'yes', ''),
      { type: 'error', id: 'e', at: '', candidateId: 'a#b#1', kind: 'x', message: 'm' },
      { type: 'run', id: 'r', at: '', state: 'started' },
    ]);
    assert.deepEqual([...touched], ['s9', 'a#b']);
  });
});

describe('the message catalogue', () => {
  it('lets through what the webview sends', () => {
    for (const message of [
      { type: 'ready', protocol: 1 },
      { type: 'requestPage', requestId: 1, offset: 0, limit: 50, filter: {} },
      { type: 'override', requestId: 2, candidateId: 's1#1', action: 'accept', note: 'ok' },
      { type: 'override', requestId: 3, candidateId: 's1#1', action: 'clear' },
      { type: 'export' },
      { type: 'openLink', href: 'https://example.com/a?b=c' },
      { type: 'openLink', href: 'mailto:someone@example.com' },
      { type: 'runTests', requestId: 4, candidateId: 'c1#1' },
      { type: 'requestPage', requestId: 5, offset: 0, limit: 50, filter: { judgesWrong: 'false_reject' } },
    ]) {
      assert.ok(parseWebviewMessage(message), JSON.stringify(message));
    }
  });

  it('refuses what it must not carry', () => {
    for (const message of [
      { type: 'openLink', href: 'javascript:alert(1)' },
      { type: 'openLink', href: 'JaVaScRiPt:alert(1)' },
      { type: 'openLink', href: 'data:text/html,<script>alert(1)</script>' },
      { type: 'openLink', href: 'vscode://some.extension/command' },
      { type: 'openLink', href: 'command:workbench.action.terminal.new' },
      { type: 'openLink', href: 'file:///etc/passwd' },
      { type: 'openLink', href: '/relative/path' },
      { type: 'openLink', href: `https://example.com/${'a'.repeat(3000)}` },
      { type: 'override', requestId: 1, candidateId: 's1#1', action: 'delete' },
      { type: 'override', requestId: 1, candidateId: 's1#1', action: 'accept', note: 'x'.repeat(10_001) },
      { type: 'requestPage', requestId: 1, offset: 0, limit: MAX_PAGE_SEEDS + 1, filter: {} },
      { type: 'requestPage', requestId: 1, offset: -1, limit: 5, filter: {} },
      { type: 'requestPage', requestId: 1, offset: 0, limit: 5, filter: { show: 'everything' } },
      { type: 'runCommand', command: 'rm -rf /' },
      { type: 'runTests', requestId: 1 },
      { type: 'runTests', requestId: -1, candidateId: 'c1#1' },
      { type: 'runTests', requestId: 1, candidateId: 'x'.repeat(1_001) },
      { type: 'requestPage', requestId: 1, offset: 0, limit: 5, filter: { judgesWrong: 'all of them' } },
      null,
      'ready',
    ]) {
      assert.equal(parseWebviewMessage(message), undefined, JSON.stringify(message));
    }
  });

  it('checks host messages on the webview side', () => {
    assert.equal(parseHostMessage({ type: 'page', requestId: 1, filterKey: 'k', offset: 0, total: 1, totalCandidates: 0, seeds: [{ id: 'x' }] }), undefined);
    assert.equal(parseHostMessage({ type: 'init', protocol: 1 }), undefined);
    assert.ok(parseHostMessage({ type: 'overrideResult', requestId: 1, candidateId: 's1#1', ok: false, error: 'no' }));
    const truth = { outcome: 'fail', correct: false, detail: 'AssertionError', output: '<b>not html</b>' };
    assert.ok(parseHostMessage({ type: 'testResult', requestId: 1, candidateId: 'c1#1', ok: true, truth, recorded: true }));
    assert.ok(parseHostMessage({ type: 'testResult', requestId: 1, candidateId: 'c1#1', ok: false, error: 'no tests' }));
    assert.equal(parseHostMessage({ type: 'testResult', requestId: 1, candidateId: 'c1#1', ok: true, truth: { ...truth, outcome: 'flaky' } }), undefined);
    assert.equal(parseHostMessage({ type: 'testResult', requestId: 'one', candidateId: 'c1#1', ok: true }), undefined);
    assert.ok(WebviewMessage.options.length === 7 && HostMessage.options.length === 6, 'a new message type gets its own tests here');
  });
});

describe('reviewHtml', () => {
  const nonce = reviewNonce();
  const html = reviewHtml({
    cspSource: 'https://abc.vscode-cdn.net',
    nonce,
    scriptUri: 'https://abc.vscode-cdn.net/ext/dist/webview/review.js',
    styleUri: 'https://abc.vscode-cdn.net/ext/dist/webview/review.css',
    title: '<img src=x onerror=alert(1)>',
  });

  it('sets a strict policy: one script by nonce, styles and fonts from the extension only', () => {
    const csp = reviewCsp('https://abc.vscode-cdn.net', nonce);
    assert.ok(html.includes(`content="${csp.replaceAll("'", '&#39;')}"`));
    assert.match(csp, /^default-src 'none'; /);
    assert.ok(csp.includes(`script-src 'nonce-${nonce}';`));
    assert.ok(csp.includes('style-src https://abc.vscode-cdn.net;'));
    assert.ok(!/unsafe-inline|unsafe-eval|\*/.test(csp));
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.ok(html.includes(`<script nonce="${nonce}" src="https://abc.vscode-cdn.net/ext/dist/webview/review.js">`));
    assert.ok(!/<style|style=/.test(html), 'no inline style');
  });

  it('escapes what it is given and refuses a nonce or source that could break the policy', () => {
    assert.ok(!html.includes('<img'));
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.throws(() => reviewHtml({ cspSource: 'x', nonce: "abc'; script-src *", scriptUri: '', styleUri: '' }));
    assert.throws(() => reviewHtml({ cspSource: "https://a.b 'unsafe-inline'", nonce, scriptUri: '', styleUri: '' }));
    assert.throws(() => reviewHtml({ cspSource: 'https://a.b; script-src *', nonce, scriptUri: '', styleUri: '' }));
    // What VS Code's webviews give: several sources, 'self' among them.
    assert.match(reviewHtml({ cspSource: "'self' https://*.vscode-cdn.net", nonce, scriptUri: '', styleUri: '' }), /style-src &#39;self&#39; https:\/\/\*\.vscode-cdn\.net;/);
  });

  it('makes a fresh nonce each time', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => reviewNonce()));
    assert.equal(nonces.size, 50);
    for (const n of nonces) assert.match(n, /^[A-Za-z0-9+/]{24}$/);
  });
});
