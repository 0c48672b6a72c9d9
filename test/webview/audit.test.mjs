// The review webview on a run whose seeds carry gold: each candidate's truth beside its verdicts, the judges' mistakes
// marked and filtered, the gold beside the question, the audit in the summary, and "Run tests" answered by a host
// that runs the real ReviewTestRuns with a stand-in checker. Gold and program output are hostile text: they stay text.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseWebviewMessage } from '../../src/protocol/review.ts';
import { ReviewTestRuns } from '../../src/protocol/reviewFeed.ts';
import { AUDIT, auditReviewRun, HOSTILE_GOLD, HOSTILE_OUTPUT, truth } from './fixtures.ts';
import { FakeHost, openReview, ROOT, startHarness, waitForList } from './harness.ts';
import {
  assertClean,
  assertPanelLayout,
  boxesOf,
  choose,
  contrastOf,
  fillContrastOf,
  received,
  renderedCandidates,
  row,
  waitForFilter,
  waitUntil,
} from './helpers.mjs';

let harness;

before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.close();
});

/** The panel host's "Run tests", with a checker that answers what the test sets, when the test says. */
class AuditHost extends FakeHost {
  checks = [];
  result = { outcome: 'pass', correct: true, detail: 'all 12 tests passed', output: HOSTILE_OUTPUT, durationMs: 40, extracted: 'def add' };
  held = false;
  release = () => {};
  testRuns = new ReviewTestRuns(this.feed, {
    checker: {
      check: async (domain, text) => {
        this.checks.push({ domain, text });
        if (this.held) await new Promise((resolve) => (this.release = resolve));
        return this.result;
      },
    },
    record: (event) => {
      const recorded = { ...event, at: '2025-03-01T13:00:00.000Z' };
      void this.append([recorded]);
      return true;
    },
  });

  receive(data) {
    super.receive(data);
    const message = parseWebviewMessage(data);
    if (message?.type !== 'runTests') return;
    void this.testRuns.run(message.candidateId).then((outcome) =>
      this.post(
        outcome.ok
          ? { type: 'testResult', requestId: message.requestId, candidateId: message.candidateId, ok: true, truth: outcome.truth, recorded: outcome.recorded }
          : { type: 'testResult', requestId: message.requestId, candidateId: message.candidateId, ok: false, error: outcome.error },
      ),
    );
  }
}

async function open(options = {}) {
  const host = new AuditHost(auditReviewRun().events, 5);
  const review = await openReview(harness, host, { viewport: { width: 1300, height: 2400 }, ...options });
  await waitForList(review.page);
  return review;
}

const truthOf = (page) =>
  page.locator('#list .cand-row').evaluateAll((rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.candidate, r.querySelector('.cand-head .truth-tag')?.dataset.truth ?? null])),
  );

const wrongOf = (page) =>
  page.locator('#list [data-judges-wrong]').evaluateAll((tags) =>
    tags.map((t) => [t.closest('[data-candidate]').dataset.candidate, t.dataset.judgesWrong, t.textContent.trim()]),
  );

