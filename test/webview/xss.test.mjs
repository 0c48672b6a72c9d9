// Model output is hostile until shown otherwise. A corpus of script, markup, CSS, link and math tricks is put in
// every place model text reaches the panel (question, answer, thinking, judges' replies, inferred questions, notes,
// ids); the panel is opened, everything expanded, hovered and clicked. Nothing may run, load, navigate or ask.
// The payloads point at the harness's own origin, which the CSP allows: the sanitiser has to stop them on its own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventIds } from '../../src/core/record/events.ts';
import { isOpenableHref } from '../../src/protocol/review.ts';
import { EventLog } from '../fixtures/events.ts';
import { vote } from './fixtures.ts';
import { FakeHost, harnessRecord, openReview, startHarness, waitForList } from './harness.ts';
import { received, waitUntil } from './helpers.mjs';

function corpus(o) {
  return [
    `<script>window.__xss='script'</script>`,
    `<img src=x onerror="window.__xss='img-onerror'">`,
    `<img src="${o}/xss/img">`,
    `<svg onload="window.__xss='svg-onload'"><circle r="10"/></svg>`,
    `<svg><animate onbegin="window.__xss='svg-animate'" attributeName="x" dur="1s"/></svg>`,
    `<svg><a xlink:href="javascript:window.__xss='svg-link'"><text y="20">svg link</text></a></svg>`,
    `<svg><use href="${o}/xss/svg-use#x"/></svg>`,
    `<math><mtext><table><mglyph><style><img src=x onerror="window.__xss='mxss'">`,
    `<noscript><p title="</noscript><img src=x onerror=window.__xss='noscript'>">`,
    `<iframe src="${o}/xss/iframe"></iframe>`,
    `<iframe srcdoc="<script>parent.__xss='srcdoc'</script>"></iframe>`,
    `<object data="${o}/xss/object"></object><embed src="${o}/xss/embed">`,
    `<form action="${o}/xss/form"><button formaction="${o}/xss/formaction">go</button></form>`,
    `<meta http-equiv="refresh" content="0;url=${o}/xss/meta">`,
    `<base href="${o}/xss/base/">`,
    `<link rel="stylesheet" href="${o}/xss/link.css">`,
    `<style>@import url(${o}/xss/style-import); body { background: url(${o}/xss/style-bg) }</style>`,
    `<div style="background:url(${o}/xss/style-attr)">styled</div>`,
    `<span style="position:fixed;inset:0;z-index:9999;background:red">overlay</span>`,
    `<a href="javascript:window.__xss='a-js'">a js</a>`,
    `<a href="${o}/xss/a-plain" target="_blank">plain anchor</a>`,
    `[md js](javascript:window.__xss='md-js')`,
    `[md JS case](JaVaScRiPt:window.__xss='md-js-case')`,
    `[md entity](javascript&#58;window.__xss='md-entity')`,
    `[md data](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9J2RhdGEnPC9zY3JpcHQ+)`,
    `[md vbscript](vbscript:msgbox(1))`,
    `[md command](command:workbench.action.terminal.new)`,
    `[md title](https://example.com/ok "t\\" onmouseover=\\"window.__xss='title'")`,
    `[md angle](<javascript:window.__xss='angle'>)`,
    `[ref link][r]\n\n[r]: javascript:window.__xss='ref'`,
    `![md image](${o}/xss/md-image)`,
    `<${o}/xss/autolink>`,
    `$\\href{javascript:window.__xss='katex-href'}{click}$`,
    `$$\\url{javascript:window.__xss='katex-url'}$$`,
    `$\\includegraphics{${o}/xss/katex-img}$`,
    `$\\htmlStyle{background:url(${o}/xss/katex-style)}{x}$`,
    `$\\htmlData{foo=bar}{x}$ $\\htmlId{list}{x}$ $\\htmlClass{row}{x}$`,
    '```html"><img src=x onerror="window.__xss=\'lang\'">\n<script>window.__xss="code"</script>\n```',
    `<details open ontoggle="window.__xss='ontoggle'">d</details>`,
    `<input autofocus onfocus="window.__xss='autofocus'">`,
    `<a id="list">clobber</a><form name="app"></form>`,
    `<video><source onerror="window.__xss='video'"></video>`,
    `<x-evil onpointerover="window.__xss='custom'">custom element</x-evil>`,
    `<div data-href="javascript:window.__xss='data-href'">fake link</div>`,
    `javascript:window.__xss='plain'`,
  ].join('\n\n');
}

