// Small steps the browser tests share: what the list shows, driving the filter controls, waiting on the host.
import assert from 'node:assert/strict';
import { harnessRecord } from './harness.ts';

/** Candidate ids of the rendered rows, in order. */
export function renderedCandidates(page) {
  return page.evaluate(() => [...document.querySelectorAll('#list [data-candidate]')].map((el) => el.dataset.candidate));
}

export function selectedCandidate(page) {
  return page.evaluate(() => document.querySelector('#list .cand-row.selected')?.dataset.candidate);
}

/** The selection is drawn on the next frame: waits for it to show the candidate. */
export async function expectSelected(page, candidateId) {
  await waitUntil(async () => (await selectedCandidate(page)) === candidateId, `${candidateId} selected (now ${await selectedCandidate(page)})`, 3000);
}

export function row(page, candidateId) {
  return page.locator(`#list [data-candidate="${candidateId}"]`);
}

/** Picks an option of one of the toolbar's selects the way a user does: open it, click the option. */
export async function choose(page, selectId, optionLabel) {
  await page.locator(`#${selectId}`).click();
  await page.locator(`#${selectId}`).getByRole('option', { name: optionLabel, exact: true }).click();
}

/** Waits until the list shows the page for the newest filter the webview asked for. */
export async function waitForFilter(page, host, predicate) {
  await waitUntil(() => {
    const last = [...host.received].reverse().find((m) => m.type === 'requestPage');
    return last && predicate(last.filter);
  }, 'the webview to ask for the filter');
  await page.waitForFunction(() => document.querySelector('#list')?.getAttribute('aria-busy') === 'false');
  await page.waitForTimeout(50);
}

export async function waitUntil(condition, what, timeoutMs = 5000) {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Messages of a type the host received, after the webview posted them and the host checked them. */
export function received(host, type) {
  return host.received.filter((m) => m.type === type);
}

/** No CSP violation, no error in the page, nothing asked of the server that it does not serve. */
export async function assertClean(harness, review) {
  const record = await harnessRecord(review.page);
  assert.deepEqual(record.cspViolations, [], 'CSP violations');
  assert.deepEqual(record.errors, [], 'errors in the page');
  assert.deepEqual(review.pageErrors, [], 'uncaught errors');
  assert.deepEqual(review.dialogs, [], 'dialogs');
  assert.deepEqual(review.host.rejected, [], 'messages the host refused');
  assert.deepEqual(harness.unexpected, [], 'requests the server had nothing for');
}

// ---------------------------------------------------------------- contrast (WCAG), for the theme tests

function parseColor(text) {
  const rgb = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(text);
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3]), rgb[4] === undefined ? 1 : Number(rgb[4])];
  const srgb = /color\(srgb\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)(?:\s*\/\s*([\d.]+))?\)/.exec(text);
  if (srgb) return [Number(srgb[1]) * 255, Number(srgb[2]) * 255, Number(srgb[3]) * 255, srgb[4] === undefined ? 1 : Number(srgb[4])];
  throw new Error(`unknown colour ${text}`);
}

/** `top` painted over an opaque `bottom`. */
const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);

function luminance([r, g, b]) {
  const channel = (c) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** The first element's own background against what is painted behind it: how a filled tag stands out of its row. */
export async function fillContrastOf(page, selector) {
  const layers = await page.locator(selector).first().evaluate((el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) layers.push(getComputedStyle(node).backgroundColor);
    return layers;
  });
  const [own, ...behind] = layers;
  const below = behind.reverse().reduce((under, layer) => over(parseColor(layer), under), [255, 255, 255, 1]);
  const [hi, lo] = [luminance(over(parseColor(own), below)), luminance(below)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The contrast ratio of the first element's text against the background it is painted on (backgrounds composed up
 * the tree over white), with the text colour and that background.
 */
export async function contrastOf(page, selector) {
  const { color, layers } = await page.locator(selector).first().evaluate((el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) layers.push(getComputedStyle(node).backgroundColor);
    return { color: getComputedStyle(el).color, layers };
  });
  const background = layers.reverse().reduce((below, layer) => over(parseColor(layer), below), [255, 255, 255, 1]);
  const [hi, lo] = [luminance(over(parseColor(color), background)), luminance(background)].sort((x, y) => y - x);
  return { ratio: (hi + 0.05) / (lo + 0.05), color, background };
}

/**
 * Contrast of an SVG shape's fill against another's (or, with `against` 'background', against the page's
 * background), each painted over that background: a bar against its track, a track against the panel.
 */
