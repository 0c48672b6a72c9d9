// Runs the built review webview (dist/webview) in Chromium the way VS Code would: the page is the HTML that
// `reviewHtml` builds, under its CSP and nonce, served from a loopback server that stands in for the webview's
// resource origin; a stub stands in for acquireVsCodeApi; a fake host answers with the same ReviewFeed the panel
// host uses. Everything the page asks for is recorded, so tests can assert that nothing else was fetched.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { RunEvent } from '../../src/core/record/events';
import { makeOverride } from '../../src/core/record/overrides';
import { parseWebviewMessage, type HostMessage, type WebviewMessage } from '../../src/protocol/review';
import { ReviewFeed } from '../../src/protocol/reviewFeed';
import { reviewHtml } from '../../src/vscode/review/html';

// __filename, not __dirname: under tsx's ESM loader only the former is this file's.
const HERE = path.dirname(__filename);
export const ROOT = path.resolve(HERE, '../..');
export const DIST = path.join(ROOT, 'dist/webview');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export type Theme = 'dark' | 'light' | 'high-contrast';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.html': 'text/html',
};

export interface Harness {
  browser: Browser;
  origin: string;
  /** Every path the server was asked for, in order. */
  served: string[];
  /** Paths it had nothing for (the page asked for something it should not have). */
  unexpected: string[];
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(path.join(DIST, 'review.js'))) throw new Error(`${DIST}/review.js is missing: run node esbuild.mjs first`);
  const served: string[] = [];
  const unexpected: string[] = [];
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    served.push(url.pathname);
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (url.pathname === '/review.html') {
      const nonce = randomBytes(16).toString('base64');
      const page = reviewHtml({
        cspSource: origin,
        nonce,
        scriptUri: `${origin}/dist/webview/review.js`,
        styleUri: `${origin}/dist/webview/review.css`,
        title: 'harness',
      });
      // The stand-in for VS Code's API goes first, under the same nonce.
      const stub = `<script nonce="${nonce}" src="${origin}/harness/vscode-stub.js"></script>\n`;
      send(200, TYPES['.html']!, page.replace(`<script nonce="${nonce}"`, `${stub}<script nonce="${nonce}"`));
      return;
    }
    if (url.pathname === '/favicon.ico') {
      // Chromium asks for it by itself; VS Code's webviews have none.
      send(204, 'text/plain', '');
      return;
    }
    if (url.pathname === '/harness/vscode-stub.js') {
      send(200, TYPES['.js']!, readFileSync(path.join(HERE, 'vscode-stub.js')));
      return;
    }
    const match = /^\/dist\/webview\/([A-Za-z0-9._-]+)$/.exec(url.pathname);
    const file = match ? path.join(DIST, match[1]!) : undefined;
    if (file && existsSync(file)) {
      send(200, TYPES[path.extname(file)] ?? 'application/octet-stream', readFileSync(file));
      return;
    }
    unexpected.push(url.pathname);
    send(404, 'text/plain', 'not here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  return {
    browser,
    origin,
    served,
    unexpected,
    async close() {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The panel host's part, played with the real ReviewFeed: answers ready, requestPage and override. */
export class FakeHost {
  readonly feed: ReviewFeed;
  readonly events: RunEvent[];
  /** What the webview posted, after the host's zod check. */
  readonly received: WebviewMessage[] = [];
  /** What it posted that failed the check. */
  readonly rejected: unknown[] = [];
  /** What the host posted, and how big each message was as JSON. */
  readonly sent: { type: HostMessage['type']; bytes: number }[] = [];
  /** False: requestPage is recorded but not answered until `answerPending`. */
  autoAnswer = true;
  /** True: overrides are refused, as a host that cannot write the run would. */
  failOverrides = false;
  /** Messages of these types are recorded and never answered, as a host that hangs would. */
  readonly withhold = new Set<WebviewMessage['type']>();
  /** What was withheld, in order, to answer late with `answer`. */
  readonly withheld: WebviewMessage[] = [];
  private pendingPages: WebviewMessage[] = [];
  private page: Page | undefined;

  constructor(
    events: readonly RunEvent[],
    private readonly totalSeeds?: number,
    runId = 'harness-run',
    options: { canOverride?: boolean } = {},
  ) {
    this.events = [...events];
    this.feed = new ReviewFeed(runId, options);
    this.feed.load(this.events, totalSeeds);
  }

  attach(page: Page): void {
    this.page = page;
  }

  receive(data: unknown): void {
    const message = parseWebviewMessage(data);
    if (!message) {
      this.rejected.push(data);
      return;
    }
    this.received.push(message);
    if (this.withhold.has(message.type)) {
      this.withheld.push(message);
      return;
    }
    this.answer(message);
  }

  /** Answers a message as the panel host does (a withheld one, say, late). */
  answer(message: WebviewMessage): void {
    switch (message.type) {
      case 'ready':
        void this.post(this.feed.init());
        break;
      case 'requestPage':
        if (this.autoAnswer) void this.post(this.feed.page(message));
        else this.pendingPages.push(message);
        break;
      case 'override':
        void this.override(message);
        break;
      case 'export':
      case 'openLink':
        break;
    }
  }

  async answerPending(): Promise<void> {
    const pending = this.pendingPages;
    this.pendingPages = [];
    for (const message of pending) if (message.type === 'requestPage') await this.post(this.feed.page(message));
  }

  /** New events appended to the run, as a live run would: the webview gets an `events` message. */
  async append(events: readonly RunEvent[]): Promise<void> {
    this.events.push(...events);
    const update = this.feed.update(this.events, events, this.totalSeeds);
    if (update) await this.post(update);
  }

  async post(message: HostMessage): Promise<void> {
    if (!this.page || this.page.isClosed()) return;
    this.sent.push({ type: message.type, bytes: JSON.stringify(message).length });
    const page = this.page;
    try {
      await page.evaluate((m) => {
        (globalThis as unknown as { postMessage(data: unknown, target: string): void }).postMessage(m, '*');
      }, message);
    } catch (error) {
      // A page closed (or reloading) while an answer was on its way: nobody is left to read it.
      if (!page.isClosed() && !/closed|navigat|destroyed/i.test(String(error))) throw error;
    }
  }

  private async override(message: Extract<WebviewMessage, { type: 'override' }>): Promise<void> {
    if (this.failOverrides) {
      await this.post({ type: 'overrideResult', requestId: message.requestId, candidateId: message.candidateId, ok: false, error: 'The run folder is read-only.' });
      return;
    }
    try {
      const event = makeOverride(this.feed.hasCandidate, message.candidateId, message.action, message.note) as RunEvent;
      this.events.push(event);
      const update = this.feed.update(this.events, [event], this.totalSeeds);
      const hash = message.candidateId.lastIndexOf('#');
      const seed = this.feed.seed(message.candidateId.slice(0, hash));
      await this.post({ type: 'overrideResult', requestId: message.requestId, candidateId: message.candidateId, ok: true, ...(seed ? { seed } : {}) });
      if (update) await this.post(update);
    } catch (error) {
      await this.post({
        type: 'overrideResult',
        requestId: message.requestId,
        candidateId: message.candidateId,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

export interface ReviewPage {
  page: Page;
  context: BrowserContext;
  host: FakeHost;
  /** URLs the page requested, in order. */
  requests: string[];
  dialogs: string[];
  pageErrors: string[];
  console: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  theme?: Theme;
  viewport?: { width: number; height: number };
  /** Set before the page loads: the state VS Code would hand back. */
  state?: unknown;
  /** Runs in the page before anything else, on every load. */
  initScript?: () => void;
  /** Called with the page before it loads (to route requests, say). */
  beforeLoad?: (page: Page) => Promise<void>;
  /**
   * What page.goto waits for (default 'load'). A test that holds back a script the page adds while it loads must not
   * wait for 'load': a script added before the load event delays it.
   */
  waitUntil?: 'load' | 'domcontentloaded' | 'commit';
}

export async function openReview(harness: Harness, host: FakeHost, options: OpenOptions = {}): Promise<ReviewPage> {
  const context = await harness.browser.newContext({ viewport: options.viewport ?? { width: 1200, height: 900 } });
  const page = await context.newPage();
  const requests: string[] = [];
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const consoleLines: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  await page.exposeBinding('__svdHostReceive', (_source, data: unknown) => host.receive(data));
  if (options.state !== undefined) {
    // Only on the first load: a reload must find what the page itself stored.
    await page.addInitScript((state) => {
      const storage = (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void } })
        .sessionStorage;
      if (storage.getItem('svd-review-harness-seeded') !== null) return;
      storage.setItem('svd-review-harness-seeded', '1');
      storage.setItem('svd-review-harness-state', JSON.stringify(state));
    }, options.state);
  }
  if (options.initScript) await page.addInitScript(options.initScript);
  host.attach(page);
  await options.beforeLoad?.(page);
  await page.goto(`${harness.origin}/review.html?theme=${options.theme ?? 'dark'}`, { waitUntil: options.waitUntil ?? 'load' });
  return {
    page,
    context,
    host,
    requests,
    dialogs,
    pageErrors,
    console: consoleLines,
    close: () => context.close(),
  };
}

export interface HarnessRecord {
  posted: WebviewMessage[];
  state: unknown;
  cspViolations: { directive: string; blocked: string; sample: string }[];
  errors: string[];
}

/** What the stub recorded in the page. */
export async function harnessRecord(page: Page): Promise<HarnessRecord> {
  return page.evaluate(() => {
    const h = (globalThis as unknown as { __svdHarness: HarnessRecord }).__svdHarness;
    return JSON.parse(JSON.stringify(h)) as HarnessRecord;
  });
}

/** Waits until the list shows rows for the current filter (not busy), at least one candidate, all rendered. */
export async function waitForList(page: Page): Promise<void> {
  await page.waitForSelector('#list[aria-busy="false"] .cand-row');
  await waitForRendered(page);
}

/** Until every row in view shows its rendered text (a frame renders only so much; the rest follows). */
export async function waitForRendered(page: Page): Promise<void> {
  // A function, not a string: Playwright evaluates strings with eval, which the panel's CSP refuses.
  await page.waitForFunction(
    () => (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector('#list .md-pending') === null,
  );
}