describe('the audit in the review', () => {
  it('tags each candidate with its truth and marks where the judges were wrong', async () => {
    const review = await open();
    const { page } = review;
    try {
      assert.deepEqual(await truthOf(page), {
        'm1#0': 'pass', 'm1#1': 'pass', 'm2#0': 'fail', 'm3#0': 'error', 'm3#1': 'pass', 'c1#0': 'fail', 'c1#1': null, 'c2#0': null,
      });
      assert.match(await row(page, 'm1#1').locator('.truth-tag').innerText(), /correct/);
      assert.match(await row(page, 'm2#0').locator('.truth-tag').innerText(), /wrong/);
      assert.match(await row(page, 'm3#0').locator('.truth-tag').innerText(), /error/);
      assert.match(await row(page, 'm2#0').locator('.truth-tag').getAttribute('title'), /compared: 8 · 8 is not 7/);
      assert.deepEqual(await wrongOf(page), [
        ['m1#0', 'false_reject', 'judges wrong: rejected a correct answer'],
        ['m2#0', 'false_accept', 'judges wrong: accepted a wrong answer'],
        ['m3#1', 'false_reject', 'judges wrong: rejected a correct answer'],
        ['c1#0', 'false_accept', 'judges wrong: accepted a wrong answer'],
      ]);
      assert.ok(await row(page, 'm2#0').evaluate((el) => el.classList.contains('judges-wrong') && el.classList.contains('false-accept')));

      // Expanded: the check's detail, and the run's output as text.
      await row(page, 'c1#0').locator('.expander').click();
      const detail = row(page, 'c1#0').locator('.truth-detail');
      await detail.waitFor();
      assert.match(await detail.locator('h4').innerText(), /Against the gold:\s+wrong/);
      assert.match(await detail.locator('.judges-wrong-line').innerText(), /accepted it, the gold says it is wrong/);
      assert.equal(await detail.locator('pre.check-output').textContent(), HOSTILE_OUTPUT);
      assert.equal(await detail.locator('pre.check-output *').count(), 0, 'output is text, not markup');
      await row(page, 'm2#0').locator('.expander').click();
      assert.equal(await row(page, 'm2#0').locator('.truth-extracted').textContent(), '8');
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('shows the gold beside the question, long tests collapsed, all of it as text', async () => {
    const review = await open();
    const { page } = review;
    try {
      assert.equal(await page.locator('[data-seed="m1"] .seed-body .gold .gold-answer code').textContent(), '42');
      const m2 = page.locator('[data-seed="m2"] .gold code');
      assert.equal(await m2.textContent(), `7 ${HOSTILE_GOLD}`);
      assert.equal(await page.locator('[data-seed="m2"] .gold img, [data-seed="m2"] .gold script').count(), 0);
      // Beside, not below: the gold's box starts level with the question.
      const [question, gold] = await Promise.all(['.question', '.gold'].map((s) => page.locator(`[data-seed="m1"] ${s}`).boundingBox()));
      assert.ok(gold.x > question.x + question.width - 1 && Math.abs(gold.y - question.y) < 10, JSON.stringify({ question, gold }));

      const tests = page.locator('[data-seed="c1"] details.gold-tests');
      assert.equal(await tests.evaluate((d) => d.open), false);
      assert.match(await tests.locator('summary').innerText(), /gold tests · calls add \(14 lines\)/);
      await tests.locator('summary').click();
      assert.match(await tests.locator('pre').innerText(), /assert candidate\(11, 1\) == 12/);
      assert.ok((await tests.locator('pre').textContent()).includes(HOSTILE_GOLD));
      assert.equal(await page.locator('[data-seed="c2"] .gold-tests pre').textContent(), 'assert mul(2, 3) == 6', 'short tests shown open');
      assert.equal(await page.locator('.gold img, .gold script, .check-output img').count(), 0);
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('puts the audit in the summary, per stage and overall, with counts', async () => {
    const review = await open();
    const { page } = review;
    try {
      const audit = (key) => page.locator(`.audit tr[data-audit="${key}"]`).innerText();
      assert.match(await audit('cycle'), /cycle consistency\s+6\s+60\.0% 3\/5\s+100\.0% 3\/3\s+2\s+0/);
      assert.match(await audit('factuality'), /factuality\s+5\s+50\.0% 2\/4\s+66\.7% 2\/3\s+2\s+1/);
      assert.match(await audit('correctness'), /correctness\s+4\s+33\.3% 1\/3\s+50\.0% 1\/2\s+2\s+1/);
      assert.match(await audit('overall'), /overall \(accepted\)\s+6\s+33\.3% 1\/3\s+33\.3% 1\/3\s+2\s+2/);
      assert.match(await page.locator('.audit-note').innerText(), /6 candidates checked, 3 right\s+\(50\.0%: the generator's own accuracy\) · 3 pass, 2 fail, 1 error, 0 timeout · 1 not checked yet/);
      assert.match(await page.locator('.help').innerText(), /t run tests/);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('filters to exactly the candidates the judges got wrong, and remembers it', async () => {
    const review = await open();
    const { page, host } = review;
    try {
      await choose(page, 'judges-wrong', 'Judges wrong (by the gold)');
      await waitForFilter(page, host, (f) => f.judgesWrong === 'either');
      assert.deepEqual(await renderedCandidates(page), ['m1#0', 'm2#0', 'm3#1', 'c1#0']);
      await choose(page, 'judges-wrong', 'False accepts: accepted, wrong');
      await waitForFilter(page, host, (f) => f.judgesWrong === 'false_accept');
      assert.deepEqual(await renderedCandidates(page), [...AUDIT.falseAccepts]);
      assert.match(await page.locator('.match-count').innerText(), /2 seeds, 2 candidates/);
      await choose(page, 'judges-wrong', 'False rejects: right, not accepted');
      await waitForFilter(page, host, (f) => f.judgesWrong === 'false_reject');
      assert.deepEqual(await renderedCandidates(page), [...AUDIT.falseRejects]);

      // Stored with the UI state: a reload asks for the same.
      await page.waitForTimeout(200);
      await page.reload();
      await waitForList(page);
      const first = received(host, 'requestPage').at(-1);
      assert.equal(first.filter.judgesWrong, 'false_reject');
      assert.deepEqual(await renderedCandidates(page), [...AUDIT.falseRejects]);

      // Off again is no key at all: the filter an older host understands.
      await choose(page, 'judges-wrong', 'Right or wrong by the gold');
      await waitForFilter(page, host, (f) => !('judgesWrong' in f));
      assert.equal((await renderedCandidates(page)).length, 8);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('code that had no sandbox reads "not checked": no verdict on the judges, never recorded from the panel', async () => {
    // c1#0 (accepted) was not run where the run was made: its truth is "not checked", not "wrong".
    const events = auditReviewRun().events.map((e) =>
      e.type === 'truth' && e.candidateId === 'c1#0' ? truth('c1#0', 'unchecked', { detail: 'not checked: no sandbox on this machine (bubblewrap (bwrap) is not installed)' }) : e,
    );
    const host = new AuditHost(events, 5);
    const review = await openReview(harness, host, { viewport: { width: 1300, height: 2400 } });
    const { page } = review;
    try {
      await waitForList(page);
      assert.equal((await truthOf(page))['c1#0'], 'unchecked');
      assert.match(await row(page, 'c1#0').locator('.truth-tag').innerText(), /not checked/);
      assert.match(await row(page, 'c1#0').locator('.truth-tag').getAttribute('title'), /no sandbox on this machine/);
      assert.ok(!(await wrongOf(page)).some(([id]) => id === 'c1#0'), 'no judges-wrong mark on an unchecked candidate');
      assert.match(await page.locator('.audit-note').innerText(), /1 coding candidates not checked: no sandbox on this machine/);

      // Run tests on a machine without a sandbox: the answer is shown, and nothing is recorded.
      host.result = { outcome: 'unchecked', correct: false, detail: 'not checked: no sandbox on this machine (bubblewrap (bwrap) is not installed)', durationMs: 1 };
      await row(page, AUDIT.untested).locator('[data-act="tests"]').click();
      const done = row(page, AUDIT.untested).locator('.test-run[data-test-state="done"]');
      await done.waitFor();
      assert.match(await done.innerText(), /tests: not checked\s+not checked: no sandbox on this machine/);
      assert.doesNotMatch(await done.innerText(), /recorded in the run/);
      assert.equal((await truthOf(page))[AUDIT.untested], null, 'not recorded as the candidate\'s truth');
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('runs a coding candidate\'s tests on request, shows the answer, and the run records it', async () => {
    const review = await open();
    const { page, host } = review;
    try {
      // Only valid coding candidates of seeds with tests have the button.
      const withButton = await page.locator('#list [data-act="tests"]').evaluateAll((b) => b.map((x) => x.closest('[data-candidate]').dataset.candidate));
      assert.deepEqual(withButton, ['c1#0', 'c1#1']);

      host.held = true;
      await row(page, AUDIT.untested).locator('[data-act="tests"]').click();
      await row(page, AUDIT.untested).locator('.test-run[data-test-state="running"]').waitFor();
      assert.equal(await row(page, AUDIT.untested).locator('[data-act="tests"]').isDisabled(), true);
      await page.keyboard.press('t');
      await page.waitForTimeout(100);
      const asked = received(host, 'runTests');
      assert.equal(asked.length, 1, 'a second ask while they run is not sent');
      assert.deepEqual(asked[0], { type: 'runTests', requestId: asked[0].requestId, candidateId: AUDIT.untested });
      assert.match(await page.locator('.status-line').innerText(), /tests of c1#1 are running/);

      host.release();
      const done = row(page, AUDIT.untested).locator('.test-run[data-test-state="done"]');
      await done.waitFor();
      assert.match(await done.innerText(), /tests: correct\s+all 12 tests passed\s+· recorded in the run/);
      assert.equal(await done.locator('pre.check-output').textContent(), HOSTILE_OUTPUT);
      assert.equal(await done.locator('pre.check-output *').count(), 0);
      assert.match(await page.locator('.status-line').innerText(), /Tests of c1#1: correct\. Recorded in the run for the audit\./);
      assert.equal(host.checks.length, 1);
      assert.equal(host.checks[0].domain, 'coding');
      // Recorded: the candidate now has its truth, and the audit counts it.
      await waitUntil(async () => (await truthOf(page))[AUDIT.untested] === 'pass', 'the recorded truth to arrive');
      await waitUntil(async () => /7 candidates checked, 4 right/.test(await page.locator('.audit-note').innerText()), 'the audit to count it');

      // A candidate that already has its truth: shown, not recorded. By key, on the selected candidate.
      host.held = false;
      host.result = { outcome: 'timeout', correct: false, detail: 'ran past 10 s', durationMs: 10_000 };
      await row(page, 'c1#0').locator('.cand-index').click();
      await page.keyboard.press('t');
      const timeout = row(page, 'c1#0').locator('.test-run[data-test-state="done"]');
      await timeout.waitFor();
      assert.match(await timeout.innerText(), /tests: timeout\s+ran past 10 s/);
      assert.doesNotMatch(await timeout.innerText(), /recorded/);
      assert.equal((await truthOf(page))['c1#0'], 'fail', 'the recorded truth stands');

      // Where there is nothing to run, the key says so and sends nothing.
      await row(page, 'm1#0').locator('.cand-index').click();
      await page.keyboard.press('t');
      await waitUntil(async () => /m1#0 has no tests to run/.test(await page.locator('.status-line').innerText()), 'the refusal');
      assert.equal(received(host, 'runTests').length, 2);
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });
});

// ---------------------------------------------------------------- themes

describe('the audit in each theme', () => {
  for (const theme of ['light', 'dark', 'high-contrast']) {
    it(`reads well in the ${theme} theme (screenshot in test-results/screenshots)`, async () => {
      const review = await open({ theme, viewport: { width: 1300, height: 1400 } });
      const { page } = review;
      try {
        await row(page, 'c1#0').locator('.expander').click();
        await row(page, 'c1#0').locator('.truth-detail').waitFor();
        for (const selector of [
          '[data-candidate="m1#1"] .truth-tag',
          '[data-candidate="m2#0"] .truth-tag',
          '[data-candidate="m3#0"] .truth-tag',
          '[data-candidate="m2#0"] .judges-wrong-tag',
          '[data-candidate="c1#0"] .judges-wrong-line',
          '[data-seed="m1"] .gold-label',
          '[data-seed="m1"] .gold-text',
          '.audit tr[data-audit="overall"] td.false-accepts',
          '.audit tr[data-audit="overall"] td.precision',
        ]) {
          const { ratio } = await contrastOf(page, selector);
          assert.ok(ratio >= 4.5, `${theme}: ${selector} has contrast ${ratio.toFixed(2)}`);
        }
        // A wrong answer is what the eye should find: its tag is filled, apart from the row it sits on.
        const fill = await fillContrastOf(page, '[data-candidate="m2#0"] .truth-tag');
        assert.ok(fill >= 3, `${theme}: the "wrong" tag stands out of its row by ${fill.toFixed(2)}`);

        // What the screenshot shows: the panel's parts in place, the audit table whole in the summary, the gold
        // beside the question, and the opened candidate's check in view.
        await assertPanelLayout(page, theme);
        const b = await boxesOf(page, {
          list: '#list',
          summary: '.summary-host',
          audit: '.audit',
          overall: '.audit tr[data-audit="overall"]',
          question: '[data-seed="m1"] .question',
          gold: '[data-seed="m1"] .gold',
          check: '[data-candidate="c1#0"] .truth-detail',
          output: '[data-candidate="c1#0"] .truth-detail pre.check-output',
        });
        assert.ok(b.audit.top >= b.summary.top && b.overall.bottom <= b.summary.bottom, `the audit table within the summary: ${JSON.stringify(b)}`);
        assert.ok(b.audit.overflowX <= 0, 'every column of the audit shows');
        assert.ok(b.question.top >= b.list.top && b.gold.bottom <= b.list.bottom, 'the first seed in view');
        assert.ok(b.gold.left >= b.question.right - 1 && b.gold.width >= 200, `the gold beside the question: ${JSON.stringify({ question: b.question, gold: b.gold })}`);
        assert.ok(b.check.top < b.list.bottom && b.check.height >= 60, `the check's detail in view: ${JSON.stringify(b.check)}`);
        assert.ok(b.output.height > 0 && b.output.overflowX <= 0, "the program's output, whole across");

        const dir = path.join(ROOT, 'test-results/screenshots');
        mkdirSync(dir, { recursive: true });
        await page.screenshot({ path: path.join(dir, `review-audit-${theme}.png`) });
        await assertClean(harness, review);
      } finally {
        await review.close();
      }
    });
  }
});
