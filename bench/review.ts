// The review at scale, from the panel's opening to rows in Chromium: a run of `--seeds` seeds (4 candidates each) is
// written to disk once (bench/reviewRun.ts), then the host's side runs in a process of its own (bench/reviewHost.ts)
// as the panel does, twice: with no index beside the run (cold: the first page comes from the seeds indexed in the
// first 250 ms, then the rest is indexed and saved) and with the saved index (warm). `--legacy` adds the whole-run
// fold the panel used before. The host's answers are then served inside the page by a responder that posts them
// back as the panel host would, a task later, which keeps the rig's own latency (each Playwright call takes tens to
// hundreds of milliseconds on a busy machine) out of the figures.
// first_render_ms: the host's time to its first page plus the webview's, navigation to painted rows (median).
// filter_ms: the host's time for the filter's first page plus the webview's, change to painted rows (median).
// host_rss_mb: the host process's peak resident memory, cold or warm, whichever is higher.
// Last line: `review: candidates=N first_render_ms=F filter_ms=G host_rss_mb=H`. Goals: 1000 ms, 200 ms, 500 MB.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { REVIEW_INDEX_FILE } from '../src/core/record/reviewIndex';
import { filterKey, ReviewFilter, type HostMessage, type PageMessage } from '../src/protocol/review';
import { DIST, ROOT, startHarness } from '../test/webview/harness';
import type { HostReport } from './reviewHost';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? undefined : Number(process.argv[at + 1]);
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw new Error(`--${name} takes a positive whole number`);
  return value ?? fallback;
}

const SEEDS = option('seeds', Math.ceil(Number(process.env.BENCH_CANDIDATES ?? 10_000) / 4));
const LEGACY = process.argv.includes('--legacy');
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

function host(dir: string, mode: 'index' | 'legacy', filtersFile: string, scratch: string): HostReport {
  const out = path.join(scratch, `host-${mode}-${Date.now()}.json`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'reviewHost.ts'), dir, mode, out, filtersFile], { cwd: ROOT, stdio: 'inherit' });
  if (child.status !== 0) throw new Error(`the host (${mode}) failed`);
  return JSON.parse(readFileSync(out, 'utf8')) as HostReport;
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed');
  const bundle = statSync(path.join(DIST, 'review.js')).size;

  const dir = path.join(os.tmpdir(), 'svd-bench-review', `run-${SEEDS}`);
  const written = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'reviewRun.ts'), dir, String(SEEDS)], { cwd: ROOT, stdio: 'inherit' });
  if (written.status !== 0) throw new Error('the run could not be written');
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'svd-bench-host-'));
  let filter = ReviewFilter.parse({});
  const filters = [filter, ...FILTERS.map((patch) => (filter = ReviewFilter.parse({ ...filter, ...patch })))];
  const filtersFile = path.join(scratch, 'filters.json');
  writeFileSync(filtersFile, JSON.stringify(filters));

  rmSync(path.join(dir, REVIEW_INDEX_FILE), { force: true });
  const cold = host(dir, 'index', filtersFile, scratch);
  const warm = host(dir, 'index', filtersFile, scratch);
  if (!warm.loaded) throw new Error('the index saved by the cold open was not loaded');
  const legacy = LEGACY ? host(dir, 'legacy', filtersFile, scratch) : undefined;
  rmSync(scratch, { recursive: true, force: true });
  const init = warm.init as HostMessage & { type: 'init' };
  const pages: Record<string, PageMessage> = warm.pages;
  const hostMs = new Map(Object.entries(warm.filterMs));
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const pageBytes = JSON.stringify(pages[`${filterKey(filters[0]!)}|0`]).length;
  console.log(
    `run: ${init.run.funnel.seeds} seeds, ${init.run.funnel.candidates} candidates, events.jsonl ${mb(statSync(path.join(dir, 'events.jsonl')).size)} MiB, ` +
      `index ${mb(statSync(path.join(dir, REVIEW_INDEX_FILE)).size)} MiB; first page ${(pageBytes / 1024).toFixed(0)} KiB; bundle ${(bundle / 1024).toFixed(0)} KiB (production)`,
  );
  console.log(
    `host, cold (no index): first page in ${cold.firstMs.toFixed(0)} ms from ${cold.seedsAtFirst} seeds indexed so far; ` +
      `whole index in ${((cold.buildMs ?? cold.firstMs) / 1000).toFixed(1)} s, saved in ${(cold.saveMs ?? 0).toFixed(0)} ms; peak RSS ${cold.peakRssMb.toFixed(0)} MB`,
  );
  console.log(`host, warm (index loaded): first page in ${warm.firstMs.toFixed(0)} ms; peak RSS ${warm.peakRssMb.toFixed(0)} MB; a text search (streamed) ${(warm.textMs ?? 0).toFixed(0)} ms`);
  if (legacy) console.log(`host, whole-run fold (before): first page in ${legacy.firstMs.toFixed(0)} ms; peak RSS ${legacy.peakRssMb.toFixed(0)} MB`);

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
    const webFirst = median(firstRenders);
    console.log(`first render in the webview (ms, navigation to painted rows): ${firstRenders.map((v) => v.toFixed(0)).join(' ')}`);
    console.log(`every row in view rendered (ms, navigation to painted markdown and math): ${fullRenders.map((v) => v.toFixed(0)).join(' ')}; median ${median(fullRenders).toFixed(0)}`);
    console.log(`filter (ms, change to painted rows, host work included): ${filterTimes.map((v) => v.toFixed(0)).join(' ')}`);
    console.log(`host work per filter (ms, filter the run and cut a page): ${hostFilter.map((v) => v.toFixed(1)).join(' ')}`);
    if (legacy) console.log(`review (before, whole-run fold): first_render_ms=${(legacy.firstMs + webFirst).toFixed(0)}`);
    console.log(`review (cold index): first_render_ms=${(cold.firstMs + webFirst).toFixed(0)}`);
    const first = warm.firstMs + webFirst;
    const filterMedian = median(filterTimes);
    const rss = Math.max(cold.peakRssMb, warm.peakRssMb);
    console.log(`goals: first render < 1000 ms ${first < 1000 ? 'met' : 'MISSED'}; filter < 200 ms ${filterMedian < 200 ? 'met' : 'MISSED'}; host < 500 MB ${rss < 500 ? 'met' : 'MISSED'}`);
    console.log(`review: candidates=${init.run.funnel.candidates} first_render_ms=${first.toFixed(0)} filter_ms=${filterMedian.toFixed(0)} host_rss_mb=${rss.toFixed(0)}`);
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