export async function fillContrast(page, selector, against = 'background') {
  const [fill, under, background] = await page.evaluate(
    ([top, bottom]) => [
      getComputedStyle(document.querySelector(top)).fill,
      bottom === 'background' ? undefined : getComputedStyle(document.querySelector(bottom)).fill,
      getComputedStyle(document.body).backgroundColor,
    ],
    [selector, against],
  );
  const ground = over(parseColor(background), [255, 255, 255, 1]);
  const below = under === undefined ? ground : over(parseColor(under), ground);
  const [hi, lo] = [luminance(over(parseColor(fill), below)), luminance(below)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// ---------------------------------------------------------------- what a screenshot shows, measured

/** Bounding boxes (viewport pixels) of the first element each selector matches; undefined where none does. */
export function boxesOf(page, selectors) {
  return page.evaluate((selectors) => {
    const out = {};
    for (const [name, selector] of Object.entries(selectors)) {
      const el = document.querySelector(selector);
      if (!el) continue;
      const r = el.getBoundingClientRect();
      out[name] = { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height };
      out[name].overflowX = el.scrollWidth - el.clientWidth;
    }
    return out;
  }, selectors);
}

/** The editor background of each of the stub's themes, as computed styles give it. */
const BACKGROUND = { light: 'rgb(255, 255, 255)', dark: 'rgb(31, 31, 31)', 'high-contrast': 'rgb(0, 0, 0)' };

const PARTS = { toolbar: '.toolbar-host', summary: '.summary-host', training: '.training-host', status: '.status-host', list: '#list', help: '.help-host' };

/**
 * The panel as a screenshot should show it: its parts stacked top to bottom without overlapping, each as wide as the
 * panel, the list taking most of the height and the help line at the bottom; nothing wider than the panel; the
 * theme's background on the page and the icon font loaded.
 */
export async function assertPanelLayout(page, theme) {
  const boxes = await boxesOf(page, PARTS);
  const { width, height, pageOverflowX, bodyBackground, iconFont } = await page.evaluate(() => ({
    width: document.documentElement.clientWidth,
    height: document.documentElement.clientHeight,
    pageOverflowX: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    bodyBackground: getComputedStyle(document.body).backgroundColor,
    iconFont: [...document.fonts].find((font) => font.family.replaceAll('"', '') === 'codicon')?.status,
  }));
  const names = Object.keys(PARTS);
  for (const name of names) {
    const box = boxes[name];
    assert.ok(box, `the ${name} is in the page`);
    assert.ok(Math.abs(box.left) <= 1 && Math.abs(box.width - width) <= 1, `the ${name} spans the panel: ${JSON.stringify(box)} in ${width}`);
  }
  for (let i = 1; i < names.length; i++) {
    const [above, below] = [boxes[names[i - 1]], boxes[names[i]]];
    assert.ok(above.bottom <= below.top + 0.5, `${names[i - 1]} (bottom ${above.bottom}) does not overlap ${names[i]} (top ${below.top})`);
  }
  assert.ok(boxes.toolbar.top <= 1 && boxes.toolbar.height >= 24 && boxes.toolbar.height <= 100, `the toolbar at the top: ${JSON.stringify(boxes.toolbar)}`);
  assert.ok(boxes.summary.height >= 60, `the summary is open: ${boxes.summary.height}px`);
  assert.ok(boxes.list.height >= 0.4 * height, `the list has most of the height: ${boxes.list.height} of ${height}`);
  assert.ok(boxes.help.height >= 12 && Math.abs(boxes.help.bottom - height) <= 1, `the help line at the bottom: ${JSON.stringify(boxes.help)}`);
  assert.equal(pageOverflowX, 0, 'nothing wider than the panel');
  assert.equal(boxes.list.overflowX, 0, 'no sideways scrolling in the list');
  assert.equal(bodyBackground, BACKGROUND[theme], "the theme's background");
  assert.equal(iconFont, 'loaded', 'the icon font');
}

/**
 * Text contrast of a stage badge in each state that has one in the DOM, and of its icon: `{ state: { text, icon,
 * iconColor } }` (contrast ratios; WCAG asks 4.5 of text and 3 of an icon that carries meaning).
 */
export async function stageBadgeContrasts(page) {
  const states = await page.locator('#list .stage-badge').evaluateAll((badges) => [...new Set(badges.map((b) => b.dataset.state))]);
  const out = {};
  for (const state of states) {
    const badge = `#list .stage-badge[data-state="${state}"]`;
    const text = await contrastOf(page, `${badge} .stage-name`);
    const icon = await contrastOf(page, `${badge} > .codicon`);
    out[state] = { text: text.ratio, icon: icon.ratio, iconColor: icon.color };
  }
  return out;
}
