// The review webview at scale, in Chromium: time to first render of a 10,000-candidate run and time to apply a
// filter, each the median of several tries. The page is the built bundle (production build) under the panel's CSP.
//
// The host's answers are computed here with the real ReviewFeed (fold, filter, pages) and served inside the page by a
// responder that posts them back as the panel host would, a task later. That keeps the test rig's own latency (each
// Playwright call to the page takes tens to hundreds of milliseconds on a busy 2-core machine) out of the figures;
// the host's own work for a filter (filtering the whole run and cutting the page, measured here) is added to it.
// Last line: `review: first_render_ms=F filter_ms=G candidates=N`. Bars: 500 ms and 100 ms.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { filterKey, ReviewFilter, type HostMessage, type PageMessage } from '../src/protocol/review';
import { ReviewFeed } from '../src/protocol/reviewFeed';
import { bigRun } from '../test/webview/fixtures';
import { DIST, ROOT, startHarness } from '../test/webview/harness';

const CANDIDATES = Number(process.env.BENCH_CANDIDATES ?? 10_000);
const LOADS = 7;
const ROUNDS = 3;
const FILTERS: Partial<ReviewFilter>[] = [
  { show: 'accepted' },
  { show: 'rejected_correctness' },
  { show: 'invalid' },
  { show: 'all', domain: 'coding' },
  { show: 'rejected', domain: 'all' },
  { show: 'all' },
];
const OFFSETS = [0, 30, 60, 90];

interface Answers {
  init: HostMessage;
  /** By `${filterKey}|${offset}`. */
  pages: Record<string, PageMessage>;
}

/**
 * In the page, before the app: answers what the app posts, a task later, from the precomputed answers, and notes
 * when candidate rows first stand on screen. Runs as an init script, outside the page's CSP.
 */
function inPageHost(answers: Answers): void {
  const win = globalThis as unknown as {
    __benchAnswers?: Answers;
    __svdHostReceive?: (message: { type: string; requestId?: number; offset?: number; filter?: Record<string, unknown> }) => void;
    __firstRender?: number;
    __fullRender?: number;
    postMessage(message: unknown, target: string): void;
    setTimeout(fn: () => void, ms: number): void;
    requestAnimationFrame(fn: () => void): void;
    performance: { now(): number };
    MutationObserver: new (cb: () => void) => { observe(target: unknown, options: unknown): void; disconnect(): void };
    document: { querySelector(selector: string): unknown };
  };
  // Later answers (for the filters) are added here once the page has loaded, so that the first render does not
  // pay for parsing them.
  win.__benchAnswers = answers;
  win.__svdHostReceive = (message) => {
    let answer: unknown;
    if (message.type === 'ready') answer = answers.init;
    if (message.type === 'requestPage' && message.filter) {
      const f = message.filter as { show: string; domain: string; unparseable: boolean; overridden: boolean; text: string };
      const key = JSON.stringify([f.show, f.domain, f.unparseable, f.overridden, f.text.trim().toLowerCase()]);
      const page = answers.pages[`${key}|${message.offset}`];
      if (page) answer = { ...page, requestId: message.requestId };
    }
    if (answer) win.setTimeout(() => win.postMessage(answer, '*'), 0);
  };
  // First render: candidate rows painted. Full render: and none of them still waiting for its markdown.
  const observer = new win.MutationObserver(() => {
    if (!win.document.querySelector('#list .cand-row')) return;
    if (win.__firstRender === undefined && !first) {
      first = true;
      win.requestAnimationFrame(() => {
        win.__firstRender = win.performance.now();
      });
    }
    if (win.document.querySelector('#list .md-pending')) return;
    observer.disconnect();
    win.requestAnimationFrame(() => {
      win.__fullRender = win.performance.now();
    });
  });
  let first = false;
  observer.observe(win.document, { childList: true, subtree: true });
}

