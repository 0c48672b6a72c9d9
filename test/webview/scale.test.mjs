// A run of 10,000 candidates: the webview renders only what is in view, gets the run in small pages as it scrolls,
// and stays usable from the keyboard across pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bigRun } from './fixtures.ts';
import { FakeHost, openReview, startHarness, waitForList } from './harness.ts';
import { assertClean, choose, received, selectedCandidate, waitForFilter, waitUntil } from './helpers.mjs';

let harness;
let events;
before(async () => {
  harness = await startHarness();
  events = bigRun(10_000);
});
after(async () => {
  await harness?.close();
});

describe('a run of 10,000 candidates', () => {
  it('renders only the rows in view and asks for small pages as the list scrolls', async () => {
    const host = new FakeHost(events, 2_500);
    const review = await openReview(harness, host, { viewport: { width: 1200, height: 900 } });
    const { page } = review;
    try {
      await waitForList(page);
      assert.equal(host.feed.init().run.funnel.candidates, 10_000);
      assert.match(await page.locator('.match-count').innerText(), /2,500 seeds, 10,000 candidates/);
      assert.ok((await page.locator('#list .row').count()) < 60, 'rows in the DOM');

      // To the end of the list: only the pages on the way are asked for, and the last seed shows.
      for (let i = 0; i < 20 && (await page.locator('[data-seed="q02500"]').count()) === 0; i++) {
        await page.locator('#list').evaluate((list) => {
          list.scrollTop = list.scrollHeight;
        });
        await page.waitForTimeout(150);
      }
      await page.locator('[data-seed="q02500"]').waitFor();
      const pages = received(host, 'requestPage');
      assert.ok(pages.length <= 6, `pages asked for: ${pages.map((p) => p.offset)}`);
      for (const p of pages) assert.ok(p.limit <= 50);
      for (const sent of host.sent) assert.ok(sent.bytes < 1_000_000, `${sent.type} of ${sent.bytes} bytes`);
      assert.ok((await page.locator('#list .row').count()) < 60, 'rows in the DOM at the end');

      // Into the middle, then down with the keyboard past a page boundary.
      await page.locator('#list').evaluate((list) => {
        list.scrollTop = list.scrollHeight / 2;
      });
      await page.waitForTimeout(300);
      await page.locator('#list').focus();
      await page.keyboard.press('j');
      await waitUntil(async () => (await selectedCandidate(page)) !== undefined, 'the first candidate in view selected');
      const first = await selectedCandidate(page);
      for (let i = 0; i < 250; i++) await page.keyboard.press('j');
      await waitUntil(async () => (await selectedCandidate(page)) !== undefined, 'a selection in view');
      await page.waitForTimeout(200);
      const last = await selectedCandidate(page);
      const seedNumber = (id) => Number(id.slice(1, id.indexOf('#')));
      assert.ok(seedNumber(last) - seedNumber(first) >= 50, `from ${first} to ${last}`);
      const inView = await page.evaluate(() => {
        const list = document.querySelector('#list').getBoundingClientRect();
        const row = document.querySelector('#list .cand-row.selected')?.getBoundingClientRect();
        return row !== undefined && row.top >= list.top - 1 && row.top < list.bottom;
      });
      assert.ok(inView, `the selected row ${last} is in view`);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('applies a filter over the whole run', async () => {
    const host = new FakeHost(events, 2_500);
    const review = await openReview(harness, host, { viewport: { width: 1200, height: 900 } });
    const { page } = review;
    try {
      await waitForList(page);
      await choose(page, 'show', 'Rejected at correctness');
      await waitForFilter(page, host, (f) => f.show === 'rejected_correctness');
      const last = received(host, 'requestPage').at(-1);
      const expected = host.feed.page(last);
      assert.ok(expected.total > 50 && expected.total < 2_500);
      assert.match(await page.locator('.match-count').innerText(), new RegExp(`${expected.total.toLocaleString('en')} seeds`));
      const states = await page.locator('#list .cand-row .stage-badge[data-stage="correctness"]').evaluateAll((b) => b.map((x) => x.dataset.state));
      assert.ok(states.length > 0 && states.every((s) => s === 'failed'));
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });
});