/** A run whose every text is the corpus. */
function hostileRun(origin) {
  const text = corpus(origin);
  const log = new EventLog();
  log.run('started');
  const seedId = `x"><img src=x onerror=window.__xss='seed-id'>`;
  log.seed(seedId, { line: 1, domain: 'math', question: text });
  const good = log.candidate(seedId, 0, { text: `<think>${text}</think>\n${text}\n\nSo \\boxed{1}`, reasoning: text });
  log.candidate(seedId, 1, { invalidReason: `<img src=x onerror="window.__xss='reason'">`, text: `<think>${text}` });
  for (let i = 0; i < 2; i++) {
    log.events.push(
      { ...vote(good, 'cycle', 'infer', i, null, text, { inferredQuestion: text, reasoning: text }) },
      { ...vote(good, 'cycle', 'compare', i, 'yes', `${text}\n[[Y]]`, { inferredQuestion: text }) },
    );
  }
  log.events.push({ type: 'stage', id: eventIds.stage(good, 'cycle'), at: '2025-03-01T12:00:00.000Z', candidateId: good, stage: 'cycle', passed: true, yes: 2, votes: 2 });
  log.events.push(
    vote(good, 'factuality', 'judge', 0, 'unparseable', text, { reasoning: text }),
    { type: 'stage', id: eventIds.stage(good, 'factuality'), at: '2025-03-01T12:00:01.000Z', candidateId: good, stage: 'factuality', passed: false, yes: 0, votes: 1 },
  );
  log.outcome(seedId, 'rejected');
  log.override(good, 'accept', text.slice(0, 9_000));
  return { events: log.events, candidateIds: [good, `${seedId}#1`] };
}

/** What the rendered model text holds now. */
function inspect(page) {
  return page.evaluate(() => {
    const md = [...document.querySelectorAll('#list .md')];
    const all = md.flatMap((el) => [...el.querySelectorAll('*')]);
    return {
      tags: [...new Set(all.map((el) => el.localName))].sort(),
      events: all.flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => `${el.localName}[${a.name}]`)),
      styles: all.filter((el) => el.hasAttribute('style')).map((el) => el.localName),
      addresses: all.flatMap((el) =>
        ['href', 'src', 'xlink:href', 'action', 'formaction', 'srcdoc', 'data', 'poster'].filter((a) => el.hasAttribute(a)).map((a) => `${el.localName}[${a}]`),
      ),
      ids: all.filter((el) => el.id || el.getAttribute('name')).map((el) => el.localName),
      dataHrefs: all.filter((el) => el.dataset.href !== undefined).map((el) => el.dataset.href),
      answer: document.querySelector('#list .cand-row .answer')?.textContent ?? '',
    };
  });
}

let harness;
before(async () => {
  harness = await startHarness();
});
after(async () => {
  await harness?.close();
});

