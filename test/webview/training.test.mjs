// The review's training section in Chromium, under the panel's CSP: the host's `training` message drawn as a status
// line and an SVG loss chart that updates in place, and the Start training button that asks the host to train.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reviewRun } from './fixtures.ts';
import { FakeHost, openReview, startHarness, waitForList } from './harness.ts';
import { assertClean, received, waitUntil } from './helpers.mjs';

let harness;

before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.close();
});

/** The review run, finished (reviewRun alone is still going, and a going run cannot be trained on). */
function finishedRun() {
  const log = reviewRun();
  log.run('finished', { wallMs: 1_000 });
  return log.events;
}

async function open(events = finishedRun()) {
  const host = new FakeHost(events, 7);
  const review = await openReview(harness, host);
  await waitForList(review.page);
  return review;
}

function training(overrides = {}) {
  return {
    trainer: 'trl',
    status: 'running',
    active: true,
    baseModel: 'Qwen/Qwen3-0.6B',
    summary: 'running · step 20/30 · loss 0.988 · lr 2.5e-5',
    lastEvent: 'Saving model checkpoint',
    totalSteps: 30,
    points: [
      { step: 10, loss: 1.2345 },
      { step: 20, loss: 0.9876 },
    ],
    ...overrides,
  };
}

/** The chart's train-loss line as [x, y] pairs. */
async function linePoints(page) {
  const text = await page.locator('.loss-chart .loss-line').getAttribute('points');
  return text.trim().split(/\s+/).map((pair) => pair.split(',').map(Number));
}

const disabled = (page, id) => page.locator(`#${id}`).evaluate((el) => el.hasAttribute('disabled'));

describe('training in the review', () => {
  it('draws the job the host reports: status, latest event, and a loss chart that grows in place', async () => {
    const review = await open();
    const { page, host } = review;
    try {
      assert.equal(await page.locator('.training').count(), 0, 'no section before the host mentions a training');
      assert.equal(await disabled(page, 'train'), false);

      await host.post({ type: 'training', training: training() });
      const section = page.locator('.training');
      await section.waitFor();
      assert.equal(await section.getAttribute('data-status'), 'running');
      assert.match(await section.locator('.training-summary').innerText(), /running · step 20\/30 · loss 0\.988/);
      assert.match(await section.locator('.training-head').innerText(), /trl · Qwen\/Qwen3-0\.6B/);
      assert.equal(await section.locator('.training-event').innerText(), 'Saving model checkpoint');
      assert.equal(await page.locator('.loss-chart').getAttribute('data-points'), '2');
      let line = await linePoints(page);
      assert.equal(line.length, 2);
      assert.ok(line[0][0] < line[1][0], 'steps run left to right');
      assert.ok(line[0][1] < line[1][1], 'a lower loss is drawn lower');
      assert.match(await page.locator('.loss-plot').getAttribute('aria-label'), /Training loss from 1\.23 to 0\.988 .*steps 10 to 20/);
      assert.equal(await disabled(page, 'train'), true, 'no second training while one goes');

      // The next report replaces the drawing; eval loss is its own dashed line.
      await host.post({
        type: 'training',
        training: training({ summary: 'running · step 30/30 · loss 0.7', points: [...training().points, { step: 30, loss: 0.7, evalLoss: 0.8 }] }),
      });
      await page.waitForFunction(() => document.querySelector('.loss-chart')?.getAttribute('data-points') === '3');
      line = await linePoints(page);
      assert.equal(line.length, 3);
      assert.equal(await page.locator('.loss-chart .eval-line').count(), 1);
      assert.match(await page.locator('.loss-axis').innerText(), /step 10[\s\S]*loss 0\.7–1\.23 · last 0\.7 · eval[\s\S]*step 30/);

      await host.post({
        type: 'training',
        training: training({ status: 'succeeded', active: false, summary: 'succeeded → ft:Qwen3:svd:ftjob-1', fineTunedModel: 'ft:Qwen3:svd:ftjob-1' }),
      });
      await page.waitForFunction(() => document.querySelector('.training')?.getAttribute('data-status') === 'succeeded');
      assert.match(await section.locator('.training-summary').innerText(), /succeeded → ft:Qwen3:svd:ftjob-1/);
      assert.equal(await section.locator('.training-event').count(), 0, 'the latest event is shown while the job goes');
      assert.equal(await disabled(page, 'train'), false);

      // Model text is text: a summary with markup stays text.
      await host.post({ type: 'training', training: training({ summary: '<img src=x onerror=alert(1)>', points: [] }) });
      await page.waitForFunction(() => document.querySelector('.training-summary')?.textContent === '<img src=x onerror=alert(1)>');
      assert.equal(await page.locator('.training img').count(), 0);
      assert.match(await page.locator('.loss-empty').innerText(), /No loss reported yet/);

      await host.post({ type: 'training', training: null });
      await page.waitForFunction(() => document.querySelector('.training') === null);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('Start training asks the host, which runs the palette command', async () => {
    const review = await open();
    const { page, host } = review;
    try {
      await page.locator('#train').click();
      await waitUntil(() => received(host, 'train').length === 1, 'the train message');
      assert.deepEqual(received(host, 'train'), [{ type: 'train' }]);
      assert.match(await page.locator('.status-line').innerText(), /Training requested/);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('a run that is still going cannot be trained on; a message outside the catalogue changes nothing', async () => {
    const review = await open(reviewRun().events);
    const { page, host } = review;
    try {
      assert.equal(await disabled(page, 'train'), true);
      // Too many points, and a point that is not a number: the webview drops both.
      const tooMany = Array.from({ length: 1001 }, (_, i) => ({ step: i, loss: 1 }));
      await page.evaluate((m) => window.postMessage(m, '*'), { type: 'training', training: training({ points: tooMany }) });
      await page.evaluate((m) => window.postMessage(m, '*'), { type: 'training', training: training({ points: [{ step: 'x', loss: 1 }] }) });
      await host.post({ type: 'training', training: training({ points: [{ step: 5, loss: 2 }] }) });
      await page.locator('.training').waitFor();
      assert.equal(await page.locator('.loss-chart').getAttribute('data-points'), '1', 'only the valid message was drawn');
      assert.equal((await linePoints(page)).length, 2, 'one point is drawn as a short level stroke');
      assert.equal(received(host, 'train').length, 0);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });
});
