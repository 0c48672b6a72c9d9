// The review on ordinary laptop screens (1100x680, 1400x900), light and dark: the summary leaves the list its room
// and shows the audit's rows whole, it can be hidden and stays so, filter options are not cut, the stage bars stand
// out, long questions have a "more", and coding questions keep their lines, as text. Each check measures what the
// screenshot (test-results/screenshots/review-<size>-<theme>.png) shows.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditReviewRun } from './fixtures.ts';
import { FakeHost, openReview, ROOT, startHarness, waitForList, waitForRendered } from './harness.ts';
import { assertClean, assertPanelLayout, boxesOf, fillContrast, row, waitUntil } from './helpers.mjs';

let harness;

before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.close();
});

const SIZES = [
  { width: 1100, height: 680 },
  { width: 1400, height: 900 },
];

/** A coding question as benchmarks write them: code, indentation, a blank line, and markup that must stay text. */
const CODING_QUESTION = [
  'def add(a, b):',
  '    """Return the sum of a and b.',
  '',
  '    >>> add(1, 2)',
  '    3',
  '    """',
  '    # <img src=x onerror="window.__xss=\'question\'"><script>window.__xss=\'question-script\'</script>',
].join('\n');

const FENCED_QUESTION = 'Fix this function:\n\n```python\ndef mul(a, b):\n    return a + b\n```\n\n<img src=x onerror="window.__xss=\'fenced\'">';

const LONG_QUESTION = Array.from({ length: 14 }, (_, i) => `Line ${i + 1} of a long statement: a train leaves at ${i + 1} o'clock.`).join('\n\n');

/** The audit run (gold, truth, the audit in the summary) and, before it ends, seeds with long and coding questions. */
function laptopRun() {
  const log = auditReviewRun();
  const finished = log.events.pop();
  log.seed('long', { line: 6, domain: 'math', question: LONG_QUESTION });
  log.candidate('long', 0, { text: 'So \\boxed{12}.' });
  log.seed('code', { line: 7, domain: 'coding', question: CODING_QUESTION });
  log.candidate('code', 0, { text: '```python\ndef add(a, b):\n    return a + b\n```' });
  log.seed('fenced', { line: 8, domain: 'coding', question: FENCED_QUESTION });
  log.candidate('fenced', 0, { text: '```python\ndef mul(a, b):\n    return a * b\n```' });
  log.events.push(finished);
  return log.events;
}

async function open(size, theme, state) {
  const review = await openReview(harness, new FakeHost(laptopRun(), 8), { viewport: size, theme, ...(state ? { state } : {}) });
  await waitForList(review.page);
  await review.page.waitForTimeout(200);
  return review;
}

/** Scrolls the list until the seed's header is at its top. */
async function scrollToSeed(page, seedId) {
  await waitUntil(async () => {
    const found = await page.evaluate((id) => {
      const list = document.querySelector('#list');
      const seed = document.querySelector(`[data-seed="${id}"]`);
      if (!seed) {
        list.scrollTop += list.clientHeight;
        return false;
      }
      list.scrollTop += seed.getBoundingClientRect().top - list.getBoundingClientRect().top;
      return true;
    }, seedId);
    if (found) await waitForRendered(page);
    return found;
  }, `the seed ${seedId} in view`);
  await page.waitForTimeout(200);
}