/** Changes the filter the way the toolbar does; resolves with the time until its rows stand on screen. */
function applyFilter(page: Page, patch: Partial<ReviewFilter>, key: string): Promise<number> {
  // A string, so that nothing the TypeScript loader adds to functions has to exist in the page.
  return page.evaluate(`new Promise((resolve, reject) => {
    const start = performance.now();
    for (const [id, value] of Object.entries(${JSON.stringify(patch)})) {
      const select = document.querySelector('#' + id);
      select.value = value;
      select.dispatchEvent(new Event('change'));
    }
    const key = ${JSON.stringify(key)};
    const check = () => {
      const list = document.querySelector('#list');
      if (list.dataset.filterKey === key && list.getAttribute('aria-busy') === 'false' && list.querySelector('.cand-row')) {
        requestAnimationFrame(() => resolve(performance.now() - start));
      } else if (performance.now() - start > 10000) reject(new Error('the filter never applied'));
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  })`) as Promise<number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed');
  const bundle = statSync(path.join(DIST, 'review.js')).size;

  const events = bigRun(CANDIDATES);
  const foldStart = performance.now();
  const feed = new ReviewFeed('bench');
  feed.load(events, Math.ceil(CANDIDATES / 4));
  const foldMs = performance.now() - foldStart;
  const init = feed.init();

  // The host's answers, and its own time for each filter (a fresh feed, so nothing is cached).
  const pages: Record<string, PageMessage> = {};
  const hostMs = new Map<string, number>();
  let filter = ReviewFilter.parse({});
  const filters = [filter, ...FILTERS.map((patch) => (filter = ReviewFilter.parse({ ...filter, ...patch })))];
  const fresh = new ReviewFeed('bench');
  fresh.load(events, Math.ceil(CANDIDATES / 4));
  for (const f of filters) {
    const key = filterKey(f);
    for (const offset of OFFSETS) {
      const start = performance.now();
      const page = fresh.page({ type: 'requestPage', requestId: 0, offset, limit: 30, filter: f });
      if (offset === 0 && !hostMs.has(key)) hostMs.set(key, performance.now() - start);
      pages[`${key}|${offset}`] = page;
    }
  }
  const pageBytes = JSON.stringify(pages[`${filterKey(filters[0]!)}|0`]).length;
  console.log(
    `run: ${init.run.funnel.seeds} seeds, ${init.run.funnel.candidates} candidates, ${events.length} events; host fold ${foldMs.toFixed(0)} ms; ` +
      `first page ${(pageBytes / 1024).toFixed(0)} KiB; bundle ${(bundle / 1024).toFixed(0)} KiB (production)`,
  );

  const harness = await startHarness();
  try {
    const firstRenders: number[] = [];
    const fullRenders: number[] = [];
    const filterTimes: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const context = await harness.browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const firstPages = Object.fromEntries(Object.entries(pages).filter(([key]) => key.startsWith(`${filterKey(filters[0]!)}|`)));
      await page.addInitScript(inPageHost, { init, pages: firstPages });
      await page.goto(`${harness.origin}/review.html?theme=dark`);
      // A function, not a string: Playwright evaluates strings with eval, which the panel's CSP refuses.
      await page.waitForFunction(() => (globalThis as unknown as { __firstRender?: number }).__firstRender !== undefined, undefined, {
        timeout: 20_000,
      });
      firstRenders.push((await page.evaluate('window.__firstRender')) as number);
      await page.waitForFunction(() => (globalThis as unknown as { __fullRender?: number }).__fullRender !== undefined, undefined, {
        timeout: 20_000,
      });
      fullRenders.push((await page.evaluate('window.__fullRender')) as number);
      if (i === 0) {
        await page.evaluate((all) => {
          Object.assign((globalThis as unknown as { __benchAnswers: Answers }).__benchAnswers.pages, all);
        }, pages);
        for (let round = 0; round < ROUNDS; round++) {
          let current = ReviewFilter.parse({});
          for (const patch of FILTERS) {
            current = ReviewFilter.parse({ ...current, ...patch });
            const key = filterKey(current);
            const pageMs = await applyFilter(page, patch, key);
            filterTimes.push(pageMs + (hostMs.get(key) ?? 0));
          }
        }
      }
      if (errors.length > 0) throw new Error(`errors in the page: ${errors.join('; ')}`);
      await context.close();
    }
    const hostFilter = [...hostMs.values()];
    console.log(`first render (ms, navigation to painted rows): ${firstRenders.map((v) => v.toFixed(0)).join(' ')}`);
    console.log(`every row in view rendered (ms, navigation to painted markdown and math): ${fullRenders.map((v) => v.toFixed(0)).join(' ')}; median ${median(fullRenders).toFixed(0)}`);
    console.log(`filter (ms, change to painted rows, host work included): ${filterTimes.map((v) => v.toFixed(0)).join(' ')}`);
    console.log(`host work per filter (ms, filter the run and cut a page): ${hostFilter.map((v) => v.toFixed(1)).join(' ')}`);
    const first = median(firstRenders);
    const filterMedian = median(filterTimes);
    console.log(`bars: first render < 500 ms ${first < 500 ? 'met' : 'MISSED'}; filter < 100 ms ${filterMedian < 100 ? 'met' : 'MISSED'}`);
    console.log(`review: first_render_ms=${first.toFixed(0)} filter_ms=${filterMedian.toFixed(0)} candidates=${init.run.funnel.candidates}`);
  } finally {
    await harness.close();
    // Leave the development build the tests use.
    spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
