// The review webview in Chromium, built as shipped (dist/webview), under the panel's CSP, against a fake host that
// answers with the real ReviewFeed: what it shows, what it sends, and what it remembers.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventIds } from '../../src/core/record/events.ts';
import { bigRun, CANDIDATES, reviewRun, vote } from './fixtures.ts';
import { FakeHost, harnessRecord, openReview, ROOT, startHarness, waitForList } from './harness.ts';
import {
  assertClean,
  assertPanelLayout,
  boxesOf,
  choose,
  contrastOf,
  expectSelected,
  received,
  renderedCandidates,
  row,
  stageBadgeContrasts,
  waitForFilter,
  waitUntil,
} from './helpers.mjs';

const TALL = { width: 1200, height: 2400 };
let harness;

before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.close();
});

async function open({ events = reviewRun().events, totalSeeds = 7, ...options } = {}) {
  const host = new FakeHost(events, totalSeeds);
  const review = await openReview(harness, host, { viewport: TALL, ...options });
  await waitForList(review.page);
  return review;
}

function badgeStates(page, candidateId) {
  return row(page, candidateId).locator('.stage-badge').evaluateAll((badges) => badges.map((b) => `${b.dataset.stage}:${b.dataset.state}`));
}

function overrides(host) {
  return received(host, 'override').map(({ candidateId, action, note }) => ({ candidateId, action, ...(note !== undefined ? { note } : {}) }));
}

