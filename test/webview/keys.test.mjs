// The help line says what the keys do where the keyboard is, and each focus state is checked by pressing what it
// says: nothing focused, the list, a control in a candidate's row, the note field (with and without a decision), the
// search field. Enter in the note field saves the note with the decision.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reviewRun } from './fixtures.ts';
import { FakeHost, openReview, startHarness, waitForList } from './harness.ts';
import { assertClean, expectSelected, received, row, waitUntil } from './helpers.mjs';

let harness;

before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.close();
});

const help = (page) => page.locator('.help');
const activeId = (page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
const overrides = (host) => received(host, 'override').map(({ candidateId, action, note }) => ({ candidateId, action, ...(note !== undefined ? { note } : {}) }));

async function helpIn(page, focus) {
  await page.waitForFunction((f) => document.querySelector('.help')?.dataset.focus === f, focus);
  return (await help(page).innerText()).replace(/\s+/g, ' ');
}

describe('keys in each focus state', () => {
  it('says what the keys do with nothing focused, in the list and on a control, and they do it', async () => {
    const host = new FakeHost(reviewRun().events, 7);
    const review = await openReview(harness, host, { viewport: { width: 1200, height: 1600 } });
    const { page } = review;
    try {
      await waitForList(page);
      // Nothing focused: the keys work on the list.
      assert.equal(await activeId(page), 'BODY');
      const listText = await helpIn(page, 'list');
      assert.match(listText, /j\/k or ↓\/↑ next\/previous · a accept · r reject · c clear · u undo · n note · t run tests · e\/Enter expand · \/ search/);
      await page.keyboard.press('j');
      await expectSelected(page, 's1#0');
      await page.keyboard.press('Enter');
      await row(page, 's1#0').locator('.detail').waitFor();
      await page.keyboard.press('e');
      await page.waitForFunction(() => !document.querySelector('[data-candidate="s1#0"] .detail'));

      // The list focused: the same line, and arrows move.
      await page.locator('#list').focus();
      assert.equal(await helpIn(page, 'list'), listText);
      await page.keyboard.press('ArrowDown');
      await expectSelected(page, 's1#1');

      // A control in a candidate's row: Enter is the control's (here Reject), letters still work, Esc goes back.
      await row(page, 's1#2').locator('[data-act="reject"]').focus();
      const text = await helpIn(page, 'control');
      assert.match(text, /Enter\/Space the focused control · j\/k next\/previous · a accept · r reject · c clear · u undo · n note · t run tests · e expand · \/ search · Esc back to the list/);
      assert.doesNotMatch(text, /e\/Enter expand|↓/);
      await page.keyboard.press('Enter');
      await waitUntil(() => overrides(host).length === 1, 'the reject');
      assert.deepEqual(overrides(host), [{ candidateId: 's1#2', action: 'reject' }]);
      await expectSelected(page, 's1#2');
      await row(page, 's1#2').locator('[data-act="clear"]').focus();
      await helpIn(page, 'control');
      await page.keyboard.press('e');
      await row(page, 's1#2').locator('.detail').waitFor();
      await page.keyboard.press('Escape');
      await waitUntil(async () => (await activeId(page)) === 'list', 'the list focused');
      assert.equal(await helpIn(page, 'list'), listText);
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });

  it('in the note field: Enter saves the note with the decision, or goes back to the list to choose one', async () => {
    const host = new FakeHost(reviewRun().events, 7);
    const review = await openReview(harness, host, { viewport: { width: 1200, height: 1600 } });
    const { page } = review;
    try {
      await waitForList(page);
      await page.locator('#list').focus();
      await page.keyboard.press('j');
      await page.keyboard.press('j');
      await expectSelected(page, 's1#1');

      // No decision by hand yet: Enter goes back to the list with the note kept; r then records it.
      await page.keyboard.press('n');
      await page.waitForFunction(() => document.activeElement?.matches?.('vscode-textfield.note[data-note="s1#1"]'));
      let text = await helpIn(page, 'note');
      assert.match(text, /Typing writes the note of s1#1 · Enter back to the list, the note kept: then a accept or r reject records it · Esc back to the list/);
      assert.match(await row(page, 's1#1').locator('.note-hint').innerText(), /In this field, Enter back to the list, the note kept: then a accept or r reject records it · Esc back to the list/);
      await page.keyboard.type('needs units');
      assert.deepEqual(overrides(host), [], 'typing is text, not keys');
      await page.keyboard.press('Enter');
      await waitUntil(async () => (await activeId(page)) === 'list', 'back to the list');
      await page.locator('.status-line', { hasText: 'Note kept for s1#1: a accept or r reject records it with the note.' }).waitFor();
      assert.deepEqual(overrides(host), []);
      await page.keyboard.press('r');
      await waitUntil(() => overrides(host).length === 1, 'the reject with its note');
      assert.deepEqual(overrides(host), [{ candidateId: 's1#1', action: 'reject', note: 'needs units' }]);
      await page.locator('.status-line', { hasText: 'Recorded: reject s1#1 with its note' }).waitFor();

      // With a decision: Enter saves the changed note with it.
      await page.keyboard.press('n');
      await page.waitForFunction(() => document.activeElement?.matches?.('vscode-textfield.note[data-note="s1#1"]'));
      text = await helpIn(page, 'note');
      assert.match(text, /Enter saves the note with the reject · Esc back to the list/);
      assert.match(await row(page, 's1#1').locator('.note-hint').innerText(), /In this field, Enter saves the note with the reject/);
      await page.keyboard.press('End');
      await page.keyboard.type(', checked twice');
      await page.keyboard.press('Enter');
      await waitUntil(() => overrides(host).length === 2, 'the note saved with the reject');
      assert.deepEqual(overrides(host)[1], { candidateId: 's1#1', action: 'reject', note: 'needs units, checked twice' });
      await waitUntil(async () => (await activeId(page)) === 'list', 'back to the list');
      await row(page, 's1#1').locator('.override-tag', { hasText: 'needs units, checked twice' }).waitFor();

      // The search field: letters are text, Esc goes back.
      await page.keyboard.press('/');
      text = await helpIn(page, 'search');
      assert.match(text, /Typing searches as you type · Esc back to the list/);
      await page.keyboard.type('ar');
      assert.equal(overrides(host).length, 2, 'a and r typed, not decided');
      await page.keyboard.press('Escape');
      await waitUntil(async () => (await activeId(page)) === 'list', 'back to the list');
      await helpIn(page, 'list');
      await assertClean(harness, review);
    } finally {
      await review.close();
    }
  });
});
