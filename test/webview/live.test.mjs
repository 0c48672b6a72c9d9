// What the review says as a run moves and a reviewer decides: a seed's badge after the decisions by hand (and after
// the panel is opened again on the same record), the counts while a run is live, why a stage was not reached, and
// what an undo took back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventLog, usageOf } from '../fixtures/events.ts';
import { auditReviewRun, CANDIDATES, reviewRun } from './fixtures.ts';
import { FakeHost, openReview, startHarness, waitForList } from './harness.ts';
import { assertClean, expectSelected, received, row, waitUntil } from './helpers.mjs';

let harness;

before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.close();
});

async function open(host, options = {}) {
  const review = await openReview(harness, host, { viewport: { width: 1200, height: 2000 }, ...options });
  await waitForList(review.page);
  return review;
}

/** The seed's badge: its status and its words. */
const badge = (page, seedId) =>
  page.locator(`[data-seed="${seedId}"] .seed-status`).evaluate((el) => ({ status: el.dataset.status, text: el.textContent.trim(), title: el.title }));

const stageSummary = (page, candidateId, stage) => row(page, candidateId).locator(`.stage-detail[data-stage="${stage}"] .stage-summary`).innerText();

describe('the review as a run moves and a reviewer decides', () => {
  it("a seed's badge follows the decisions by hand, after a reload too, and an undo says what it took back", async () => {
    const host = new FakeHost(auditReviewRun().events, 5);
    let review = await open(host);
    try {
      const { page } = review;
      // m2's only accepted answer, rejected by hand: the seed is no longer accepted.
      assert.deepEqual(await badge(page, 'm2'), { status: 'accepted', text: 'accepted', title: '' });
      await row(page, 'm2#0').locator('[data-act="reject"]').click();
      await page.waitForFunction(() => document.querySelector('[data-seed="m2"] .seed-status')?.dataset.status === 'rejected');
      assert.deepEqual(await badge(page, 'm2'), {
        status: 'rejected',
        text: 'rejected by hand',
        title: 'The method: accepted; after the decisions by hand: rejected',
      });
      assert.equal(await page.locator('[data-seed="m2"] .accepted-ref').count(), 0);
      await waitUntil(() => host.events.some((e) => e.type === 'override' && e.candidateId === 'm2#0'), 'the override in the record');

      // The page loaded again, and a new panel on the same record: the same badge.
      await page.reload();
      await waitForList(page);
      assert.equal((await badge(page, 'm2')).text, 'rejected by hand');
      await review.close();
      review = await open(new FakeHost(host.events, 5));
      assert.equal((await badge(review.page, 'm2')).text, 'rejected by hand');
      assert.equal((await badge(review.page, 'm1')).text, 'accepted', 'other seeds as they were');

      // m3 (rejected by the method): a candidate accepted by hand makes it accepted; u takes it back, and says so.
      await review.page.locator('#list').focus();
      await row(review.page, 'm3#1').locator('.cand-index').click();
      await expectSelected(review.page, 'm3#1');
      await review.page.keyboard.press('a');
      await review.page.waitForFunction(() => document.querySelector('[data-seed="m3"] .seed-status')?.textContent.trim() === 'accepted by hand');
      await review.page.locator('.status-line', { hasText: 'Recorded: accept m3#1' }).waitFor();
      await review.page.keyboard.press('u');
      await review.page.locator('.status-line', { hasText: 'Undid accept of m3#1 (now no decision by hand)' }).waitFor();
      await review.page.waitForFunction(() => document.querySelector('[data-seed="m3"] .seed-status')?.textContent.trim() === 'rejected');
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('keeps its counts right while the run is live: candidates beside the filter, the funnel, requests', async () => {
    // reviewRun's last session is still running (started, no end).
    const host = new FakeHost(reviewRun().events, 7);
    const review = await open(host);
    const { page } = review;
    try {
      const header = () => page.locator('.match-count').innerText();
      const funnel = (step) => page.locator(`.funnel-row[data-step="${step}"] .funnel-value`).innerText();
      const requests = (purpose) => page.locator(`.usage tr[data-purpose="${purpose}"] td:nth-child(2)`).innerText();
      const samples = (purpose) => page.locator(`.usage tr[data-purpose="${purpose}"] td:nth-child(3)`).innerText();
      assert.match(await header(), /7 seeds, 12 candidates/);
      assert.equal(await funnel('candidates'), '12');
      assert.equal(await requests('generate'), '4');

      // Two more candidates of s7 (a seed already listed) and the session's usage so far.
      const live = new EventLog();
      live.candidate('s7', 1);
      live.candidate('s7', 2);
      live.usage(usageOf({ generate: { requests: 3 }, cycle: { requests: 2 } }), 4_000);
      await host.append(live.events);
      await page.locator('.match-count', { hasText: '14 candidates' }).waitFor();
      assert.match(await header(), /7 seeds, 14 candidates/);
      assert.equal(await funnel('candidates'), '14');
      assert.equal(await requests('generate'), '7', 'ended sessions 4, this one 3 so far');
      assert.equal(await requests('cycle'), '12');
      assert.equal(await samples('generate'), '14');

      // The next checkpoint replaces the last one: the count moves, it does not add up checkpoints.
      const next = new EventLog();
      next.usage(usageOf({ generate: { requests: 4 }, cycle: { requests: 2 } }), 5_000);
      await host.append(next.events);
      await page.waitForFunction(() => document.querySelector('.usage tr[data-purpose="generate"] td:nth-child(2)')?.textContent === '8');
      assert.equal(await requests('cycle'), '12');
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('says why a stage was not reached: first-valid selection, a stage voting, the run not there yet or stopped, an error', async () => {
    const host = new FakeHost(reviewRun().events, 8);
    const review = await open(host);
    const { page } = review;
    try {
      const expand = async (id) => {
        await row(page, id).locator('.expander').click();
        await row(page, id).locator('.detail').waitFor();
      };
      await expand(CANDIDATES.notVerified);
      assert.equal(
        await stageSummary(page, CANDIDATES.notVerified, 'cycle'),
        'not reached (first-valid selection: candidate #1 was accepted first, so no later candidate is verified)',
      );
      await expand(CANDIDATES.running);
      assert.equal(await stageSummary(page, CANDIDATES.running, 'factuality'), 'not reached (cycle consistency is still voting)');

      // A new candidate of the unfinished seed s7, and a seed whose run ended in an error.
      const at = '2025-03-02T00:00:00.000Z';
      const live = new EventLog();
      live.candidate('s7', 1);
      live.seed('s8', { line: 8, domain: 'math', question: 'What is 8 * 8?' });
      live.candidate('s8', 0);
      live.error('s8', 'server said 503');
      await host.append(live.events);
      await row(page, 's8#0').waitFor();
      await expand('s7#1');
      assert.equal(await stageSummary(page, 's7#1', 'cycle'), 'not reached (not verified yet: the run has not got here)');
      await expand('s8#0');
      assert.equal(await stageSummary(page, 's8#0', 'cycle'), "not reached (its seed's run ended in an error; resuming the run tries it again)");

      // The run stops: what was waiting says the run stopped first.
      await host.append([{ type: 'run', id: 'run:live:stopped', at, state: 'stopped', wallMs: 10 }]);
      await page.waitForFunction(() => document.querySelector('.run-state')?.textContent.includes('stopped'));
      assert.equal(await stageSummary(page, 's7#1', 'cycle'), 'not reached (the run stopped before it got here; resume the run to verify it)');
      assert.equal(
        await stageSummary(page, CANDIDATES.notVerified, 'factuality'),
        'not reached (first-valid selection: candidate #1 was accepted first, so no later candidate is verified)',
      );
      assert.ok(!received(host, 'override').length);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });
});
