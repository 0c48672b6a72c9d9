// A host that does not answer: each request the webview sends has a deadline, and when it passes the panel says so
// on its status line, takes back what it showed ahead of the answer, and offers to ask again. The page's clock is
// Playwright's, so a deadline passes without the test waiting for it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditReviewRun, reviewRun } from './fixtures.ts';
import { FakeHost, openReview, startHarness, waitForList } from './harness.ts';
import { assertClean, choose, expectSelected, received, renderedCandidates, row, waitForFilter, waitUntil } from './helpers.mjs';

let harness;

before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.close();
});

/** Past every deadline but that of a test run (two minutes). */
const PAST_DEADLINE = '00:20';

async function open(host) {
  const review = await openReview(harness, host, {
    viewport: { width: 1200, height: 2400 },
    beforeLoad: (page) => page.clock.install(),
  });
  await waitForList(review.page);
  return review;
}

const statusLine = (page) => page.locator('.status-line');

describe('requests the host does not answer', () => {
  it('an override: put back, said so, and sent again on Retry', async () => {
    const host = new FakeHost(reviewRun().events, 7);
    const review = await open(host);
    const { page } = review;
    try {
      host.withhold.add('override');
      await page.locator('#list').focus();
      for (const _ of [0, 1, 2]) await page.keyboard.press('j');
      await expectSelected(page, 's1#2');
      await page.keyboard.press('a');
      await row(page, 's1#2').locator('.pending-tag').waitFor();
      assert.equal(await row(page, 's1#2').evaluate((el) => el.classList.contains('accepted')), true, 'shown at once');

      await page.clock.fastForward(PAST_DEADLINE);
      const line = statusLine(page);
      await line.filter({ hasText: 'The editor did not answer: accept s1#2.' }).waitFor();
      assert.equal(await line.getAttribute('role'), 'alert');
      assert.ok(await line.evaluate((el) => el.classList.contains('error')));
      await page.waitForFunction(() => !document.querySelector('[data-candidate="s1#2"] .pending-tag'));
      assert.equal(await row(page, 's1#2').evaluate((el) => el.classList.contains('accepted')), false, 'put back');
      assert.equal(await row(page, 's1#2').locator('.override-tag').count(), 0);

      host.withhold.clear();
      await line.getByRole('button', { name: 'Retry' }).click();
      await waitUntil(() => received(host, 'override').length === 2, 'the override sent again');
      const [first, again] = received(host, 'override');
      assert.deepEqual({ ...again, requestId: 0 }, { ...first, requestId: 0 });
      assert.notEqual(again.requestId, first.requestId);
      await line.filter({ hasText: 'Recorded: accept s1#2' }).waitFor();
      await page.waitForFunction(() => document.querySelector('[data-candidate="s1#2"]')?.classList.contains('accepted'));
      assert.equal(host.events.filter((e) => e.type === 'override' && e.candidateId === 's1#2').length, 1);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('a page: said so, the late answer takes the message away, and Retry asks again', async () => {
    const host = new FakeHost(reviewRun().events, 7);
    const review = await open(host);
    const { page } = review;
    try {
      host.withhold.add('requestPage');
      await choose(page, 'show', 'Accepted');
      await waitUntil(() => host.withheld.length === 1, 'the page request');
      await page.clock.fastForward(PAST_DEADLINE);
      const line = statusLine(page).filter({ hasText: 'The editor did not answer: seeds 1 to 30.' });
      await line.waitFor();
      // Still the old list, waiting for the new one.
      await page.locator('#list[aria-busy="true"]').waitFor();
      assert.ok((await renderedCandidates(page)).length > 3);

      // The answer comes after all: the list switches and the message goes.
      host.answer(host.withheld.shift());
      await waitForFilter(page, host, (f) => f.show === 'accepted');
      assert.deepEqual(await renderedCandidates(page), ['s1#1', 's2#2', 's6#0']);
      await line.waitFor({ state: 'detached' });

      // Again, answered only when asked again.
      await choose(page, 'show', 'Invalid (static filter)');
      await waitUntil(() => host.withheld.length === 1, 'the second page request');
      await page.clock.fastForward(PAST_DEADLINE);
      await line.waitFor();
      host.withhold.clear();
      await line.getByRole('button', { name: 'Retry' }).click();
      await waitForFilter(page, host, (f) => f.show === 'invalid');
      assert.deepEqual(await renderedCandidates(page), ['s1#0', 's1#3', 's3#0', 's3#1']);
      assert.equal(await line.count(), 0);
      const asked = received(host, 'requestPage').filter((m) => m.filter.show === 'invalid');
      assert.equal(asked.length, 2);
      assert.deepEqual(asked.map((m) => m.offset), [0, 0]);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('the run itself: without an answer to ready the panel says so rather than wait', async () => {
    const host = new FakeHost(reviewRun().events, 7);
    host.withhold.add('ready');
    const review = await openReview(harness, host, { viewport: { width: 1200, height: 1200 }, beforeLoad: (page) => page.clock.install() });
    const { page } = review;
    try {
      await page.locator('.summary.loading', { hasText: 'Waiting for the run' }).waitFor();
      await page.clock.fastForward(PAST_DEADLINE);
      const line = statusLine(page).filter({ hasText: "The editor did not answer: the run's summary." });
      await line.waitFor();
      host.withhold.clear();
      await line.getByRole('button', { name: 'Retry' }).click();
      await page.locator('.summary .run-id', { hasText: 'harness-run' }).waitFor();
      assert.equal(received(host, 'ready').length, 2);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('a test run: failed on the candidate, and t runs it again', async () => {
    // The plain FakeHost never answers runTests.
    const host = new FakeHost(auditReviewRun().events, 5);
    const review = await open(host);
    const { page } = review;
    try {
      await row(page, 'c1#0').locator('[data-act="tests"]').click();
      await row(page, 'c1#0').locator('[data-test-state="running"]').waitFor();
      await page.clock.fastForward('01:00');
      assert.equal(await row(page, 'c1#0').locator('[data-test-state="running"]').count(), 1, 'tests take longer than a page');
      await page.clock.fastForward('01:30');
      const failed = row(page, 'c1#0').locator('[data-test-state="failed"]');
      await failed.waitFor();
      assert.match(await failed.innerText(), /The editor did not answer: the tests of c1#0\./);
      await statusLine(page).filter({ hasText: 'The editor did not answer: the tests of c1#0.' }).waitFor();
      await page.locator('#list').focus();
      await page.keyboard.press('t');
      await row(page, 'c1#0').locator('[data-test-state="running"]').waitFor();
      assert.equal(received(host, 'runTests').length, 2);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });
});