describe('the review on a laptop screen', () => {
  for (const size of SIZES) {
    for (const theme of ['light', 'dark']) {
      it(`at ${size.width}x${size.height}, ${theme}: the list has room, the audit's rows show whole, bars stand out`, async () => {
        const review = await open(size, theme);
        const { page } = review;
        try {
          await assertPanelLayout(page, theme);
          const b = await boxesOf(page, {
            summary: '.summary-host',
            list: '#list',
            toolbar: '.toolbar-host',
            funnel: '.summary .funnel',
            audit: '.summary .audit',
            domains: '.summary .domains',
            usage: '.summary .usage',
          });
          // The list: at least 40% of the panel, far from the 150 px a taller summary left it.
          assert.ok(b.list.height >= 0.4 * size.height && b.list.height >= 270, `the list is ${b.list.height}px of ${size.height}`);
          assert.ok(b.summary.height <= 0.41 * size.height, `the summary takes ${b.summary.height}px of ${size.height}`);
          // The audit's rows: inside the summary's visible box, and what is drawn at their middle is theirs.
          const rows = await page.locator('.summary .audit tr[data-audit]').evaluateAll((trs) =>
            trs.map((tr) => {
              const r = tr.getBoundingClientRect();
              const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
              return { key: tr.dataset.audit, top: r.top, bottom: r.bottom, own: tr.contains(hit) };
            }),
          );
          assert.deepEqual(rows.map((r) => r.key), ['cycle', 'factuality', 'correctness', 'overall']);
          for (const r of rows) {
            assert.ok(r.top >= b.summary.top && r.bottom <= b.summary.bottom, `audit row ${r.key} (${r.top}-${r.bottom}) inside the summary (${b.summary.top}-${b.summary.bottom})`);
            assert.ok(r.own, `audit row ${r.key} is not covered`);
          }
          // Nothing cut sideways: no section of the summary scrolls, nor the toolbar.
          for (const part of ['funnel', 'audit', 'domains', 'usage', 'toolbar']) assert.ok(b[part].overflowX <= 0, `${part} runs out sideways by ${b[part].overflowX}px`);
          // The funnel and the audit side by side, in the summary's first row.
          assert.ok(Math.abs(b.funnel.top - b.audit.top) <= 1 && b.audit.left > b.funnel.right, 'the audit beside the funnel');

          // The bars against their track, and the track against the panel, in this theme.
          for (const step of ['seeds', 'candidates', 'passed cycle', 'accepted']) {
            const bar = `.funnel-row[data-step="${step}"] .bar`;
            const track = `.funnel-row[data-step="${step}"] .bar-bg`;
            const ratio = await fillContrast(page, bar, track);
            assert.ok(ratio >= 3, `${theme}: the ${step} bar against its track: ${ratio.toFixed(2)}`);
          }
          const track = await fillContrast(page, '.funnel-row[data-step="seeds"] .bar-bg');
          assert.ok(track >= 1.2, `${theme}: the track against the panel: ${track.toFixed(2)}`);

          const dir = path.join(ROOT, 'test-results/screenshots');
          mkdirSync(dir, { recursive: true });
          await page.screenshot({ path: path.join(dir, `review-${size.width}x${size.height}-${theme}.png`) });
          await assertClean(harness, review);
        } finally {
          await review.close();
        }
      });
    }
  }

  it('hides the summary with a visible toggle, remembers it, and the list takes the room', async () => {
    const review = await open(SIZES[0], 'dark');
    const { page } = review;
    try {
      const toggle = page.locator('.summary > summary');
      assert.equal(await toggle.locator('.summary-toggle').innerText(), 'Hide summary');
      assert.equal(await toggle.locator('.codicon-chevron-down').count(), 1);
      const before = await boxesOf(page, { list: '#list', summary: '.summary-host' });
      await toggle.click();
      await page.locator('.summary-toggle', { hasText: 'Show summary' }).waitFor();
      assert.equal(await toggle.locator('.codicon-chevron-right').count(), 1);
      const after = await boxesOf(page, { list: '#list', summary: '.summary-host' });
      assert.ok(after.summary.height <= 40, `one line left: ${after.summary.height}px`);
      assert.ok(after.list.height >= before.list.height + before.summary.height - 45, `the list took the room: ${before.list.height} then ${after.list.height}`);
      assert.match(await toggle.innerText(), /harness-run\s+finished\s+3 accepted · 5 of 8 seeds done/, 'the line keeps the run at a glance');

      await page.reload();
      await waitForList(page);
      await page.locator('.summary-toggle', { hasText: 'Show summary' }).waitFor();
      assert.equal(await page.locator('details.summary').evaluate((d) => d.open), false, 'still hidden after a reload');
      await page.keyboard.press('Tab');
      await page.locator('.summary > summary').focus();
      await page.keyboard.press('Enter');
      await page.locator('.summary-toggle', { hasText: 'Hide summary' }).waitFor();
      assert.equal(await page.locator('details.summary').evaluate((d) => d.open), true);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('shows every filter option whole', async () => {
    const review = await open(SIZES[0], 'light');
    const { page } = review;
    try {
      for (const id of ['show', 'domain', 'judges-wrong']) {
        await page.locator(`#${id}`).click();
        const options = await page.locator(`#${id}`).evaluate(async (select) => {
          await new Promise((resolve) => requestAnimationFrame(resolve));
          return [...select.shadowRoot.querySelectorAll('[role="option"]')].map((o) => ({ text: o.textContent.trim(), cut: o.scrollWidth - o.clientWidth }));
        });
        assert.ok(options.length >= 2, `${id}: ${JSON.stringify(options)}`);
        for (const option of options) assert.ok(option.cut <= 0, `${id}: "${option.text}" cut by ${option.cut}px`);
        await page.keyboard.press('Escape');
      }
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('cuts a long question with a "more", and keeps a coding question\'s lines and indentation, as text', async () => {
    const review = await open(SIZES[0], 'dark');
    const { page } = review;
    try {
      // A short question has no "more".
      assert.equal(await page.locator('[data-seed="m1"] .more').isVisible(), false);
      await scrollToSeed(page, 'long');
      const question = page.locator('[data-seed="long"] .question');
      const more = page.locator('[data-seed="long"] .more');
      await more.waitFor({ state: 'visible' });
      assert.equal(await more.innerText(), 'more');
      assert.ok(await question.evaluate((q) => q.scrollHeight > q.clientHeight + 1), 'cut');
      await more.click();
      await page.locator('[data-seed="long"] .more', { hasText: 'less' }).waitFor();
      assert.ok(await question.evaluate((q) => q.scrollHeight <= q.clientHeight + 1 && q.innerText.includes('Line 14')), 'whole');
      assert.equal(await more.getAttribute('aria-expanded'), 'true');

      // A coding question: exactly its text, lines and indentation kept, the markup in it shown, not run.
      await scrollToSeed(page, 'code');
      const code = page.locator('[data-seed="code"] .question pre.question-code');
      assert.equal(await code.textContent(), CODING_QUESTION);
      assert.equal(await code.locator('*').count(), 0, 'text, not markup');
      assert.equal(await code.evaluate((el) => getComputedStyle(el).whiteSpace), 'pre-wrap');
      assert.match(await code.innerText(), /\n {4}"""Return the sum of a and b\.\n\n {4}>>> add\(1, 2\)\n {4}3\n/);
      // With fences of its own: markdown, its code block as written, the rest sanitised.
      await scrollToSeed(page, 'fenced');
      const fenced = page.locator('[data-seed="fenced"] .question');
      assert.equal(await fenced.locator('pre.question-code').count(), 0);
      assert.match(await fenced.locator('pre code').innerText(), /def mul\(a, b\):\n {4}return a \+ b/);
      assert.equal(await fenced.locator('img[onerror], script').count(), 0);
      await page.waitForTimeout(200);
      assert.equal(await page.evaluate(() => window.__xss), undefined, 'nothing ran');
      assert.ok(await row(page, 'code#0').isVisible());
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });
});