describe('hostile model output', () => {
  for (const theme of ['dark', 'light']) {
    it(`runs nothing, loads nothing and navigates nowhere (${theme})`, async () => {
      const { events, candidateIds } = hostileRun(harness.origin);
      const host = new FakeHost(events, 1);
      const review = await openReview(harness, host, { theme, viewport: { width: 1200, height: 3000 } });
      const { page } = review;
      const url = page.url();
      try {
        await waitForList(page);
        const doms = [];
        await page.locator('#list').focus();
        for (const id of candidateIds) {
          // One candidate at a time, chosen and opened from the keyboard (the list renders only what is in view).
          await page.keyboard.press('j');
          await waitUntil(async () => (await page.evaluate(() => document.querySelector('#list .cand-row.selected')?.dataset.candidate)) === id, `${id} selected`);
          await page.keyboard.press('e');
          const row = page.locator('#list .cand-row.selected');
          await row.locator('.detail').waitFor();
          if (await row.locator('details.thinking > summary').count()) await row.locator('details.thinking > summary').click();
          const summaries = row.locator('.vote > details > summary');
          for (let i = 0; i < (await summaries.count()); i++) await summaries.nth(i).click();
          await page.waitForTimeout(200);
          // Everything touched: hover the rendered elements, click every link-like one.
          const rendered = row.locator('.md *');
          const count = await rendered.count();
          if (id === candidateIds[0]) assert.ok(count > 200, `rendered elements: ${count}`);
          for (let i = 0; i < count; i += 5) await rendered.nth(i).hover({ force: true, timeout: 1000 }).catch(() => undefined);
          const links = row.locator('.md a, .md .model-link, .md .model-link-dead, .md [data-href]');
          for (let i = 0; i < (await links.count()); i++) await links.nth(i).click({ force: true, timeout: 1000 }).catch(() => undefined);
          doms.push(await inspect(page));
          await page.locator('#list').focus();
          await page.keyboard.press('e');
        }
        doms.push(await inspect(page));
        await page.waitForTimeout(500);

        assert.equal(await page.evaluate(() => window.__xss), undefined, 'a payload ran');
        assert.deepEqual(review.dialogs, []);
        assert.equal(page.url(), url, 'the page navigated');
        assert.equal(review.context.pages().length, 1, 'a window opened');
        const allowed = [/\/review\.html\?theme=/, /\/harness\/vscode-stub\.js$/, /\/dist\/webview\/(review\.(js|css)|render\.js)$/, /\/dist\/webview\/codicon\.ttf(\?.*)?$/];
        const strange = review.requests.filter((r) => !allowed.some((a) => a.test(r)));
        assert.deepEqual(strange, [], 'requests beyond the panel\'s own files');
        assert.deepEqual(harness.unexpected, [], 'the server was asked for something else');
        const record = await harnessRecord(page);
        assert.deepEqual(record.cspViolations, [], 'the CSP had to stop something the sanitiser let through');
        assert.deepEqual(record.errors, []);
        assert.deepEqual(review.pageErrors, []);

        // What is left in the DOM of model text: no active content, no styles, no addresses.
        const dom = {
          tags: [...new Set(doms.flatMap((d) => d.tags))],
          events: doms.flatMap((d) => d.events),
          styles: doms.flatMap((d) => d.styles),
          addresses: doms.flatMap((d) => d.addresses),
          ids: doms.flatMap((d) => d.ids),
          dataHrefs: doms.flatMap((d) => d.dataHrefs),
          answer: doms[0].answer,
        };
        const forbidden = ['script', 'iframe', 'object', 'embed', 'form', 'img', 'svg', 'style', 'link', 'meta', 'base', 'input', 'button', 'video', 'source', 'x-evil', 'template', 'noscript', 'use', 'animate', 'annotation'];
        assert.deepEqual(dom.tags.filter((t) => forbidden.includes(t)), []);
        assert.deepEqual(dom.events, []);
        assert.deepEqual(dom.styles, []);
        assert.deepEqual(dom.addresses, []);
        assert.deepEqual(dom.ids, []);
        assert.ok(dom.dataHrefs.length > 0);
        for (const href of dom.dataHrefs) assert.ok(isOpenableHref(href), href);
        // The markup is shown as the text the model wrote.
        assert.ok(dom.answer.includes(`<script>window.__xss='script'</script>`));

        // Links reached the host only as requests to open http(s) addresses, each of which the host will confirm.
        const opened = received(host, 'openLink').map((m) => m.href);
        assert.ok(opened.length > 0);
        for (const href of opened) assert.ok(/^https?:/.test(href), href);
        assert.deepEqual(host.rejected, []);
      } finally {
        await review.close();
      }
    });
  }

  it('refuses a link the sanitiser would never produce, at the webview and at the host', async () => {
    const host = new FakeHost(hostileRun(harness.origin).events, 1);
    const review = await openReview(harness, host, { viewport: { width: 1000, height: 800 } });
    try {
      await waitForList(review.page);
      // Posted straight through the API, as a compromised page would: the host's check drops it.
      await review.page.evaluate(() => window.__svdHostReceive({ type: 'openLink', href: "javascript:window.__xss='direct'" }));
      await waitUntil(() => host.rejected.length === 1, 'the host to refuse it');
      assert.equal(received(host, 'openLink').length, 0);
    } finally {
      await review.close();
    }
  });
});