describe('the review webview', () => {
  it('says ready, asks for its first page, and shows each verdict kind', async () => {
    const review = await open();
    const { page, host } = review;
    try {
      assert.deepEqual(host.received.slice(0, 2).map((m) => m.type), ['ready', 'requestPage']);
      assert.deepEqual(host.received[1], { type: 'requestPage', requestId: 1, offset: 0, limit: 30, filter: { show: 'all', domain: 'all', unparseable: false, overridden: false, text: '' } });

      assert.deepEqual(await badgeStates(page, CANDIDATES.acceptedByMethod), ['cycle:passed', 'factuality:passed', 'correctness:passed']);
      assert.deepEqual(await badgeStates(page, CANDIDATES.failedCycle), ['cycle:failed', 'factuality:not_reached', 'correctness:not_reached']);
      assert.deepEqual(await badgeStates(page, CANDIDATES.failedFactualityUnparseable), ['cycle:passed', 'factuality:failed', 'correctness:not_reached']);
      assert.deepEqual(await badgeStates(page, CANDIDATES.overriddenAccept), ['cycle:passed', 'factuality:passed', 'correctness:failed']);
      assert.deepEqual(await badgeStates(page, CANDIDATES.notVerified), ['cycle:not_reached', 'factuality:not_reached', 'correctness:not_reached']);
      assert.deepEqual(await badgeStates(page, CANDIDATES.running), ['cycle:running', 'factuality:not_reached', 'correctness:not_reached']);

      // Each vote of a stage, by its verdict.
      const dots = (id, stage) => row(page, id).locator(`.stage-badge[data-stage="${stage}"] .vote-dot`).evaluateAll((d) => d.map((x) => x.dataset.verdict));
      assert.deepEqual(await dots(CANDIDATES.failedCycle, 'cycle'), ['yes', 'no', 'yes']);
      assert.deepEqual(await dots(CANDIDATES.failedFactualityUnparseable, 'factuality'), ['yes', 'unparseable', 'yes']);
      assert.deepEqual(await dots(CANDIDATES.running, 'cycle'), ['yes']);
      assert.equal(await row(page, CANDIDATES.running).locator('.stage-badge[data-stage="cycle"] .codicon-modifier-spin').count(), 1);

      // The static filter's result.
      assert.match(await row(page, CANDIDATES.truncated).locator('.filter-tag').innerText(), /invalid: truncated/);
      assert.match(await row(page, CANDIDATES.noBoxed).locator('.filter-tag').innerText(), /invalid: no_boxed_answer/);
      assert.match(await row(page, CANDIDATES.noCodeBlock).locator('.filter-tag').innerText(), /invalid: no_code_block/);
      assert.match(await row(page, CANDIDATES.acceptedByMethod).locator('.filter-tag').innerText(), /valid/);
      assert.match(await row(page, CANDIDATES.truncated).locator('.answer').innerText(), /No answer: truncated/);

      // Accepted answers stand out; decisions by hand say so.
      const accepted = await page.locator('#list .cand-row.accepted').evaluateAll((rows) => rows.map((r) => r.dataset.candidate));
      assert.deepEqual(accepted, ['s1#1', 's2#2', 's6#0']);
      assert.match(await page.locator('[data-seed="s1"] .accepted-ref').innerText(), /answer #1/);
      assert.match(await row(page, CANDIDATES.overriddenAccept).locator('.override-tag').innerText(), /by hand: accept ·\s*checked by hand/);
      assert.match(await row(page, CANDIDATES.overriddenReject).locator('.override-tag').innerText(), /by hand: reject ·\s*wrong units/);
      assert.match(await page.locator('[data-seed="s3"] .seed-status').innerText(), /no valid candidate/);
      assert.match(await page.locator('[data-seed="s5"] .seed-head').innerText(), /pending[\s\S]*1 error/);

      // The run: funnel, acceptance per domain, usage per stage.
      assert.match(await page.locator('.funnel-row[data-step="accepted"]').innerText(), /3/);
      assert.match(await page.locator('.funnel-row[data-step="passed cycle"]').innerText(), /5\s+71\.4%/);
      assert.match(await page.locator('.domains tr[data-domain="math"]').innerText(), /math\s+3\s+2\s+66\.7%/);
      // Samples: the record's, the votes of s7#0's cycle stage still voting included.
      assert.match(await page.locator('.usage tr[data-purpose="cycle"]').innerText(), /cycle\s+10\s+38/);
      assert.match(await page.locator('.match-count').innerText(), /7 seeds, 12 candidates/);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('shows its first rows before the text renderer has loaded, as plain text, then renders them', async () => {
    let release;
    const held = new Promise((resolve) => (release = resolve));
    let asked = false;
    // Not open(): it waits for rendered text.
    const review = await openReview(harness, new FakeHost(reviewRun().events, 7), {
      viewport: TALL,
      // The renderer is requested once the first rows are painted, which may come before the load event.
      waitUntil: 'domcontentloaded',
      beforeLoad: (page) =>
        page.route('**/dist/webview/render.js', async (route) => {
          asked = true;
          await held;
          await route.continue();
        }),
    });
    const { page } = review;
    try {
      const answer = row(page, CANDIDATES.rich).locator('.answer');
      await answer.locator('.md-pending').waitFor();
      assert.match(await answer.innerText(), /## Solution/, 'the answer as plain text meanwhile');
      await waitUntil(() => asked, 'the renderer requested after the first rows');
      release();
      assert.equal(await answer.locator('h2').innerText(), 'Solution');
      assert.equal(await answer.locator('.md-pending').count(), 0);
      assert.deepEqual(review.pageErrors, []);
    } finally {
      release();
      await review.close();
    }
  });

  it('renders model text: markdown, math, code by language, links that do not navigate, thinking collapsed', async () => {
    const review = await open();
    const { page } = review;
    try {
      const answer = row(page, CANDIDATES.rich).locator('.answer');
      assert.equal(await answer.locator('h2').innerText(), 'Solution');
      assert.ok((await answer.locator('math').count()) >= 4);
      assert.equal(await answer.locator('.math-block math[display="block"] mfrac').count(), 1);
      assert.equal(await answer.locator('menclose[notation="box"]').count(), 1, '\\boxed{} keeps its box');
      assert.equal(await answer.locator('annotation').count(), 0, 'no TeX source beside the formula');
      assert.equal(await answer.locator('code.language-python .hljs-keyword').first().innerText(), 'def');
      const link = answer.locator('.model-link');
      assert.equal(await link.getAttribute('data-href'), 'https://example.com/docs');
      assert.equal(await link.getAttribute('href'), null);
      assert.ok(await answer.evaluate((el) => el.classList.contains('clamped')));

      // Thinking: not rendered until asked for.
      assert.equal(await row(page, CANDIDATES.rich).locator('.thinking').count(), 0);
      await row(page, CANDIDATES.rich).locator('.expander').click();
      const thinking = row(page, CANDIDATES.rich).locator('details.thinking');
      assert.equal(await thinking.evaluate((d) => d.open), false);
      assert.equal(await thinking.locator('.thinking-text').count(), 0);
      await thinking.locator('summary').click();
      await thinking.locator('.thinking-text').waitFor();
      assert.match(await thinking.locator('.thinking-text').innerText(), /double-check/);

      // The cycle stage: the inferred questions beside the original; a vote expands to the judge's full text.
      const cycle = row(page, CANDIDATES.rich).locator('.stage-detail[data-stage="cycle"]');
      assert.match(await cycle.locator('.cycle-compare .cycle-col').first().innerText(), /Original question\s+Solve/);
      assert.equal(await cycle.locator('.cycle-compare ol.inferred li').count(), 3);
      assert.equal(await cycle.locator('.vote-body').count(), 0);
      await cycle.locator('.vote summary').first().click();
      const body = cycle.locator('.vote-body');
      await body.waitFor();
      assert.match(await body.innerText(), /Inferred: What positive x satisfies[\s\S]*Both ask for the positive root of x\^2 = 4\. \[\[Y\]\] \(compare 1\)/);
      const factuality = row(page, CANDIDATES.rich).locator('.stage-detail[data-stage="factuality"]');
      await factuality.locator('.vote summary').nth(2).click();
      assert.match(await factuality.locator('.vote-body').innerText(), /judge 2: \[\[Y\]\]/);

      // A stage never reached says why.
      await row(page, CANDIDATES.failedCycle).locator('.expander').click();
      assert.match(
        await row(page, CANDIDATES.failedCycle).locator('.stage-detail[data-stage="factuality"]').innerText(),
        /not reached \(cycle consistency rejected it\)/,
      );
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('records overrides clicked in the list, with notes, once each, and puts one back when the host refuses it', async () => {
    const review = await open();
    const { page, host } = review;
    try {
      const target = row(page, CANDIDATES.notVerified);
      await target.locator('[data-act="accept"]').click();
      await waitUntil(() => overrides(host).length === 1, 'the accept');
      assert.deepEqual(overrides(host), [{ candidateId: 's1#2', action: 'accept' }]);
      await page.waitForFunction(() => document.querySelector('[data-candidate="s1#2"]')?.classList.contains('accepted'));
      assert.match(await target.locator('.override-tag').innerText(), /by hand: accept/);
      const recorded = host.events.at(-1);
      assert.equal(recorded.type, 'override');
      assert.equal(recorded.candidateId, 's1#2');
      await page.waitForFunction(() => /4/.test(document.querySelector('.funnel-row[data-step="after overrides"]')?.textContent ?? ''));

      // The same decision again changes nothing, so nothing is sent.
      await target.locator('[data-act="accept"]').click();
      await page.locator('.status-line', { hasText: 'already accepted' }).waitFor();
      assert.equal(overrides(host).length, 1);

      // A note goes with the decision.
      await target.locator('.expander').click();
      await target.locator('vscode-textfield.note').click();
      await page.keyboard.type('looks wrong');
      await target.locator('[data-act="reject"]').click();
      await waitUntil(() => overrides(host).length === 2, 'the reject');
      assert.deepEqual(overrides(host)[1], { candidateId: 's1#2', action: 'reject', note: 'looks wrong' });
      await target.locator('.override-tag', { hasText: 'by hand: reject · looks wrong' }).waitFor();
      assert.equal(await target.evaluate((el) => el.classList.contains('accepted')), false);

      await target.locator('[data-act="clear"]').click();
      await waitUntil(() => overrides(host).length === 3, 'the clear');
      assert.deepEqual(overrides(host)[2], { candidateId: 's1#2', action: 'clear' });
      await page.waitForFunction(() => !document.querySelector('[data-candidate="s1#2"] .override-tag'));
      assert.equal(await target.locator('[data-act="clear"]').evaluate((b) => b.disabled), true);

      // The host cannot record it: the row goes back to what the run says, and the user is told.
      host.failOverrides = true;
      await target.locator('[data-act="accept"]').click();
      await page.locator('.status-line.error', { hasText: 'read-only' }).waitFor();
      assert.equal(overrides(host).length, 4);
      await page.waitForFunction(() => !document.querySelector('[data-candidate="s1#2"]')?.classList.contains('accepted'));
      assert.equal(await target.locator('.override-tag').count(), 0);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('is driven by the keyboard: j/k and arrows move, a/r/c decide, u undoes, e/Enter expand, n takes a note', async () => {
    const review = await open();
    const { page, host } = review;
    try {
      assert.match(await page.locator('.help').innerText(), /j\s*\/\s*k[\s\S]*next\/previous[\s\S]*a\s*accept[\s\S]*r\s*reject[\s\S]*c\s*clear[\s\S]*u\s*undo[\s\S]*e\s*\/\s*Enter\s*expand/);
      await page.locator('#list').focus();
      await page.keyboard.press('j');
      await expectSelected(page, 's1#0');
      await page.keyboard.press('j');
      await page.keyboard.press('ArrowDown');
      await expectSelected(page, 's1#2');
      assert.equal(await row(page, 's1#2').getAttribute('aria-current'), 'true');

      // Each key waits for the host's answer, so the status line is the key's own.
      // A key's request must have reached the host before "no request pending" means anything: the pending tag
      // appears only after the next render.
      // The host's answer is on the status line once it has been applied.
      let sent = received(host, 'override').length;
      const settled = async (said) => {
        await waitUntil(() => received(host, 'override').length > sent, 'the override request');
        sent = received(host, 'override').length;
        await page.locator('.status-line', { hasText: said }).waitFor();
        await page.waitForFunction(() => !document.querySelector('#list .pending-tag'));
      };
      await page.keyboard.press('a');
      await settled('Recorded: accept s1#2');
      await page.keyboard.press('r');
      await settled('Recorded: reject s1#2');
      // An undo says what it took back.
      await page.keyboard.press('u'); // back to accept
      await settled('Undid reject of s1#2 (now accepted by hand)');
      await page.keyboard.press('u'); // back to no decision
      await settled('Undid accept of s1#2 (now no decision by hand)');
      await page.keyboard.press('u');
      await page.locator('.status-line', { hasText: 'Nothing to undo' }).waitFor();
      await page.keyboard.press('c');
      await page.locator('.status-line', { hasText: 'no decision to clear' }).waitFor();
      assert.deepEqual(overrides(host), [
        { candidateId: 's1#2', action: 'accept' },
        { candidateId: 's1#2', action: 'reject' },
        { candidateId: 's1#2', action: 'accept' },
        { candidateId: 's1#2', action: 'clear' },
      ]);

      await page.keyboard.press('e');
      await row(page, 's1#2').locator('.detail').waitFor();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => !document.querySelector('[data-candidate="s1#2"] .detail'));
      await page.keyboard.press('k');
      await expectSelected(page, 's1#1');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowDown');
      await expectSelected(page, 's1#1');

      // n: the note field of the selected candidate; typing there is text, not commands.
      await page.keyboard.press('n');
      await page.waitForFunction(() => document.activeElement?.matches?.('vscode-textfield.note[data-note="s1#1"]'));
      await page.keyboard.type('checked by a person');
      assert.equal(overrides(host).length, 4);
      await page.keyboard.press('Escape');
      await page.keyboard.press('r');
      await waitUntil(() => overrides(host).length === 5, 'the reject with a note');
      assert.deepEqual(overrides(host)[4], { candidateId: 's1#1', action: 'reject', note: 'checked by a person' });
      await expectSelected(page, 's1#1');
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('filters and searches through the host and shows only what matches', async () => {
    const review = await open();
    const { page, host } = review;
    try {
      await choose(page, 'show', 'Rejected at factuality');
      await waitForFilter(page, host, (f) => f.show === 'rejected_factuality');
      assert.deepEqual(await renderedCandidates(page), ['s2#1']);
      assert.match(await page.locator('.match-count').innerText(), /1 seeds, 1 candidates/);
      assert.match(await page.locator('[data-seed="s2"]').innerText(), /1 of 3 candidates/);

      await choose(page, 'show', 'Accepted');
      await waitForFilter(page, host, (f) => f.show === 'accepted');
      assert.deepEqual(await renderedCandidates(page), ['s1#1', 's2#2', 's6#0']);

      await choose(page, 'show', 'All candidates');
      await waitForFilter(page, host, (f) => f.show === 'all');
      await page.locator('#unparseable').click();
      await waitForFilter(page, host, (f) => f.unparseable);
      assert.deepEqual(await renderedCandidates(page), ['s2#1']);
      await page.locator('#unparseable').click();
      await page.locator('#overridden').click();
      await waitForFilter(page, host, (f) => f.overridden && !f.unparseable);
      assert.deepEqual(await renderedCandidates(page), ['s2#2', 's4#0']);
      await page.locator('#overridden').click();

      await choose(page, 'domain', 'coding');
      await waitForFilter(page, host, (f) => f.domain === 'coding' && !f.overridden);
      assert.deepEqual(await renderedCandidates(page), ['s3#0', 's3#1', 's7#0']);
      await choose(page, 'domain', 'All domains');
      await waitForFilter(page, host, (f) => f.domain === 'all');

      // Free text, from the keyboard: / goes to the search field.
      await page.locator('#list').focus();
      await page.keyboard.press('/');
      await page.keyboard.type('DOUBLE-check');
      await waitForFilter(page, host, (f) => f.text === 'DOUBLE-check');
      assert.deepEqual(await renderedCandidates(page), ['s6#0']);
      await page.keyboard.press('Escape');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'list');
      for (const message of received(host, 'requestPage')) assert.ok(message.limit <= 50 && message.offset === 0);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('shows live verdicts as the host posts them, without moving the list or the selection', async () => {
    const events = bigRun(400);
    const review = await open({ events, totalSeeds: 100, viewport: { width: 1000, height: 1400 } });
    const { page, host } = review;
    try {
      await page.locator('#list').evaluate((list) => {
        list.scrollTop = 4000;
      });
      await page.waitForTimeout(300);
      const visible = await page.evaluate(() => {
        const list = document.querySelector('#list').getBoundingClientRect();
        return [...document.querySelectorAll('#list .cand-row')]
          .filter((r) => r.getBoundingClientRect().top >= list.top && r.getBoundingClientRect().bottom <= list.bottom)
          .map((r) => r.dataset.candidate);
      });
      assert.ok(visible.length >= 3, `candidates in view: ${visible}`);
      const [anchorId, selectedId, changedId] = visible;
      await row(page, selectedId).locator('.cand-index').click();
      await expectSelected(page, selectedId);
      // Relative to the list: the summary above it may grow a line when the funnel changes.
      const topOf = (id) => row(page, id).evaluate((el) => el.getBoundingClientRect().top - document.querySelector('#list').getBoundingClientRect().top);
      const anchorTop = await topOf(anchorId);

      const at = '2025-03-02T00:00:00.000Z';
      await host.append([
        // Above the viewport: a decision on the first seed.
        { type: 'override', id: 'override:live:1', at, candidateId: 'q00001#0', action: 'reject', note: 'a long note '.repeat(20) },
        // In view: a decision on a row that is not selected.
        { type: 'override', id: 'override:live:2', at, candidateId: changedId, action: 'reject', note: 'seen live' },
        // A seed that just entered processing.
        { type: 'seed', id: eventIds.seed('q00101'), at, seedId: 'q00101', line: 101, domain: 'math', question: 'A late seed?', prompt: [{ role: 'user', content: 'A late seed?' }] },
      ]);
      await row(page, changedId).locator('.override-tag', { hasText: 'seen live' }).waitFor();
      await page.locator('.match-count', { hasText: '101 seeds' }).waitFor();
      await page.waitForTimeout(200);
      await expectSelected(page, selectedId);
      const anchorAfter = await topOf(anchorId);
      assert.ok(Math.abs(anchorAfter - anchorTop) <= 2, `the rows in view stay where they were: ${anchorId} at ${anchorTop}, then ${anchorAfter}`);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('turns a running stage into its result when the votes arrive', async () => {
    const review = await open();
    const { page, host } = review;
    try {
      const id = CANDIDATES.running;
      await host.append([
        vote(id, 'cycle', 'infer', 1, null, 'Inferred again'),
        vote(id, 'cycle', 'compare', 1, 'yes', '[[Y]]'),
        { type: 'stage', id: eventIds.stage(id, 'cycle'), at: '2025-03-02T00:00:00.000Z', candidateId: id, stage: 'cycle', passed: true, yes: 2, votes: 2 },
        vote(id, 'factuality', 'judge', 0, 'no', 'A wrong claim. [[N]]'),
      ]);
      await page.waitForFunction((candidate) => document.querySelector(`[data-candidate="${candidate}"] .stage-badge[data-stage="cycle"]`)?.dataset.state === 'passed', id);
      assert.deepEqual(await badgeStates(page, id), ['cycle:passed', 'factuality:running', 'correctness:not_reached']);
      assert.match(await page.locator('.funnel-row[data-step="passed cycle"]').innerText(), /6/);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('comes back after a reload with its filter, selection, expanded items and scroll position', async () => {
    const events = bigRun(400);
    const review = await open({ events, totalSeeds: 100, viewport: { width: 1000, height: 800 } });
    const { page, host } = review;
    try {
      await choose(page, 'domain', 'math');
      await waitForFilter(page, host, (f) => f.domain === 'math');
      await page.locator('#list').evaluate((list) => {
        list.scrollTop = 2500;
      });
      await page.waitForTimeout(300);
      const target = await page.evaluate(() => {
        const list = document.querySelector('#list').getBoundingClientRect();
        return [...document.querySelectorAll('#list .cand-row')].find((r) => r.getBoundingClientRect().top > list.top + 150)?.dataset.candidate;
      });
      assert.ok(target);
      await row(page, target).locator('.cand-index').click();
      await page.keyboard.press('e');
      await row(page, target).locator('details.thinking summary').click();
      await row(page, target).locator('.thinking-text').waitFor();
      const topIn = (id) => row(page, id).evaluate((el) => el.getBoundingClientRect().top - document.querySelector('#list').getBoundingClientRect().top);
      const topBefore = await topIn(target);
      await waitUntil(async () => {
        const state = (await harnessRecord(page)).state;
        return state?.selected === target && state.openThinking.includes(target) && state.anchor;
      }, 'the UI state to be stored');
      const state = (await harnessRecord(page)).state;
      assert.equal(state.filter.domain, 'math');
      assert.deepEqual(state.expanded, [target]);
      assert.ok(!JSON.stringify(state).includes('We use the formula'), 'no run data in the UI state');

      await page.reload();
      await waitForList(page);
      await row(page, target).locator('.thinking-text').waitFor();
      await page.waitForTimeout(300);
      assert.equal(await page.locator('#domain').evaluate((s) => s.value), 'math');
      const requests = received(host, 'requestPage');
      assert.equal(requests.at(-1).filter.domain, 'math');
      await expectSelected(page, target);
      assert.equal(await row(page, target).locator('.detail').count(), 1);
      const topAfter = await topIn(target);
      assert.ok(Math.abs(topAfter - topBefore) <= 3, `scroll restored: ${topBefore} then ${topAfter}`);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('sends export and link requests to the host, and never navigates', async () => {
    const review = await open();
    const { page, host } = review;
    try {
      const url = page.url();
      await page.locator('#export').click();
      await waitUntil(() => received(host, 'export').length === 1, 'export');
      const link = row(page, CANDIDATES.rich).locator('.model-link');
      await link.click();
      await link.click({ button: 'middle' });
      await link.focus();
      await page.keyboard.press('Enter');
      await waitUntil(() => received(host, 'openLink').length === 2, 'two link requests');
      await page.waitForTimeout(200);
      assert.deepEqual(received(host, 'openLink'), [
        { type: 'openLink', href: 'https://example.com/docs' },
        { type: 'openLink', href: 'https://example.com/docs' },
      ]);
      assert.equal(page.url(), url);
      assert.equal(review.context.pages().length, 1);
      assert.ok(!review.requests.some((r) => r.includes('example.com')));
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });
});

// ---------------------------------------------------------------- themes

describe('themes', () => {
  for (const theme of ['light', 'dark', 'high-contrast']) {
    it(`reads well in the ${theme} theme (screenshot in test-results/screenshots)`, async () => {
      const review = await open({ theme, viewport: { width: 1200, height: 1300 } });
      const { page } = review;
      try {
        assert.ok(await page.evaluate((t) => document.body.classList.contains(`vscode-${t}`), theme));
        // Each state of a stage reads as text, and its icon stands out, in this theme; passed and failed apart.
        const badges = await stageBadgeContrasts(page);
        // The running stage is on the last seed: at the end of the list.
        await page.locator('#list').evaluate((list) => {
          list.scrollTop = list.scrollHeight;
        });
        await page.locator('#list .stage-badge[data-state="running"]').waitFor();
        Object.assign(badges, await stageBadgeContrasts(page));
        assert.deepEqual(Object.keys(badges).sort(), ['failed', 'not_reached', 'passed', 'running']);
        for (const [state, { text, icon }] of Object.entries(badges)) {
          assert.ok(text >= 4.5, `${theme}: a ${state} stage's name has contrast ${text.toFixed(2)}`);
          assert.ok(icon >= 3, `${theme}: a ${state} stage's icon has contrast ${icon.toFixed(2)}`);
        }
        assert.notEqual(badges.passed.iconColor, badges.failed.iconColor, 'passed and failed icons differ in colour');

        await row(page, CANDIDATES.rich).locator('.cand-index').click();
        await page.keyboard.press('e');
        await row(page, CANDIDATES.rich).locator('.stage-detail[data-stage="cycle"] .vote summary').first().click();
        await row(page, CANDIDATES.rich).locator('.vote-body').waitFor();
        await page.locator('[data-seed="s6"]').evaluate((el) => {
          const list = document.querySelector('#list');
          list.scrollTop += el.getBoundingClientRect().top - list.getBoundingClientRect().top;
        });
        await page.waitForTimeout(300);
        for (const selector of [
          '[data-seed="s6"] .seed-id',
          '[data-seed="s6"] .muted',
          `[data-candidate="${CANDIDATES.rich}"] .answer p`,
          `[data-candidate="${CANDIDATES.rich}"] .tag.accepted-tag`,
          `[data-candidate="${CANDIDATES.rich}"] .stage-badge`,
          `[data-candidate="${CANDIDATES.rich}"] .stage-summary`,
          `[data-candidate="${CANDIDATES.rich}"] .vote-body .md`,
          '.funnel-label',
          '.help',
        ]) {
          const { ratio, color, background } = await contrastOf(page, selector);
          assert.ok(ratio >= 4.5, `${theme}: ${selector} has contrast ${ratio.toFixed(2)} (${color} on ${background.map(Math.round)})`);
        }

        // What the screenshot shows: the panel's parts in place, and the opened candidate in the list, whole.
        await assertPanelLayout(page, theme);
        const rich = `[data-candidate="${CANDIDATES.rich}"]`;
        const b = await boxesOf(page, {
          list: '#list',
          seed: '[data-seed="s6"]',
          row: rich,
          heading: `${rich} .answer h2`,
          actions: `${rich} .actions`,
          detail: `${rich} .detail`,
          vote: `${rich} .vote-body`,
          answer: `${rich} .answer`,
        });
        assert.ok(Math.abs(b.seed.top - b.list.top) <= 2, `the seed at the top of the list: ${b.seed.top} vs ${b.list.top}`);
        assert.ok(b.row.top >= b.seed.bottom - 1 && b.row.top < b.list.bottom, 'the candidate right under its seed, in view');
        assert.ok(b.row.left >= b.list.left && b.row.right <= b.list.right + 1 && b.row.width >= 0.9 * b.list.width, `the row spans the list: ${JSON.stringify(b.row)}`);
        assert.ok(b.heading.height > 0 && b.heading.bottom <= b.list.bottom, 'the answer\'s heading shows');
        assert.ok(b.actions.left >= b.row.left && b.actions.right <= b.row.right && b.actions.top < b.row.top + 60, 'the buttons sit in the row\'s head');
        assert.ok(b.detail.height >= 200 && b.detail.top < b.list.bottom, `the detail opens below the answer: ${JSON.stringify(b.detail)}`);
        assert.ok(b.vote.height >= 20 && b.vote.top < b.list.bottom, 'the judge\'s reply shows');
        assert.ok(b.answer.overflowX <= 0 && b.detail.overflowX <= 0, 'no text runs out sideways');

        const dir = path.join(ROOT, 'test-results/screenshots');
        mkdirSync(dir, { recursive: true });
        await page.screenshot({ path: path.join(dir, `review-${theme}.png`) });
        await assertClean(harness, review);
      } finally {
        await review.close();
      }
    });
  }
});
